import ArgumentParser
import KeelLifecycle

/// A duration on the command line: `90s`, `5m`, `1h`, `1h30m`, `250ms`, or plain seconds (`45`).
public struct DurationArgument: ExpressibleByArgument, Equatable, Sendable, CustomStringConvertible {
    private static let unitSeconds: [String: Double] = ["ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86_400]

    public var seconds: Double

    public init(seconds: Double) { self.seconds = seconds }

    public init?(argument: String) {
        guard let seconds = Self.parse(argument) else { return nil }
        self.seconds = seconds
    }

    /// Seconds spelled by `text`, or nil when it is not a duration.
    public static func parse(_ text: String) -> Double? {
        if let plain = Double(text) { return plain.isFinite && plain >= 0 ? plain : nil }
        var rest = Substring(text)
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isASCII && $0.isLetter }
            rest = rest.dropFirst(unit.count)
            guard let value = Double(number), let scale = unitSeconds[String(unit)] else { return nil }
            total += value * scale
        }
        return text.isEmpty ? nil : total
    }

    /// Whole hours, minutes and seconds (`90s` prints as `1m30s`); fractions of a second as seconds.
    public var description: String { DurationText.describe(seconds) }
}
