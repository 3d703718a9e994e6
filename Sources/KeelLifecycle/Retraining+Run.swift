import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import KeelRegistry
import KeelSearch

extension Retraining {
    /// What one retraining is asked to do: `keel retrain NAME`, and the server's retrain job through it.
    public struct Request {
        public var name: String
        public var policy: RetrainPolicy
        /// The logged window to judge and learn from (default: the policy's).
        public var window: Double?
        /// The training budget (default: the policy's).
        public var time: Double?
        /// The share of the newest labelled predictions kept back for the contest.
        public var recent: Double
        public var force: Bool
        /// Promote the challenger when it wins and passes `promotion` and `fairness`.
        public var promote: Bool
        public var promotion: PromotionPolicy
        public var fairness: FairnessGate?
        public var actor: String
        public var readOptions: Artifact.ReadOptions
        public var started: ContinuousClock.Instant
        public var stop: StopRequest
        /// Learn from labels that reviews of flagged predictions made too (default: observed labels only).
        public var reviewLabels = false
        /// The weight of a review label's row beside an observed one's (with `reviewLabels`).
        public var reviewWeight = 1.0

        public init(name: String, policy: RetrainPolicy, window: Double? = nil, time: Double? = nil, recent: Double = 0.3, force: Bool = false,
                    promote: Bool = false, promotion: PromotionPolicy = PromotionPolicy(), fairness: FairnessGate? = nil, actor: String,
                    readOptions: Artifact.ReadOptions = Artifact.ReadOptions(), started: ContinuousClock.Instant = .now, stop: StopRequest = StopRequest()) {
            (self.name, self.policy, self.window, self.time, self.recent, self.force) = (name, policy, window, time, recent, force)
            (self.promote, self.promotion, self.fairness, self.actor, self.readOptions) = (promote, promotion, fairness, actor, readOptions)
            (self.started, self.stop) = (started, stop)
        }
    }

    /// What a retraining did.
    public enum Outcome {
        /// No policy condition holds (and no `force`): nothing was trained. The text says why.
        case notNeeded(champion: ModelVersion, reason: String)
        case retrained(Retrained)
    }

    public struct Retrained {
        public var champion: ModelVersion
        public var challenger: ModelVersion
        public var reasons: [String]
        public var trainedRows: Int
        /// The contest's verdict (recorded as a gate when promoting).
        public var verdict: GateResult
        public var challengerWins: Bool
        /// The rows the contest was decided on, in words.
        public var contestData: String
        /// The promotion, when asked for and the challenger won (gates that fail throw instead).
        public var promotion: Promotion?
        /// The labels in the window by source (observed, review-confirm, review-override) and whether
        /// review labels were used.
        public var labelSources: [LabelSource: Int] = [:]
        public var usedReviewLabels = false
    }

    /// The logged predictions made by versions with the champion's privacy rules (and key): rows logged under
    /// other rules hold other values (raw where the champion has pseudonyms, or the reverse), and would carry
    /// them into training and a new snapshot. Versions the registry cannot name (a model file served on its
    /// own) count as rule-free.
    public static func underRules(of champion: TrainedModel, _ log: [LoggedPrediction], name: String, store: some RegistryStore,
                           readOptions: Artifact.ReadOptions, note: (String) -> Void) async throws -> [LoggedPrediction] {
        let wanted = (champion.schema.privacy ?? [:], champion.schema.pseudonymKeyCheck)
        var same: [String: Bool] = [:]
        for version in Set(log.map(\.record.version)) {
            if let reference = ModelReference("\(name)@\(version)"), let resolved = try? await store.resolve(reference) {
                let schema = try Artifact.read(from: try await store.artifactFile(resolved), options: readOptions).model.schema
                same[version] = (schema.privacy ?? [:], schema.pseudonymKeyCheck) == wanted
            } else {
                same[version] = wanted.0.isEmpty
            }
        }
        let kept = log.filter { same[$0.record.version] ?? false }
        if kept.count < log.count {
            note("left out \(log.count - kept.count) logged prediction(s) of versions with other privacy rules than the champion's: their values are not comparable")
        }
        return kept
    }

    /// Retrains `request.name` when its policy says so: a challenger trained on the champion's dataset
    /// snapshot plus the older labelled predictions, compared with the champion on the newest ones, registered
    /// as a candidate, audited, and promoted only through the gates. `note` receives progress in words.
    public static func run(_ request: Request, store: some RegistryStore, note: (String) -> Void = { _ in }) async throws -> Outcome {
        let startedAt = ISO8601DateFormatter().string(from: Date())
        let name = request.name
        let champion = try await store.resolve(ModelReference(name: name))
        let championModel = try Artifact.read(from: try await store.artifactFile(champion), options: request.readOptions).model
        let window = request.window ?? request.policy.window
        let log = try await store.predictionLog(model: name, since: Date().timeIntervalSince1970 - window)
        let everything = try await Self.underRules(of: championModel, log,
                                             name: name, store: store, readOptions: request.readOptions, note: note)
        let sources = everything.labelCounts
        let logged = everything.labels(includingReview: request.reviewLabels)
        let labelled = logged.filter { $0.label != nil }
        let reviewCount = sources.filter { $0.key.isReview }.values.reduce(0, +)
        if request.reviewLabels, reviewCount > 0 {
            note("labels: \(sources[.observed] ?? 0) observed and \(reviewCount) from reviews (\(sources[.reviewConfirm] ?? 0) confirmed, \(sources[.reviewOverride] ?? 0) overridden), review rows weighted \(NumberFormatting.canonical(request.reviewWeight)); "
                 + Retraining.selectiveLabelsCaveat)
        } else {
            note("labels: \(sources[.observed] ?? 0) observed" + (reviewCount > 0 ? "; \(reviewCount) from reviews left out (--use-review-labels uses them)" : ""))
        }

        let reasons = try triggers(policy: request.policy, champion: champion, model: championModel, logged: logged)
        if reasons.isEmpty && !request.force {
            let why = hasConditions(request.policy) ? "no policy condition is met" : "models.\(name).retrain sets no condition (use --force)"
            return .notNeeded(champion: champion, reason: why)
        }
        for reason in reasons { note("retraining \(name): \(reason)") }

        // Data: the champion's training data plus the older labelled predictions; the newest are kept back.
        guard let runID = champion.run else {
            throw LifecycleError.invalid("\(champion.reference) has no run in this registry (imported?), so there is no data to retrain on")
        }
        let run = try await store.run(runID)
        let dataset = try await store.dataset(run.dataset)
        guard let snapshot = dataset.snapshot else {
            throw LifecycleError.invalid("\(champion.reference)'s dataset has no snapshot (trained with --no-snapshot); train again on the data with `keel train`")
        }
        let base = try await store.loadSnapshot(snapshot)
        let savedSchema = try JSONDecoder().decode(Schema.self, from: Data(dataset.schemaJSON.utf8))
        var data = try self.data(base: base, labelled: labelled, schema: savedSchema, recent: request.recent)
        var settings = try JSONDecoder().decode(RunSettings.self, from: Data(run.settingsJSON.utf8))
        // The champion's run record says which columns it read as text (a dataset's schema is kept from the
        // first run on that data, and runs from before the schema held them did not record them there).
        var schema = savedSchema.readingAsText(settings.textColumns)
        if request.reviewLabels, request.reviewWeight != 1, reviewCount > 0 {
            (data.combined, schema) = try Self.weightingReviews(data.combined, schema: schema, baseRows: base.rowCount,
                                                               learnedFrom: labelled.dropLast(data.comparison.count), weight: request.reviewWeight)
        }
        let combined = data.combined
        note("training data: \(base.rowCount) rows of \(champion.reference)'s dataset + \(data.learnedFrom) labelled predictions; \(data.comparison.count) newer ones kept back for the comparison")

        settings.timeBudget = request.time ?? request.policy.time
        var search = try Training.searchSettings(settings)
        if settings.trials == nil { search.timeBudget = max(1, settings.timeBudget - (ContinuousClock.now - request.started).seconds) }
        search.stop = request.stop
        let outcome = try Search.outcome(frame: combined, schema: schema, settings: search)
        let model = outcome.model
        let recorder = TrainingRecorder(registry: store, name: name, source: "retrain of \(champion.reference)", snapshot: true, actor: request.actor,
                                        writeOptions: Artifact.WriteOptions(name: name))
        let challenger = try await recorder.register(
            outcome, model: model, frame: combined, schema: schema, profileJSON: try TrainingRecorder.summaryJSON(combined), settings: settings,
            seed: settings.seed, overrides: ["retrain of \(champion.reference)"] + reasons, startedAt: startedAt,
            seconds: (ContinuousClock.now - request.started).seconds, status: request.stop.isRequested ? "stopped" : "completed").version

        // Champion and challenger on the same recent labelled rows (or, without them, on the challenger's holdout).
        let (verdict, wins, contestData) = try await contest(champion: (champion, championModel), challenger: (challenger, model),
                                                       comparison: data.comparison, schema: savedSchema, store: store, readOptions: request.readOptions)
        try await store.audit(actor: request.actor, action: "model.retrain", subject: challenger.reference, details: [
            "champion": champion.reference, "reasons": reasons.joined(separator: "; "), "comparison": verdict.detail, "challenger_wins": wins ? "yes" : "no",
            "labels": LabelSource.allCases.map { "\(sources[$0] ?? 0) \($0.rawValue)" }.joined(separator: ", "),
            "review_labels": request.reviewLabels && reviewCount > 0 ? "used, weight \(NumberFormatting.canonical(request.reviewWeight))" : "not used",
        ])
        var result = Retrained(champion: champion, challenger: challenger, reasons: reasons, trainedRows: combined.rowCount, verdict: verdict,
                               challengerWins: wins, contestData: contestData, promotion: nil)
        result.labelSources = sources
        result.usedReviewLabels = request.reviewLabels && reviewCount > 0
        if request.promote, wins {
            result.promotion = try await PromotionGates.promote(name: name, version: challenger.version, to: .production, actor: request.actor, store: store,
                                                          policy: request.promotion, fairness: request.fairness, extra: [verdict],
                                                          readOptions: request.readOptions)
        }
        return .retrained(result)
    }

    /// Said wherever review labels are used: they are not a random sample of outcomes.
    public static let selectiveLabelsCaveat = "review labels exist only for predictions a humility rule flagged, so they over-represent the model's hard cases and say nothing about the rest (selective labels); a model trained or judged on them can look better or worse than it is"

    /// The training rows with a weight column in which rows labelled by a review weigh `weight` (the
    /// schema's weight column when it has one, multiplied; else a new `_keel_label_weight` column).
    static func weightingReviews(_ frame: Frame, schema: Schema, baseRows: Int, learnedFrom: ArraySlice<LoggedPrediction>,
                                 weight: Double) throws -> (Frame, Schema) {
        var schema = schema
        let existing = schema.columns(withRole: .weight).first?.name
        let name = existing ?? "_keel_label_weight"
        var weights = existing.flatMap { frame[$0]?.numbers } ?? [Double](repeating: 1, count: frame.rowCount)
        for (offset, item) in learnedFrom.enumerated() where item.source?.isReview == true && baseRows + offset < weights.count {
            weights[baseRows + offset] *= weight
        }
        let column = Column(name: name, values: .numeric(weights))
        if existing != nil {
            var frame = frame
            try frame.replace(column)
            return (frame, schema)
        }
        schema.columns.append(ColumnSchema(name: name, kind: .numeric, role: .weight, nullable: false))
        return (try Frame(columns: frame.columns + [column]), schema)
    }
}
