import NIOCore
import PostgresNIO

/// PostgreSQL's failures as `RegistryError`s a user can act on: the registry named (never its password),
/// what went wrong, and what changes it. postgres-nio's own descriptions are deliberately generic, so the
/// text is built from the error's code, the server's SQLSTATE and message, and the underlying socket error.
enum PostgresErrors {
    static func registryError(_ error: any Error, location: PostgresLocation) -> any Error {
        if error is RegistryError { return error }
        if let transaction = error as? PostgresTransactionError, let inner = transaction.closureError {
            return registryError(inner, location: location)
        }
        // Anything else is the caller's own error (thrown by a transaction's body): passed on as it is.
        guard let error = error as? PSQLError else { return error }
        let place = "\(location.redacted)"
        let server = "\(location.host):\(location.port)"
        switch error.code {
        case .server:
            return serverError(error, location: location)
        case .connectionError:
            let cause = error.underlying.map(describe) ?? "the connection failed"
            return RegistryError.store("cannot reach PostgreSQL at \(server) for the registry \(place): \(cause); check the host, the port and that the server runs")
        case .sslUnsupported:
            return RegistryError.store("the PostgreSQL server at \(server) does not offer TLS, and sslmode=\(location.sslMode.rawValue) requires it: enable ssl on the server, or use sslmode=prefer or disable")
        case .failedToAddSSLHandler:
            return RegistryError.store("TLS to the PostgreSQL server at \(server) failed: \(error.underlying.map(describe) ?? "no detail")")
        case .authMechanismRequiresPassword:
            return RegistryError.store("the PostgreSQL server at \(server) asks a password of user '\(location.user)': put it in the URL or in PGPASSWORD")
        case .saslError:
            return RegistryError.store("password authentication failed for user '\(location.user)' at \(server)")
        case .unsupportedAuthMechanism:
            return RegistryError.store("the PostgreSQL server at \(server) asks for an authentication method Keel does not speak (it speaks password, md5 and scram-sha-256)")
        case .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
            return RegistryError.store("the connection to the PostgreSQL registry \(place) was lost: \(error.underlying.map(describe) ?? "closed"); nothing uncommitted was kept")
        default:
            return RegistryError.store("PostgreSQL registry at \(place): \(error.code)\(error.underlying.map { ": \(describe($0))" } ?? "")")
        }
    }

    /// Whether the connection itself went away (the server or the network closed it), as opposed to a
    /// statement failing on a live one.
    static func isConnectionLost(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return false }
        return [.serverClosedConnection, .clientClosedConnection, .uncleanShutdown].contains(error.code)
    }

    /// An error the server reported, by its SQLSTATE.
    static func serverError(_ error: PSQLError, location: PostgresLocation) -> RegistryError {
        let state = error.serverInfo?[.sqlState] ?? ""
        let message = error.serverInfo?[.message] ?? "no message"
        let server = "\(location.host):\(location.port)"
        switch state {
        case "28P01":
            return .store("password authentication failed for user '\(location.user)' at \(server)")
        case "28000":
            return .store("the PostgreSQL server at \(server) refused user '\(location.user)': \(message)")
        case "3D000":
            return .notFound("database '\(location.database)' does not exist at \(server): create it (createdb \(location.database)) or name another in the URL")
        case "53300":
            return .store("the PostgreSQL server at \(server) has no free connections (max_connections): \(message)")
        case "42501":
            return .store("user '\(location.user)' may not do this in \(location.redacted): \(message)")
        default:
            return .store("PostgreSQL registry at \(location.redacted): \(message) (SQLSTATE \(state))")
        }
    }

    /// A socket-level cause in words (connection refused, timed out) rather than a type dump.
    static func describe(_ error: any Error) -> String {
        if let channel = error as? ChannelError, case .connectTimeout(let amount) = channel {
            return "no answer within \(amount.nanoseconds / 1_000_000) ms"
        }
        if let io = error as? IOError {
            return io.description
        }
        return "\(error)"
    }
}
