import Foundation
import Hummingbird
import KeelRegistry

/// Who may call a route once the keys file holds keys (with no keys, every route is open).
enum Access: String, Sendable, CaseIterable {
    /// Health checks: orchestrators probe without a secret.
    case open
    /// Any valid key: the API's own description.
    case anyKey
    /// Scoring, explaining and feedback: predict or admin keys.
    case predict
    /// `/metrics`: open or a metrics (or admin) key, as `server.metrics_auth` says.
    case metrics
    /// The review queue: reviewer or admin keys.
    case review
    /// Everything else: admin keys only.
    case admin
}

/// One route of the API. The router, the authorization check, the 405 answers and the OpenAPI document
/// all read `Routes.all`, so a route cannot be served with one rule and described or checked with another.
struct Route: Sendable {
    let method: HTTPRequest.Method
    /// In OpenAPI's form: `/v1/models/{name}/predict`.
    let path: String
    let access: Access
    let summary: String

    init(_ method: HTTPRequest.Method, _ path: String, _ access: Access, _ summary: String) {
        (self.method, self.path, self.access, self.summary) = (method, path, access, summary)
    }

    /// The path in the router's form: `/v1/models/:name/predict`.
    var routerPath: String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? ":" + segment.dropFirst().dropLast() : String(segment)
        }.joined(separator: "/")
    }

    /// Whether `requestPath` has this route's shape (a `{parameter}` matches any one non-empty segment).
    func matches(_ requestPath: String) -> Bool {
        let mine = path.split(separator: "/", omittingEmptySubsequences: false)
        let theirs = requestPath.split(separator: "/", omittingEmptySubsequences: false)
        guard mine.count == theirs.count else { return false }
        for (a, b) in zip(mine, theirs) {
            if a.hasPrefix("{") { if b.isEmpty { return false } } else if a != b { return false }
        }
        return true
    }
}

enum Routes {
    static let all: [Route] = [
        Route(.get, "/healthz", .open, "Liveness: the process answers"),
        Route(.get, "/readyz", .open, "Readiness: a model is loaded and served"),
        Route(.post, "/v1/predict", .predict, "Predictions for one or more rows"),
        Route(.post, "/v1/explain", .predict, "Attributions and reason codes for one or more rows"),
        Route(.post, "/v1/feedback", .predict, "Ground truth for earlier predictions"),
        Route(.get, "/v1/model", .admin, "The served model's manifest"),
        Route(.get, "/v1/models", .admin, "The served models"),
        Route(.get, "/v1/models/{name}", .admin, "One served model's manifest"),
        Route(.post, "/v1/models/{name}/predict", .predict, "Predictions from the named model"),
        Route(.post, "/v1/models/{name}/explain", .predict, "Explanations from the named model"),
        Route(.get, "/v1/review", .review, "Predictions queued for review, least confident first"),
        Route(.post, "/v1/review/{id}", .review, "Decide a queued prediction: confirm it or override it with a label"),
        Route(.post, "/v1/admin/reload", .admin, "Reload the model and the keys"),
        Route(.get, "/metrics", .metrics, "Prometheus metrics"),
        Route(.get, "/openapi.json", .anyKey, "This API, as an OpenAPI 3.1 document"),
        Route(.get, "/docs", .anyKey, "This API, as a readable page"),
    ]

    /// The methods some route answers at `path` (HEAD wherever GET is), for a 405's `Allow` header; empty
    /// when no route has that shape.
    static func allowedMethods(at path: String) -> [String] {
        var methods = all.filter { $0.matches(path) }.map(\.method.rawValue)
        if methods.contains("GET") { methods.append("HEAD") }
        return Array(Set(methods)).sorted()
    }
}

/// Whether a request may call a route: the route's declared access against the caller's key.
struct Authorization: Sendable {
    /// Whether `/metrics` needs a key (metrics or admin) when keys are in force.
    var metricsNeedKey: Bool

    func check(_ request: Request, route: Route, keys: APIKeyStore?) throws {
        guard route.access != .open, let keys, !keys.isEmpty else { return }
        if route.access == .metrics && !metricsNeedKey { return }
        guard let secret = Self.bearerToken(request.headers[.authorization]) else {
            throw APIError(.unauthorized, "unauthorized", "this server requires an API key: send Authorization: Bearer <key>")
        }
        guard let role = keys.role(of: secret) else {
            throw APIError(.unauthorized, "unauthorized", "the API key is not valid")
        }
        let allowed = switch route.access {
        case .open, .anyKey: true
        case .predict: role.allows(.predict)
        case .metrics: role.allows(.metrics)
        case .review: role.allows(.reviewer)
        case .admin: role == .admin
        }
        guard allowed else {
            let needed = switch route.access {
            case .metrics: "a metrics or admin key"
            case .predict: "a predict or admin key"
            case .review: "a reviewer or admin key"
            default: "an admin key"
            }
            throw APIError(.forbidden, "forbidden", "a \(role.rawValue) key may not call \(route.method.rawValue) \(route.path); it needs \(needed)")
        }
    }

    /// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive (RFC 9110).
    static func bearerToken(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
