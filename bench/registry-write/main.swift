import Foundation
import KeelArtifact
import KeelData
import KeelRegistry
import KeelSearch
import KeelSynthetic

/// Registry write throughput: audit appends and model registrations per second with 1 and 8 writers, each
/// writer its own store (its own connection to PostgreSQL, its own SQLite handle on the folder), as separate
/// processes would be. Usage: keel-registry-bench sqlite | postgres SERVER_URL. Prints one JSON line per case.
@main
struct RegistryWriteBench {
    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let backend = arguments.first, ["sqlite", "postgres"].contains(backend) else {
            FileHandle.standardError.write(Data("usage: keel-registry-bench sqlite | postgres SERVER_URL\n".utf8))
            exit(2)
        }
        let server = arguments.dropFirst().first
        let frame = try CSVReader.read(bytes: Array(CustomerChurnData(rows: 600, seed: 5).csv().utf8))
        let schema = try SchemaInference.infer(frame, target: "churned").schema
        var settings = SearchSettings()
        settings.trials = 1
        settings.learners = ["linear"]
        let outcome = try Search.outcome(frame: try frame.conforming(to: schema), schema: schema, settings: settings)
        var round = 0

        func stores(_ count: Int) async throws -> [any RegistryStore] {
            round += 1
            if backend == "sqlite" {
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-bench-registry-\(UUID().uuidString)").path
                return try (0..<count).map { _ in try Registry(folder: folder, create: true) }
            }
            let location = try await PostgresRegistryDatabase.createDatabase("keel_bench_\(getpid())_\(round)", on: try PostgresLocation(url: server!))
            var opened: [any RegistryStore] = []
            for _ in 0..<count { opened.append(PostgresStore(database: try await PostgresRegistryDatabase.open(location, create: true))) }
            return opened
        }

        func measure(_ operation: String, writers: Int, each: Int, _ body: @escaping @Sendable (any RegistryStore, Int) async throws -> Void) async throws {
            let opened = try await stores(writers)
            try await body(opened[0], -1)  // warm-up: the first write creates what later ones find
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (writer, store) in opened.enumerated() {
                    group.addTask { for index in 0..<each { try await body(store, writer * each + index) } }
                }
                try await group.waitForAll()
            }
            let seconds = (ContinuousClock.now - started) / .seconds(1)
            let verification = try await opened[0].verifyAudit()
            guard verification.problem == nil else { fatalError("the audit chain does not verify: \(verification.problem!)") }
            let count = writers * each
            print(#"{"backend":"\#(backend)","operation":"\#(operation)","writers":\#(writers),"count":\#(count),"seconds":\#(String(format: "%.3f", seconds)),"per_second":\#(String(format: "%.1f", Double(count) / seconds))}"#)
        }

        for writers in [1, 8] {
            try await measure("audit_append", writers: writers, each: 400 / writers) { store, index in
                try await store.audit(actor: "bench", action: "bench.append", subject: "entry \(index)", details: ["index": String(index)])
            }
            try await measure("registration", writers: writers, each: 48 / writers) { store, index in
                let registration = TrainingRegistration(
                    name: "churn", dataset: frame, datasetSource: "churn.csv", schemaJSON: "{}", profileJSON: "{}", snapshot: false,
                    settingsJSON: "{}", overrides: [], seed: 1, startedAt: "2026-12-05T00:00:00Z", seconds: 1, status: "completed",
                    reportJSON: "{}", trials: [], holdout: outcome.holdout, actor: "bench")
                _ = try await store.registerTraining(registration, model: outcome.model) { version in
                    try Artifact.encode(outcome.model, options: .init(name: "churn", version: String(version))).bytes
                }
            }
        }
    }
}
