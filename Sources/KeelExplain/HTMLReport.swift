import Foundation
import KeelData
import KeelLearn

/// A self-contained HTML page (inline SVG and CSS, no scripts or external files) with the global
/// importance, a beeswarm summary, dependence plots (for an EBM these are its shape functions), partial
/// dependence with ICE curves, and the reason codes of the explained rows.
public struct HTMLReport {
    public var title: String
    public var attributions: Attributions
    /// The rows the attributions belong to, for feature values (colour and x axes).
    public var frame: Frame
    public var output: Int
    public var outputLabel: String
    public var partialDependence: [PartialDependence]
    public var reasons: [RowExplanation]
    public var permutation: [FeatureImportance]?

    public init(title: String, attributions: Attributions, frame: Frame, output: Int, outputLabel: String,
                partialDependence: [PartialDependence], reasons: [RowExplanation], permutation: [FeatureImportance]?) {
        self.title = title
        self.attributions = attributions
        self.frame = frame
        self.output = output
        self.outputLabel = outputLabel
        self.partialDependence = partialDependence
        self.reasons = reasons
        self.permutation = permutation
    }

    public func render() -> String {
        let importance = attributions.meanAbsolute(output: output)
        let order = importance.indices.sorted { importance[$0] > importance[$1] }
        var html = """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}h2{margin-top:2em}
        table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}
        .up{color:#b2182b}.down{color:#2166ac}svg{background:#fff}.grid{display:flex;flex-wrap:wrap;gap:16px}
        text{font-size:11px}</style></head><body>
        <h1>\(escape(title))</h1>
        <p>Attributions are exact Shapley values of the model's \(escape(outputLabel)) (TreeSHAP for trees; coefficients for
        linear models; the model's own terms for an EBM), in the columns of the data, on \(attributions.rowCount) rows.
        Base value \(format(attributions.base[output])).</p>
        <h2>Global importance (mean |attribution|)</h2>
        """
        html += barChart(order.prefix(20).map { (attributions.names[$0], importance[$0]) })
        if let permutation, !permutation.isEmpty {
            html += "<h2>Permutation importance</h2><table><tr><th>column</th><th>importance</th><th>std</th></tr>"
            for item in permutation {
                html += "<tr><td>\(escape(item.column))</td><td>\(format(item.importance))</td><td>\(format(item.std))</td></tr>"
            }
            html += "</table>"
        }
        html += "<h2>Summary (each dot a row; colour: low to high value)</h2>"
        html += beeswarm(Array(order.prefix(12)))
        html += "<h2>Dependence (attribution against value; for an EBM, its shape functions)</h2><div class=\"grid\">"
        for f in order.prefix(6) { html += dependence(f) }
        html += "</div>"
        if !partialDependence.isEmpty {
            html += "<h2>Partial dependence and ICE</h2><div class=\"grid\">"
            for curve in partialDependence { html += pdPlot(curve) }
            html += "</div>"
        }
        if !reasons.isEmpty {
            html += "<h2>Reason codes</h2><table><tr><th>row</th><th>prediction</th><th>pushed up</th><th>pushed down</th></tr>"
            for reason in reasons {
                let p = reason.probability.map { " (p = \(format($0)))" } ?? ""
                html += "<tr><td>\(reason.row)</td><td>\(escape(reason.prediction))\(p)</td>"
                html += "<td class=\"up\">\(reason.up.map { escape($0.text) }.joined(separator: "<br>"))</td>"
                html += "<td class=\"down\">\(reason.down.map { escape($0.text) }.joined(separator: "<br>"))</td></tr>"
            }
            html += "</table>"
        }
        return html + "</body></html>\n"
    }

    // MARK: Charts

    private func barChart(_ bars: [(String, Double)]) -> String {
        let width = 760.0, row = 22.0, left = 220.0
        let top = bars.map(\.1).max() ?? 1
        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(Double(bars.count) * row + 10))\" role=\"img\" aria-label=\"importance\">"
        for (i, (name, value)) in bars.enumerated() {
            let y = Double(i) * row + 4
            let length = top > 0 ? value / top * (width - left - 80) : 0
            svg += "<text x=\"\(Int(left - 6))\" y=\"\(y + 14)\" text-anchor=\"end\">\(escape(name))</text>"
            svg += "<rect x=\"\(left)\" y=\"\(y + 3)\" width=\"\(max(length, 1))\" height=\"15\" fill=\"#4575b4\"/>"
            svg += "<text x=\"\(left + length + 6)\" y=\"\(y + 14)\">\(format(value))</text>"
        }
        return svg + "</svg>"
    }

    private func beeswarm(_ features: [Int]) -> String {
        let width = 760.0, row = 28.0, left = 220.0, right = 40.0
        var extent = 1e-9
        for f in features { for r in 0..<attributions.rowCount { extent = max(extent, abs(attributions.value(row: r, output: output, feature: f))) } }
        let x = { (v: Double) in left + (v + extent) / (2 * extent) * (width - left - right) }
        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(Double(features.count) * row + 30))\" role=\"img\" aria-label=\"summary\">"
        svg += "<line x1=\"\(x(0))\" x2=\"\(x(0))\" y1=\"0\" y2=\"\(Double(features.count) * row)\" stroke=\"#999\"/>"
        for (i, f) in features.enumerated() {
            let y = Double(i) * row + row / 2
            svg += "<text x=\"\(Int(left - 6))\" y=\"\(y + 4)\" text-anchor=\"end\">\(escape(attributions.names[f]))</text>"
            let ranks = valueRanks(attributions.names[f])
            for r in 0..<min(attributions.rowCount, 2000) {
                let jitter = Double((r &* 2654435761) % 17) - 8
                let colour = ranks.map { rank in color(rank[r]) } ?? "#888"
                svg += "<circle cx=\"\(format(x(attributions.value(row: r, output: output, feature: f))))\" cy=\"\(format(y + jitter * 0.8))\" r=\"2\" fill=\"\(colour)\" fill-opacity=\"0.7\"/>"
            }
        }
        let axis = Double(features.count) * row + 16
        svg += "<text x=\"\(x(-extent))\" y=\"\(axis)\">\(format(-extent))</text><text x=\"\(x(0))\" y=\"\(axis)\" text-anchor=\"middle\">0</text>"
        svg += "<text x=\"\(x(extent))\" y=\"\(axis)\" text-anchor=\"end\">\(format(extent))</text>"
        return svg + "</svg>"
    }

    private func dependence(_ f: Int) -> String {
        let name = attributions.names[f]
        guard let column = frame[name] else { return "" }
        let w = 340.0, h = 220.0, pad = 36.0
        let ys = (0..<attributions.rowCount).map { attributions.value(row: $0, output: output, feature: f) }
        let lo = ys.min() ?? 0, hi = ys.max() ?? 1
        let yScale = { (v: Double) in h - pad - (v - lo) / max(hi - lo, 1e-12) * (h - 2 * pad) }
        var svg = "<svg width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\" aria-label=\"dependence \(escape(name))\"><text x=\"\(pad)\" y=\"14\">\(escape(name))</text>"
        switch column.values {
        case .numeric(let v), .datetime(let v):
            let finite = v.filter { !$0.isNaN }
            let xl = finite.min() ?? 0, xh = finite.max() ?? 1
            let xScale = { (x: Double) in pad + (x - xl) / max(xh - xl, 1e-12) * (w - 2 * pad) }
            for r in 0..<min(v.count, 2000) where !v[r].isNaN {
                svg += "<circle cx=\"\(format(xScale(v[r])))\" cy=\"\(format(yScale(ys[r])))\" r=\"2\" fill=\"#4575b4\" fill-opacity=\"0.6\"/>"
            }
            let isDate = column.kind == .datetime
            svg += "<text x=\"\(pad)\" y=\"\(h - 8)\">\(isDate ? Self.date(xl) : format(xl))</text><text x=\"\(w - pad)\" y=\"\(h - 8)\" text-anchor=\"end\">\(isDate ? Self.date(xh) : format(xh))</text>"
        default:
            var sums: [String: (Double, Int)] = [:]
            for r in 0..<attributions.rowCount {
                let level = column.displayValue(at: r) ?? "missing"
                sums[level, default: (0, 0)].0 += ys[r]
                sums[level, default: (0, 0)].1 += 1
            }
            let levels = sums.keys.sorted { sums[$0]!.1 > sums[$1]!.1 }.prefix(12)
            let step = (w - 2 * pad) / Double(max(levels.count, 1))
            for (i, level) in levels.enumerated() {
                let mean = sums[level]!.0 / Double(sums[level]!.1)
                let x = pad + Double(i) * step
                let zero = yScale(min(max(0, lo), hi))
                svg += "<rect x=\"\(format(x + 2))\" y=\"\(format(min(yScale(mean), zero)))\" width=\"\(format(step - 4))\" height=\"\(format(max(abs(yScale(mean) - zero), 1)))\" fill=\"\(mean >= 0 ? "#b2182b" : "#2166ac")\"/>"
                svg += "<text x=\"\(format(x + step / 2))\" y=\"\(h - 8)\" text-anchor=\"middle\">\(escape(String(level.prefix(10))))</text>"
            }
        }
        svg += "<text x=\"2\" y=\"\(format(yScale(hi) + 4))\">\(format(hi))</text><text x=\"2\" y=\"\(format(yScale(lo)))\">\(format(lo))</text>"
        return svg + "</svg>"
    }

    private func pdPlot(_ curve: PartialDependence) -> String {
        let w = 340.0, h = 220.0, pad = 36.0
        let all = curve.ice.flatMap { $0 } + curve.average
        let lo = all.min() ?? 0, hi = all.max() ?? 1
        let count = max(curve.grid.count - 1, 1)
        let x = { (g: Int) in pad + Double(g) / Double(count) * (w - 2 * pad) }
        let y = { (v: Double) in h - pad - (v - lo) / max(hi - lo, 1e-12) * (h - 2 * pad) }
        func path(_ values: [Double]) -> String {
            values.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(format(x($0.offset))),\(format(y($0.element)))" }.joined()
        }
        var svg = "<svg width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\" aria-label=\"partial dependence \(escape(curve.column))\"><text x=\"\(pad)\" y=\"14\">\(escape(curve.column))</text>"
        for line in curve.ice.prefix(100) { svg += "<path d=\"\(path(line))\" fill=\"none\" stroke=\"#9ecae1\" stroke-opacity=\"0.5\"/>" }
        svg += "<path d=\"\(path(curve.average))\" fill=\"none\" stroke=\"#08306b\" stroke-width=\"2.5\"/>"
        svg += "<text x=\"\(pad)\" y=\"\(h - 8)\">\(escape(String(curve.grid.first?.prefix(12) ?? "")))</text>"
        svg += "<text x=\"\(w - pad)\" y=\"\(h - 8)\" text-anchor=\"end\">\(escape(String(curve.grid.last?.prefix(12) ?? "")))</text>"
        svg += "<text x=\"2\" y=\"\(format(y(hi) + 4))\">\(format(hi))</text><text x=\"2\" y=\"\(format(y(lo)))\">\(format(lo))</text>"
        return svg + "</svg>"
    }

    // MARK: Helpers

    /// Seconds since 1970 as a calendar date.
    static func date(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "" }
        let (y, m, d) = DateTimeParser.civilFromDays(Int((seconds / 86_400).rounded(.down)))
        return String(format: "%04d-%02d-%02d", y, m, d)
    }

    /// Each row's value rank in [0, 1] for numeric columns (nil for others), for colouring.
    private func valueRanks(_ name: String) -> [Double]? {
        guard let column = frame[name] else { return nil }
        switch column.values {
        case .numeric(let v), .datetime(let v):
            let order = v.indices.filter { !v[$0].isNaN }.sorted { v[$0] < v[$1] }
            var ranks = [Double](repeating: -1, count: v.count)
            for (i, r) in order.enumerated() { ranks[r] = Double(i) / Double(max(order.count - 1, 1)) }
            return ranks
        default:
            return nil
        }
    }

    private func color(_ rank: Double) -> String {
        guard rank >= 0 else { return "#aaaaaa" }
        let r = Int(33 + rank * (178 - 33)), g = Int(102 + rank * (24 - 102)), b = Int(172 + rank * (43 - 172))
        return "rgb(\(r),\(g),\(b))"
    }

    private func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e6 { return String(Int(value)) }
        return String(format: abs(value) >= 100 ? "%.1f" : "%.3g", value)
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
