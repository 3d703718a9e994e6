import Foundation

/// Plain-text tables and number formats for terminal output.
enum TextTable {
    static func render(header: [String], rows: [[String]], rightAligned: Set<Int> = []) -> [String] {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let padding = String(repeating: " ", count: widths[i] - cell.count)
                return rightAligned.contains(i) ? padding + cell : cell + padding
            }.joined(separator: "  ").replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression)
        }
        return [line(header)] + rows.map(line)
    }
}

enum Format {
    static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    /// A cross-validated score with its spread over folds; one validation split has no spread to show.
    static func score(_ mean: Double, std: Double, folds: Int) -> String {
        folds > 1 ? "\(fixed(mean, 4)) ± \(fixed(std, 4))" : "\(fixed(mean, 4)) (one split)"
    }

    /// Four significant digits, without trailing zeros or exponent noise for everyday magnitudes.
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e12 { return String(Int64(value)) }
        return String(format: "%.4g", value)
    }

    static func clip(_ text: String, _ length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }
}
