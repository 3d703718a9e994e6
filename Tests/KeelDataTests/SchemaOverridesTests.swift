import Foundation
import KeelData
import KeelTestSupport
import Testing

@Suite struct SchemaOverridesTests {
    private func churn() throws -> Frame {
        try CSVFixtures.read(CustomerChurnFixture.csv)
    }

    @Test func rolesAndKindsFromFlags() throws {
        let frame = try churn()
        var schema = try SchemaInference.infer(frame, target: "churned").schema
        var overrides = SchemaOverrides()
        overrides.time = "snapshot_month"
        overrides.protected = ["region"]
        overrides.ignored = ["signup_date"]
        overrides.features = ["customer_id"]
        overrides.numeric = ["support_calls"]
        overrides.categorical = ["tenure_months"]
        try overrides.apply(to: &schema, frame: frame)
        #expect(schema["snapshot_month"]?.role == .time)
        #expect(schema["region"]?.role == .protected)
        #expect(schema["signup_date"]?.role == .ignored)
        #expect(schema["customer_id"]?.role == .feature)
        #expect(schema["support_calls"]?.kind == .numeric)
        #expect(schema["tenure_months"]?.kind == .categorical)
        let typed = try frame.conforming(to: schema)
        #expect(typed["support_calls"]?.kind == .numeric)
        #expect(typed["tenure_months"]?.kind == .categorical)
        #expect(!schema.featureNames.contains("region"))
    }

    @Test func aWeightOfAFewWholeNumbersIsANumberAndWordsAreStillRefused() throws {
        let rows = (0..<40).map { "\($0 % 2 == 0 ? "a" : "b"),\([1, 2, 5][$0 % 3]),\($0 % 3 == 0 ? "w" : "v"),\($0)" }
        let frame = try CSVFixtures.read("y,w,label,x\n" + rows.joined(separator: "\n"))
        var schema = try SchemaInference.infer(frame, target: "y").schema
        #expect(schema["w"]?.kind == .categorical, "three whole numbers read as codes by inference")
        var overrides = SchemaOverrides()
        overrides.weight = "w"
        try overrides.apply(to: &schema, frame: frame)
        #expect(schema["w"]?.kind == .numeric)
        #expect(schema["w"]?.role == .weight)

        var words = try SchemaInference.infer(frame, target: "y").schema
        var wrong = SchemaOverrides()
        wrong.weight = "label"
        #expect(throws: DataError.invalidSchema("weight column 'label' must be numeric")) { try wrong.apply(to: &words, frame: frame) }
    }

    @Test func taskAndPositiveClass() throws {
        let frame = try CSVFixtures.read("y,x\n" + (0..<30).map { "\($0 % 3),\($0)" }.joined(separator: "\n"))
        var schema = try SchemaInference.infer(frame, target: "y").schema
        #expect(schema.task?.kind == .multiclass)
        var overrides = SchemaOverrides()
        overrides.task = .regression
        try overrides.apply(to: &schema, frame: frame)
        #expect(schema.task == LearningTask(kind: .regression))

        let binary = try CSVFixtures.read("y\na\nb\nb\n")
        var binarySchema = try SchemaInference.infer(binary, target: "y").schema
        var positive = SchemaOverrides()
        positive.positiveClass = "b"
        try positive.apply(to: &binarySchema, frame: binary)
        #expect(binarySchema.task?.positiveClass == "b")
        positive.positiveClass = "c"
        #expect(CSVFixtures.errorMessage { try positive.apply(to: &binarySchema, frame: binary) } == "positive class 'c' is not a class of 'y'; the classes are: a, b")
        var wrongTask = SchemaOverrides()
        wrongTask.task = .multiclass
        #expect(CSVFixtures.errorMessage { try wrongTask.apply(to: &binarySchema, frame: binary) } == "target 'y' has 2 classes, so the task cannot be multiclass")
    }

    @Test func unknownColumnsAndConflictsAreErrors() throws {
        let frame = try churn()
        var schema = try SchemaInference.infer(frame, target: "churned").schema
        var unknown = SchemaOverrides()
        unknown.ids = ["custmer_id"]
        #expect(CSVFixtures.errorMessage { try unknown.apply(to: &schema, frame: frame) }?.hasPrefix("--id names column 'custmer_id', which is not in the data") == true)
        var twice = SchemaOverrides()
        twice.ids = ["plan"]
        twice.ignored = ["plan"]
        #expect(CSVFixtures.errorMessage { try twice.apply(to: &schema, frame: frame) } == "column 'plan' is given two roles (--id and --ignore)")
        var badNumeric = SchemaOverrides()
        badNumeric.numeric = ["plan"]
        #expect(CSVFixtures.errorMessage { try badNumeric.apply(to: &schema, frame: frame) }?.contains("is not a number") == true)
        var targetRole = SchemaOverrides()
        targetRole.ids = ["churned"]
        #expect(CSVFixtures.errorMessage { try targetRole.apply(to: &schema, frame: frame) } == "'churned' is the target and cannot also have the role id")
    }

    @Test func schemaFileRoundTripAndStrictKeys() throws {
        let frame = try churn()
        var schema = try SchemaInference.infer(frame, target: "churned").schema
        schema.columns[schema.columns.firstIndex { $0.name == "plan" }!].role = .ignored
        let decoded = try JSONDecoder().decode(Schema.self, from: JSONEncoder().encode(schema))
        #expect(decoded == schema)
        var fresh = try SchemaInference.infer(frame, target: nil).schema
        try fresh.adopt(decoded, frame: frame)
        #expect(fresh == schema)

        let typo = #"{"columns": [{"name": "plan", "kind": "categorical", "rol": "id"}]}"#
        let message = CSVFixtures.errorMessage { _ = try JSONDecoder().decode(Schema.self, from: Data(typo.utf8)) }
        #expect(message?.contains("unknown key 'rol'") == true)
        let ghost = Schema(columns: [ColumnSchema(name: "ghost", kind: .numeric, role: .feature, nullable: true)])
        #expect(CSVFixtures.errorMessage { try fresh.adopt(ghost, frame: frame) }?.hasPrefix("the schema file describes column 'ghost', which is not in the data") == true)
    }
}
