/// Errors from fitting and predicting. Each says what is wrong and where, in one sentence.
public enum LearnError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidParameter(String)
    case invalidTarget(String)
    case invalidData(String)
    case schemaMismatch(String)

    public var description: String {
        switch self {
        case .invalidParameter(let message), .invalidTarget(let message), .invalidData(let message), .schemaMismatch(let message):
            message
        }
    }
}
