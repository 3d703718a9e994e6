/// How a command names a registered model: `NAME` (the production version, else the newest),
/// `NAME@VERSION`, or `NAME@STAGE` (`NAME@production`, `NAME@staging`, `NAME@candidate`).
public struct ModelReference: Sendable, Equatable, CustomStringConvertible {
    public enum Selector: Sendable, Equatable {
        case preferred
        case version(Int)
        case stage(Stage)
    }

    public var name: String
    public var selector: Selector

    public init(name: String, selector: Selector = .preferred) {
        self.name = name
        self.selector = selector
    }

    /// Parses `NAME[@VERSION|@STAGE]`; nil when the text cannot be a reference.
    public init?(_ text: String) {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let name = parts.first, ModelReference.isValidName(name) else { return nil }
        self.name = name
        if parts.count == 1 {
            selector = .preferred
        } else if let version = Int(parts[1]), version > 0 {
            selector = .version(version)
        } else if let stage = Stage(rawValue: parts[1]) {
            selector = .stage(stage)
        } else {
            return nil
        }
    }

    /// Letters, digits, `-`, `_` and `.`, starting with a letter or digit: safe in URLs and file names.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 128, first.properties.isAlphabetic || ("0"..."9").contains(first) else {
            return false
        }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) }
    }

    public var description: String {
        switch selector {
        case .preferred: name
        case .version(let version): "\(name)@\(version)"
        case .stage(let stage): "\(name)@\(stage.rawValue)"
        }
    }
}
