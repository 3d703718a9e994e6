import Foundation
import KeelArtifact
import KeelData
import KeelTestSupport
import Testing

/// One scoring boundary: the same bad inputs, as a file's cells through `keel predict` and as JSON fields
/// through `POST /v1/predict`, get the same verdict naming the same field with the same sentence, because
/// both read values through the model's `InputContract`.
@Suite(.serialized) struct ScoringBoundaryTests {
    struct Setup: Sendable {
        var folder: URL
        var model: String
        var schema: Schema
    }

    /// A table with every kind of feature: `age` never missing (required), `fee` a number with a word among
    /// its numbers (`unknown`), `signup` a date, `promo` a boolean, `plan` a category; seeded, 300 rows.
    static let setup: Setup = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-boundary-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var generator = SeededGenerator(seed: 29)
        var lines = ["age,fee,signup,promo,plan,churned"]
        for row in 0..<300 {
            let age = Int.random(in: 18...80, using: &generator)
            let fee = row % 20 == 7 ? "unknown" : String(format: "%.2f", Double.random(in: 10...90, using: &generator))
            let day = String(format: "2024-%02d-%02d", Int.random(in: 1...12, using: &generator), Int.random(in: 1...28, using: &generator))
            let promo = Bool.random(using: &generator)
            let plan = ["basic", "plus", "pro"][Int.random(in: 0...2, using: &generator)]
            let churned = (Double(age) / 80 + (promo ? 0.3 : 0) + Double.random(in: 0...0.6, using: &generator)) > 0.9 ? "yes" : "no"
            lines.append("\(age),\(fee),\(day),\(promo),\(plan),\(churned)")
        }
        let data = folder.appendingPathComponent("train.csv").path
        try! (lines.joined(separator: "\n") + "\n").write(toFile: data, atomically: true, encoding: .utf8)
        let model = folder.appendingPathComponent("model.keel").path
        let trained = try! KeelProcess.run(["train", data, "--target", "churned", "--trials", "1", "--learner", "linear", "--out", model, "--quiet", "--no-registry"])
        precondition(trained.status == 0, trained.stderr)
        return Setup(folder: folder, model: model, schema: try! Artifact.read(from: model).manifest.schema)
    }()

    /// A good row, as file cells and as JSON fields.
    static let good: [(column: String, cell: String, json: String)] = [
        ("age", "40", "40"), ("fee", "55.5", "55.5"), ("signup", "2024-03-05", "\"2024-03-05\""), ("promo", "true", "true"), ("plan", "plus", "\"plus\""),
    ]

    enum Verdict: Equatable {
        /// Refused with this code (`wrong_type`, `missing_field`) naming the case's field.
        case refused(String)
        /// Scored; with a warning of this code on the row when given.
        case scored(warning: String?)
    }

    /// One input: the field, its cell in a file and its JSON value (nil: the field is absent from both).
    struct Case {
        var name: String
        var field: String
        var cell: String?
        var json: String?
        var verdict: Verdict
    }

    static let cases: [Case] = [
        Case(name: "a word for a number", field: "age", cell: "abc", json: "\"abc\"", verdict: .refused("wrong_type")),
        Case(name: "not a date", field: "signup", cell: "yesterday", json: "\"yesterday\"", verdict: .refused("wrong_type")),
        Case(name: "an impossible date", field: "signup", cell: "2023-02-30", json: "\"2023-02-30\"", verdict: .refused("wrong_type")),
        Case(name: "not a boolean", field: "promo", cell: "maybe", json: "\"maybe\"", verdict: .refused("wrong_type")),
        Case(name: "a required column absent", field: "age", cell: nil, json: nil, verdict: .refused("missing_field")),
        Case(name: "a missing-value word among numbers", field: "fee", cell: "unknown", json: "\"unknown\"", verdict: .scored(warning: nil)),
        Case(name: "the word with blanks around it", field: "fee", cell: " unknown\t", json: "\" unknown\\t\"", verdict: .scored(warning: nil)),
        Case(name: "a missing value where training had none", field: "age", cell: "", json: "null", verdict: .scored(warning: "unexpected_missing")),
        Case(name: "a number for a category", field: "plan", cell: "3", json: "3", verdict: .scored(warning: "unseen_level")),
        Case(name: "a boolean in capitals", field: "promo", cell: "TRUE", json: "\"TRUE\"", verdict: .scored(warning: nil)),
        Case(name: "an optional field absent", field: "fee", cell: nil, json: nil, verdict: .scored(warning: nil)),
    ]

    private func csv(_ test: Case) -> String {
        let fields = Self.good.filter { $0.column != test.field || test.cell != nil }
        let header = fields.map(\.column).joined(separator: ",")
        let values = fields.map { $0.column == test.field ? test.cell! : $0.cell }
        // A value with blanks is quoted so the reader keeps them.
        return header + "\n" + values.map { $0.contains(where: { " \t".contains($0) }) ? "\"\($0)\"" : $0 }.joined(separator: ",") + "\n"
    }

    private func json(_ test: Case) -> String {
        let fields = Self.good.filter { $0.column != test.field || test.json != nil }
        return "{" + fields.map { "\"\($0.column)\":\($0.column == test.field ? test.json! : $0.json)" }.joined(separator: ",") + "}"
    }

    @Test func oneTableOfBadInputsGetsTheSameVerdictThroughAFileAndThroughTheAPI() throws {
        let setup = Self.setup
        #expect(setup.schema["fee"]?.missingWords == ["unknown"] && setup.schema["fee"]?.nullable == true)
        #expect(setup.schema["age"]?.nullable == false && setup.schema["signup"]?.kind == .datetime && setup.schema["promo"]?.kind == .boolean)
        let server = try ServerProcess([setup.model, "--keys-file", setup.folder.appendingPathComponent("none.json").path])
        defer { server.stop() }
        for test in Self.cases {
            let feature = try #require(setup.schema[test.field])
            let file = setup.folder.appendingPathComponent("case.csv")
            try csv(test).write(to: file, atomically: true, encoding: .utf8)
            let predicted = try KeelProcess.run(["predict", setup.model, file.path, "--warnings-column"])
            let answered = try server.client.post("/v1/predict", json(test))
            switch test.verdict {
            case .refused(let code):
                #expect(predicted.status == 1, "\(test.name): keel predict exit \(predicted.status)")
                #expect(answered.status == 422 && answered.errorCode == code && answered.errorField == test.field, "\(test.name): \(answered.body)")
                // The same sentence from the contract: the API's names the field, the file's its line, column and value.
                let api = code == "missing_field" ? "'\(test.field)' is required: it had no missing values in training"
                    : "'\(test.field)' must be \(InputContract.expected(feature))"
                #expect(answered.body.contains(api), "\(test.name): \(answered.body)")
                let file = code == "missing_field" ? api : "('\(test.field)'): '\(test.cell!)' is not \(InputContract.expected(feature))"
                #expect(predicted.stderr.contains(file), "\(test.name): \(predicted.stderr)")
            case .scored(let warning):
                #expect(predicted.status == 0, "\(test.name): \(predicted.stderr)")
                #expect(answered.status == 200, "\(test.name): \(answered.body)")
                if let warning {
                    #expect(predicted.stdout.contains(warning) && predicted.stdout.contains(test.field), "\(test.name): \(predicted.stdout)")
                    #expect(answered.body.contains("\"\(warning)\"") && answered.body.contains("\"\(test.field)\""), "\(test.name): \(answered.body)")
                } else {
                    #expect(!answered.body.contains("\"field\":\"\(test.field)\""), "\(test.name): no warning on the field: \(answered.body)")
                }
            }
        }
        // Where the two differ, and why: a file's column kinds are its reader's guess, so a true/false column in
        // a numeric feature reads as 1 and 0, as training's reading of a file does; a JSON boolean is the
        // client's own type, and a number field refuses it.
        let file = setup.folder.appendingPathComponent("flags.csv")
        try csv(Case(name: "", field: "age", cell: "true", json: nil, verdict: .scored(warning: nil))).write(to: file, atomically: true, encoding: .utf8)
        #expect(try KeelProcess.run(["predict", setup.model, file.path]).status == 0)
        let flag = try server.client.post("/v1/predict", json(Case(name: "", field: "age", cell: nil, json: "true", verdict: .refused("wrong_type"))))
        #expect(flag.status == 422 && flag.errorCode == "wrong_type" && flag.errorField == "age", "\(flag.body)")
        // The spot check behind the shared sentence: what a number field says it accepts.
        #expect(InputContract.expected(try #require(setup.schema["fee"])) == "a number (\"unknown\" for a missing value)")
    }
}
