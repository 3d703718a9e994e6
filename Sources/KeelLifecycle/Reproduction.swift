import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import KeelRegistry
import KeelSearch

/// Replaying a recorded run on its data, settings and seed, and comparing what comes out with the model it
/// registered: `keel runs reproduce`.
///
/// The run's trials and its clock-dependent decisions (trials cut short, an ensemble skipped for time, the
/// refit on all rows) are replayed without the clock, so a time-limited run reproduces too; only a refit
/// cut short mid-way, or a fallback ridge model stopped before converging, cannot be, and the result says so.
public enum Reproduction {
    public struct Result: Sendable {
        public var run: RunRecord
        public var version: ModelVersion
        public var original: TrainedModel
        /// The replayed model (nil when the run was made by other search semantics and was not replayed).
        public var replayed: TrainedModel?
        /// The search semantics version that made the run, when it is not this Keel's (`Search.semanticsVersion`):
        /// the run was not replayed, since this Keel would make another model from the same data and seed.
        public var madeByOtherSearch: Int?
        /// What differs, in words; empty when the run reproduced.
        public var differences: [String]
        /// Why it could not reproduce, when the record says the run depended on the clock mid-way.
        public var explanations: [String]

        public var reproduced: Bool { differences.isEmpty && madeByOtherSearch == nil }
    }

    /// Replays run `id` from `store`. The data comes from the registry's snapshot, or, for a run that kept
    /// none, from `dataFile`, which must have the run's fingerprint.
    public static func run(_ id: Int, store: some RegistryStore, dataFile: String? = nil, readOptions: Artifact.ReadOptions = Artifact.ReadOptions(),
                           note: (String) -> Void = { _ in }) async throws -> Result {
        let record = try await store.run(id)
        let dataset = try await store.dataset(record.dataset)
        var recorded = try JSONDecoder().decode(RunSettings.self, from: Data(record.settingsJSON.utf8))
        // The run's record says which columns it read as text: a dataset's schema is kept from the first run
        // on that data, and runs from before the schema held them recorded them with the settings only.
        let schema = try JSONDecoder().decode(Schema.self, from: Data(dataset.schemaJSON.utf8)).readingAsText(recorded.textColumns)
        let frame = try await self.frame(of: id, dataset: dataset, schema: schema, textColumns: recorded.textColumns, store: store, dataFile: dataFile,
                                   key: readOptions.pseudonymKey)
        guard let version = try await store.models(named: nil).first(where: { $0.run == record.id }) else {
            throw RegistryError.notFound("run \(record.id) registered no model")
        }
        let original = try Artifact.read(from: try await store.artifactFile(version), options: readOptions).model
        recorded.trials = record.trialCount
        var settings = try Training.searchSettings(recorded)
        // The search version that made the run: its replay record's, version 1 for runs from before replay
        // records (or versions) were kept; from the version field alone when the rest cannot be read.
        let report = Data(record.reportJSON.utf8)
        var madeBy: Int?
        do {
            settings.replay = try JSONDecoder().decode(RecordedReplay.self, from: report).replay
            madeBy = settings.replay?.madeBySearchVersion ?? 1
        } catch {
            madeBy = (try? JSONDecoder().decode(RecordedVersion.self, from: report)).map { $0.replay?.searchVersion ?? 1 }
            note("warning: run \(record.id)'s report cannot be read (\(error)); replaying without its recorded clock decisions, so a run the clock shaped may differ")
        }
        if let madeBy, madeBy != Search.semanticsVersion {
            note("run \(record.id) was made by search version \(madeBy); this Keel searches with version \(Search.semanticsVersion)")
            return Result(run: record, version: version, original: original, replayed: nil, madeByOtherSearch: madeBy,
                          differences: [], explanations: [])
        }
        note("replaying run \(record.id): \(record.trialCount) trials, seed \(record.seed), \(frame.rowCount) rows")
        let replayed = try Search.outcome(frame: frame, schema: schema, settings: settings).model
        var differences: [String] = []
        if try payload(replayed) != payload(original) { differences.append("the model payload differs") }
        if replayed.provenance.crossValidatedScore != original.provenance.crossValidatedScore {
            differences.append("cross-validation \(original.provenance.crossValidatedScore) → \(replayed.provenance.crossValidatedScore)")
        }
        if replayed.provenance.holdoutScore != original.provenance.holdoutScore {
            differences.append("holdout \(original.provenance.holdoutScore) → \(replayed.provenance.holdoutScore)")
        }
        var explanations: [String] = []
        if settings.replay?.refitCutShort == true {
            explanations.append("the original refit was cut short by the time budget at a round the run could not record")
        }
        if settings.replay?.baselineCutShort == true {
            explanations.append("no trial completed, and the original's fallback ridge model stopped at the time budget before it converged; the replay fits it to convergence")
        }
        return Result(run: record, version: version, original: original, replayed: replayed, madeByOtherSearch: nil,
                      differences: differences, explanations: explanations)
    }

    private static func frame(of id: Int, dataset: DatasetRecord, schema: Schema, textColumns: [String], store: some RegistryStore,
                              dataFile: String?, key: KeyedHasher?) async throws -> Frame {
        if let snapshot = dataset.snapshot { return try await store.loadSnapshot(snapshot) }
        guard let dataFile else {
            throw LifecycleError.invalid("run \(id)'s dataset has no snapshot in the registry (trained with --no-snapshot); give the original file with --data")
        }
        var options = CSVOptions()
        options.stringColumns = Set(textColumns)
        // The file holds the data before the run's privacy rules; the run's data is after them.
        let read = try CSVReader.read(path: dataFile, options: options)
        let privacyGuard = try PrivacyGuard(schema: schema, pseudonymiser: key, keySource: "--pii-key-file FILE (or KEEL_PII_KEY)")
        let frame = try privacyGuard.apply(read).conforming(to: schema)
        guard frame.fingerprint == dataset.fingerprint else {
            throw LifecycleError.invalid("\(dataFile) is not the run's data: its fingerprint is \(frame.fingerprint.prefix(16)), the run's \(dataset.fingerprint.prefix(16))")
        }
        return frame
    }

    /// The clock-dependent decisions a run's report recorded.
    struct RecordedReplay: Decodable {
        var replay: ReplaySchedule?
    }

    /// Only the search version of a report whose replay record cannot be read whole.
    struct RecordedVersion: Decodable {
        struct Replay: Decodable { var searchVersion: Int? }
        var replay: Replay?
    }

    /// The model's canonical JSON without its creation time.
    public static func payload(_ model: TrainedModel) throws -> Data {
        var model = model
        model.provenance.createdAt = ""
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(model)
    }
}
