import Foundation

/// The character encodings Keel reads. Latin-1 and Windows-1252 are single-byte and ASCII-compatible, so
/// delimiters and quotes tokenize alike; their fields are decoded to UTF-8 strings.
public enum TextEncoding: String, Sendable, CaseIterable, Codable {
    case utf8 = "utf-8"
    case latin1 = "latin-1"
    case windows1252 = "windows-1252"

    /// `utf-8`, `utf8`, `latin-1`, `latin1`, `iso-8859-1`, `windows-1252`, `cp1252` (any case).
    public init?(name: String) {
        switch name.lowercased() {
        case "utf-8", "utf8": self = .utf8
        case "latin-1", "latin1", "iso-8859-1", "iso8859-1": self = .latin1
        case "windows-1252", "cp1252", "win1252": self = .windows1252
        default: return nil
        }
    }

    /// The bytes as a string, or nil when they are not valid in this encoding.
    public func decode(_ bytes: some Collection<UInt8>) -> String? {
        switch self {
        case .utf8:
            return String(validating: Array(bytes), as: UTF8.self)
        case .latin1:
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        case .windows1252:
            var scalars = String.UnicodeScalarView()
            for byte in bytes {
                if byte < 0x80 || byte >= 0xA0 {
                    scalars.append(Unicode.Scalar(byte))
                } else {
                    guard let mapped = Self.windows1252High[Int(byte - 0x80)] else { return nil }
                    scalars.append(mapped)
                }
            }
            return String(scalars)
        }
    }

    /// Windows-1252's bytes 0x80–0x9F (five are undefined).
    private static let windows1252Codes: [UInt32?] = [
        0x20AC, nil, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, nil, 0x017D, nil,
        nil, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, nil, 0x017E, 0x0178,
    ]
    private static let windows1252High: [Unicode.Scalar?] = windows1252Codes.map { $0.flatMap(Unicode.Scalar.init) }

    /// The encoding of a file's first bytes when they are unambiguous: UTF-8 when they are valid UTF-8 (the
    /// last, possibly cut, character aside), Windows-1252 when they are not but every byte above 0x7F is a
    /// letter or sign in Windows-1252 (Latin-1 text reads the same, bar 0x80–0x9F), otherwise nil.
    public static func detect(_ sample: UnsafeBufferPointer<UInt8>) -> TextEncoding? {
        var cut = sample.count
        // A multi-byte character may be cut at the end of the sample: look back at most three bytes.
        var back = 0
        while back < 3, cut > 0, sample[cut - 1] & 0xC0 == 0x80 { cut -= 1; back += 1 }
        if cut > 0, sample[cut - 1] >= 0xC0 { cut -= 1 }
        if String(validating: UnsafeBufferPointer(rebasing: sample[0..<cut]), as: UTF8.self) != nil { return .utf8 }
        let defined = sample.allSatisfy { $0 < 0x80 || $0 >= 0xA0 || windows1252High[Int($0 - 0x80)] != nil }
        return defined ? .windows1252 : nil
    }
}

/// How numbers are written in a file: the decimal mark and the thousands separator, as spreadsheets in
/// many locales write them (`1.234,56` in Germany, `1 234,56` in France, `1,234.56` in the US).
public struct NumberStyle: Sendable, Equatable, CustomStringConvertible {
    public var decimal: Character
    public var thousands: Character?

    public init(decimal: Character, thousands: Character?) {
        self.decimal = decimal
        self.thousands = thousands
    }

    public var description: String {
        "decimal \(decimal == "," ? "comma" : "point")" + (thousands.map { ", thousands separated by '\($0 == "\u{00A0}" ? " " : String($0))'" } ?? "")
    }

    /// The number `text` spells in this style, or nil (the byte reader's rules, spaces around it trimmed).
    public func parse(_ text: String) -> Double? {
        var trimmed = text.trimmingCharacters(in: .whitespaces)
        return trimmed.withUTF8 { parse($0) }
    }

    /// `field` (trimmed bytes) as a number in this style, without allocating: separators are dropped and
    /// the decimal mark becomes a point in a stack buffer, which `NumberParser` then reads.
    public func parse(_ field: UnsafeBufferPointer<UInt8>) -> Double? {
        let decimalByte = decimal.asciiValue ?? UInt8(ascii: ".")
        let groupByte = thousands?.asciiValue
        guard field.count > 0, field.count <= 64 else { return nil }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { out -> Double? in
            var n = 0
            var sawDecimal = false
            var groupLength = -1   // digits since the last separator; -1 before any separator
            var leading = 0        // digits before the first separator
            for byte in field {
                if byte == decimalByte {
                    guard !sawDecimal, groupLength == -1 || groupLength == 3 else { return nil }
                    sawDecimal = true
                    out[n] = UInt8(ascii: "."); n += 1
                } else if let groupByte, byte == groupByte, !sawDecimal {
                    guard groupLength == -1 ? (1...3).contains(leading) : groupLength == 3 else { return nil }
                    groupLength = 0
                } else {
                    if byte &- 48 < 10, !sawDecimal { if groupLength >= 0 { groupLength += 1 } else { leading += 1 } }
                    out[n] = byte; n += 1
                }
            }
            if groupLength >= 0, !sawDecimal, groupLength != 3 { return nil }
            return NumberParser.parse(UnsafeBufferPointer(rebasing: out[0..<n]))
        }
    }

    /// The style of the numbers in a file's first bytes, when they show one that is not plain: decimal
    /// commas (`984,90`, `1.234,56`) in a file not separated by commas, or thousands grouped by commas in
    /// quoted fields (`"1,234.56"`). Nil when the numbers are plain or nothing shows a style.
    public static func detect(_ sample: UnsafeBufferPointer<UInt8>, delimiter: UInt8) -> NumberStyle? {
        var commaDecimals = 0, pointDecimals = 0, dotGroups = 0, commaGroups = 0
        var field: [UInt8] = []
        func classify() {
            defer { field.removeAll(keepingCapacity: true) }
            var bytes = field[...]
            while let first = bytes.first, first == 0x20 || first == UInt8(ascii: "\"") || first == UInt8(ascii: "-") { bytes.removeFirst() }
            while let last = bytes.last, last == 0x20 || last == UInt8(ascii: "\"") { bytes.removeLast() }
            guard let first = bytes.first, first &- 48 < 10 else { return }
            guard bytes.allSatisfy({ $0 &- 48 < 10 || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: ".") }) else { return }
            let commas = bytes.filter { $0 == UInt8(ascii: ",") }.count, points = bytes.filter { $0 == UInt8(ascii: ".") }.count
            let text = String(decoding: bytes, as: UTF8.self)
            let afterLastComma = text.split(separator: ",", omittingEmptySubsequences: false).last?.count ?? 0
            let afterLastPoint = text.split(separator: ".", omittingEmptySubsequences: false).last?.count ?? 0
            if commas == 1, points == 0 {
                // "984,90" is a decimal comma; "1,234" could group thousands, so it counts for neither.
                if afterLastComma != 3 { commaDecimals += 1 }
            } else if points == 1, commas == 0 {
                if afterLastPoint != 3 { pointDecimals += 1 }
            } else if commas >= 1, points >= 1 {
                let commaLast = text.lastIndex(of: ",")! > text.lastIndex(of: ".")!
                if commaLast { dotGroups += 1; commaDecimals += 1 } else { commaGroups += 1; pointDecimals += 1 }
            } else if points > 1 {
                dotGroups += 1
            } else if commas > 1 {
                commaGroups += 1
            }
        }
        var quoted = false
        for byte in sample {
            if byte == UInt8(ascii: "\"") { quoted.toggle() }
            if !quoted, byte == delimiter || byte == 0x0A || byte == 0x0D {
                classify()
            } else {
                field.append(byte)
            }
        }
        if delimiter != UInt8(ascii: ","), commaDecimals >= 2, pointDecimals == 0 {
            return NumberStyle(decimal: ",", thousands: dotGroups > 0 ? "." : nil)
        }
        if commaGroups >= 1, commaDecimals == 0 {
            return NumberStyle(decimal: ".", thousands: ",")
        }
        return nil
    }
}
