import ArgumentParser
import Foundation
import KeelArtifact
import KeelData
import KeelLifecycle
import KeelLearn
import KeelMonitor
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

    @OptionGroup var registry: RegistryOptions
    @OptionGroup var keys: ArtifactReadOptions

    func validate() throws {
        guard recent > 0 && recent < 1 else { throw ValidationError("--recent must be between 0 and 1") }
    }

    func run() async throws {
        // The budget is the command's wall time: it counts from the process's start.
        let started = ProcessStart.instant
        let startedAt = ISO8601DateFormatter().string(from: Date())
        let store = try registry.open()
        let config = try registry.configuration(store)
        let policy = config?.retrain(for: name) ?? RetrainPolicy()
        let actor = by ?? Registry.currentUser
        let readOptions = try keys.readOptions()
        let champion = try store.resolve(ModelReference(name: name))
        let championModel = try Artifact.read(from: store.artifactPath(champion), options: readOptions).model
        let window = since?.seconds ?? policy.window
        let logged = try store.predictionLog(model: name, since: Date().timeIntervalSince1970 - window)
        let labelled = logged.filter { $0.label != nil }

        let reasons = try Retraining.triggers(policy: policy, champion: champion, model: championModel, logged: logged)
        if reasons.isEmpty && !force {
            print("no retraining needed for \(champion.reference): " + (Retraining.hasConditions(policy) ? "no policy condition is met" : "models.\(name).retrain sets no condition (use --force)"))
            return
        }
        for reason in reasons { Terminal.progress("retraining \(name): \(reason)") }

        // Data: the champion's training data plus the older labelled predictions; the newest are kept back.
        guard let runID = champion.run else { throw ValidationError("\(champion.reference) has no run in this registry (imported?), so there is no data to retrain on") }
        let run = try store.run(runID)
        let dataset = try store.dataset(run.dataset)
        guard let snapshot = dataset.snapshot else {
            throw ValidationError("\(champion.reference)'s dataset has no snapshot (trained with --no-snapshot); train again on the data with `keel train`")
        }
        let base = try store.loadSnapshot(snapshot)
        let schema = try JSONDecoder().decode(Schema.self, from: Data(dataset.schemaJSON.utf8))
        let data = try Retraining.data(base: base, labelled: labelled, schema: schema, recent: recent)
        let combined = data.combined
        Terminal.progress("training data: \(base.rowCount) rows of \(champion.reference)'s dataset + \(data.learnedFrom) labelled predictions; \(data.comparison.count) newer ones kept back for the comparison")

        var settings = try JSONDecoder().decode(RunSettings.self, from: Data(run.settingsJSON.utf8))
        settings.timeBudget = time?.seconds ?? policy.time
        if settings.trials == nil { settings.timeBudget = max(1, settings.timeBudget - (ContinuousClock.now - started).seconds) }
        var search = try settings.searchSettings()
        search.analyst = ExplainingAnalyst()
        let stop = StopRequest()
        search.stop = stop
        InterruptHandling.install(stop)
        let outcome = try Search.outcome(frame: combined, schema: schema, settings: search)
        var model = outcome.model
        model.textColumns = settings.textColumns
        let recorder = TrainingRecorder(registry: store, name: name, source: "retrain of \(champion.reference)", snapshot: true, actor: actor,
                                        writeOptions: Artifact.WriteOptions(name: name))
        let challenger = try recorder.register(outcome, model: model, frame: combined, schema: schema, profileJSON: try TrainingRecorder.summaryJSON(combined),
                                               settings: settings, seed: settings.seed, overrides: ["retrain of \(champion.reference)"] + reasons, startedAt: startedAt,
                                               seconds: (ContinuousClock.now - started).seconds, status: stop.isRequested ? "stopped" : "completed")

        // Champion and challenger on the same recent labelled rows (or, without them, on the challenger's holdout).
        let (verdict, wins, contestData) = try Retraining.contest(champion: (champion, championModel), challenger: (challenger, model),
                                                                  comparison: data.comparison, schema: schema, store: store, readOptions: readOptions)
        try store.audit(actor: actor, action: "model.retrain", subject: challenger.reference, details: [
            "champion": champion.reference, "reasons": reasons.joined(separator: "; "), "comparison": verdict.detail, "challenger_wins": wins ? "yes" : "no",
        ])
        print("registered \(challenger.reference) (candidate), trained on \(combined.rowCount) rows")
        print("\(verdict.detail) → \(wins ? "the challenger wins" : "the champion stays")")
        guard promote else {
            if wins { print("promote with `keel models promote \(name) \(challenger.version) --to production`") }
            return
        }
        guard wins else { throw CheckFailed(message: "not promoted: the challenger does not beat the champion on \(contestData)") }
        let promotion = try PromotionGates.promote(name: name, version: challenger.version, to: .production, actor: actor, store: store,
                                                   policy: config?.policy(for: name) ?? PromotionPolicy(), fairness: config?.fairness(for: name),
                                                   extra: [verdict], readOptions: readOptions)
        for gate in promotion.gates { print("gate \(gate.gate): \(gate.passed ? "passed" : "FAILED") — \(gate.detail)") }
        print("\(promotion.version.reference) is now in production" + (promotion.replaced.map { "; \($0.reference) archived" } ?? ""))
    }
}
