import Foundation
import KeelArtifact
import PostgresNIO

/// Stages, approvals and their history on PostgreSQL, decided by `RegistryRules` as a folder registry
/// decides them. A promotion re-reads the version's stage under the chain's head lock, so a change by
/// another process between the gates and the move is seen; the unique indexes on production and staging
/// are the database's own guarantee of one version each.
extension PostgresStore {
    public func promotable(name: String, version: Int, to stage: Stage) async throws -> ModelVersion {
        try RegistryRules.checkPromotionStage(stage)
        return try RegistryRules.checkPromotable(try await resolve(ModelReference(name: name, selector: .version(version))), to: stage)
    }

    public func promote(name: String, version: Int, to stage: Stage, actor: String, gates: [GateResult], force: Bool) async throws -> Promotion {
        let target = try await promotable(name: name, version: version, to: stage)
        let failed = gates.filter { !$0.passed }
        if !failed.isEmpty && !force { throw RegistryError.gatesFailed(failed.map { "\($0.gate): \($0.detail)" }) }
        let forced = !failed.isEmpty
        return try await database.audited { tx in
            let current = try await tx.rows("SELECT stage FROM models WHERE name = \(name) AND version = \(version)")
            guard let stageText = try current.first?["stage"].decode(String.self), stageText == target.stage.rawValue else {
                throw RegistryError.invalid("\(target.reference) changed stage while it was being promoted; try again")
            }
            var replaced: ModelVersion?
            if stage == .production, let row = try await tx.rows("SELECT * FROM models WHERE name = \(name) AND stage = 'production'").first {
                let previous = try Self.modelVersion(row)
                try await moveStage(&tx, previous, to: .archived, actor: actor, reason: .replaced, forced: false)
                replaced = previous
                replaced?.stage = .archived
            }
            if stage == .staging, let row = try await tx.rows("SELECT * FROM models WHERE name = \(name) AND stage = 'staging'").first {
                try await moveStage(&tx, try Self.modelVersion(row), to: .archived, actor: actor, reason: .replaced, forced: false)
            }
            try await moveStage(&tx, target, to: stage, actor: actor, reason: .promoted, forced: forced)
            try await tx.append(actor: actor, action: forced ? "model.promote.forced" : "model.promote", subject: target.reference,
                                details: RegistryRules.promotionDetails(target, to: stage, replaced: replaced, gates: gates, forced: forced))
            try await notify(&tx, "model \(name)")
            var moved = target
            moved.stage = stage
            return Promotion(version: moved, replaced: replaced, gates: gates, forced: forced)
        }
    }

    public func rollback(name: String, actor: String) async throws -> (restored: ModelVersion, retired: ModelVersion) {
        try await database.audited { tx in
            let moves = try await tx.rows("SELECT version, reason FROM stage_events WHERE name = \(name) AND to_stage = 'production' ORDER BY id")
                .map { (version: try $0["version"].decode(Int.self), reason: try $0["reason"].decode(String.self)) }
            guard let currentRow = try await tx.rows("SELECT * FROM models WHERE name = \(name) AND stage = 'production'").first else {
                throw RegistryError.invalid("\(name) has no production version to roll back")
            }
            let current = try Self.modelVersion(currentRow)
            let previousVersion = try RegistryRules.rollbackTarget(name: name, current: current, movesToProduction: moves)
            guard let previousRow = try await tx.rows("SELECT * FROM models WHERE name = \(name) AND version = \(previousVersion)").first else {
                throw RegistryError.notFound("\(name)@\(previousVersion) is gone from the registry")
            }
            var previous = try Self.modelVersion(previousRow)
            try await moveStage(&tx, current, to: .archived, actor: actor, reason: .rollback, forced: false)
            try await moveStage(&tx, previous, to: .production, actor: actor, reason: .restored, forced: false)
            try await tx.append(actor: actor, action: "model.rollback", subject: name,
                                details: ["retired": current.reference, "restored": previous.reference])
            try await notify(&tx, "model \(name)")
            previous.stage = .production
            var retired = current
            retired.stage = .archived
            return (previous, retired)
        }
    }

    public func approve(name: String, version: Int, actor: String, comment: String) async throws -> Approval {
        let target = try await resolve(ModelReference(name: name, selector: .version(version)))
        guard !actor.isEmpty else { throw RegistryError.invalid("an approval needs the approver's name (--by)") }
        let approval = Approval(name: name, version: version, actor: actor, comment: comment, at: Registry.timestamp())
        try await database.audited { tx in
            try await tx.execute("INSERT INTO approvals (name, version, actor, comment, at) VALUES (\(name), \(version), \(actor), \(comment), \(approval.at))")
            try await tx.append(actor: actor, action: "model.approve", subject: target.reference, details: ["comment": comment])
        }
        return approval
    }

    public func approvals(name: String, version: Int) async throws -> [Approval] {
        try await database.rows("SELECT * FROM approvals WHERE name = \(name) AND version = \(version) ORDER BY id").map {
            Approval(name: try $0["name"].decode(String.self), version: try $0["version"].decode(Int.self), actor: try $0["actor"].decode(String.self),
                     comment: try $0["comment"].decode(String.self), at: try $0["at"].decode(String.self))
        }
    }

    public func stageEvents(name: String) async throws -> [StageEvent] {
        try await database.rows("SELECT * FROM stage_events WHERE name = \(name) ORDER BY id").map { row in
            StageEvent(name: try row["name"].decode(String.self), version: try row["version"].decode(Int.self),
                       from: try row["from_stage"].decode(String?.self).flatMap(Stage.init(rawValue:)),
                       to: Stage(rawValue: try row["to_stage"].decode(String.self)) ?? .archived, actor: try row["actor"].decode(String.self),
                       at: try row["at"].decode(String.self), reason: StageEvent.Reason(rawValue: try row["reason"].decode(String.self)) ?? .promoted,
                       forced: try row["forced"].decode(Bool.self))
        }
    }

    public func history(name: String) async throws -> [StageTenure] {
        try RegistryRules.tenures(try await stageEvents(name: name), name: name, location: location)
    }

    func moveStage(_ tx: inout PostgresAuditedTransaction, _ version: ModelVersion, to stage: Stage, actor: String,
                   reason: StageEvent.Reason, forced: Bool) async throws {
        try await tx.execute("UPDATE models SET stage = \(stage.rawValue) WHERE name = \(version.name) AND version = \(version.version)")
        try await recordStage(&tx, version.name, version.version, from: version.stage, to: stage, actor: actor, reason: reason, forced: forced)
    }

    func recordStage(_ tx: inout PostgresAuditedTransaction, _ name: String, _ version: Int, from: Stage?, to: Stage, actor: String,
                     reason: StageEvent.Reason, forced: Bool) async throws {
        try await tx.execute("""
            INSERT INTO stage_events (name, version, from_stage, to_stage, actor, at, reason, forced)
            VALUES (\(name), \(version), \(from?.rawValue), \(to.rawValue), \(actor), \(Registry.timestamp()), \(reason.rawValue), \(forced))
            """)
    }
}
