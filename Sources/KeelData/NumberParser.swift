#if canImport(Glibc)
import Glibc
#endif

/// Parses decimal numbers from CSV bytes without allocating.
///
/// The common case (at most 15 significant digits and a small exponent) is computed exactly with one
/// multiplication or division by an exact power of ten (Clinger's fast path); anything else goes to `strtod`,
/// so every result is the correctly rounded double, as pandas' round-trip parser gives.
enum NumberParser {
    private static let exactPowersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// The number spelled by `bytes` (spaces already trimmed), or nil when it is not a number.
    /// Accepts an optional sign, digits with one optional decimal point, an optional exponent, and
    /// `inf`, `infinity` (any case, optionally signed).
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        let count = bytes.count
        guard count > 0 else { return nil }
        var i = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            i = 1
        }
        var mantissa: UInt64 = 0
        var significantDigits = 0
        var digitsSeen = 0
        var decimalExponent = 0
        var sawPoint = false
        while i < count {
            let byte = bytes[i]
            if byte &- 48 < 10 {
                digitsSeen &+= 1
                if significantDigits < 19 {
                    if mantissa != 0 || byte != 48 {
                        mantissa = mantissa &* 10 &+ UInt64(byte &- 48)
                        significantDigits &+= 1
                    }
                    if sawPoint { decimalExponent &-= 1 }
                } else if !sawPoint {
                    decimalExponent &+= 1
                }
            } else if byte == UInt8(ascii: "."), !sawPoint {
                sawPoint = true
            } else {
                break
            }
            i &+= 1
        }
        if digitsSeen == 0 { return parseSpecial(bytes, from: i, negative: negative) }
        if i < count {
            guard bytes[i] | 0x20 == UInt8(ascii: "e"), i + 1 < count else { return nil }
            i &+= 1
            var exponentNegative = false
            if bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
                exponentNegative = bytes[i] == UInt8(ascii: "-")
                i &+= 1
            }
            guard i < count else { return nil }
            var exponent = 0
            while i < count {
                let digit = bytes[i] &- 48
                guard digit < 10 else { return nil }
                if exponent < 100_000 { exponent = exponent &* 10 &+ Int(digit) }
                i &+= 1
            }
            decimalExponent &+= exponentNegative ? -exponent : exponent
        }
        if significantDigits <= 15, abs(decimalExponent) <= 22 {
            var value = Double(mantissa)
            if decimalExponent < 0 { value /= exactPowersOfTen[-decimalExponent] }
            else { value *= exactPowersOfTen[decimalExponent] }
            return negative ? -value : value
        }
        return slowParse(bytes)
    }

    private static func parseSpecial(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, negative: Bool) -> Double? {
        let rest = bytes.count - start
        guard rest == 3 || rest == 8 else { return nil }
        let word = "infinity".utf8
        for (offset, expected) in word.prefix(rest).enumerated() where bytes[start + offset] | 0x20 != expected {
            return nil
        }
        return negative ? -Double.infinity : Double.infinity
    }

    private static func slowParse(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: bytes.count + 1) { text in
            for i in 0..<bytes.count { text[i] = CChar(bitPattern: bytes[i]) }
            text[bytes.count] = 0
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(text.baseAddress!, &end)
            return end == text.baseAddress! + bytes.count ? value : nil
        }
    }
}
