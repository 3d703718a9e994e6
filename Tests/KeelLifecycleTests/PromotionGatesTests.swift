import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import KeelLifecycle
import KeelRegistry
import KeelSearch
import KeelTestSupport
import Testing

/// Promotion gates evaluated by the lifecycle and recorded by the registry: the metric against production
/// on the candidate's holdout, approvals, forced overrides in the audit log, and head-to-head comparison.
@Suite struct PromotionGatesTests {
    static let trained = TrainedChurn.shared

    static func folder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("keel-lifecycle-\(UUID().uuidString)").path
    }

    @discardableResult
    static func register(_ registry: Registry, _ outcome: SearchOutcome) throws -> ModelVersion {
        try TrainedChurn.register(registry, outcome)
    }

    @Test func metricAndApprovalGatesBlockUnlessForcedAndTheOverrideIsAudited() async throws {
        let registry = try Registry(folder: Self.folder())
        try Self.register(registry, Self.trained.good)
        try Self.register(registry, Self.trained.noise)
        _ = try registry.promote(name: "churn", version: 1, to: .production, actor: "ann")
        let policy = PromotionPolicy(maxMetricDrop: 0.01, requiredApprovals: 1)
        do {
            _ = try await PromotionGates.promote(name: "churn", version: 2, to: .production, actor: "ann", store: registry, policy: policy)
            Issue.record("a model trained on shuffled labels passed the metric gate")
        } catch RegistryError.gatesFailed(let failures) {
            #expect(failures.count == 2)
            #expect(failures[0].hasPrefix("metric: roc_auc on holdout of churn@2"))
            #expect(failures[0].contains("worse by"))
            #expect(failures[1].contains("0 of 1 required approvals"))
        }
        #expect(try registry.resolve(ModelReference("churn@production")!).version == 1, "a blocked promotion changes nothing")
        let forced = try await PromotionGates.promote(name: "churn", version: 2, to: .production, actor: "ann", store: registry, policy: policy, force: true)
        #expect(forced.forced)
        let entry = try #require(try registry.auditEntries().last)
        #expect(entry.action == "model.promote.forced" && entry.subject == "churn@2" && entry.actor == "ann")
        #expect(entry.details.contains("FAILED"))
        // The same candidate against itself passes, and approval satisfies the other gate.
        try Self.register(registry, Self.trained.good)
        _ = try registry.approve(name: "churn", version: 3, actor: "dan", comment: "checked")
        let passed = try await PromotionGates.promote(name: "churn", version: 3, to: .production, actor: "ann", store: registry, policy: policy)
        #expect(passed.gates.allSatisfy(\GateResult.passed) && !passed.forced)
    }

    @Test func comparisonScoresBothVersionsOnTheSameHoldout() async throws {
        let registry = try Registry(folder: Self.folder())
        let good = try Self.register(registry, Self.trained.good)
        let noise = try Self.register(registry, Self.trained.noise)
        let contest = try await PromotionGates.compare(good, noise, store: registry)
        #expect(contest.rows == Self.trained.good.holdout.rowCount)
        let holdoutScore = try HoldoutScoring.score(Self.trained.good.model, on: Self.trained.good.holdout, metric: .rocAUC)
        #expect(abs(contest.scores["churn@1"]! - holdoutScore) < 1e-12)
        #expect(abs(holdoutScore - Self.trained.good.report.holdoutScore) < 1e-12, "the search's own holdout score")
        #expect(contest.scores["churn@1"]! > contest.scores["churn@2"]! + 0.1)
    }
}
