import Foundation

/// Where a registry on PostgreSQL lives: `postgres://user:password@host:port/database?sslmode=…`, as libpq
/// reads it, less what Keel does not use. The password may come from `PGPASSWORD` instead of the URL, and
/// is never printed: messages name the registry by `redacted`.
public struct PostgresLocation: Sendable, Equatable {
    /// libpq's `sslmode`, with its default (`prefer`: TLS when the server offers it).
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    /// `sslrootcert`: the certificate authorities that verify the server (verify-ca, verify-full).
    public var rootCertificate: String?
    /// `connect_timeout` in seconds (libpq's name): how long opening a connection may take.
    public var connectTimeout: Double
    public var applicationName: String?
    /// `pool_max`: at most this many connections from one process (nil: the caller's default).
    public var poolMax: Int?

    static let parameters = ["sslmode", "sslrootcert", "connect_timeout", "application_name", "pool_max"]

    /// Whether `text` names a PostgreSQL registry rather than a folder.
    public static func isURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// Reads a URL; a missing user or database, a bad port, an unknown parameter or sslmode is an error that
    /// names it. `environment` supplies `PGPASSWORD` when the URL holds no password.
    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard Self.isURL(text), let url = URLComponents(string: text) else {
            throw RegistryError.invalid("'\(Self.redact(text))' is not a PostgreSQL URL: write postgres://user:password@host:port/database")
        }
        let shown = Self.redact(text)
        guard var host = url.host, !host.isEmpty else {
            throw RegistryError.invalid("\(shown): the URL names no host (postgres://user@host:5432/database)")
        }
        guard let user = url.user, !user.isEmpty else {
            throw RegistryError.invalid("\(shown): the URL names no user (postgres://user@host:5432/database)")
        }
        let database = String(url.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw RegistryError.invalid("\(shown): the URL names no database after the host (postgres://user@host:5432/database)")
        }
        // An IPv6 literal, [::1], is the address without its brackets.
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if let port = url.port, !(1...65_535).contains(port) {
            throw RegistryError.invalid("\(shown): port \(port) is not between 1 and 65535")
        }
        (self.host, self.port, self.user, self.database) = (host, url.port ?? 5432, user, database)
        password = url.password ?? environment["PGPASSWORD"]
        sslMode = .prefer
        connectTimeout = 10
        for item in url.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw RegistryError.invalid("\(shown): sslmode takes \(SSLMode.allCases.map(\.rawValue).joined(separator: ", ")), not '\(value)'")
                }
                sslMode = mode
            case "sslrootcert": rootCertificate = value
            case "connect_timeout":
                guard let seconds = Double(value), seconds > 0, seconds <= 86_400 else {
                    throw RegistryError.invalid("\(shown): connect_timeout takes a number of seconds above 0 and at most 86400, not '\(value)'")
                }
                connectTimeout = seconds
            case "application_name": applicationName = value
            case "pool_max":
                guard let count = Int(value), count >= 1 else {
                    throw RegistryError.invalid("\(shown): pool_max takes a whole number of connections, 1 or more, not '\(value)'")
                }
                poolMax = count
            default:
                throw RegistryError.invalid("\(shown): unknown parameter '\(item.name)'; Keel reads \(Self.parameters.joined(separator: ", "))")
            }
        }
        if rootCertificate != nil, ![.verifyCA, .verifyFull].contains(sslMode) {
            throw RegistryError.invalid("\(shown): sslrootcert is used only with sslmode=verify-ca or verify-full")
        }
    }

    /// The URL without its password or parameters: what messages and the audit log show.
    public var redacted: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)@\(shownHost):\(port)/\(database)"
    }

    /// `text` for messages about a URL: without its parameters (one may be a password) and with any password
    /// replaced by `***`, even one holding an unencoded `/`.
    public static func redact(_ text: String) -> String {
        let bare = String(text.prefix { $0 != "?" && $0 != "#" })
        guard let scheme = bare.range(of: "://") else { return bare }
        guard let at = bare[scheme.upperBound...].lastIndex(of: "@") else { return bare }
        let credentials = bare[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return bare }
        return String(bare[..<colon]) + ":***" + String(bare[at...])
    }
}
