import Foundation
import KeelArtifact
import KeelData
import KeelLearn
@testable import KeelRegistry
import KeelSearch
import KeelTestSupport
import Testing

/// One contract, two backends: every test here runs against a registry folder (SQLite) and against a real
/// PostgreSQL (the server `scripts/test` starts, each test in a database of its own), through
/// `any RegistryStore`, as commands and the server use it.
@Suite struct RegistryContractTests {
    enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
        case sqlite, postgres
        var description: String { rawValue }

        func open() async throws -> any RegistryStore {
            switch self {
            case .sqlite:
                return try Registry(folder: RegistryTests.folder())
            case .postgres:
                let database = try await PostgresRegistryDatabase.open(try await PostgresRegistryDatabaseTests.newDatabase(), create: true)
                return PostgresStore(database: database, cacheFolder: RegistryTests.folder() + "-cache")
            }
        }
    }

    /// SQLite always; PostgreSQL when a test server is there (and `scripts/test` requires one).
    static let backends: [Backend] = PostgresRegistryDatabaseTests.serverURL == nil ? [.sqlite] : Backend.allCases
    static let trained = TrainedChurn.shared

    @Test(arguments: backends) func registrationNumbersVersionsAndKeepsLineage(_ backend: Backend) async throws {
        let store = try await backend.open()
        let first = try await TrainedChurn.register(in: store, Self.trained.good)
        let second = try await TrainedChurn.register(in: store, Self.trained.good)
        #expect(first.version == 1 && second.version == 2 && first.stage == .candidate)
        #expect(first.artifact != second.artifact, "the version number is in the manifest")
        let datasets = try await store.datasets()
        #expect(datasets.count == 1 && datasets[0].fingerprint == Self.trained.frame.fingerprint)
        let snapshot = try await store.loadSnapshot(try #require(datasets[0].snapshot))
        #expect(snapshot.fingerprint == Self.trained.frame.fingerprint)
        #expect(try await store.dataset(String(datasets[0].fingerprint.prefix(8))).fingerprint == datasets[0].fingerprint)
        let run = try await store.run(try #require(first.run))
        #expect(run.trialCount == 2 && run.holdoutSnapshot != nil)
        #expect(try await store.trials(ofRun: run.id).map(\.trial) == [1, 2])
        #expect(try await store.runs().map(\.id) == [try #require(second.run), run.id])
        let artifact = try Artifact.read(from: try await store.artifactFile(first))
        #expect(artifact.manifest.name == "churn" && artifact.manifest.version == "1")
        #expect(try await store.resolve(ModelReference("churn@2")!).version == 2)
        #expect(try await store.resolve(ModelReference("churn")!).version == 2, "no production version: the newest")
        await #expect(throws: RegistryError.self) { try await store.resolve(ModelReference("churn@7")!) }
        await #expect(throws: RegistryError.self) { try await store.resolve(ModelReference("other")!) }
        await #expect(throws: RegistryError.self) { try await TrainedChurn.register(in: store, Self.trained.good, name: "bad name/../x") }
        let actions = try await store.auditEntries().map(\.action)
        #expect(actions == ["dataset.register", "run.train", "model.register", "run.train", "model.register"])
    }

    @Test(arguments: backends) func stagesGatesApprovalsAndRollback(_ backend: Backend) async throws {
        let store = try await backend.open()
        for _ in 0..<3 { try await TrainedChurn.register(in: store, Self.trained.good) }
        _ = try await store.promote(name: "churn", version: 1, to: .production, actor: "ann", gates: [], force: false)
        _ = try await store.promote(name: "churn", version: 2, to: .staging, actor: "ann", gates: [], force: false)
        let failing = [GateResult(gate: "approval", passed: false, detail: "0 of 1")]
        await #expect(throws: RegistryError.self) {
            try await store.promote(name: "churn", version: 2, to: .production, actor: "bob", gates: failing, force: false)
        }
        let forced = try await store.promote(name: "churn", version: 2, to: .production, actor: "bob", gates: failing, force: true)
        #expect(forced.forced && forced.replaced?.reference == "churn@1")
        let approval = try await store.approve(name: "churn", version: 3, actor: "cat", comment: "looks right")
        #expect(try await store.approvals(name: "churn", version: 3) == [approval])
        _ = try await store.promote(name: "churn", version: 3, to: .production, actor: "bob", gates: [], force: false)
        let stages = Dictionary(uniqueKeysWithValues: try await store.models(named: "churn").map { ($0.version, $0.stage) })
        #expect(stages == [1: .archived, 2: .archived, 3: .production])
        await #expect(throws: RegistryError.self) { try await store.promote(name: "churn", version: 1, to: .production, actor: "x", gates: [], force: false) }
        #expect(try await store.rollback(name: "churn", actor: "cat").restored.version == 2)
        #expect(try await store.rollback(name: "churn", actor: "cat").restored.version == 1)
        await #expect(throws: RegistryError.self) { try await store.rollback(name: "churn", actor: "cat") }
        let production = try await store.history(name: "churn").filter { $0.stage == .production }
        #expect(production.map(\.version) == [1, 2, 3, 2, 1] && production.map(\.movedBy) == ["ann", "bob", "bob", "cat", "cat"])
        let entries = try await store.auditEntries()
        #expect(entries.contains { $0.action == "model.promote.forced" && $0.details.contains("FAILED: 0 of 1") })
        let verification = try await store.verifyAudit()
        #expect(verification.problem == nil && verification.entries == entries.count)
        let key = SigningKey.generate()
        let checkpoint = try await store.writeCheckpoint(signingKey: key)
        #expect(checkpoint.count == entries.count)
        #expect(try await store.verifyAudit().problem == nil)
    }

    @Test(arguments: backends) func predictionLogFeedbackAndReviews(_ backend: Backend) async throws {
        let store = try await backend.open()
        var records: [PredictionRecord] = []
        for row in 0..<4 {
            let score: Double = row == 3 ? .nan : 0.5
            let subject = row < 2 ? "cust-1" : "cust-2"
            records.append(PredictionRecord(model: "churn", version: "1", requestID: "req-\(row / 2)", row: row % 2, time: 1000 + Double(row),
                                            inputs: "{}", prediction: row % 2 == 0 ? "yes" : "no", score: score, subject: subject))
        }
        try await store.logPredictions(records)
        #expect(try await store.recordFeedback(requestID: "req-0", row: 1, label: "yes", time: 2000))
        #expect(try await store.recordFeedback(requestID: "req-9", row: 0, label: "yes", time: 2000) == false)
        let log = try await store.predictionLog(model: "churn", since: 0)
        #expect(log.map(\.record.requestID) == ["req-0", "req-0", "req-1", "req-1"])
        #expect(log[1].label == "yes" && log[1].source == .observed && log[0].label == nil && log[3].record.score.isNaN)
        let ids = try await store.queueReview([
            ReviewItem(model: "churn", version: "1", requestID: "req-1", row: 0, createdAt: 1002, inputs: "{}", prediction: "yes",
                       probabilities: nil, confidence: 0.51, reasons: "[]", flags: "[]"),
            ReviewItem(model: "churn", version: "1", requestID: "req-7", row: 0, createdAt: 1003, inputs: "{}", prediction: "no",
                       probabilities: nil, confidence: 0.2, reasons: "[]", flags: "[]"),
        ])
        #expect(ids.count == 2)
        #expect(try await store.reviewItems(model: "churn", status: .open, limit: 10).map(\.id) == [ids[1], ids[0]], "least confident first")
        await #expect(throws: RegistryError.self) {
            try await store.decideReview(id: ids[0], decision: .confirm, label: "no", comment: "", actor: "rev", time: 3000)
        }
        let decided = try await store.decideReview(id: ids[1], decision: .override, label: "yes", comment: "checked", actor: "rev", time: 3000)
        #expect(decided.status == .decided && decided.label == "yes")
        await #expect(throws: RegistryError.self) {
            try await store.decideReview(id: ids[1], decision: .confirm, label: nil, comment: "", actor: "rev", time: 3001)
        }
        #expect(try await store.reviewItem(ids[1])?.decidedBy == "rev")
        #expect(try await store.reviewItem(9999) == nil)
        let labelled = try await store.predictionLog(model: "churn", since: 0)
        #expect(labelled.first { $0.record.requestID == "req-7" }?.source == .reviewOverride, "an unsampled reviewed row is logged")
        #expect(try await store.purgePredictions(subject: "cust-1", actor: "dpo") == 2)
        #expect(try await store.expirePredictions(before: 1003) == 1)
        #expect(try await store.predictionLog(model: "churn", since: 0).map(\.record.requestID) == ["req-1", "req-7"])
        #expect(try await store.verifyAudit().problem == nil)
    }

    /// A version moves between backends with its lineage, and both chains stay whole.
    @Test(arguments: backends) func exportImportAcrossBackendsAndGarbage(_ backend: Backend) async throws {
        let source = try await backend.open()
        let version = try await TrainedChurn.register(in: source, Self.trained.good)
        _ = try await source.approve(name: "churn", version: 1, actor: "ann", comment: "ok")
        let bundle = try await source.exportBundle(ModelReference("churn@1")!, actor: "ann")
        for other in Self.backends {
            let target = try await other.open()
            let imported = try await target.importBundle(bundle, actor: "ops", signingKey: nil)
            #expect(imported.reference == "churn@1" && imported.artifact == version.artifact, "\(backend) → \(other)")
            #expect(try await target.approvals(name: "churn", version: 1).isEmpty)
            let runID = try #require(imported.run)
            let holdout = try #require(try await target.run(runID).holdoutSnapshot)
            #expect(try await target.loadSnapshot(holdout).rowCount == Self.trained.good.holdout.rowCount)
            await #expect(throws: RegistryError.self) { try await target.importBundle(bundle, actor: "ops", signingKey: nil) }
            #expect(try await target.verifyAudit().problem == nil)
        }
        // A second version, then the first one's files are unreferenced only if nothing points at them.
        try await TrainedChurn.register(in: source, Self.trained.good, snapshot: false)
        #expect(try await source.collectGarbage(dryRun: true, actor: "ops").files.isEmpty, "everything is referenced")
        #expect(try await source.verifyAudit().problem == nil)
    }

    /// A registry with a bit of everything in it: two versions, stages, an approval, a checkpoint, a signing
    /// key, logged predictions with feedback and a decided review.
    static func populated(_ backend: Backend) async throws -> any RegistryDumping {
        let store = try await backend.open()
        try await TrainedChurn.register(in: store, Self.trained.good)
        try await TrainedChurn.register(in: store, Self.trained.noise, snapshot: false)
        _ = try await store.promote(name: "churn", version: 1, to: .production, actor: "ann", gates: [], force: false)
        _ = try await store.approve(name: "churn", version: 2, actor: "bob", comment: "fine")
        try await store.logPredictions([PredictionRecord(model: "churn", version: "1", requestID: "r", row: 0, time: 5, inputs: "{}",
                                                         prediction: "yes", score: 0.7, subject: "c")])
        _ = try await store.recordFeedback(requestID: "r", row: 0, label: "no", time: 6)
        let ids = try await store.queueReview([ReviewItem(model: "churn", version: "1", requestID: "q", row: 0, createdAt: 7, inputs: "{}",
                                                          prediction: "no", probabilities: nil, confidence: 0.4, reasons: "[]", flags: "[]")])
        _ = try await store.decideReview(id: ids[0], decision: .confirm, label: nil, comment: "", actor: "rev", time: 8)
        _ = try await store.writeCheckpoint(signingKey: SigningKey.generate())
        return try #require(store as? any RegistryDumping)
    }

    /// What two registries must agree on after a copy or a restore.
    static func expectSameContent(_ a: any RegistryStore, _ b: any RegistryStore, _ context: String) async throws {
        #expect(try await a.auditEntries() == b.auditEntries(), "the same chain, hashes included: \(context)")
        #expect(try await a.models(named: nil) == b.models(named: nil), "\(context)")
        #expect(try await a.runs() == b.runs(), "\(context)")
        #expect(try await a.stageEvents(name: "churn") == b.stageEvents(name: "churn"), "\(context)")
        #expect(try await a.predictionLog(model: "churn", since: 0) == b.predictionLog(model: "churn", since: 0), "\(context)")
        #expect(try await a.reviewItems(model: nil, status: nil, limit: 10) == b.reviewItems(model: nil, status: nil, limit: 10), "\(context)")
        #expect(try await b.verifyAudit().problem == nil, "\(context)")
        for version in try await b.models(named: nil) {
            let artifact = try Artifact.read(from: try await b.artifactFile(version))
            #expect(artifact.manifest.version == String(version.version), "\(context)")
        }
        let snapshot = try #require(try await b.datasets().first?.snapshot)
        #expect(try await b.loadSnapshot(snapshot).fingerprint == Self.trained.frame.fingerprint, "\(context)")
    }

    /// Folder to database and back (or within one backend when no server runs): everything arrives, the
    /// chain verifies unchanged, and the copy goes on taking versions.
    @Test(arguments: backends) func copyMovesAWholeRegistryBetweenBackends(_ backend: Backend) async throws {
        let source = try await Self.populated(backend)
        for other in Self.backends {
            let target = try #require(try await other.open() as? any RegistryDumping)
            _ = try await RegistryCopy.copy(from: source, to: target)
            try await Self.expectSameContent(source, target, "\(backend) → \(other)")
            #expect(try await target.signingKey()?.verifyKey == source.signingKey()?.verifyKey, "the signing key travels")
            let next = try await TrainedChurn.register(in: target, Self.trained.good)
            let after = try await target.verifyAudit()
            #expect(next.version == 3 && after.problem == nil, "the copy goes on")
            await #expect(throws: RegistryError.self) { try await RegistryCopy.copy(from: source, to: target) }
        }
    }

    @Test(arguments: backends) func backupRestoresIntoEitherBackendAndADamagedOneRestoresNothing(_ backend: Backend) async throws {
        let source = try await Self.populated(backend)
        let file = RegistryTests.folder() + ".keelbackup"
        try await RegistryBackup.write(source, to: file)
        for other in Self.backends {
            let target = try #require(try await other.open() as? any RegistryDumping)
            try await RegistryBackup.restore(file, into: target)
            try await Self.expectSameContent(source, target, "backup of \(backend) restored into \(other)")
        }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        bytes[40] ^= 0xFF
        let damaged = file + ".damaged"
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))
        let target = try #require(try await backend.open() as? any RegistryDumping)
        await #expect(throws: RegistryError.self) { try await RegistryBackup.restore(damaged, into: target) }
        let models = try await target.models(named: nil)
        let entries = try await target.auditEntries()
        #expect(models.isEmpty && entries.isEmpty, "nothing restored")
        try Data(bytes.prefix(bytes.count - 10)).write(to: URL(fileURLWithPath: damaged))
        await #expect(throws: RegistryError.self) { try await RegistryBackup.restore(damaged, into: target) }
    }
}
