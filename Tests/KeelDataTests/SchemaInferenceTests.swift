import KeelData
import KeelTestSupport
import Testing

@Suite struct SchemaInferenceTests {
    @Test(arguments: Datasets.all)
    func taskMatchesManifest(_ entry: Datasets.Entry) throws {
        let frame = try CSVReader.read(path: entry.path)
        let schema = try SchemaInference.infer(frame, target: entry.target).schema
        #expect(schema.task?.kind.rawValue == entry.task)
        if let classes = entry.nClasses { #expect(schema.task?.classes?.count == classes) }
        #expect(schema[entry.target]?.role == .target)
        #expect(!schema.featureNames.contains(entry.target))
    }

    @Test func flagsIdentifiersConstantsAndIntegerCodes() throws {
        let frame = try CSVReader.read(path: try #require(Datasets.named("titanic")).path)
        let result = try SchemaInference.infer(frame, target: "Survived")
        let schema = result.schema
        #expect(schema["PassengerId"]?.role == .id)
        #expect(schema["PassengerId"]?.flags.contains(.idLike) == true)
        #expect(schema["Name"]?.kind == .text)
        #expect(schema["Pclass"]?.kind == .categorical)
        #expect(schema["Pclass"]?.flags.contains(.integerCodes) == true)
        #expect(schema["Ticket"]?.flags.contains(.highCardinality) == true)
        #expect(schema["Age"]?.nullable == true && schema["Sex"]?.nullable == false)
        #expect(schema.task?.positiveClass == "1")
        #expect(result.warnings.contains { $0.contains("'PassengerId' looks like an identifier") })

        let churn = try CSVReader.read(path: try #require(Datasets.named("bank_churn")).path)
        let churnSchema = try SchemaInference.infer(churn, target: "Exited").schema
        #expect(churnSchema["RowNumber"]?.role == .id && churnSchema["CustomerId"]?.role == .id)
        #expect(churnSchema["Surname"]?.flags.contains(.highCardinality) == true)
    }

    @Test func positiveClassIsTheMinorityUnlessAYesNoPair() throws {
        let adult = try CSVReader.read(path: try #require(Datasets.named("adult_income")).path)
        #expect(try SchemaInference.infer(adult, target: "income").schema.task?.positiveClass == ">50K")
        let frame = try CSVFixtures.read("y\nyes\nno\nno\nyes\nyes\n")
        #expect(try SchemaInference.infer(frame, target: "y").schema.task?.positiveClass == "yes")
    }

    @Test func constantColumnsAreIgnored() throws {
        let frame = try CSVFixtures.read("c,x,y\n" + (0..<30).map { "k,\($0),\($0 % 2)" }.joined(separator: "\n"))
        let schema = try SchemaInference.infer(frame, target: "y").schema
        #expect(schema["c"]?.role == .ignored)
        #expect(schema["c"]?.flags == [.constant])
    }

    @Test func leakageSuspects() throws {
        let rows = (0..<40).map { i in "\(i % 2 == 0 ? "good" : "bad"),\(i % 2),\(Double(i) * 0.37)" }
        let frame = try CSVFixtures.read("label,copy,noise\n" + rows.joined(separator: "\n"))
        let schema = try SchemaInference.infer(frame, target: "label").schema
        #expect(schema["copy"]?.flags.contains(.leakageSuspect) == true)
        #expect(schema["noise"]?.flags.contains(.leakageSuspect) == false)

        let regression = try CSVFixtures.read("y,twice,other\n" + (0..<40).map { "\(Double($0) * 1.1),\(Double($0) * 2.2 + 1),\($0 % 7)" }.joined(separator: "\n"))
        #expect(try SchemaInference.infer(regression, target: "y").schema["twice"]?.flags.contains(.leakageSuspect) == true)
    }

    @Test func badTargetsAreClearErrors() throws {
        let frame = try CSVFixtures.read("a,b,t,when\n1,,x y,2024-01-01\n2,,x z,2024-01-02\n")
        #expect(CSVFixtures.errorMessage { _ = try SchemaInference.infer(frame, target: "nope") }?.hasPrefix("unknown column 'nope'") == true)
        #expect(CSVFixtures.errorMessage { _ = try SchemaInference.infer(frame, target: "b") } == "target column 'b' has no values (all 2 are missing)")
        let single = try CSVFixtures.read("y\na\na\n")
        #expect(CSVFixtures.errorMessage { _ = try SchemaInference.infer(single, target: "y") } == "target column 'y' has a single class ('a'); a classifier needs at least two")
        #expect(CSVFixtures.errorMessage { _ = try SchemaInference.infer(frame, target: "when") }?.contains("is datetime") == true)
    }
}
