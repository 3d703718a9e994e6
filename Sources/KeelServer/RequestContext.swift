import Hummingbird

/// Per-request state: the id that ties a request's log lines, response and (later) prediction log together.
struct KeelRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var requestID = ""

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}
