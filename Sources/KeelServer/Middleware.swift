import Dispatch
import Hummingbird
import KeelData
import Synchronization
import KeelRegistry
import Logging

/// The outermost layer: gives every request an id, turns every error into the JSON error body, records
/// metrics and writes one structured log line per request (server errors at error, client errors sampled at
/// info, successes at debug). A path some route has but not with the request's method gets 405 and `Allow`.
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
            let allowed = status == .notFound ? Routes.allowedMethods(at: request.uri.path) : []
            if !allowed.isEmpty {
                // A path some route has, asked with a method none of its routes answers.
                response = Self.errorResponse(APIError(.methodNotAllowed, "method_not_allowed",
                                                       "\(request.method) is not allowed here; allowed: \(allowed.joined(separator: ", "))"))
                response.headers[.allow] = allowed.joined(separator: ", ")
            } else {
                let code = status == .notFound ? "not_found" : status == .contentTooLarge ? "body_too_large" : status == .methodNotAllowed ? "method_not_allowed" : "bad_request"
                response = Self.errorResponse(APIError(status, code, status == .notFound ? "no such endpoint: \(request.method) \(APIError.truncated(request.uri.path))" : status.reasonPhrase))
            }
        } catch is ClientAbort {
            // The client went away mid-request: nobody reads this answer, and it is not the server's error.
            ServerMetrics.shared.clientAbort()
            logger.debug("client aborted", metadata: ["request_id": .string(context.requestID), "path": .string(request.uri.path)])
            return Response(status: .badRequest)
        } catch {
            logger.error("unexpected error", metadata: ["request_id": .string(context.requestID), "error": .string(String(describing: error))])
            response = Self.errorResponse(APIError(.internalServerError, "internal", "the server could not complete the request"))
        }
        response.headers[.init("X-Request-Id")!] = context.requestID
        let elapsed = ContinuousClock.now - started
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        let route = context.endpointPath ?? "unmatched"
        ServerMetrics.shared.request(route: route, status: response.status.code, nanoseconds: nanoseconds)
        // Server errors at error level; client errors at info at most once per ten seconds (with how many
        // there were), else debug: a flood of bad requests cannot fill the disk. Successes at debug.
        let level: Logger.Level = response.status.code >= 500 ? .error : response.status.code >= 400 ? Self.clientErrorLog.level() : .debug
        // Never the Authorization header or the body: they may hold secrets or personal data.
        logger.log(level: level, "request", metadata: [
            "request_id": .string(context.requestID), "method": .string(request.method.rawValue), "path": .string(request.uri.path),
            "status": .stringConvertible(response.status.code), "ms": .string(String(format: "%.3f", Double(nanoseconds) / 1e6)),
        ])
        return response
    }

    static let clientErrorLog = SampledLog(everySeconds: 10)

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
        if let seconds = error.retryAfterSeconds { headers[.retryAfter] = String(seconds) }
        return Response(status: error.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: error.json)))
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

/// A client that hung up before its request was read: counted apart, never a 5xx.
struct ClientAbort: Error {}

/// Picks the level of a repeated log line: info once per period, debug for the rest of it.
final class SampledLog: Sendable {
    private let periodNanoseconds: UInt64
    private let last = Atomic<UInt64>(0)

    init(everySeconds: Double) { periodNanoseconds = UInt64(everySeconds * 1e9) }

    func level() -> Logger.Level {
        let now = DispatchTime.now().uptimeNanoseconds
        let previous = last.load(ordering: .relaxed)
        guard previous == 0 || now &- previous >= periodNanoseconds else { return .debug }
        return last.compareExchange(expected: previous, desired: now, ordering: .relaxed).exchanged ? .info : .debug
    }
}
