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
    static let trained = TrainedChurn.shared

    static func folder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("keel-registry-\(UUID().uuidString)").path
    }

    @discardableResult
    static func register(_ registry: Registry, _ outcome: SearchOutcome, name: String = "churn", holdout: Frame? = nil,
                         snapshot: Bool = true, actor: String = "ci") throws -> ModelVersion {
        try TrainedChurn.register(registry, outcome, name: name, holdout: holdout, snapshot: snapshot, actor: actor)
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
        #expect(model.provenance.dataFingerprint == Self.trained.good.model.provenance.dataFingerprint)
        let run = try #require(imported.run)
        let holdout = try #require(try target.run(run).holdoutSnapshot)
        #expect(try target.loadSnapshot(holdout).rowCount == Self.trained.good.holdout.rowCount, "the holdout travelled")
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
        #expect(try Artifact.read(from: registry.artifactPath(version)).model.provenance.seed == 1)
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
