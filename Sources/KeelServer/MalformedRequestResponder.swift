import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1

/// Answers a request the HTTP/1 decoder refuses with the API's JSON error: 431 when the request line and
/// headers pass the decoder's limit (`OpenAPIDocument.maxHeaderBytes`), 400 for anything else that is not
/// HTTP/1.1. Without it Hummingbird answers such requests 400 with no body.
///
/// It sits right after the decoder, which reports the failure as an `errorCaught`. It answers only when the
/// connection is between requests (every request read and answered), which is where a request's head is
/// parsed; otherwise (a pipelined request behind one still being answered) the error goes on to Hummingbird,
/// which answers 400 after the earlier response. After answering it closes its side of the connection and
/// lets the client's remaining bytes drain for a second before closing: closing with unread bytes would
/// reset the connection, and the client could lose the answer.
final class MalformedRequestResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Requests whose head was read and whose end was not.
    private var unreadRequests = 0
    /// Requests whose head was read and whose response has not ended.
    private var unansweredRequests = 0
    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            unreadRequests += 1
            unansweredRequests += 1
        case .end: unreadRequests = max(0, unreadRequests - 1)
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { unansweredRequests = max(0, unansweredRequests - 1) }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Once answered, the decoder reports each further read as an error: the client has its answer.
        if answered { return }
        guard let parserError = error as? HTTPParserError, unreadRequests == 0, unansweredRequests == 0 else {
            context.fireErrorCaught(error)
            return
        }
        answered = true
        let apiError = parserError == .headerOverflow
            ? APIError(.requestHeaderFieldsTooLarge, "headers_too_large",
                       "the request line and headers are larger than \(OpenAPIDocument.maxHeaderBytes / 1024) KiB (or more than 1,000 fields)")
            : APIError(.badRequest, "bad_request", "the request is not valid HTTP/1.1 (\(parserError))")
        let body = ByteBuffer(string: apiError.json)
        let headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", String(body.readableBytes)),
                                   ("Connection", "close"), ("X-Request-Id", RequestIDs.next())])
        let head = HTTPResponseHead(version: .http1_1, status: .init(statusCode: apiError.status.code), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        ServerMetrics.shared.request(route: "unmatched", status: apiError.status.code, nanoseconds: 0)
        let channel = context.channel
        let closed = context.eventLoop.makePromise(of: Void.self)
        closed.futureResult.whenFailure { _ in channel.close(promise: nil) }
        context.close(mode: .output, promise: closed)
        channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
    }
}

/// Puts a `MalformedRequestResponder` right after the HTTP/1 request decoder when the connection's pipeline
/// is made. (Hummingbird adds its extra handlers behind its codec to swift-http-types' parts, later than
/// the decoder's errors should be caught.) It stays in the pipeline and passes everything on.
final class MalformedRequestResponderInstaller: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func handlerAdded(context: ChannelHandlerContext) {
        let pipeline = context.pipeline.syncOperations
        guard let decoder = try? pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self) else { return }
        try? pipeline.addHandler(MalformedRequestResponder(), position: .after(decoder))
    }
}
