import Foundation
import GRDB
import KeelArtifact
import KeelData
import KeelLearn
import KeelRegistry
import KeelSearch
import KeelSynthetic
import KeelTestSupport
import Testing

/// The registry: registration with lineage, stages and gates, rollback, the audit chain and its tamper
/// checks, transfer between registries and garbage collection.
@Suite struct RegistryTests {
    /// A good model and a useless one (trained on shuffled labels), both with the good model's holdout, so
    /// the metric gate has something real to compare.
    struct Trained {
        var frame: Frame
        var schema: Schema
        var good: SearchOutcome
        var noise: SearchOutcome
    }

    static let trained: Trained = {
        let frame = try! CSVReader.read(bytes: Array(CustomerChurnData(rows: 600, seed: 5).csv().utf8))
        let schema = try! SchemaInference.infer(frame, target: "churned").schema
        let typed = try! frame.conforming(to: schema)
        var settings = SearchSettings()
        settings.trials = 2
        settings.learners = ["linear"]
        let good = try! Search.outcome(frame: typed, schema: schema, settings: settings)
        var shuffled = typed
        var labels = typed["churned"]!
        if case .categorical(var strings) = labels.values {
            var generator = SeededGenerator(seed: 9)
            strings.codes.shuffle(using: &generator)
            labels.values = .categorical(strings)
        }
        try! shuffled.replace(labels)
        let noise = try! Search.outcome(frame: shuffled, schema: schema, settings: settings)
        return Trained(frame: typed, schema: schema, good: good, noise: noise)
    }()

    static func folder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("keel-registry-\(UUID().uuidString)").path
    }

    @discardableResult
    static func register(_ registry: Registry, _ outcome: SearchOutcome, name: String = "churn", holdout: Frame? = nil,
                         snapshot: Bool = true, actor: String = "ci") throws -> ModelVersion {
        let data = trained
        let registration = TrainingRegistration(
            name: name, dataset: data.frame, datasetSource: "churn.csv", schemaJSON: "{}", profileJSON: "{}", snapshot: snapshot,
            settingsJSON: "{}", overrides: [], seed: 1, startedAt: "2026-11-25T00:00:00Z", seconds: 1, status: "completed",
            reportJSON: "{}", trials: outcome.report.trials.map {
                TrialRecord(run: 0, trial: $0.id, family: $0.family, summary: $0.summary, mean: $0.mean, std: $0.std,
                            fitSeconds: $0.fitSeconds, status: $0.status.rawValue, learnerJSON: "{}")
            }, holdout: holdout ?? data.good.holdout, actor: actor)
        return try registry.registerTraining(registration, model: outcome.model) { version in
            try Artifact.encode(outcome.model, options: .init(name: name, version: String(version))).bytes
        }.model
    }

    @Test func trainingRegistersDatasetRunTrialsAndANumberedCandidate() throws {
        let registry = try Registry(folder: Self.folder())
        let first = try Self.register(registry, Self.trained.good)
        let second = try Self.register(registry, Self.trained.good)
        #expect(first.version == 1 && second.version == 2)
        #expect(first.stage == .candidate)
        #expect(first.artifact != second.artifact, "the version number is in the manifest")
        let datasets = try registry.datasets()
        #expect(datasets.count == 1, "one dataset per fingerprint")
        #expect(datasets[0].fingerprint == Self.trained.frame.fingerprint)
        let snapshot = try registry.loadSnapshot(try #require(datasets[0].snapshot))
        // Frames with NaN never compare equal, so the typed-content fingerprint is the test of identity.
        #expect(snapshot.fingerprint == Self.trained.frame.fingerprint && snapshot.columnNames == Self.trained.frame.columnNames)
        let run = try registry.run(try #require(first.run))
        #expect(run.trialCount == 2)
        #expect(try registry.trials(ofRun: run.id).map(\.trial) == [1, 2])
        let artifact = try Artifact.read(from: registry.artifactPath(first))
        #expect(artifact.manifest.name == "churn" && artifact.manifest.version == "1")
        #expect(try registry.resolve(ModelReference("churn@2")!).version == 2)
        #expect(try registry.resolve(ModelReference("churn")!).version == 2, "no production version: the newest")
        #expect(throws: RegistryError.self) { try registry.resolve(ModelReference("churn@7")!) }
        #expect(throws: RegistryError.self) { try registry.resolve(ModelReference("other")!) }
        #expect(throws: RegistryError.self) { try Self.register(registry, Self.trained.good, name: "bad name/../x") }
    }

    @Test func referencesParseNamesVersionsAndStages() {
        #expect(ModelReference("churn") == ModelReference(name: "churn"))
        #expect(ModelReference("churn@3") == ModelReference(name: "churn", selector: .version(3)))
        #expect(ModelReference("churn@production") == ModelReference(name: "churn", selector: .stage(.production)))
        for bad in ["", "@3", "churn@", "churn@0", "churn@-1", "churn@live", "a b", "../x", "x/y"] {
            #expect(ModelReference(bad) == nil, "\(bad)")
        }
    }

    @Test func promotionArchivesTheReplacedVersionAndRollbackRestoresIt() throws {
        let registry = try Registry(folder: Self.folder())
        for _ in 0..<3 { try Self.register(registry, Self.trained.good) }
        _ = try registry.promote(name: "churn", version: 1, to: .production, actor: "ann")
        _ = try registry.promote(name: "churn", version: 2, to: .staging, actor: "ann")
        let second = try registry.promote(name: "churn", version: 2, to: .production, actor: "bob")
        #expect(second.replaced?.reference == "churn@1")
        _ = try registry.promote(name: "churn", version: 3, to: .production, actor: "bob")
        let stages = Dictionary(uniqueKeysWithValues: try registry.models(named: "churn").map { ($0.version, $0.stage) })
        #expect(stages == [1: .archived, 2: .archived, 3: .production])
        // An archived version does not go back by promotion: rollback is the way.
        #expect(throws: RegistryError.self) { try registry.promote(name: "churn", version: 1, to: .production, actor: "x") }
        #expect(try registry.rollback(name: "churn", actor: "cat").restored.version == 2)
        #expect(try registry.rollback(name: "churn", actor: "cat").restored.version == 1)
        #expect(throws: RegistryError.self) { try registry.rollback(name: "churn", actor: "cat") }
        #expect(try registry.resolve(ModelReference("churn@production")!).version == 1)
        let history = try registry.history(name: "churn")
        let production = history.filter { $0.stage == .production }
        #expect(production.map(\.version) == [1, 2, 3, 2, 1])
        #expect(production.map(\.movedBy) == ["ann", "bob", "bob", "cat", "cat"])
        #expect(production.dropLast().allSatisfy { $0.until != nil } && production.last?.until == nil)
    }

    @Test func metricAndApprovalGatesBlockUnlessForcedAndTheOverrideIsAudited() throws {
        let registry = try Registry(folder: Self.folder())
        try Self.register(registry, Self.trained.good)
        try Self.register(registry, Self.trained.noise)
        _ = try registry.promote(name: "churn", version: 1, to: .production, actor: "ann")
        let policy = PromotionPolicy(maxMetricDrop: 0.01, requiredApprovals: 1)
        do {
            _ = try registry.promote(name: "churn", version: 2, to: .production, actor: "ann", policy: policy)
            Issue.record("a model trained on shuffled labels passed the metric gate")
        } catch RegistryError.gatesFailed(let failures) {
            #expect(failures.count == 2)
            #expect(failures[0].hasPrefix("metric: roc_auc on holdout of churn@2"))
            #expect(failures[0].contains("worse by"))
            #expect(failures[1].contains("0 of 1 required approvals"))
        }
        #expect(try registry.resolve(ModelReference("churn@production")!).version == 1, "a blocked promotion changes nothing")
        let forced = try registry.promote(name: "churn", version: 2, to: .production, actor: "ann", policy: policy, force: true)
        #expect(forced.forced)
        let entry = try #require(try registry.auditEntries().last)
        #expect(entry.action == "model.promote.forced" && entry.subject == "churn@2" && entry.actor == "ann")
        #expect(entry.details.contains("FAILED"))
        // The same candidate against itself passes, and approval satisfies the other gate.
        try Self.register(registry, Self.trained.good)
        _ = try registry.approve(name: "churn", version: 3, actor: "dan", comment: "checked")
        let passed = try registry.promote(name: "churn", version: 3, to: .production, actor: "ann", policy: policy)
        #expect(passed.gates.allSatisfy(\.passed) && !passed.forced)
    }

    @Test func comparisonScoresBothVersionsOnTheSameHoldout() throws {
        let registry = try Registry(folder: Self.folder())
        let good = try Self.register(registry, Self.trained.good)
        let noise = try Self.register(registry, Self.trained.noise)
        let contest = try registry.compare(good, noise)
        #expect(contest.rows == Self.trained.good.holdout.rowCount)
        let holdoutScore = try HoldoutScoring.score(Self.trained.good.model, on: Self.trained.good.holdout, metric: .rocAUC)
        #expect(abs(contest.scores["churn@1"]! - holdoutScore) < 1e-12)
        #expect(abs(holdoutScore - Self.trained.good.report.holdoutScore) < 1e-12, "the search's own holdout score")
        #expect(contest.scores["churn@1"]! > contest.scores["churn@2"]! + 0.1)
    }

    @Test func auditChainIsIntactAndRefusesChangesInPlace() throws {
        let registry = try Registry(folder: Self.folder())
        try Self.register(registry, Self.trained.good)
        _ = try registry.promote(name: "churn", version: 1, to: .production, actor: "ann")
        let result = try registry.verifyAudit()
        #expect(result.problem == nil && result.entries == 4)
        // The database itself refuses updates and deletes of audit rows.
        let queue = try DatabaseQueue(path: registry.folder + "/registry.sqlite")
        #expect(throws: (any Error).self) { try queue.write { try $0.execute(sql: "UPDATE audit SET actor = 'eve' WHERE sequence = 2") } }
        #expect(throws: (any Error).self) { try queue.write { try $0.execute(sql: "DELETE FROM audit WHERE sequence = 4") } }
    }

    enum Tampering: CaseIterable { case change, deleteNewest, deleteMiddle, reorder, appendForged }

    @Test(arguments: Tampering.allCases)
    func verifyFindsTamperingAndSaysWhere(_ tampering: Tampering) throws {
        let registry = try Registry(folder: Self.folder())
        for _ in 0..<2 { try Self.register(registry, Self.trained.good) }
        _ = try registry.promote(name: "churn", version: 1, to: .production, actor: "ann")
        _ = try registry.promote(name: "churn", version: 2, to: .production, actor: "ann")
        let count = try registry.auditEntries().count
        let queue = try DatabaseQueue(path: registry.folder + "/registry.sqlite")
        try queue.write { db in
            try db.execute(sql: "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete")
            switch tampering {
            case .change: try db.execute(sql: "UPDATE audit SET actor = 'eve' WHERE sequence = 3")
            case .deleteNewest: try db.execute(sql: "DELETE FROM audit WHERE sequence >= ?", arguments: [count - 1])
            case .deleteMiddle: try db.execute(sql: "DELETE FROM audit WHERE sequence = 3")
            case .reorder:
                try db.execute(sql: """
                    UPDATE audit SET sequence = -1 WHERE sequence = 3; UPDATE audit SET sequence = 3 WHERE sequence = 4;
                    UPDATE audit SET sequence = 4 WHERE sequence = -1
                    """)
            case .appendForged:
                let last = try Row.fetchOne(db, sql: "SELECT * FROM audit ORDER BY sequence DESC LIMIT 1")!
                var forged = AuditEntry(sequence: count + 1, at: "2026-11-25T00:00:00Z", actor: "eve", action: "model.approve", subject: "churn@2",
                                        details: "{}", previousHash: last["hash"], hash: "")
                forged.hash = forged.expectedHash
                try db.execute(sql: "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)", arguments: [
                    forged.sequence, forged.at, forged.actor, forged.action, forged.subject, forged.details, forged.previousHash, forged.hash])
            }
        }
        let result = try registry.verifyAudit()
        let problem = try #require(result.problem, "\(tampering) went unnoticed")
        switch tampering {
        case .change: #expect(result.firstBadEntry == 3 && problem.contains("changed"))
        case .deleteNewest: #expect(result.firstBadEntry == count - 1 && problem.contains("deleted"))
        case .deleteMiddle, .reorder: #expect(result.firstBadEntry == 3)
        case .appendForged: #expect(result.firstBadEntry == count + 1)
        }
    }

    @Test func signedCheckpointCatchesARewriteOfTheWholeChainAndHead() throws {
        let registry = try Registry(folder: Self.folder())
        try Self.register(registry, Self.trained.good)
        let key = SigningKey.generate()
        let checkpoint = try registry.writeCheckpoint(signingKey: key)
        #expect(try registry.verifyAudit().problem == nil)
        // Rewrite entry 2 and every hash after it, and the head file: only the signature can tell.
        let queue = try DatabaseQueue(path: registry.folder + "/registry.sqlite")
        try queue.write { db in
            try db.execute(sql: "DROP TRIGGER audit_no_update")
            var previous = AuditEntry.genesisHash
            for row in try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY sequence") {
                var entry = AuditEntry(sequence: row["sequence"], at: row["at"], actor: row["actor"], action: row["action"], subject: row["subject"],
                                       details: row["details"], previousHash: previous, hash: "")
                if entry.sequence == 2 { entry.actor = "eve" }
                entry.hash = entry.expectedHash
                try db.execute(sql: "UPDATE audit SET actor = ?, previous_hash = ?, hash = ? WHERE sequence = ?",
                               arguments: [entry.actor, entry.previousHash, entry.hash, entry.sequence])
                previous = entry.hash
            }
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit")!
            try AtomicFile.write("{\"count\":\(count),\"hash\":\"\(previous)\"}", to: registry.folder + "/audit-head.json")
        }
        let result = try registry.verifyAudit()
        #expect(result.problem?.contains("checkpoint at entry \(checkpoint.count)") == true, "\(result.problem ?? "no problem found")")
    }

    @Test func exportImportMovesAVersionWithLineageAndKeepsBothChainsIntact() throws {
        let source = try Registry(folder: Self.folder())
        let version = try Self.register(source, Self.trained.good)
        _ = try source.approve(name: "churn", version: 1, actor: "ann", comment: "ok")
        let bundle = try source.exportBundle(ModelReference("churn@1")!, actor: "ann")
        #expect(bundle.audit.map(\.action).contains("model.approve"))
        let target = try Registry(folder: Self.folder())
        let imported = try target.importBundle(bundle, actor: "ops")
        #expect(imported.reference == "churn@1" && imported.stage == .candidate && imported.artifact == version.artifact)
        #expect(try target.approvals(name: "churn", version: 1).isEmpty, "source approvals do not count here")
        let model = try Artifact.read(from: target.artifactPath(imported)).model
        #expect(model.dataFingerprint == Self.trained.good.model.dataFingerprint)
        #expect(try target.compare(imported, imported).rows == Self.trained.good.holdout.rowCount, "the holdout travelled")
        #expect(throws: RegistryError.self) { try target.importBundle(bundle, actor: "ops") }
        #expect(try target.auditEntries().last?.action == "model.import")
        #expect(try source.verifyAudit().problem == nil && target.verifyAudit().problem == nil)
        // Pruned and stopped trials have no score: the file form still round-trips them.
        var unscored = bundle
        unscored.trials = [TrialRecord(run: 0, trial: 1, family: "gbdt", summary: "", mean: .nan, std: .nan, fitSeconds: 0, status: "pruned",
                                       learnerJSON: "{}")]
        let reread = try ModelBundle.decode(Data(try unscored.encoded()))
        #expect(reread.trials.count == 1 && reread.trials[0].mean.isNaN && reread.model.reference == "churn@1")
        var damaged = bundle
        damaged.artifact[damaged.artifact.count / 2] ^= 1
        #expect(throws: RegistryError.self) { try Registry(folder: Self.folder()).importBundle(damaged, actor: "ops") }
    }

    @Test func garbageCollectionRemovesOnlyUnreferencedFiles() throws {
        let registry = try Registry(folder: Self.folder())
        let version = try Self.register(registry, Self.trained.good)
        let stray = registry.artifactsFolder + "/" + String(repeating: "a", count: 64) + ".keel"
        try AtomicFile.write("junk", to: stray)
        try AtomicFile.write("junk", to: registry.snapshotsFolder + "/old.snap")
        let dry = try registry.collectGarbage(dryRun: true, actor: "ops")
        #expect(dry.files.count == 2 && FileManager.default.fileExists(atPath: stray))
        let removed = try registry.collectGarbage(dryRun: false, actor: "ops")
        #expect(removed.files.sorted() == dry.files.sorted())
        #expect(!FileManager.default.fileExists(atPath: stray))
        #expect(try Artifact.read(from: registry.artifactPath(version)).model.seed == 1)
        let snapshot = try #require(try registry.datasets().first?.snapshot)
        #expect(try registry.loadSnapshot(snapshot).rowCount == Self.trained.frame.rowCount)
    }

    @Test func readersWorkWhileAnotherConnectionWrites() async throws {
        let folder = Self.folder()
        let writer = try Registry(folder: folder)
        try Self.register(writer, Self.trained.good)
        let reader = try Registry(folder: folder, create: false)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { for _ in 0..<5 { try Self.register(writer, Self.trained.good) } }
            group.addTask { for _ in 0..<50 { let count = try reader.models(named: "churn").count; #expect(count >= 1) } }
            try await group.waitForAll()
        }
        #expect(try reader.models(named: "churn").count == 6)
        #expect(try reader.verifyAudit().problem == nil)
        #expect(throws: RegistryError.self) { try Registry(folder: Self.folder(), create: false) }
    }
}
