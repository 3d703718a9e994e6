import Foundation

/// Everything one monitoring run found: data drift, concept drift (with labels), bias audits, and the alerts.
public struct MonitorReport: Codable, Sendable, Equatable {
    public var model: String
    public var data: String
    public var createdAt: String
    public var dataDrift: DataDriftReport
    /// Drift per time window, when the data has a time column: when each feature started to drift.
    public var timeline: DriftTimeline?
    public var conceptDrift: ConceptDriftReport?
    public var bias: [BiasAudit]
    public var alerts: [String]

    public init(model: String, data: String, createdAt: String, dataDrift: DataDriftReport, conceptDrift: ConceptDriftReport?, bias: [BiasAudit]) {
        (self.model, self.data, self.createdAt, self.dataDrift, self.conceptDrift, self.bias) = (model, data, createdAt, dataDrift, conceptDrift, bias)
        alerts = dataDrift.alerts + (conceptDrift?.alerts ?? []) + bias.flatMap(\.violations)
    }

    /// A self-contained HTML page (inline SVG, no scripts, no external resources): alerts, drift per
    /// feature, reference against current distributions, performance over time and the bias audit.
    public func html() -> String {
        var body = "<h1>Keel monitoring: \(escape(model))</h1>"
        body += "<p>Data: \(escape(data)), \(dataDrift.currentRows) rows, \(escape(createdAt)).</p>"
        body += "<h2>Alerts</h2>"
        body += alerts.isEmpty ? "<p class=ok>No alerts.</p>" : "<ul class=alerts>" + alerts.map { "<li>\(escape($0))</li>" }.joined() + "</ul>"
        body += "<h2>Drift per feature</h2><p>Population stability index (bars; the dashed line is the threshold \(number(dataDrift.thresholds.psi))). Red: drifted.</p>"
        body += psiChart()
        body += "<table><tr><th>feature</th><th>PSI</th><th>test</th><th>adjusted p</th><th>Wasserstein (sd)</th><th>Jensen–Shannon</th><th>missing ref → now</th><th>unseen / out of range</th><th>finding</th></tr>"
        for feature in dataDrift.features + (dataDrift.predictions.map { [$0] } ?? []) {
            body += "<tr\(feature.drifted ? " class=drift" : "")><td>\(escape(feature.name))</td><td>\(number(feature.psi))</td><td>\(feature.testName ?? "–")</td>"
            body += "<td>\(feature.adjustedPValue.map(pValue) ?? "–")</td><td>\(feature.normalizedWasserstein.map(number) ?? "–")</td><td>\(feature.jensenShannon.map(number) ?? "–")</td>"
            body += "<td>\(percent(feature.referenceMissingRate)) → \(percent(feature.currentMissingRate))</td><td>\(percent(feature.unseenRate))</td>"
            body += "<td>\(escape(feature.reasons.joined(separator: "; ")))</td></tr>"
        }
        body += "</table>"
        if let timeline, !timeline.windows.isEmpty {
            body += "<h2>Drift over time</h2><p>PSI per feature and window; red cells drifted (same rule as above, per window).</p><table><tr><th>feature</th>"
            body += timeline.windows.map { "<th>\(escape(label($0)))</th>" }.joined() + "</tr>"
            for (f, name) in timeline.features.enumerated() {
                body += "<tr><td>\(escape(name))</td>" + timeline.windows.indices.map { w in
                    "<td\(timeline.drifted[f][w] ? " class=cell-drift" : "")>\(number(timeline.psi[f][w]))</td>"
                }.joined() + "</tr>"
            }
            body += "</table>"
        }
        body += "<h2>Reference and current distributions</h2><div class=grid>"
        let shown = (dataDrift.predictions.map { [$0] } ?? []) + dataDrift.features.sorted { ($0.drifted ? 1 : 0, $0.psi) > ($1.drifted ? 1 : 0, $1.psi) }.prefix(12)
        for feature in shown where !feature.bins.isEmpty { body += histogram(feature) }
        body += "</div>"
        if let concept = conceptDrift {
            body += "<h2>Performance over time</h2><p>\(escape(concept.metric)) per window against the holdout baseline \(number(concept.baseline)) (dashed); overall \(number(concept.overall)).</p>"
            body += performanceChart(concept)
            body += "<p>Error-stream detectors: " + concept.detectors.map { "\($0.detector): \($0.rows.isEmpty ? "no drift" : "drift at rows \($0.rows.prefix(5).map(String.init).joined(separator: ", "))")" }.joined(separator: "; ") + "</p>"
        }
        for audit in bias {
            body += "<h2>Bias audit: \(escape(audit.attribute))</h2><p>Demographic parity difference \(percent(audit.demographicParityDifference)), disparate impact \(number(audit.disparateImpactRatio))"
            body += audit.equalOpportunityDifference.map { ", equal opportunity difference \(percent($0))" } ?? ""
            body += ".</p><table><tr><th>group</th><th>rows</th><th>selected (\(escape(audit.positiveClass)))</th><th>true positive rate</th><th>false positive rate</th><th>accuracy</th></tr>"
            for group in audit.groups {
                body += "<tr><td>\(escape(group.group))</td><td>\(group.count)</td><td>\(percent(group.selectionRate))</td><td>\(group.truePositiveRate.map(percent) ?? "–")</td>"
                body += "<td>\(group.falsePositiveRate.map(percent) ?? "–")</td><td>\(group.accuracy.map(percent) ?? "–")</td></tr>"
            }
            body += "</table>"
        }
        let style = """
        body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:13px}
        td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}tr.drift td{background:#fde2e2}.alerts li{color:#b00020}.ok{color:#1b7f3b}
        td.cell-drift{background:#d62728;color:#fff}.grid{display:flex;flex-wrap:wrap;gap:12px}.grid figure{margin:0}figcaption{font-size:12px}svg text{font-size:10px}
        """
        return "<!doctype html><html><head><meta charset=utf-8><title>Keel monitoring: \(escape(model))</title><style>\(style)</style></head><body>\(body)</body></html>\n"
    }

    private func psiChart() -> String {
        let features = dataDrift.features
        guard !features.isEmpty else { return "" }
        let top = max(features.map(\.psi).max() ?? 0, dataDrift.thresholds.psi * 1.5)
        let rowHeight = 18, width = 640, label = 160
        var svg = "<svg width=\(width) height=\(features.count * rowHeight + 10) role=img aria-label=\"PSI per feature\">"
        for (i, feature) in features.enumerated() {
            let y = i * rowHeight
            let length = Double(width - label - 60) * min(feature.psi / top, 1)
            svg += "<text x=\(label - 4) y=\(y + 13) text-anchor=end>\(escape(feature.name))</text>"
            svg += "<rect x=\(label) y=\(y + 3) width=\(String(format: "%.1f", max(length, 1))) height=12 fill=\"\(feature.drifted ? "#d62728" : "#4c78a8")\"/>"
            svg += "<text x=\(String(format: "%.1f", Double(label) + length + 4)) y=\(y + 13)>\(number(feature.psi))</text>"
        }
        let threshold = Double(label) + Double(width - label - 60) * dataDrift.thresholds.psi / top
        svg += "<line x1=\(String(format: "%.1f", threshold)) x2=\(String(format: "%.1f", threshold)) y1=0 y2=\(features.count * rowHeight) stroke='#333' stroke-dasharray='4'/>"
        return svg + "</svg>"
    }

    private func histogram(_ feature: FeatureDrift) -> String {
        let width = 300, height = 120, count = feature.bins.count
        let top = max(feature.referenceShares.max() ?? 0, feature.currentShares.max() ?? 0, 1e-9)
        let slot = Double(width) / Double(max(count, 1))
        var svg = "<figure><svg width=\(width) height=\(height + 30) role=img aria-label=\"\(escape(feature.name)) distribution\">"
        for i in 0..<count {
            for (k, share) in [feature.referenceShares[i], feature.currentShares[i]].enumerated() {
                let h = Double(height) * share / top
                let x = Double(i) * slot + Double(k) * slot * 0.42 + slot * 0.08
                svg += "<rect x=\(String(format: "%.1f", x)) y=\(String(format: "%.1f", Double(height) - h)) width=\(String(format: "%.1f", slot * 0.4)) height=\(String(format: "%.1f", h)) fill=\"\(k == 0 ? "#9ecae1" : "#e6550d")\"><title>\(escape(feature.bins[i])): \(k == 0 ? "reference" : "current") \(percent(share))</title></rect>"
            }
        }
        svg += "<text x=0 y=\(height + 14)>\(escape(feature.bins.first ?? ""))</text><text x=\(width) y=\(height + 14) text-anchor=end>\(escape(feature.bins.last ?? ""))</text>"
        svg += "</svg><figcaption>\(escape(feature.name)): reference (blue) vs current (orange)\(feature.drifted ? " — drifted" : "")</figcaption></figure>"
        return svg
    }

    private func performanceChart(_ concept: ConceptDriftReport) -> String {
        guard concept.windows.count > 1 else { return "<p>Too few labelled windows to chart.</p>" }
        let width = 640.0, height = 160.0
        let values = concept.windows.map(\.score) + [concept.baseline]
        let low = values.min()!, high = values.max()!
        let span = max(high - low, 1e-9)
        func x(_ i: Int) -> Double { 30 + (width - 60) * Double(i) / Double(concept.windows.count - 1) }
        func y(_ v: Double) -> Double { 10 + (height - 20) * (1 - (v - low) / span) }
        var svg = "<svg width=\(Int(width)) height=\(Int(height) + 20) role=img aria-label=\"performance over time\">"
        svg += "<line x1=30 x2=\(Int(width) - 30) y1=\(String(format: "%.1f", y(concept.baseline))) y2=\(String(format: "%.1f", y(concept.baseline))) stroke='#333' stroke-dasharray='4'/>"
        let points = concept.windows.indices.map { String(format: "%.1f,%.1f", x($0), y(concept.windows[$0].score)) }.joined(separator: " ")
        svg += "<polyline points=\"\(points)\" fill='none' stroke='#4c78a8' stroke-width='2'/>"
        for (i, window) in concept.windows.enumerated() {
            svg += "<circle cx=\(String(format: "%.1f", x(i))) cy=\(String(format: "%.1f", y(window.score))) r=4 fill=\"\(window.degraded ? "#d62728" : "#4c78a8")\"><title>\(number(window.score)) on \(window.rows) rows</title></circle>"
        }
        svg += "<text x=30 y=\(Int(height) + 15)>\(escape(label(concept.windows.first!.start)))</text>"
        svg += "<text x=\(Int(width) - 30) y=\(Int(height) + 15) text-anchor=end>\(escape(label(concept.windows.last!.start)))</text>"
        return svg + "</svg>"
    }

    /// A window start: a date when it looks like seconds since 1970, else a row position.
    private func label(_ value: Double) -> String {
        guard value > 1e8 else { return "row \(Int(value))" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: Date(timeIntervalSince1970: value))
    }

    private func number(_ value: Double) -> String { value.isFinite ? String(format: "%.3f", value) : "–" }
    private func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
    private func pValue(_ value: Double) -> String { value < 1e-4 ? String(format: "%.1e", value) : String(format: "%.4f", value) }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

/// Drift of each feature in each time window of the current data.
public struct DriftTimeline: Codable, Sendable, Equatable {
    /// Window starts, seconds since 1970.
    public var windows: [Double]
    public var features: [String]
    /// psi[feature][window]
    public var psi: [[Double]]
    public var drifted: [[Bool]]

    /// The first window in which each feature drifted (nil: never).
    public var firstDrift: [String: Double] {
        var first: [String: Double] = [:]
        for (f, name) in features.enumerated() {
            if let w = drifted[f].firstIndex(of: true) { first[name] = windows[w] }
        }
        return first
    }
}
