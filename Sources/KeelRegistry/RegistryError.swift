/// Why a registry operation was refused. Each message says what to do instead.
public enum RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(String)
    case invalid(String)
    /// A promotion gate failed; each entry says which gate and by how much.
    case gatesFailed([String])
    case store(String)
    /// The change conflicts with one already made (a review item decided twice).
    case conflict(String)

    public var description: String {
        switch self {
        case .notFound(let message), .invalid(let message), .store(let message), .conflict(let message): message
        case .gatesFailed(let failures):
            "promotion blocked:\n" + failures.map { "  - \($0)" }.joined(separator: "\n") + "\n(--force overrides the gates; the override is audited)"
        }
    }
}
