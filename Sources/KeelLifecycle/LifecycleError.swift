/// What the lifecycle steps report when they cannot go on.
public enum LifecycleError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let message): message
        }
    }
}
