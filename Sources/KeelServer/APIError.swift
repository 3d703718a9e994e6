import Hummingbird

/// An error the API returns as `{"error": {"code", "message", "row", "field"}}` with a 4xx or 5xx status.
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// The 0-based row of a batch the error is about.
    public var row: Int?
    public var field: String?
    /// Seconds after which a retry may succeed (`Retry-After`), for a 503 that passes.
    public var retryAfterSeconds: Int?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, row: Int? = nil, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.row = row
        self.field = field.map { Self.truncated($0) }
    }

    /// `text` cut to `limit` characters with the count of the rest: a client's long value is never echoed whole.
    static func truncated(_ text: some StringProtocol, limit: Int = 80) -> String {
        text.count <= limit ? String(text) : "\(text.prefix(limit))… (\(text.count - limit) more characters)"
    }

    var json: String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("error")
        writer.beginObject()
        writer.key("code"); writer.string(code)
        writer.key("message"); writer.string(message)
        writer.key("row"); if let row { writer.number(Double(row)) } else { writer.null() }
        writer.key("field"); if let field { writer.string(field) } else { writer.null() }
        writer.endObject()
        writer.endObject()
        return writer.text
    }
}
