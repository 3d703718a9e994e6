import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import KeelLifecycle
import KeelRegistry
import KeelSearch
import KeelSynthetic
import KeelTestSupport
import Testing

/// The lifecycle's steps called in-process, as a caller other than the command line would: a training run
/// registered in a store and written to a file, its reproduction, batch scoring with rejected rows, and a
/// forced retraining with its champion/challenger verdict.
@Suite struct TrainingTests {
    static func folder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("keel-training-\(UUID().uuidString)").path
    }

    static func settings(trials: Int = 3) -> RunSettings {
        RunSettings(timeBudget: 60, trials: trials, metric: nil, seed: 7, learners: ["linear", "gbdt"], monotone: [:], balanceClasses: false,
                    preferInterpretable: nil, maxPredictMs: nil, costs: nil, refitFull: false, hyperparameters: [:], textColumns: [],
                    stack: nil, maxMemoryBytes: nil, columnScreen: nil, keepColumns: nil)
    }

    static func request(registry: String?, out: String, failingStore: Bool = false) -> Training.Request {
        let data = TrainedChurn.shared
        let registration = registry.map { folder in
            Training.Registration(open: {
                if failingStore { throw RegistryError.invalid("the store is read-only") }
                return try await RegistryStores.open(folder, create: true)
            }, snapshot: true, actor: "ci")
        }
        return Training.Request(frame: data.frame, schema: data.schema, source: "churn.csv", profileJSON: "{}", settings: settings(),
                                overrides: [], name: "churn", out: out, writeOptions: Artifact.WriteOptions(name: "churn"), registration: registration)
    }

    @Test func aRegisteredRunWritesItsModelAndReproducesFromTheStore() async throws {
        let home = Self.folder()
        let out = home + "-model.keel"
        let result = try await Training.run(Self.request(registry: home, out: out))
        let version = try #require(result.registered, "registering failed: \(result.notRegistered ?? "")")
        #expect(version.reference == "churn@1")
        #expect(result.notRegistered == nil)
        let written = try Artifact.read(from: out).model
        #expect(try Reproduction.payload(written) == Reproduction.payload(result.model), "--out holds the model the run made")
        let store = try await RegistryStores.open(home, create: false)
        let run = try #require(version.run)
        #expect(try await store.run(run).trialCount == 3)
        let replay = try await Reproduction.run(run, store: store)
        #expect(replay.reproduced, "differences: \(replay.differences)")
        #expect(replay.version.reference == "churn@1")
    }

    @Test func aStoreThatCannotBeWrittenCostsNothingButTheRegistration() async throws {
        let out = Self.folder() + "-model.keel"
        let result = try await Training.run(Self.request(registry: Self.folder(), out: out, failingStore: true))
        #expect(result.registered == nil)
        #expect(result.notRegistered?.contains("read-only") == true)
        #expect(try Artifact.read(from: out).model.provenance.holdoutScore == result.model.provenance.holdoutScore)
    }

    @Test func batchScoringFailsOnAWrongValueOrSetsItsRowAside() async throws {
        let data = TrainedChurn.shared
        let folder = Self.folder()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let model = TrainedChurn.shared.good.model
        var lines = CustomerChurnData(rows: 40, seed: 11).csv().split(separator: "\n").map(String.init)
        let numeric = try #require(data.schema.columns.first { $0.kind == .numeric && $0.role == .feature }?.name)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let index = try #require(header.firstIndex(of: numeric))
        var fields = lines[5].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        fields[index] = "lots"
        lines[5] = fields.joined(separator: ",")
        let input = folder + "/score.csv"
        try lines.joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        var options = CSVOptions()
        options.stringColumns = Set(model.schema.textColumns ?? [])
        options.wordsAmongNumbers = false

        let failing = BatchScoring(model: model, options: options, file: input, out: folder + "/fail.csv")
        await #expect(throws: DataError.self) { try await failing.run(lines: { _ in }, note: { _ in }) }
        #expect(!FileManager.default.fileExists(atPath: folder + "/fail.csv"), "no half-written output")

        let skipping = BatchScoring(model: model, options: options, file: input, out: folder + "/scored.csv", onError: .skip)
        let summary = try await skipping.run(lines: { _ in }, note: { _ in })
        #expect(summary.scored == 39)
        #expect(summary.rejected == 1)
        let scored = try String(contentsOfFile: folder + "/scored.csv", encoding: .utf8).split(separator: "\n")
        #expect(scored.count == 40, "a header and 39 rows")
        let rejects = try String(contentsOfFile: skipping.rejectPath, encoding: .utf8).split(separator: "\n")
        #expect(rejects.count == 2)
        #expect(rejects[1].hasPrefix("6,\(numeric),lots,"), "the rejected row names its line (the header is line 1)")
    }

    @Test func aForcedRetrainingRegistersAChallengerAndJudgesIt() async throws {
        let home = Self.folder()
        _ = try await Training.run(Self.request(registry: home, out: home + "-model.keel"))
        let store = try await RegistryStores.open(home, create: false)
        let quiet = try await Retraining.run(Retraining.Request(name: "churn", policy: RetrainPolicy(), actor: "ci"), store: store)
        guard case .notNeeded(_, let reason) = quiet else { Issue.record("retrained without a condition or --force"); return }
        #expect(reason.contains("sets no condition"))

        let forced = try await Retraining.run(Retraining.Request(name: "churn", policy: RetrainPolicy(), force: true, promote: true, actor: "ci"), store: store)
        guard case .retrained(let result) = forced else { Issue.record("a forced retraining did not retrain"); return }
        #expect(result.challenger.reference == "churn@2")
        #expect(result.champion.reference == "churn@1")
        #expect(result.verdict.detail.contains("holdout of churn@2"), "without labelled predictions, both are scored on the challenger's holdout")
        #expect((result.promotion != nil) == result.challengerWins, "promoted exactly when it wins")
        let entries = try await store.auditEntries()
        #expect(entries.contains { $0.action == "model.retrain" && $0.subject == "churn@2" })
    }

    /// A champion from before the schema held the columns read as text recorded them with its run's
    /// settings only: its challenger still reads them as text.
    @Test func aRetrainedChallengerKeepsTheColumnsItsChampionReadAsText() async throws {
        let home = Self.folder()
        var request = Self.request(registry: home, out: home + "-model.keel")
        request.settings.textColumns = ["satisfaction"]
        _ = try await Training.run(request)
        let store = try await RegistryStores.open(home, create: false)
        let forced = try await Retraining.run(Retraining.Request(name: "churn", policy: RetrainPolicy(), force: true, actor: "ci"), store: store)
        guard case .retrained(let result) = forced else { Issue.record("a forced retraining did not retrain"); return }
        let challenger = try Artifact.read(from: try await store.artifactFile(result.challenger)).model
        #expect(challenger.schema.textColumns == ["satisfaction"])
    }
}
