import Foundation
import GRDB
import KeelArtifact
import KeelLearn

/// The outcome of a promotion: the version moved, the production version it archived, and every gate's verdict.
public struct Promotion: Sendable {
    public var version: ModelVersion
    public var replaced: ModelVersion?
    public var gates: [GateResult]
    public var forced: Bool
}

extension Registry {
    /// The version `name@version` if it may move to `stage` (staging or production from candidate, production
    /// from staging too); an error saying why not otherwise.
    public func promotable(name: String, version: Int, to stage: Stage) throws -> ModelVersion {
        try RegistryRules.checkPromotionStage(stage)
        return try RegistryRules.checkPromotable(try resolve(ModelReference(name: name, selector: .version(version))), to: stage)
    }

    /// Moves `name@version` to staging or production, recording the verdicts of the `gates` the caller
    /// evaluated (KeelLifecycle's `PromotionGates`: metric, approvals, fairness); a failed gate blocks unless
    /// `force`, which is audited. Promoting to production archives the version it replaces.
    public func promote(name: String, version: Int, to stage: Stage, actor: String, gates: [GateResult] = [],
                        force: Bool = false) throws -> Promotion {
        let target = try promotable(name: name, version: version, to: stage)
        let failed = gates.filter { !$0.passed }
        if !failed.isEmpty && !force { throw RegistryError.gatesFailed(failed.map { "\($0.gate): \($0.detail)" }) }
        let forced = !failed.isEmpty
        return try write { db in
            // Re-read inside the transaction: another process may have moved versions since the gates ran.
            let current = try Row.fetchOne(db, sql: "SELECT stage FROM models WHERE name = ? AND version = ?", arguments: [name, version])
            guard let stageText: String = current?["stage"], stageText == target.stage.rawValue else {
                throw RegistryError.invalid("\(target.reference) changed stage while it was being promoted; try again")
            }
            var replaced: ModelVersion?
            if stage == .production, let row = try Row.fetchOne(db, sql: "SELECT * FROM models WHERE name = ? AND stage = 'production'", arguments: [name]) {
                let previous = Registry.modelVersion(row)
                try moveStage(db, previous, to: .archived, actor: actor, reason: .replaced, forced: false)
                replaced = previous
                replaced?.stage = .archived
            }
            if stage == .staging, let row = try Row.fetchOne(db, sql: "SELECT * FROM models WHERE name = ? AND stage = 'staging'", arguments: [name]) {
                try moveStage(db, Registry.modelVersion(row), to: .archived, actor: actor, reason: .replaced, forced: false)
            }
            try moveStage(db, target, to: stage, actor: actor, reason: .promoted, forced: forced)
            let details = RegistryRules.promotionDetails(target, to: stage, replaced: replaced, gates: gates, forced: forced)
            try AuditLog.append(db, actor: actor, action: forced ? "model.promote.forced" : "model.promote", subject: target.reference, details: details)
            var moved = target
            moved.stage = stage
            return Promotion(version: moved, replaced: replaced, gates: gates, forced: forced)
        }
    }

    /// Puts back the production version that the current one replaced; the current one is archived.
    public func rollback(name: String, actor: String) throws -> (restored: ModelVersion, retired: ModelVersion) {
        try write { db in
            let moves = try Row.fetchAll(db, sql: "SELECT version, reason FROM stage_events WHERE name = ? AND to_stage = 'production' ORDER BY id", arguments: [name])
                .map { (version: $0["version"] as Int, reason: $0["reason"] as String) }
            guard let currentRow = try Row.fetchOne(db, sql: "SELECT * FROM models WHERE name = ? AND stage = 'production'", arguments: [name]) else {
                throw RegistryError.invalid("\(name) has no production version to roll back")
            }
            let current = Registry.modelVersion(currentRow)
            let previousVersion = try RegistryRules.rollbackTarget(name: name, current: current, movesToProduction: moves)
            guard let previousRow = try Row.fetchOne(db, sql: "SELECT * FROM models WHERE name = ? AND version = ?", arguments: [name, previousVersion]) else {
                throw RegistryError.notFound("\(name)@\(previousVersion) is gone from the registry")
            }
            var previous = Registry.modelVersion(previousRow)
            try moveStage(db, current, to: .archived, actor: actor, reason: .rollback, forced: false)
            try moveStage(db, previous, to: .production, actor: actor, reason: .restored, forced: false)
            try AuditLog.append(db, actor: actor, action: "model.rollback", subject: name,
                                details: ["retired": current.reference, "restored": previous.reference])
            previous.stage = .production
            var retired = current
            retired.stage = .archived
            return (previous, retired)
        }
    }

    /// Records a human sign-off on a version.
    public func approve(name: String, version: Int, actor: String, comment: String) throws -> Approval {
        let target = try resolve(ModelReference(name: name, selector: .version(version)))
        guard !actor.isEmpty else { throw RegistryError.invalid("an approval needs the approver's name (--by)") }
        let approval = Approval(name: name, version: version, actor: actor, comment: comment, at: Registry.timestamp())
        try write { db in
            try db.execute(sql: "INSERT INTO approvals (name, version, actor, comment, at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [name, version, actor, comment, approval.at])
            try AuditLog.append(db, actor: actor, action: "model.approve", subject: target.reference, details: ["comment": comment])
        }
        return approval
    }

    public func approvals(name: String, version: Int) throws -> [Approval] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM approvals WHERE name = ? AND version = ? ORDER BY id", arguments: [name, version]).map {
                Approval(name: $0["name"], version: $0["version"], actor: $0["actor"], comment: $0["comment"], at: $0["at"])
            }
        }
    }

    /// Every stage move of `name`, oldest first.
    public func stageEvents(name: String) throws -> [StageEvent] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM stage_events WHERE name = ? ORDER BY id", arguments: [name]).map { row in
                StageEvent(name: row["name"], version: row["version"], from: (row["from_stage"] as String?).flatMap(Stage.init(rawValue:)),
                           to: Stage(rawValue: row["to_stage"]) ?? .archived, actor: row["actor"], at: row["at"],
                           reason: StageEvent.Reason(rawValue: row["reason"]) ?? .promoted, forced: row["forced"])
            }
        }
    }

    /// Which version was in which stage, from when to when, and who moved it there.
    public func history(name: String) throws -> [StageTenure] {
        try RegistryRules.tenures(try stageEvents(name: name), name: name, location: folder)
    }

    func moveStage(_ db: Database, _ version: ModelVersion, to stage: Stage, actor: String, reason: StageEvent.Reason, forced: Bool) throws {
        try db.execute(sql: "UPDATE models SET stage = ? WHERE name = ? AND version = ?", arguments: [stage.rawValue, version.name, version.version])
        try recordStage(db, version.name, version.version, from: version.stage, to: stage, actor: actor, reason: reason, forced: forced)
    }

    func recordStage(_ db: Database, _ name: String, _ version: Int, from: Stage?, to: Stage, actor: String, reason: StageEvent.Reason, forced: Bool) throws {
        try db.execute(sql: """
            INSERT INTO stage_events (name, version, from_stage, to_stage, actor, at, reason, forced) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [name, version, from?.rawValue, to.rawValue, actor, Registry.timestamp(), reason.rawValue, forced])
    }
}
