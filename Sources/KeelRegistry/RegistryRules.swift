import Foundation
import KeelArtifact
import KeelData
import KeelLearn

/// The decisions every backend makes the same way, on records it has read: which version a reference names,
/// whether a version may move, what a rollback restores, what label a review decides, whether a bundle may be
/// imported. Kept apart from storage so SQLite and PostgreSQL cannot drift.
enum RegistryRules {
    /// The version `reference` names among `versions` (all of its name, newest first). `NAME` alone means the
    /// production version, else the newest. `names` lists the registry's models for the error message.
    static func resolve(_ reference: ModelReference, among versions: [ModelVersion], names: () throws -> [String],
                        location: String) throws -> ModelVersion {
        guard !versions.isEmpty else {
            let names = Set(try names()).sorted()
            throw RegistryError.notFound("no model named '\(reference.name)' in the registry at \(location)" +
                                         (names.isEmpty ? "" : "; registered: \(names.joined(separator: ", "))"))
        }
        switch reference.selector {
        case .preferred:
            return versions.first { $0.stage == .production } ?? versions[0]
        case .version(let number):
            guard let found = versions.first(where: { $0.version == number }) else {
                throw RegistryError.notFound("\(reference.name) has no version \(number); versions: \(versions.map { String($0.version) }.sorted().joined(separator: ", "))")
            }
            return found
        case .stage(let stage):
            guard let found = versions.first(where: { $0.stage == stage }) else {
                throw RegistryError.notFound("\(reference.name) has no version in stage \(stage.rawValue)")
            }
            return found
        }
    }

    /// `target` if it may move to `stage` (staging or production from candidate, production from staging too).
    static func checkPromotable(_ target: ModelVersion, to stage: Stage) throws -> ModelVersion {
        try checkPromotionStage(stage)
        let allowed: [Stage] = stage == .staging ? [.candidate] : [.candidate, .staging]
        guard allowed.contains(target.stage) else {
            let hint = target.stage == .archived ? " (use `keel models rollback \(target.name)` to bring back the previous production version)" : ""
            throw RegistryError.invalid("\(target.reference) is in \(target.stage.rawValue); only \(allowed.map(\.rawValue).joined(separator: " or ")) versions can go to \(stage.rawValue)\(hint)")
        }
        return target
    }

    /// Promotions go to staging or production only.
    static func checkPromotionStage(_ stage: Stage) throws {
        guard stage == .staging || stage == .production else {
            throw RegistryError.invalid("promote moves a version to staging or production, not \(stage.rawValue)")
        }
    }

    /// The audit details of a promotion.
    static func promotionDetails(_ target: ModelVersion, to stage: Stage, replaced: ModelVersion?, gates: [GateResult], forced: Bool) -> [String: String] {
        var details = ["from": target.stage.rawValue, "to": stage.rawValue, "forced": forced ? "yes" : "no"]
        if let replaced { details["replaced"] = replaced.reference }
        for gate in gates { details["gate " + gate.gate] = (gate.passed ? "passed: " : "FAILED: ") + gate.detail }
        return details
    }

    /// The version a rollback restores: the production version before the current one, from the moves to
    /// production (oldest first) as (version, reason).
    static func rollbackTarget(name: String, current: ModelVersion, movesToProduction: [(version: Int, reason: String)]) throws -> Int {
        var stack: [Int] = []
        for move in movesToProduction {
            if move.reason == StageEvent.Reason.restored.rawValue { stack.removeLast() } else { stack.append(move.version) }
        }
        guard stack.count >= 2, stack.last == current.version else {
            throw RegistryError.invalid("\(name)@\(current.version) is the first production version of \(name): there is no earlier one to roll back to")
        }
        return stack[stack.count - 2]
    }

    /// Which version was in which stage, from when to when, and who moved it there.
    static func tenures(_ events: [StageEvent], name: String, location: String) throws -> [StageTenure] {
        guard !events.isEmpty else { throw RegistryError.notFound("no model named '\(name)' in the registry at \(location)") }
        var tenures: [StageTenure] = []
        var open: [Int: Int] = [:]
        for event in events {
            if let index = open[event.version] { tenures[index].until = event.at }
            open[event.version] = tenures.count
            tenures.append(StageTenure(version: event.version, stage: event.to, from: event.at, until: nil, movedBy: event.actor, reason: event.reason))
        }
        return tenures
    }

    /// The label a review decision gives an open item: a confirm keeps the prediction, an override needs one.
    static func decidedLabel(_ item: ReviewItem, id: Int, decision: ReviewItem.Decision, label: String?) throws -> String {
        guard item.status == .open else {
            throw RegistryError.conflict("review item \(id) was already decided (\(item.decision?.rawValue ?? "?") by \(item.decidedBy ?? "?")); the first decision stands")
        }
        switch decision {
        case .confirm:
            if let label, label != item.prediction {
                throw RegistryError.invalid("a confirm keeps the prediction '\(item.prediction)' as the label; to give '\(label)', decide override")
            }
            return item.prediction
        case .override:
            guard let label, !label.isEmpty else { throw RegistryError.invalid("an override needs the label that replaces the prediction") }
            return label
        }
    }

    /// The audit details of a review decision.
    static func decisionDetails(_ item: ReviewItem, decision: ReviewItem.Decision, label: String, comment: String) -> [String: String] {
        ["decision": decision.rawValue, "label": label, "prediction": item.prediction,
         "comment": comment, "request_id": item.requestID, "row": String(item.row)]
    }

    /// A bundle's artefact checked (checksum, audit entries, readable) and re-signed with `signingKey`.
    static func importedArtifact(_ bundle: ModelBundle, signingKey: SigningKey?) throws -> [UInt8] {
        guard bundle.format == ModelBundle.format else { throw RegistryError.invalid("not a Keel model bundle") }
        guard bundle.formatVersion <= 1 else { throw RegistryError.invalid("bundle format \(bundle.formatVersion) is newer than this Keel reads; upgrade Keel") }
        var bytes = Array(bundle.artifact)
        guard Registry.sha256(bytes) == bundle.model.artifact else {
            throw RegistryError.invalid("the bundle's artefact does not match its checksum: the file is damaged")
        }
        if let bad = bundle.audit.first(where: { $0.expectedHash != $0.hash }) {
            throw RegistryError.invalid("the bundle's audit entry \(bad.sequence) (\(bad.action)) was changed after it was written")
        }
        _ = try Artifact.decode(bytes, path: "the bundle's artefact", options: Artifact.ReadOptions(), wantModel: false)
        if let signingKey { bytes = try Artifact.resigned(bytes, with: signingKey, path: "the bundle's artefact") }
        return bytes
    }

    /// An imported version's record here: this registry's artefact, run and dataset, as a candidate.
    static func importedVersion(_ bundle: ModelBundle, artifact: String, size: Int, run: Int?) -> ModelVersion {
        var record = bundle.model
        (record.artifact, record.size, record.run, record.dataset, record.stage) = (artifact, size, run, bundle.dataset?.fingerprint, .candidate)
        return record
    }

    /// The audit details of an import: the source's checksum, run, audit entries, approvals and history.
    static func importDetails(_ bundle: ModelBundle, artifact: String) throws -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return [
            "artifact": artifact,
            "source_artifact": bundle.model.artifact,
            "source_run": bundle.run.map { String($0.id) } ?? "",
            "source_audit": String(decoding: try encoder.encode(bundle.audit), as: UTF8.self),
            "source_approvals": String(decoding: try encoder.encode(bundle.approvals), as: UTF8.self),
            "source_history": String(decoding: try encoder.encode(bundle.history), as: UTF8.self),
        ]
    }

    /// The audit details of a registration.
    static func registrationDetails(_ record: ModelVersion, artifact: String, run: Int) -> [String: String] {
        ["artifact": artifact, "run": String(run), "metric": record.metric,
         "cv_score": String(record.crossValidatedScore), "holdout_score": String(record.holdoutScore)]
    }

    static func runDetails(_ registration: TrainingRegistration, fingerprint: String) -> [String: String] {
        ["dataset": fingerprint, "seed": String(registration.seed), "status": registration.status,
         "trials": String(registration.trials.count), "settings": registration.settingsJSON]
    }

    static func datasetDetails(_ registration: TrainingRegistration, snapshot: String?) -> [String: String] {
        ["source": registration.datasetSource, "rows": String(registration.dataset.rowCount), "snapshot": snapshot == nil ? "no" : "yes"]
    }

    /// The new version's record, before it has a stage history.
    static func newVersion(_ registration: TrainingRegistration, model: TrainedModel, version: Int, artifact: String, size: Int,
                           run: Int, fingerprint: String) -> ModelVersion {
        ModelVersion(
            name: registration.name, version: version, artifact: artifact, size: size, task: model.schema.task?.kind.rawValue ?? "",
            modelKind: model.predictor.model.kindName, metric: model.provenance.metric.rawValue, crossValidatedScore: model.provenance.crossValidatedScore,
            holdoutScore: model.provenance.holdoutScore, run: run, dataset: fingerprint, createdAt: Registry.timestamp(),
            createdBy: registration.actor, stage: .candidate)
    }

    static func checkName(_ name: String) throws {
        guard ModelReference.isValidName(name) else {
            throw RegistryError.invalid("'\(name)' is not a valid model name: use letters, digits, '-', '_' and '.' (--name)")
        }
    }
}
