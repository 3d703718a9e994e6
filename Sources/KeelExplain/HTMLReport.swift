import Foundation
import KeelData
import KeelLearn

/// A self-contained HTML page (inline SVG and CSS, no external files, no code) rendering one `Explanation`:
/// the global importance, a beeswarm summary, dependence plots (for an EBM its shape functions), partial
/// dependence with ICE curves, and the reason codes. The explanation itself is embedded as JSON
/// (`<script type="application/json" id="keel-explanation">`, data only), so the page's numbers can be
/// checked against `--json` and the server. Every chart names its axes and units, and on a multiclass
/// model the class it shows.
public struct HTMLReport {
    public var title: String
    public var result: ExplanationResult
    public var schema: Schema

    public init(title: String, result: ExplanationResult, schema: Schema) {
        self.title = title
        self.result = result
        self.schema = schema
    }

    private var explanation: Explanation { result.explanation }

    public func render() throws -> String {
        let json = String(decoding: try explanation.json(pretty: false), as: UTF8.self)
            // Inside a script element only "</" could end it early.
            .replacingOccurrences(of: "</", with: "<\\/")
        var html = """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}h2{margin-top:2em}
        table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
        td.n{text-align:right;font-variant-numeric:tabular-nums}.up{color:#b2182b}.down{color:#2166ac}svg{background:#fff}
        .grid{display:flex;flex-wrap:wrap;gap:16px}text{font-size:11px}text.axis{font-size:11px;fill:#555}
        text.title{font-size:12px;font-weight:600}.note{color:#555}</style>
        <script type="application/json" id="keel-explanation">\(json)</script></head><body>
        <h1>\(escape(title))</h1>

        """
        let scope: String
        if let global = explanation.global {
            scope = "on \(global.rowsExplained) of \(global.rowsInData) rows"
        } else {
            scope = "on \(explanation.rows.count) rows"
        }
        html += "<p>Attributions are exact Shapley values (TreeSHAP for trees; coefficients for linear models; the model's own terms for an EBM) "
        html += "in the columns of the data, \(escape(scope)). Each row's base value plus its attributions is the model's margin: \(escape(explanation.units)).</p>"
        if !explanation.notes.isEmpty {
            html += "<ul class=\"note\">" + explanation.notes.map { "<li>\(escape($0))</li>" }.joined() + "</ul>"
        }
        if let global = explanation.global, let attributions = result.attributions, let frame = result.sample {
            let ofClass = global.chartClass.map { explanation.task == .multiclass ? " — class \($0)" : "" } ?? ""
            html += "<h2>Global importance</h2><p>\(escape(global.importanceUnits)).</p>"
            html += barChart(global.importance.prefix(20).map { ($0.column, $0.meanAbsolute) }, axis: global.importanceUnits)
            if let permutation = global.permutation, !permutation.isEmpty {
                html += "<h2>Permutation importance</h2><p>How much \(escape(global.permutationMetric ?? "the metric")) worsens when the column is shuffled (mean and spread of 3 shuffles).</p>"
                html += "<table><tr><th>column</th><th>importance</th><th>spread</th></tr>"
                for item in permutation {
                    html += "<tr><td>\(escape(item.column))</td><td class=\"n\">\(Readable.number(item.importance))</td><td class=\"n\">\(Readable.number(item.std))</td></tr>"
                }
                html += "</table>"
            }
            let order = global.importance.compactMap { item in attributions.names.firstIndex(of: item.column) }
            html += "<h2>Summary\(escape(ofClass))</h2><p>Each dot is a row; colour runs from low (blue) to high (red) values of the column.</p>"
            html += beeswarm(Array(order.prefix(12)), attributions: attributions, frame: frame, axis: global.chartUnits)
            html += "<h2>Dependence\(escape(ofClass))</h2><p>Each column's attribution against its value; for an EBM these are its shape functions.</p><div class=\"grid\">"
            for f in order.prefix(6) { html += dependence(f, attributions: attributions, frame: frame, axis: global.chartUnits) }
            html += "</div>"
            if !global.partialDependence.isEmpty {
                html += "<h2>Partial dependence and ICE\(escape(ofClass))</h2><p>The model's \(escape(global.partialDependenceUnits)) as one column is set to each value for every row (thin lines), and their average (thick line).</p><div class=\"grid\">"
                for curve in global.partialDependence { html += pdPlot(curve, axis: global.partialDependenceUnits) }
                html += "</div>"
            }
        }
        if !explanation.rows.isEmpty {
            html += "<h2>Reason codes</h2><table><tr><th>row</th><th>prediction</th><th>pushed up</th><th>pushed down</th></tr>"
            for reason in explanation.rows {
                var prediction = escape(explanation.task == .regression ? Double(reason.prediction).map(Readable.number) ?? reason.prediction : reason.prediction)
                if let p = reason.probability, let c = reason.explainedClass {
                    prediction += "<br><span class=\"note\">probability of \(escape(explanation.target)) = \(escape(c)): \(Readable.percent(p))</span>"
                }
                html += "<tr><td>\(reason.row)</td><td>\(prediction)</td>"
                html += "<td class=\"up\">\(reason.up.map { escape($0.text) }.joined(separator: "<br>"))</td>"
                html += "<td class=\"down\">\(reason.down.map { escape($0.text) }.joined(separator: "<br>"))</td></tr>"
            }
            html += "</table>"
        }
        return html + "</body></html>\n"
    }

    // MARK: Charts

    private func barChart(_ bars: [(String, Double)], axis: String) -> String {
        let width = 760.0, row = 22.0, left = 220.0
        let top = bars.map(\.1).max() ?? 1
        let height = Double(bars.count) * row + 34
        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"importance\">"
        for (i, (name, value)) in bars.enumerated() {
            let y = Double(i) * row + 4
            let length = top > 0 ? value / top * (width - left - 90) : 0
            svg += label(name, x: left - 6, y: y + 14, anchor: "end", width: 34)
            svg += "<rect x=\"\(left)\" y=\"\(y + 3)\" width=\"\(format(max(length, 1)))\" height=\"15\" fill=\"#4575b4\"><title>\(escape(name)): \(Readable.number(value))</title></rect>"
            svg += "<text x=\"\(format(left + length + 6))\" y=\"\(y + 14)\">\(Readable.number(value))</text>"
        }
        svg += "<text class=\"axis\" x=\"\(left)\" y=\"\(format(height - 8))\">\(escape(axis))</text>"
        return svg + "</svg>"
    }

    private func beeswarm(_ features: [Int], attributions: Attributions, frame: Frame, axis: String) -> String {
        let width = 760.0, row = 28.0, left = 220.0, right = 40.0
        let output = result.chartOutput
        var extent = 1e-9
        for f in features { for r in 0..<attributions.rowCount { extent = max(extent, abs(attributions.value(row: r, output: output, feature: f))) } }
        let x = { (v: Double) in left + (v + extent) / (2 * extent) * (width - left - right) }
        let bottom = Double(features.count) * row
        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(bottom + 44))\" role=\"img\" aria-label=\"summary\">"
        svg += "<line x1=\"\(format(x(0)))\" x2=\"\(format(x(0)))\" y1=\"0\" y2=\"\(format(bottom))\" stroke=\"#999\"/>"
        for (i, f) in features.enumerated() {
            let y = Double(i) * row + row / 2
            svg += label(attributions.names[f], x: left - 6, y: y + 4, anchor: "end", width: 34)
            let ranks = valueRanks(attributions.names[f], frame: frame)
            for r in 0..<min(attributions.rowCount, 2000) {
                let jitter = Double((r &* 2654435761) % 17) - 8
                let colour = ranks.map { rank in color(rank[r]) } ?? "#888"
                svg += "<circle cx=\"\(format(x(attributions.value(row: r, output: output, feature: f))))\" cy=\"\(format(y + jitter * 0.8))\" r=\"2\" fill=\"\(colour)\" fill-opacity=\"0.7\"/>"
            }
        }
        let ticks = bottom + 16
        svg += "<text class=\"axis\" x=\"\(format(x(-extent)))\" y=\"\(format(ticks))\">\(Readable.tick(-extent))</text>"
        svg += "<text class=\"axis\" x=\"\(format(x(0)))\" y=\"\(format(ticks))\" text-anchor=\"middle\">0</text>"
        svg += "<text class=\"axis\" x=\"\(format(x(extent)))\" y=\"\(format(ticks))\" text-anchor=\"end\">\(Readable.tick(extent))</text>"
        svg += "<text class=\"axis\" x=\"\(format(x(0)))\" y=\"\(format(ticks + 18))\" text-anchor=\"middle\">\(escape(axis))</text>"
        return svg + "</svg>"
    }

    private func dependence(_ f: Int, attributions: Attributions, frame: Frame, axis: String) -> String {
        let name = attributions.names[f]
        guard let column = frame[name] else { return "" }
        let output = result.chartOutput
        let w = 340.0, h = 250.0, left = 56.0, right = 14.0, top = 24.0, bottom = 58.0
        let ys = (0..<attributions.rowCount).map { attributions.value(row: $0, output: output, feature: f) }
        var svg = "<svg width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\" aria-label=\"dependence \(escape(name))\">"
        svg += "<text class=\"title\" x=\"\(left)\" y=\"14\">\(escape(shortened(name, 40)))<title>\(escape(name))</title></text>"
        let kind = schema[name]?.kind ?? column.kind
        var lo = ys.min() ?? 0, hi = ys.max() ?? 1
        var bars: [(String, Double, Int)] = []
        var xTitle = name
        switch (kind, column.values) {
        case (.numeric, .numeric(let v)), (.datetime, .datetime(let v)), (.numeric, .datetime(let v)), (.datetime, .numeric(let v)):
            let finite = v.filter { !$0.isNaN }
            let xl = finite.min() ?? 0, xh = finite.max() ?? 1
            let xScale = { (x: Double) in left + (x - xl) / max(xh - xl, 1e-12) * (w - left - right) }
            let yScale = { (v: Double) in h - bottom - (v - lo) / max(hi - lo, 1e-12) * (h - top - bottom) }
            for r in 0..<min(v.count, 2000) where !v[r].isNaN {
                svg += "<circle cx=\"\(format(xScale(v[r])))\" cy=\"\(format(yScale(ys[r])))\" r=\"2\" fill=\"#4575b4\" fill-opacity=\"0.6\"/>"
            }
            let isDate = kind == .datetime
            svg += "<text class=\"axis\" x=\"\(left)\" y=\"\(format(h - bottom + 14))\">\(isDate ? Self.date(xl) : Readable.tick(xl))</text>"
            svg += "<text class=\"axis\" x=\"\(format(w - right))\" y=\"\(format(h - bottom + 14))\" text-anchor=\"end\">\(isDate ? Self.date(xh) : Readable.tick(xh))</text>"
            svg += yAxis(lo: lo, hi: hi, scale: yScale, left: left)
        case (.text, _):
            // Free text: the mean attribution of the rows that contain each of the most frequent words.
            bars = topTokens(column, ys: ys)
            xTitle = "\(name): most frequent words"
        default:
            var sums: [String: (Double, Int)] = [:]
            for r in 0..<attributions.rowCount {
                let level = column.displayValue(at: r) ?? "missing"
                sums[level, default: (0, 0)].0 += ys[r]
                sums[level, default: (0, 0)].1 += 1
            }
            let frequent = sums.keys.sorted { sums[$0]!.1 != sums[$1]!.1 ? sums[$0]!.1 > sums[$1]!.1 : $0 < $1 }.prefix(12)
            bars = NaturalOrder.sorted(Array(frequent)).map { ($0, sums[$0]!.0 / Double(sums[$0]!.1), sums[$0]!.1) }
            if sums.count > 12 { xTitle = "\(name): the 12 most frequent of \(sums.count) values" }
        }
        if !bars.isEmpty {
            lo = min(0, bars.map(\.1).min() ?? 0)
            hi = max(0, bars.map(\.1).max() ?? 0)
            if hi - lo < 1e-12 { hi = lo + 1 }
            let yScale = { (v: Double) in h - bottom - (v - lo) / max(hi - lo, 1e-12) * (h - top - bottom) }
            let step = (w - left - right) / Double(bars.count)
            let zero = yScale(0)
            for (i, (level, mean, count)) in bars.enumerated() {
                let x = left + Double(i) * step
                svg += "<rect x=\"\(format(x + 2))\" y=\"\(format(min(yScale(mean), zero)))\" width=\"\(format(max(step - 4, 1)))\" height=\"\(format(max(abs(yScale(mean) - zero), 1)))\" fill=\"\(mean >= 0 ? "#b2182b" : "#2166ac")\"><title>\(escape(level)): \(Readable.signed(mean)) (\(count) rows)</title></rect>"
                // Labels stand at an angle, so long ones stay whole up to 16 characters, the rest in the tooltip.
                let cx = x + step / 2, cy = h - bottom + 10
                svg += "<text x=\"\(format(cx))\" y=\"\(format(cy))\" text-anchor=\"end\" transform=\"rotate(-35 \(format(cx)) \(format(cy)))\">\(escape(shortened(level, 16)))<title>\(escape(level))</title></text>"
            }
            svg += "<line x1=\"\(left)\" x2=\"\(format(w - right))\" y1=\"\(format(zero))\" y2=\"\(format(zero))\" stroke=\"#999\"/>"
            svg += yAxis(lo: lo, hi: hi, scale: yScale, left: left)
        }
        svg += "<text class=\"axis\" x=\"\(format((left + w - right) / 2))\" y=\"\(format(h - 4))\" text-anchor=\"middle\">\(escape(shortened(xTitle, 52)))</text>"
        svg += "<text class=\"axis\" transform=\"rotate(-90)\" x=\"\(format(-(top + h - bottom) / 2))\" y=\"10\" text-anchor=\"middle\">\(escape(shortened(axis, 44)))<title>\(escape(axis))</title></text>"
        return svg + "</svg>"
    }

    private func pdPlot(_ curve: PartialDependence, axis: String) -> String {
        let w = 340.0, h = 250.0, left = 56.0, right = 14.0, top = 24.0, bottom = 58.0
        let all = curve.ice.flatMap { $0 } + curve.average
        let lo = all.min() ?? 0, hi = all.max() ?? 1
        let isProbability = explanation.task != .regression
        let count = max(curve.grid.count - 1, 1)
        let x = { (g: Int) in left + Double(g) / Double(count) * (w - left - right) }
        let y = { (v: Double) in h - bottom - (v - lo) / max(hi - lo, 1e-12) * (h - top - bottom) }
        func path(_ values: [Double]) -> String {
            values.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(format(x($0.offset))),\(format(y($0.element)))" }.joined()
        }
        var svg = "<svg width=\"\(Int(w))\" height=\"\(Int(h))\" role=\"img\" aria-label=\"partial dependence \(escape(curve.column))\">"
        svg += "<text class=\"title\" x=\"\(left)\" y=\"14\">\(escape(shortened(curve.column, 40)))<title>\(escape(curve.column))</title></text>"
        for line in curve.ice.prefix(100) { svg += "<path d=\"\(path(line))\" fill=\"none\" stroke=\"#9ecae1\" stroke-opacity=\"0.5\"/>" }
        svg += "<path d=\"\(path(curve.average))\" fill=\"none\" stroke=\"#08306b\" stroke-width=\"2.5\"/>"
        if curve.numeric {
            let isDate = schema[curve.column]?.kind == .datetime
            let ends = [curve.gridNumbers?.first, curve.gridNumbers?.last].map { number -> String in
                guard let number else { return "" }
                return isDate ? Self.date(number) : Readable.tick(number)
            }
            svg += "<text class=\"axis\" x=\"\(left)\" y=\"\(format(h - bottom + 14))\">\(escape(ends[0]))</text>"
            svg += "<text class=\"axis\" x=\"\(format(w - right))\" y=\"\(format(h - bottom + 14))\" text-anchor=\"end\">\(escape(ends[1]))</text>"
        } else {
            for (g, level) in curve.grid.enumerated() {
                let cx = x(g), cy = h - bottom + 10
                svg += "<text x=\"\(format(cx))\" y=\"\(format(cy))\" text-anchor=\"end\" transform=\"rotate(-35 \(format(cx)) \(format(cy)))\">\(escape(shortened(level, 16)))<title>\(escape(level))</title></text>"
            }
        }
        svg += yAxis(lo: lo, hi: hi, scale: y, left: left, percent: isProbability)
        svg += "<text class=\"axis\" x=\"\(format((left + w - right) / 2))\" y=\"\(format(h - 4))\" text-anchor=\"middle\">\(escape(shortened(curve.column, 52)))</text>"
        svg += "<text class=\"axis\" transform=\"rotate(-90)\" x=\"\(format(-(top + h - bottom) / 2))\" y=\"10\" text-anchor=\"middle\">\(escape(shortened(axis, 44)))<title>\(escape(axis))</title></text>"
        return svg + "</svg>"
    }

    private func yAxis(lo: Double, hi: Double, scale: (Double) -> Double, left: Double, percent: Bool = false) -> String {
        let text = { (v: Double) in percent ? Readable.tickPercent(v) : Readable.tick(v) }
        return "<text class=\"axis\" x=\"\(format(left - 4))\" y=\"\(format(scale(hi) + 4))\" text-anchor=\"end\">\(text(hi))</text>"
            + "<text class=\"axis\" x=\"\(format(left - 4))\" y=\"\(format(scale(lo)))\" text-anchor=\"end\">\(text(lo))</text>"
    }

    // MARK: Helpers

    /// The 12 most frequent words of a text column (at least 3 rows each), with the mean attribution of the
    /// rows holding them, largest push first.
    private func topTokens(_ column: Column, ys: [Double]) -> [(String, Double, Int)] {
        var sums: [String: (Double, Int)] = [:]
        for r in 0..<min(column.count, ys.count) {
            let words = Set((column.displayValue(at: r) ?? "").lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init))
            for word in words where word.count > 1 {
                sums[word, default: (0, 0)].0 += ys[r]
                sums[word, default: (0, 0)].1 += 1
            }
        }
        let frequent = sums.filter { $0.value.1 >= 3 }.sorted { $0.value.1 != $1.value.1 ? $0.value.1 > $1.value.1 : $0.key < $1.key }.prefix(12)
        return frequent.map { ($0.key, $0.value.0 / Double($0.value.1), $0.value.1) }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
    }

    /// A label at the left of a chart row: whole when it fits in `width` characters, otherwise on two lines
    /// or cut with an ellipsis, always with the full text as its tooltip.
    private func label(_ text: String, x: Double, y: Double, anchor: String, width: Int) -> String {
        let tooltip = "<title>\(escape(text))</title>"
        guard text.count > width else {
            return "<text x=\"\(format(x))\" y=\"\(format(y))\" text-anchor=\"\(anchor)\">\(escape(text))\(tooltip)</text>"
        }
        let head = String(text.prefix(width)), rest = String(text.dropFirst(width))
        return "<text x=\"\(format(x))\" y=\"\(format(y - 6))\" text-anchor=\"\(anchor)\">\(tooltip)<tspan x=\"\(format(x))\">\(escape(head))</tspan>"
            + "<tspan x=\"\(format(x))\" dy=\"12\">\(escape(shortened(rest, width)))</tspan></text>"
    }

    private func shortened(_ text: String, _ limit: Int) -> String {
        text.count > limit ? String(text.prefix(limit - 1)) + "…" : text
    }

    /// Seconds since 1970 as a calendar date.
    static func date(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "" }
        let (y, m, d) = DateTimeParser.civilFromDays(Int((seconds / 86_400).rounded(.down)))
        return String(format: "%04d-%02d-%02d", y, m, d)
    }

    /// Each row's value rank in [0, 1] for numeric columns (nil for others), for colouring.
    private func valueRanks(_ name: String, frame: Frame) -> [Double]? {
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

    /// Coordinates: at most two decimals.
    private func format(_ value: Double) -> String {
        String(format: "%.2f", value)
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
