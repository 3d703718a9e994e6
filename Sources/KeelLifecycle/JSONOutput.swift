import Foundation

/// How every command writes JSON: pretty, keys sorted (stable diffs), and non-finite numbers as strings
/// rather than an encoding error.
public enum JSONOutput {
    public static func encode(_ value: some Encodable, pretty: Bool = true) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(value)
    }

    public static func string(_ value: some Encodable) throws -> String {
        String(decoding: try encode(value), as: UTF8.self)
    }

    /// One line, for storing in the registry.
    public static func compact(_ value: some Encodable) throws -> String {
        String(decoding: try encode(value, pretty: false), as: UTF8.self)
    }
}
