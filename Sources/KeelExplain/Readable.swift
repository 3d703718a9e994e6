import Foundation

/// Numbers as a stakeholder reads them in a sentence or on a chart: plain decimals (never scientific
/// notation), thousands grouped, probabilities as percentages rounded so that they never claim certainty
/// the model does not have (0.9999 is "more than 99.9%", not "100%").
public enum Readable {
    /// A number with about two significant digits below 1, two decimals below 100, none above; thousands
    /// grouped ("18,000"); values under a millionth are "0".
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return "not a number" }
        let magnitude = abs(value)
        if magnitude < 1e-6 { return "0" }
        let decimals: Int
        if magnitude >= 100 {
            decimals = 0
        } else if magnitude >= 1 {
            decimals = 2
        } else {
            // Two significant digits: 0.074, 0.0087, 0.000077.
            decimals = min(7, Int((-log10(magnitude)).rounded(.down)) + 2)
        }
        return grouped(value, decimals: decimals)
    }

    /// A count with thousands grouped: "53,940".
    public static func count(_ value: Int) -> String { grouped(Double(value), decimals: 0) }

    /// A signed number: "+0.074", "-1.26".
    public static func signed(_ value: Double) -> String {
        let text = number(value)
        return value > 0 && text != "0" ? "+" + text : text
    }

    /// A probability in [0, 1] as a percentage: "12.1%", "more than 99.9%", "less than 0.1%".
    public static func percent(_ probability: Double) -> String {
        guard probability.isFinite else { return "not a number" }
        if probability >= 1 { return "100%" }
        if probability <= 0 { return "0%" }
        if probability >= 0.9995 { return "more than 99.9%" }
        if probability < 0.0005 { return "less than 0.1%" }
        return String(format: "%.1f%%", probability * 100)
    }

    /// A probability on a chart's axis, short: "12.1%", ">99.9%", "<0.1%".
    public static func tickPercent(_ probability: Double) -> String {
        let text = percent(probability)
        return text.replacingOccurrences(of: "more than ", with: ">").replacingOccurrences(of: "less than ", with: "<")
    }

    /// A change of probability in percentage points: "6.3 percentage points", "less than 0.1 percentage points".
    public static func points(_ change: Double) -> String {
        let value = abs(change) * 100
        if value < 0.05 { return "less than 0.1 percentage points" }
        return String(format: value >= 10 ? "%.0f" : "%.1f", value) + " percentage points"
    }

    /// A chart's tick label: like `number`, but short ("1.2k" is avoided too: charts show grouped digits).
    public static func tick(_ value: Double) -> String {
        guard value.isFinite else { return "" }
        let magnitude = abs(value)
        if magnitude >= 100 || value == value.rounded() && magnitude < 1e6 { return grouped(value, decimals: 0) }
        if magnitude >= 1 { return grouped(value, decimals: 2) }
        return number(value)
    }

    /// `value` with at most `decimals` decimals (trailing zeros dropped) and commas between thousands; no
    /// formatter object, since reason codes call this for every row a server explains.
    private static func grouped(_ value: Double, decimals: Int) -> String {
        var text = String(format: "%.\(decimals)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        if text == "-0" { text = "0" }
        let negative = text.hasPrefix("-")
        if negative { text.removeFirst() }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        var whole = String(parts[0])
        var index = whole.count - 3
        while index > 0 {
            whole.insert(",", at: whole.index(whole.startIndex, offsetBy: index))
            index -= 3
        }
        return (negative ? "-" : "") + whole + (parts.count > 1 ? "." + parts[1] : "")
    }
}
