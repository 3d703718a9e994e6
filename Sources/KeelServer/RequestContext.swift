import Hummingbird
import NIOCore

/// Per-request state: the id that ties a request's log lines, response and (later) prediction log together.
struct KeelRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var requestID = ""
    /// The client's connection: long work (an explanation) checks it and stops when the client has gone,
    /// since the server does not cancel a handler when its connection closes.
    let channel: (any Channel)?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
