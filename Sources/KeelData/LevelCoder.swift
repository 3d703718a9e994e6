/// Builds dictionary-encoded strings one value at a time: codes in order of first appearance.
public struct LevelCoder: Sendable {
    public private(set) var codes: [UInt32] = []
    public private(set) var levels: [String] = []
    private var codeOf: [String: UInt32] = [:]

    public init(capacity: Int = 0) {
        codes.reserveCapacity(capacity)
    }

    public mutating func append(_ text: String) {
        if let code = codeOf[text] {
            codes.append(code)
        } else {
            let code = UInt32(levels.count)
            codeOf[text] = code
            levels.append(text)
            codes.append(code)
        }
    }

    public mutating func appendMissing() {
        codes.append(EncodedStrings.missing)
    }

    public var encoded: EncodedStrings { EncodedStrings(codes: codes, levels: levels) }
}
