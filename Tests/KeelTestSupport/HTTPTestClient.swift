import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 client over a plain socket, one connection per request (`Connection: close`), so tests
/// can send exactly the bytes they mean: malformed bodies, huge headers, a request that stalls halfway.
public struct HTTPTestClient: Sendable {
    public var port: Int

    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String

        /// The body parsed as a JSON object (nil when it is not one).
        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        }

        /// `error.code` of an error body.
        public var errorCode: String? { (json?["error"] as? [String: Any])?["code"] as? String }
        public var errorField: String? { (json?["error"] as? [String: Any])?["field"] as? String }
        public var errorRow: Int? { (json?["error"] as? [String: Any])?["row"] as? Int }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String

        public init(description: String) { self.description = description }
    }

    public init(port: Int) { self.port = port }

    public func get(_ path: String, headers: [String: String] = [:]) throws -> Response {
        try send("GET", path, headers: headers)
    }

    public func post(_ path: String, _ body: String, headers: [String: String] = [:]) throws -> Response {
        try send("POST", path, body: Array(body.utf8), headers: headers)
    }

    /// Sends one request; a body goes as `application/json` unless `headers` names another Content-Type.
    public func send(_ method: String, _ path: String, body: [UInt8] = [], headers: [String: String] = [:]) throws -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if !body.isEmpty || method == "POST" {
            if !headers.keys.contains(where: { $0.lowercased() == "content-type" }) { head += "Content-Type: application/json\r\n" }
            head += "Content-Length: \(body.count)\r\n"
        }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        return try raw(Array(head.utf8) + body)
    }

    /// A HEAD request's status and headers (its response has a Content-Length but no body).
    public func head(_ path: String) throws -> (status: Int, headers: [String: String], extra: Int) {
        let socket = try connect(timeout: 15)
        defer { close(socket) }
        let request = Array("HEAD \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { Glibc.send(socket, $0.baseAddress!, request.count, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { break }
            received += chunk[0..<n]
        }
        let text = String(decoding: received, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let lines = parts[0].components(separatedBy: "\r\n")
        let status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, headers, parts.dropFirst().joined(separator: "\r\n\r\n").utf8.count)
    }

    /// Sends `bytes` as they are and reads the response until the server closes the connection.
    public func raw(_ bytes: [UInt8], timeout: Double = 15) throws -> Response {
        let socket = try connect(timeout: timeout)
        defer { close(socket) }
        return try finish(socket, sending: bytes)
    }

    /// Sends the rest of a request on an open connection (from `stall`) and reads the response.
    public func finish(_ socket: Int32, sending bytes: [UInt8]) throws -> Response {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { break }
            sent += n
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { break }
            received += chunk[0..<n]
            if let response = Self.complete(received) { return response }
        }
        guard let response = Self.complete(received, atEOF: true) else {
            throw Failure(description: "no complete HTTP response from port \(port) (\(received.count) bytes)")
        }
        return response
    }

    /// Opens a connection, sends `bytes` and leaves it open: a client that stalls. Close it with `close(_:)`.
    public func stall(sending bytes: [UInt8]) throws -> Int32 {
        let socket = try connect(timeout: 15)
        _ = bytes.withUnsafeBytes { Glibc.send(socket, $0.baseAddress!, bytes.count, Int32(MSG_NOSIGNAL)) }
        return socket
    }

    /// Whether the server has closed a stalled connection (a read returns end of file or an error).
    public static func isClosed(_ socket: Int32) -> Bool {
        var byte: UInt8 = 0
        return recv(socket, &byte, 1, Int32(MSG_DONTWAIT)) == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)
    }

    private func connect(timeout: Double) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "socket() failed") }
        var interval = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(socket)
            throw Failure(description: "cannot connect to 127.0.0.1:\(port)")
        }
        return socket
    }

    /// Parses a full response out of `bytes` (Content-Length or chunked), or nil when more is needed.
    static func complete(_ bytes: [UInt8], atEOF: Bool = false) -> Response? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, bytes.count - 3)).first(where: { Array(bytes[$0..<($0 + 4)]) == separator }) else { return nil }
        let head = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = head[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let rest = Array(bytes[(end + 4)...])
        if let length = headers["content-length"].flatMap(Int.init) {
            guard rest.count >= length else { return nil }
            return Response(status: status, headers: headers, body: String(decoding: rest[..<length], as: UTF8.self))
        }
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            var body: [UInt8] = []
            var position = 0
            while true {
                guard let lineEnd = (position..<max(position, rest.count - 1)).first(where: { rest[$0] == 13 && rest[$0 + 1] == 10 }) else { return nil }
                guard let size = Int(String(decoding: rest[position..<lineEnd], as: UTF8.self), radix: 16) else { return nil }
                if size == 0 { return Response(status: status, headers: headers, body: String(decoding: body, as: UTF8.self)) }
                guard lineEnd + 2 + size + 2 <= rest.count else { return nil }
                body += rest[(lineEnd + 2)..<(lineEnd + 2 + size)]
                position = lineEnd + 2 + size + 2
            }
        }
        return atEOF ? Response(status: status, headers: headers, body: String(decoding: rest, as: UTF8.self)) : nil
    }
}
