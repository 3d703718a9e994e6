/// Parses and formats the date and date-time spellings Keel recognises, as seconds since 1970-01-01 UTC.
///
/// Recognised: ISO 8601 dates and date-times (`2011-01-31`, `2011-01-31T08:15`, `2011-01-31 08:15:30.25`,
/// with an optional `Z` or `±HH:MM` offset), `YYYY/MM/DD` and `DD.MM.YYYY`, each optionally followed by a
/// time. Forms whose day and month order is ambiguous (`01/02/2011`) are not guessed. Times without an
/// offset are taken as UTC, so the same wall-clock value always maps to the same number.
public enum DateTimeParser {
    public static func parse(_ text: String) -> Double? {
        var copy = text
        return copy.withUTF8 { parse(bytes: $0) }
    }

    static func parse(bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        var cursor = Cursor(bytes: bytes)
        guard let (year, month, day) = cursor.date() else { return nil }
        var seconds = Double(daysFromCivil(year: year, month: month, day: day)) * 86_400
        if cursor.atEnd { return seconds }
        guard cursor.take(UInt8(ascii: "T")) || cursor.take(UInt8(ascii: " ")), let time = cursor.time() else { return nil }
        seconds += time
        if cursor.atEnd { return seconds }
        guard let offset = cursor.offset(), cursor.atEnd else { return nil }
        return seconds - offset
    }

    /// `YYYY-MM-DD` for midnight, otherwise `YYYY-MM-DD HH:MM:SS` (with a fraction when there is one).
    public static func format(_ seconds: Double) -> String {
        let days = (seconds / 86_400).rounded(.down)
        let (year, month, day) = civilFromDays(Int(days))
        let date = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
        let timeOfDay = seconds - days * 86_400
        if timeOfDay == 0 { return date }
        let whole = Int(timeOfDay.rounded(.down))
        var text = "\(date) \(pad(whole / 3600, 2)):\(pad(whole / 60 % 60, 2)):\(pad(whole % 60, 2))"
        let fraction = timeOfDay - Double(whole)
        if fraction > 0 { text += String(format6(fraction).dropFirst()) }
        return text
    }

    private static func format6(_ fraction: Double) -> String {
        var digits = String(Int((fraction * 1_000_000).rounded()))
        while digits.count < 6 { digits = "0" + digits }
        while digits.hasSuffix("0") { digits.removeLast() }
        return "0." + digits
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant, "chrono-compatible date algorithms").
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        var atEnd: Bool { position == bytes.count }

        mutating func take(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        mutating func digits(_ count: Int) -> Int? {
            guard position + count <= bytes.count else { return nil }
            var value = 0
            for i in position..<(position + count) {
                let digit = bytes[i] &- 48
                guard digit < 10 else { return nil }
                value = value * 10 + Int(digit)
            }
            position += count
            return value
        }

        mutating func date() -> (Int, Int, Int)? {
            let start = position
            if let year = digits(4) {
                let separator = position < bytes.count ? bytes[position] : 0
                guard separator == UInt8(ascii: "-") || separator == UInt8(ascii: "/") else { return nil }
                position += 1
                guard let month = digits(2), take(separator), let day = digits(2) else { return nil }
                return Self.valid(year, month, day)
            }
            position = start
            guard let day = digits(2), take(UInt8(ascii: ".")), let month = digits(2), take(UInt8(ascii: ".")),
                  let year = digits(4) else { return nil }
            return Self.valid(year, month, day)
        }

        static func valid(_ year: Int, _ month: Int, _ day: Int) -> (Int, Int, Int)? {
            guard (1...12).contains(month), day >= 1, day <= DateTimeParser.daysInMonth(year: year, month: month) else {
                return nil
            }
            return (year, month, day)
        }

        mutating func time() -> Double? {
            guard let hour = digits(2), hour < 24, take(UInt8(ascii: ":")), let minute = digits(2), minute < 60 else {
                return nil
            }
            var seconds = Double(hour * 3600 + minute * 60)
            guard take(UInt8(ascii: ":")) else { return seconds }
            guard let second = digits(2), second <= 60 else { return nil }
            seconds += Double(second)
            if take(UInt8(ascii: ".")) || take(UInt8(ascii: ",")) {
                var scale = 0.1
                var any = false
                while position < bytes.count, bytes[position] &- 48 < 10 {
                    seconds += Double(bytes[position] &- 48) * scale
                    scale /= 10
                    position += 1
                    any = true
                }
                guard any else { return nil }
            }
            return seconds
        }

        /// The UTC offset in seconds (`Z`, `±HH:MM`, `±HHMM`, `±HH`).
        mutating func offset() -> Double? {
            if take(UInt8(ascii: "Z")) { return 0 }
            let sign: Double
            if take(UInt8(ascii: "+")) { sign = 1 } else if take(UInt8(ascii: "-")) { sign = -1 } else { return nil }
            guard let hours = digits(2), hours <= 14 else { return nil }
            if atEnd { return sign * Double(hours * 3600) }
            _ = take(UInt8(ascii: ":"))
            guard let minutes = digits(2), minutes < 60 else { return nil }
            return sign * Double(hours * 3600 + minutes * 60)
        }
    }
}
