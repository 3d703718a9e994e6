import Foundation
import KeelData
@testable import KeelLearn
import KeelTestSupport
import Testing

@Suite struct PipelineTests {
    private func schema(_ frame: Frame, target: String) throws -> Schema {
        try SchemaInference.infer(frame, target: target).schema
    }

    @Test func datePartsTextAndPassThrough() throws {
        let frame = try CSVFixtures.read(CustomerChurnFixture.csv)
        var s = try schema(frame, target: "churned")
        s.columns[s.columns.firstIndex { $0.name == "contract" }!].kind = .text
        let y = try TargetEncoding(column: frame["churned"]!, task: s.task!)
        let (pipeline, x) = try Pipeline.fit(frame, schema: s, target: y)
        #expect(pipeline.featureNames.contains("snapshot_month.month"))
        #expect(pipeline.featureNames.contains("signup_date.days"))
        #expect(pipeline.featureNames.filter { $0.hasPrefix("contract.token_") }.count == 64)
        #expect(!pipeline.featureNames.contains("customer_id"), "identifiers are not features")
        #expect(!pipeline.featureNames.contains("churned"))
        #expect(x.featureCount == pipeline.featureNames.count && pipeline.sources.count == x.featureCount)
        let month = pipeline.featureNames.firstIndex(of: "snapshot_month.month")!
        #expect(Set((0..<x.rowCount).map { x.value(row: $0, feature: month) }) == Set((1...12).map(Double.init)))
        // Text rows have unit length.
        let tokens = pipeline.featureNames.indices.filter { pipeline.sources[$0] == "contract" }
        let norm = tokens.reduce(0.0) { $0 + pow(x.value(row: 0, feature: $1), 2) }
        #expect(abs(norm - 1) < 1e-9)
    }

    @Test func datePartsCountWholeDaysAndTheDayOfTheMonth() throws {
        let frame = try CSVFixtures.read("""
        at,y
        2024-03-01 00:30:00,1
        2024-03-15 13:45:00,2
        2024-03-31 23:59:59,3
        2024-04-02 06:00:00,4

        """)
        let (pipeline, x) = try Pipeline.fit(frame, schema: try schema(frame, target: "y"), target: nil)
        #expect(pipeline.featureNames == ["at.year", "at.month", "at.day", "at.weekday", "at.hour", "at.days"])
        let column = { (name: String) in (0..<4).map { x.value(row: $0, feature: pipeline.featureNames.firstIndex(of: "at.\(name)")!) } }
        #expect(column("day") == [1, 15, 31, 2])
        #expect(column("month") == [3, 3, 3, 4])
        #expect(column("weekday") == [4, 4, 6, 1], "Friday, Friday, Sunday, Tuesday (Monday is 0)")
        #expect(column("hour") == [0, 13, 23, 6])
        // Whole days since the earliest training timestamp, not fractions of them.
        #expect(column("days") == [0, 14, 30, 32])
    }

    @Test func textFeaturesAreTheSameInEveryProcess() throws {
        // The norm of a row sums its buckets' squared weights in bucket order. Summed in a dictionary's
        // order, which Swift seeds afresh in every process, it rounded differently from one run to the next,
        // and two trainings with the same seed gave different models.
        var g = SeededGenerator(seed: 9)
        let words = (0..<40).map { "w\($0)x" }
        let rows = (0..<200).map { i in (0..<12).map { _ in words[g.next(below: words.count)] }.joined(separator: " ") + ",\(i % 2)" }
        let frame = try CSVFixtures.read("notes,label\n" + rows.joined(separator: "\n") + "\n")
        var s = try schema(frame, target: "label")
        let notes = s.columns.firstIndex { $0.name == "notes" }!
        (s.columns[notes].kind, s.columns[notes].role) = (.text, .feature)
        let (pipeline, x) = try Pipeline.fit(frame, schema: s, target: try TargetEncoding(column: frame["label"]!, task: s.task!))
        let text = try #require(pipeline.texts.first)
        for row in 0..<frame.rowCount {
            var weights = [Double](repeating: 0, count: text.idf.count)
            for bucket in HashedText.buckets(frame["notes"]!.displayValue(at: row)!, count: text.idf.count) { weights[bucket] += text.idf[bucket] }
            let norm = weights.indices.reduce(0.0) { $0 + weights[$1] * weights[$1] }.squareRoot()
            let features = pipeline.featureNames.indices.filter { pipeline.sources[$0] == "notes" }
            #expect(features.enumerated().allSatisfy { bucket, feature in x.value(row: row, feature: feature) == weights[bucket] / norm }, "row \(row)")
        }
    }

    @Test func pairsOfDatetimeColumnsGiveTheirDifferenceInHours() throws {
        let frame = try CSVFixtures.read("""
        pickup,dropoff,distance,fare
        2019-03-22 15:16:17,2019-03-22 15:29:48,4.18,15
        2019-03-05 09:15:25,2019-03-05 10:45:25,2.01,9
        ,2019-03-05 10:45:25,1.5,7
        2019-03-07 23:50:00,2019-03-08 00:20:00,3.3,12
        """)
        let s = try schema(frame, target: "fare")
        let y = try TargetEncoding(column: frame["fare"]!, task: s.task!)
        let (pipeline, x) = try Pipeline.fit(frame, schema: s, target: y)
        let duration = try #require(pipeline.featureNames.firstIndex(of: "dropoff - pickup.hours"))
        #expect(pipeline.sources[duration] == "dropoff", "explained through the later column")
        let hours = (0..<4).map { x.value(row: $0, feature: duration) }
        #expect(abs(hours[0] - 811.0 / 3600) < 1e-12 && hours[1] == 1.5 && hours[2].isNaN && hours[3] == 0.5, "\(hours)")
        // New rows get the same feature; a pipeline written before the step existed reads as having none.
        #expect(zip(try pipeline.transform(frame).values, x.values).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(pipeline)) as! [String: Any]
        #expect(try JSONDecoder().decode(Pipeline.self, from: JSONEncoder().encode(pipeline)) == pipeline)
        json["dateDifferences"] = nil
        let old = try JSONDecoder().decode(Pipeline.self, from: JSONSerialization.data(withJSONObject: json))
        #expect(old.dateDifferences.isEmpty)
        // Four datetime columns at most are paired: six differences.
        #expect(DateDifference.pairs(["a", "b", "c", "d", "e"]).map(\.featureName)
                == ["b - a.hours", "c - a.hours", "d - a.hours", "c - b.hours", "d - b.hours", "d - c.hours"])
    }

    @Test func categoriesThatAreNumbersAlsoGiveTheirValue() throws {
        // Whole numbers with 3 to 10 distinct values are read as categories (codes); trees also get their value.
        let frame = try CSVFixtures.read("""
        stage,colour,grade,y
        1,red,2.0,10.5
        2,blue,,12.1
        3,red,4.0,15.7
        1,green,3.0,9.2
        2,blue,2.0,11.3
        3,green,4.0,16.8
        ,red,3.0,8.4

        """)
        let s = try schema(frame, target: "y")
        #expect(s["stage"]?.kind == .categorical && s["grade"]?.kind == .categorical && s["colour"]?.kind == .categorical)
        let y = try TargetEncoding(column: frame["y"]!.converted(to: .numeric), task: s.task!)
        #expect(try Pipeline.fit(frame, schema: s, target: y).0.levelValues.isEmpty, "off unless asked for")
        var options = PipelineOptions()
        options.levelValues = true
        let (pipeline, x) = try Pipeline.fit(frame, schema: s, target: y, options: options)
        #expect(pipeline.levelValues.map(\.column) == ["stage", "grade"], "text categories get no value")
        let stage = try #require(pipeline.featureNames.firstIndex(of: "stage.value"))
        let grade = try #require(pipeline.featureNames.firstIndex(of: "grade.value"))
        #expect(pipeline.sources[stage] == "stage" && x.kinds[stage] == .numeric)
        #expect(pipeline.featureNames.contains("stage"), "the category stays a feature too")
        let stages = (0..<7).map { x.value(row: $0, feature: stage) }
        #expect(Array(stages.prefix(6)) == [1, 2, 3, 1, 2, 3] && stages[6].isNaN)
        #expect((0..<7).map { x.value(row: $0, feature: grade) }.enumerated().allSatisfy { i, v in i == 1 ? v.isNaN : v == [2, 0, 4, 3, 2, 4, 3][i] })
        // A level unseen in training that is a number keeps its value; other text is missing.
        var later = frame.selecting(rows: [0, 1])
        try later.replace(Column(name: "stage", values: .categorical(EncodedStrings(codes: [0, 1], levels: ["7", "late"]))))
        let unseen = try pipeline.transform(later)
        #expect(unseen.value(row: 0, feature: stage) == 7 && unseen.value(row: 1, feature: stage).isNaN)
        // A pipeline written before the step existed reads as having none.
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(pipeline)) as! [String: Any]
        #expect(try JSONDecoder().decode(Pipeline.self, from: JSONEncoder().encode(pipeline)) == pipeline)
        json["levelValues"] = nil
        #expect(try JSONDecoder().decode(Pipeline.self, from: JSONSerialization.data(withJSONObject: json)).levelValues.isEmpty)
    }

    @Test func targetEncodingIsOutOfFoldForTrainingRows() throws {
        // 200 levels, each seen on 3 rows; the label is a coin flip, so a level's own rows say nothing.
        var g = SeededGenerator(seed: 3)
        let rows = (0..<600).map { i in "L\(i % 200),\(g.nextUnit() < 0.5 ? "yes" : "no"),\(g.nextUnit())" }
        let frame = try CSVFixtures.read("code,label,noise\n" + rows.joined(separator: "\n"))
        let s = try schema(frame, target: "label")
        let y = try TargetEncoding(column: frame["label"]!, task: s.task!)
        let (pipeline, x) = try Pipeline.fit(frame, schema: s, target: y)
        let encoded = try #require(pipeline.featureNames.firstIndex(of: "code.target_mean"))
        // In-sample encodings would correlate with the row's own label; out-of-fold ones must not.
        let trainValues = (0..<600).map { x.value(row: $0, feature: encoded) }
        let correlation = pearson(trainValues, y.values)
        let inSample = try pipeline.transform(frame)
        let leaky = pearson((0..<600).map { inSample.value(row: $0, feature: encoded) }, y.values)
        #expect(abs(correlation) < 0.15, "out-of-fold correlation \(correlation)")
        #expect(leaky > 0.3, "in-sample encodings leak (\(leaky)), which is why training rows are out-of-fold")
    }

    @Test func unseenLevelsAndReorderedColumnsAtPrediction() throws {
        let frame = try CSVFixtures.read(CustomerChurnFixture.csv)
        let s = try schema(frame, target: "churned")
        let y = try TargetEncoding(column: frame["churned"]!, task: s.task!)
        let (pipeline, _) = try Pipeline.fit(frame, schema: s, target: y)
        let names = frame.columnNames.reversed().filter { $0 != "churned" }
        var later = try frame.selecting(columns: Array(names)).selecting(rows: [0, 1])
        guard case .categorical(var plan) = later["plan"]!.values else { Issue.record("plan is categorical"); return }
        plan.levels = plan.levels.map { $0 == "basic" ? "platinum" : $0 }
        try later.replace(Column(name: "plan", values: .categorical(plan)))
        let x = try pipeline.transform(later)
        #expect(x.rowCount == 2 && x.featureCount == pipeline.featureNames.count)
        let model = try Learner.gradientBoosting(GradientBoostingParameters()).fit(try pipeline.transform(frame), target: y)
        #expect(try model.predict(x).allSatisfy { $0.isFinite })
        #expect(throws: LearnError.self) { try pipeline.transform(frame.selecting(columns: ["plan"])) }
    }

    @Test func noFeaturesIsAClearError() throws {
        let frame = try CSVFixtures.read("id,y\n" + (0..<30).map { "\($0),\($0 % 2)" }.joined(separator: "\n"))
        let s = try schema(frame, target: "y")
        #expect(CSVFixtures.errorMessage { _ = try Pipeline.fit(frame, schema: s, target: nil) }?.hasPrefix("there are no feature columns") == true)
    }

    @Test func balancedClassWeights() {
        let y = TargetEncoding(task: LearningTask(kind: .binary, classes: ["a", "b"], positiveClass: "b"), values: [0, 0, 0, 1])
        let w = ClassWeights.balanced(y)
        let expected: [Double] = [4.0 / 6, 4.0 / 6, 4.0 / 6, 2]
        #expect(w == expected)
    }

    private func pearson(_ a: [Double], _ b: [Double]) -> Double {
        let ma = a.reduce(0, +) / Double(a.count), mb = b.reduce(0, +) / Double(b.count)
        let cov = zip(a, b).reduce(0) { $0 + ($1.0 - ma) * ($1.1 - mb) }
        let va = a.reduce(0) { $0 + ($1 - ma) * ($1 - ma) }, vb = b.reduce(0) { $0 + ($1 - mb) * ($1 - mb) }
        return cov / (va * vb).squareRoot()
    }
}

@Suite struct FittedModelTests {
    @Test func everyKindRoundTripsWithIdenticalPredictions() throws {
        let train = SyntheticTable(rows: 1500, seed: 1)
        let test = SyntheticTable(rows: 300, seed: 2)
        var forest = ForestParameters()
        forest.trees = 10
        var boosting = GradientBoostingParameters()
        boosting.rounds = 20
        for learner in [Learner.gradientBoosting(boosting), .randomForest(forest), .linear(LinearParameters())] {
            let model = try learner.fit(train.features, target: train.binaryTarget(seed: 3))
            let data = try JSONEncoder().encode(model)
            let decoded = try JSONDecoder().decode(FittedModel.self, from: data)
            #expect(decoded == model)
            #expect(try decoded.predict(test.features) == model.predict(test.features))
            #expect(String(decoding: data, as: UTF8.self).contains("\"format_version\":1"))
        }
    }

    @Test func newerFormatsAndUnknownKindsAreClearErrors() {
        let newer = #"{"format_version": 99, "kind": "linear", "model": {}}"#
        #expect(CSVFixtures.errorMessage { _ = try JSONDecoder().decode(FittedModel.self, from: Data(newer.utf8)) }
            == "the model was saved in format version 99; this Keel reads up to version 1")
        let unknown = #"{"format_version": 1, "kind": "oracle", "model": {}}"#
        #expect(CSVFixtures.errorMessage { _ = try JSONDecoder().decode(FittedModel.self, from: Data(unknown.utf8)) } == "unknown model kind 'oracle'")
    }
}
