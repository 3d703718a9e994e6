import Foundation
import KeelTestSupport
import Testing

/// `keel explain` and `POST /v1/explain` from the user's side.
@Suite(.serialized) struct ExplainCommandTests {
    static let setup = ServedModels.setup

    @Test func reasonCodesAddUpAndMatchThePredictedProbability() throws {
        let result = try KeelProcess.run(["explain", Self.setup.boosted, Self.setup.data, "--rows", "0-2,7", "--top-k", "2", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let rows = try #require(document["rows"] as? [[String: Any]])
        #expect(rows.map { $0["row"] as? Int } == [0, 1, 2, 7])
        let out = Self.setup.folder.appendingPathComponent("explain-predictions.csv").path
        #expect(try KeelProcess.run(["predict", Self.setup.boosted, Self.setup.data, "--out", out]).status == 0)
        let predictions = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",") }
        for row in rows {
            let attributions = try #require(row["attributions"] as? [String: Double])
            let base = try #require(row["base"] as? Double)
            let margin = try #require(row["margin"] as? Double)
            #expect(abs(base + attributions.values.reduce(0, +) - margin) < 1e-6)
            let probability = try #require(row["probability"] as? Double)
            let index = try #require(row["row"] as? Int)
            // Calibrated when the model is (its calibration maps the margin), and always the predicted probability.
            #expect(abs(probability - Double(predictions[index + 1][3])!) < 1e-5, "the explained probability is the predicted one")
            let up = try #require(row["up"] as? [[String: Any]])
            let down = try #require(row["down"] as? [[String: Any]])
            #expect(up.count <= 2 && down.count <= 2 && up.count + down.count > 0)
            for code in up { #expect((code["attribution"] as? Double ?? 0) > 0 && (code["text"] as? String ?? "").contains("raised")) }
            for code in down { #expect((code["attribution"] as? Double ?? 0) < 0 && (code["text"] as? String ?? "").contains("lowered")) }
        }
        let text = try KeelProcess.run(["explain", Self.setup.boosted, Self.setup.data, "--rows", "0", "--global"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("row 0:") && text.stdout.contains("the probability of churned = yes by") && text.stdout.contains("percentage points"))
        #expect(text.stdout.contains("global importance") && text.stdout.contains("permutation (roc_auc)"))
        let bad = try KeelProcess.run(["explain", Self.setup.boosted, Self.setup.data, "--rows", "5000"])
        #expect(bad.status == 2 && bad.stderr.contains("has 600 rows"))
        #expect(try KeelProcess.run(["explain", Self.setup.boosted, Self.setup.data, "--rows", "x-1"]).status == 2)
    }

    @Test func htmlReportIsSelfContainedAndWellFormed() throws {
        let html = Self.setup.folder.appendingPathComponent("report.html").path
        let result = try KeelProcess.run(["explain", Self.setup.linear, Self.setup.data, "--html", html])
        #expect(result.status == 0, "\(result.stderr)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        for section in ["Global importance", "Summary", "Dependence", "Partial dependence and ICE", "Reason codes", "<svg", "<circle", "<path"] {
            #expect(page.contains(section), "\(section)")
        }
        // One script element, and it is data (the explanation as JSON), not code; no external resources.
        #expect(page.components(separatedBy: "<script").count == 2 && page.contains(#"<script type="application/json" id="keel-explanation">"#))
        #expect(!page.contains("http://") && !page.contains("https://"), "no external resources")
        // Every tag closes: parsed with Python's HTML parser in the test environment.
        let check = try PythonEnvironment.run("""
        import sys
        from html.parser import HTMLParser
        void = {"meta", "br", "circle", "line", "path", "img"}
        class P(HTMLParser):
            def __init__(self):
                super().__init__(); self.stack = []; self.errors = []
            def handle_starttag(self, tag, attrs):
                if tag not in void: self.stack.append(tag)
            def handle_endtag(self, tag):
                if tag in void: return
                if not self.stack or self.stack[-1] != tag: self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
                else: self.stack.pop()
        p = P(); p.feed(open(sys.argv[1]).read())
        print("ok" if not p.errors and not p.stack else f"{p.errors[:3]} open={p.stack}")
        """, arguments: [html])
        #expect(check.trimmingCharacters(in: .whitespacesAndNewlines) == "ok", "\(check)")
    }

    @Test func htmlReportRendersInHeadlessChromium() throws {
        let html = Self.setup.folder.appendingPathComponent("rendered.html").path
        let result = try KeelProcess.run(["explain", Self.setup.boosted, Self.setup.data, "--html", html, "--rows", "0-4"])
        #expect(result.status == 0, "\(result.stderr)")
        // Not blank: many pixels are neither white nor one flat colour (the PNG is kept in test-artifacts/).
        let ink = try HeadlessBrowser.render(html, artifact: "explain-report")
        #expect(ink.width == 1200 && ink.height == 3000)
        #expect(ink.drawn > 0.01, "at least 1% of the page is drawn: \(ink.drawn)")
        #expect(ink.colours > 50, "charts use many colours: \(ink.colours)")
        let dom = try HeadlessBrowser.dom(html)
        #expect(dom.components(separatedBy: "<svg").count - 1 >= 8, "importance, summary, 6 dependence and the partial dependence plots")
        #expect(dom.contains("aria-label=\"summary\"") && dom.contains("aria-label=\"importance\""))
        #expect(dom.contains("partial dependence"))
    }

    @Test func serverExplainsPostedRowsWithAttributionsThatAddUp() throws {
        let server = try ServerProcess([Self.setup.boosted, "--keys-file", Self.setup.folder.appendingPathComponent("none.json").path])
        defer { server.stop() }
        let rows = try ServedModels.jsonRows(csv: Self.setup.data, model: Self.setup.boosted)
        let response = try server.client.post("/v1/explain?top_k=2", "{\"rows\":[\(rows[0]),\(rows[1])]}")
        #expect(response.status == 200, "\(response.body)")
        let explanations = try #require(response.json?["explanations"] as? [[String: Any]])
        #expect(explanations.count == 2)
        let predicted = try #require(try server.client.post("/v1/predict", rows[0]).json?["predictions"] as? [[String: Any]])
        let p = try #require((predicted[0]["probabilities"] as? [String: Double])?["yes"])
        for item in explanations {
            let attributions = try #require(item["attributions"] as? [String: Double])
            let base = try #require(item["base"] as? Double)
            let margin = try #require(item["margin"] as? Double)
            #expect(abs(base + attributions.values.reduce(0, +) - margin) < 1e-6)
            #expect((item["up"] as? [Any])?.count ?? 0 <= 2)
        }
        #expect(abs((explanations[0]["probability"] as? Double ?? 0) - p) < 1e-9)
        let bad = try server.client.post("/v1/explain?top_k=0", rows[0])
        #expect(bad.status == 422 && bad.errorField == "top_k")
    }
}
