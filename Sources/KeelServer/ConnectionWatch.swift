import NIOCore
import Synchronization

/// Notes when a client has closed its side of the connection. The server allows half-closed connections
/// (HTTP clients may send, shut down their output and then read), so a client that hangs up leaves the
/// channel active and only an `inputClosed` event says it is gone; the handler of a long request (an
/// explanation) reads the flag between chunks of work and stops.
final class ConnectionWatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private static let flags = Mutex<[ObjectIdentifier: Flag]>([:])

    /// The flag set when `channel`'s client has gone (nil for a channel without a watch).
    static func clientGone(_ channel: any Channel) -> Flag? {
        flags.withLock { $0[ObjectIdentifier(channel)] }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let key = ObjectIdentifier(context.channel)
        Self.flags.withLock { $0[key] = Flag() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        let key = ObjectIdentifier(context.channel)
        Self.flags.withLock { $0.removeValue(forKey: key) }?.set()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { Self.mark(context.channel) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        Self.mark(context.channel)
        context.fireChannelInactive()
    }

    private static func mark(_ channel: any Channel) {
        flags.withLock { $0[ObjectIdentifier(channel)] }?.set()
    }
}
