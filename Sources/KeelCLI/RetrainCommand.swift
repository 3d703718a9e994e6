import ArgumentParser
import Foundation
import KeelLifecycle
import KeelRegistry
import KeelSearch

/// `keel retrain NAME`: when the model's policy says so, train a challenger on the champion's data plus the
/// newly labelled predictions, compare both on the most recent labelled rows (which neither trained on),
/// register the challenger, and promote it only through the registry's gates.
struct RetrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrain",
        abstract: "Retrain a registered model on its data plus labelled predictions, when its policy says so.",
        discussion: """
        The policy is models.NAME.retrain in the registry's keel.yaml (drift_features, performance_drop, every, \
        window, time). The challenger trains on the champion's dataset snapshot plus the older labelled \
        predictions of the window; the newest labelled rows (--recent) are kept back, and champion and challenger \
        are scored on them. With --promote, the challenger goes to production only if it wins there and passes \
        the model's promotion and fairness gates.
        """
    )

    @Argument(help: "The registered model's name.")
    var name: String

    @Option(help: ArgumentHelp("The logged window to judge and learn from (default: the policy's window, else 7d).", valueName: "duration"))
    var since: DurationArgument?

    @Option(help: ArgumentHelp("Training budget (default: the policy's time, else 60s).", valueName: "duration"))
    var time: DurationArgument?

    @Option(help: "Share of the newest labelled predictions kept back for the champion/challenger comparison (default 0.3).")
    var recent: Double = 0.3

    @Flag(help: "Retrain even when no policy condition is met.")
    var force = false

    @Flag(help: "Promote the challenger to production when it beats the champion and passes the gates.")
    var promote = false

    @Option(help: ArgumentHelp("Who retrains, for the audit log (default: the user name).", valueName: "name"))
    var by: String?

    @Flag(help: "Learn from labels made by reviewing flagged predictions too (by default only observed outcomes): they are a biased sample, said in the output.")
    var useReviewLabels = false

    @Option(help: ArgumentHelp("With --use-review-labels: the weight of a review label's row beside an observed one's (default 1).", valueName: "w"))
    var reviewWeight: Double?

    @OptionGroup var registry: RegistryOptions
    @OptionGroup var keys: ArtifactReadOptions

    func validate() throws {
        guard recent > 0 && recent < 1 else { throw ValidationError("--recent must be between 0 and 1") }
        if let reviewWeight {
            guard useReviewLabels else { throw ValidationError("--review-weight needs --use-review-labels") }
            guard reviewWeight > 0, reviewWeight.isFinite else { throw ValidationError("--review-weight must be a positive number") }
        }
    }

    func run() async throws {
        // The budget is the command's wall time: it counts from the process's start.
        let started = ProcessStart.instant
        let store = try await registry.open()
        let config = try await registry.configuration(store)
        let stop = StopRequest()
        InterruptHandling.install(stop)
        let request = Retraining.Request(
            name: name, policy: config?.retrain(for: name) ?? RetrainPolicy(), window: since?.seconds, time: time?.seconds, recent: recent,
            force: force, promote: promote, promotion: config?.policy(for: name) ?? PromotionPolicy(), fairness: config?.fairness(for: name),
            actor: by ?? Registry.currentUser, readOptions: try keys.readOptions(), started: started, stop: stop)
        var labelled = request
        labelled.reviewLabels = useReviewLabels
        labelled.reviewWeight = reviewWeight ?? 1
        let outcome = try await Retraining.run(labelled, store: store) { Terminal.progress($0) }
        guard case .retrained(let result) = outcome else {
            if case .notNeeded(let champion, let reason) = outcome { print("no retraining needed for \(champion.reference): \(reason)") }
            return
        }
        print("registered \(result.challenger.reference) (candidate), trained on \(result.trainedRows) rows")
        let sources = LabelSource.allCases.map { "\(result.labelSources[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", ")
        print("labels in the window: \(sources); \(result.usedReviewLabels ? "review labels used" : "review labels not used")")
        if result.usedReviewLabels { print("caveat: \(Retraining.selectiveLabelsCaveat)") }
        print("\(result.verdict.detail) → \(result.challengerWins ? "the challenger wins" : "the champion stays")")
        guard promote else {
            if result.challengerWins { print("promote with `keel models promote \(name) \(result.challenger.version) --to production`") }
            return
        }
        guard let promotion = result.promotion else {
            throw CheckFailed(message: "not promoted: the challenger does not beat the champion on \(result.contestData)")
        }
        for gate in promotion.gates { print("gate \(gate.gate): \(gate.passed ? "passed" : "FAILED") — \(gate.detail)") }
        print("\(promotion.version.reference) is now in production" + (promotion.replaced.map { "; \($0.reference) archived" } ?? ""))
    }
}
