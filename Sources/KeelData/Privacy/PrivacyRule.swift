import Foundation

/// What happens to one column's values before Keel keeps or uses them: written `drop`, `pseudonymise`,
/// `generalise` (optionally `generalise:LEVEL`) or `keep` in a schema file, a train config or `--privacy`.
public enum PrivacyRule: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The column is read, then removed: it reaches no model, snapshot, profile or log.
    case drop
    /// Each value becomes its keyed HMAC-SHA256 (hex): equal values stay equal, so the column still joins and
    /// groups, and no value can be recovered without the key.
    case pseudonymise
    /// Values are coarsened: numbers into bands of a width, text to a prefix, dates to their month or year.
    /// Nil: the column kind's default (bands of 10, the part before the first space or else 3 characters,
    /// the month).
    case generalise(Level?)
    /// The values are kept as they are.
    case keep

    public enum Level: Sendable, Equatable {
        /// Numbers: the band width; text: the number of characters kept.
        case width(Double)
        case month
        case year

        public var description: String {
            switch self {
            case .width(let width): NumberFormatting.canonical(width)
            case .month: "month"
            case .year: "year"
            }
        }
    }

    /// The spellings: `drop`, `pseudonymise` (or `pseudonymize`), `generalise` (or `generalize`), optionally
    /// with `:N`, `:month` or `:year`, and `keep`.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let parts = trimmed.split(separator: ":", maxSplits: 1).map(String.init)
        let head = parts.first ?? ""
        switch head {
        case "drop" where parts.count == 1: self = .drop
        case "keep" where parts.count == 1: self = .keep
        case "pseudonymise" where parts.count == 1, "pseudonymize" where parts.count == 1: self = .pseudonymise
        case "generalise", "generalize":
            guard parts.count == 2 else { self = .generalise(nil); return }
            switch parts[1].trimmingCharacters(in: .whitespaces) {
            case "month": self = .generalise(.month)
            case "year": self = .generalise(.year)
            default:
                guard let width = Double(parts[1]), width.isFinite, width > 0 else {
                    throw DataError.invalidSchema("'\(text)': a generalisation level is a positive number (a band width, or the characters a prefix keeps), `month` or `year`")
                }
                self = .generalise(.width(width))
            }
        default:
            throw DataError.invalidSchema("'\(text)' is not a privacy rule; the rules are: drop, pseudonymise, generalise (generalise:N, generalise:month, generalise:year) and keep")
        }
    }

    public var description: String {
        switch self {
        case .drop: "drop"
        case .pseudonymise: "pseudonymise"
        case .generalise(let level): level.map { "generalise:\($0.description)" } ?? "generalise"
        case .keep: "keep"
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(parsing: text)
        } catch let error as DataError {
            throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Turns text into a pseudonym under a secret key (HMAC-SHA256 in `KeelArtifact`, where swift-crypto may be
/// imported): the core only calls it.
public protocol Pseudonymiser: Sendable {
    func pseudonym(_ text: String) -> String
    /// A value that identifies the key without revealing it, recorded with the schema so that a different
    /// key is an error rather than a silent change of every token.
    var keyCheck: String { get }
}
