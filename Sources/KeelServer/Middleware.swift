import Hummingbird
import KeelData
import Synchronization
import KeelRegistry
import Logging

/// The outermost layer: gives every request an id, turns every error into the JSON error body, records
/// metrics and writes one structured log line per request (errors at info, successes at debug).
struct RequestHandlingMiddleware: RouterMiddleware {
    typealias Context = KeelRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var context = context
        context.requestID = Self.requestID(request)
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            response = Self.errorResponse(error)
        } catch let error as any HTTPResponseError {
            let status = error.status
            let code = status == .notFound ? "not_found" : status == .contentTooLarge ? "body_too_large" : status == .methodNotAllowed ? "method_not_allowed" : "bad_request"
            response = Self.errorResponse(APIError(status, code, status == .notFound ? "no such endpoint: \(request.method) \(request.uri.path)" : status.reasonPhrase))
        } catch {
            logger.error("unexpected error", metadata: ["request_id": .string(context.requestID), "error": .string(String(describing: error))])
            response = Self.errorResponse(APIError(.internalServerError, "internal", "the server could not complete the request"))
        }
        response.headers[.init("X-Request-Id")!] = context.requestID
        let elapsed = ContinuousClock.now - started
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        let route = context.endpointPath ?? "unmatched"
        ServerMetrics.shared.request(route: route, status: response.status.code, nanoseconds: nanoseconds)
        let level: Logger.Level = response.status.code >= 400 ? .info : .debug
        // Never the Authorization header or the body: they may hold secrets or personal data.
        logger.log(level: level, "request", metadata: [
            "request_id": .string(context.requestID), "method": .string(request.method.rawValue), "path": .string(request.uri.path),
            "status": .stringConvertible(response.status.code), "ms": .string(String(format: "%.3f", Double(nanoseconds) / 1e6)),
        ])
        return response
    }

    /// A client's `X-Request-Id` when it is a plain token, else the server's own.
    static func requestID(_ request: Request) -> String {
        if let given = request.headers[.init("X-Request-Id")!], given.count <= 64, !given.isEmpty, given.utf8.allSatisfy(isTokenByte) {
            return given
        }
        return RequestIDs.next()
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): true
        default: false
        }
    }

    static func errorResponse(_ error: APIError) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if error.status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: error.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: error.json)))
    }
}

/// Bearer-key authentication with roles, active once the keys file holds a key. Health checks stay open so
/// orchestrators can probe without a secret.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = KeelRequestContext
    let slot: ModelSlot

    static let predictPaths: Set<String> = ["/v1/predict", "/v1/explain", "/v1/feedback"]
    static let openPaths: Set<String> = ["/healthz", "/readyz"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard !Self.openPaths.contains(path), let keys = slot.keys, !keys.isEmpty else { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), case let secret = header.dropFirst(7), !secret.isEmpty else {
            throw APIError(.unauthorized, "unauthorized", "this server requires an API key: send Authorization: Bearer <key>")
        }
        guard let role = keys.role(of: String(secret)) else {
            throw APIError(.unauthorized, "unauthorized", "the API key is not valid")
        }
        let scoring = Self.predictPaths.contains(path) || (path.hasPrefix("/v1/models/") && (path.hasSuffix("/predict") || path.hasSuffix("/explain")))
        let needed: APIKeyRole = scoring ? .predict : .admin
        guard role.allows(needed) else {
            throw APIError(.forbidden, "forbidden", "a \(role.rawValue) key may not call \(path); it needs an \(needed.rawValue) key")
        }
        return try await next(request, context)
    }
}

/// Server-made request ids: a random prefix per process and a counter, unique without coordination.
enum RequestIDs {
    private static let prefix = SHA256Hasher.hex((0..<6).map { _ in UInt8.random(in: 0...255) })
    private static let counter = Atomic<UInt64>(0)

    static func next() -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        return prefix + "-" + String(n, radix: 16)
    }
}
