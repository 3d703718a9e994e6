import Dispatch
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import KeelArtifact
import KeelData
import KeelExplain
import KeelLearn
import KeelRegistry
import Logging
import NIOCore
import NIOPosix
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// Request bodies in, JSON out.
extension PredictionServer {
    /// The request's body, at most `limit` bytes, which must be declared JSON if declared at all (415). A
    /// client that hangs up while sending it is a `ClientAbort`, not a server error.
    static func collect(_ request: inout Request, limit: Int) async throws -> ByteBuffer {
        let length = request.headers[.contentLength].flatMap(Int.init)
        if let length, length > limit {
            throw APIError(.contentTooLarge, "body_too_large", "the body has \(length) bytes; the limit is \(limit)")
        }
        // A body with no declared type is read as JSON; one declared as anything else is refused.
        let hasBody = (length ?? 0) > 0 || request.headers[.transferEncoding] != nil
        if hasBody, let type = request.headers[.contentType], !isJSON(type) {
            throw APIError(.unsupportedMediaType, "unsupported_media_type",
                           "the body must be JSON (Content-Type: application/json), not '\(APIError.truncated(type))'")
        }
        do {
            return try await request.collectBody(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "body_too_large", "the body is larger than the limit of \(limit) bytes")
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            throw ClientAbort()
        }
    }

    /// `application/json`, any case, with parameters (`; charset=utf-8`), or a `+json` type.
    static func isJSON(_ contentType: String) -> Bool {
        let type = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }

    static func parse(_ body: ByteBuffer) throws -> JSONValue {
        guard body.readableBytes > 0 else { throw APIError(.badRequest, "invalid_body", "the body is empty; send a JSON object") }
        do {
            return try body.withUnsafeReadableBytes { bytes throws(JSONParseError) in try JSONParser.parse(bytes) }
        } catch {
            if error.nonFinite {
                throw APIError(.unprocessableContent, "non_finite_number", error.message, field: error.field)
            }
            throw APIError(.badRequest, "invalid_json", error.message, field: error.field)
        }
    }

    static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
