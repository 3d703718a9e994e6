import ArgumentParser
import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import KeelLifecycle
import KeelRegistry
import KeelSearch

/// `keel runs …`: recorded training runs, and replaying one to prove it reproduces.
struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List, inspect and reproduce recorded training runs.",
        subcommands: [List.self, Show.self, Reproduce.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every recorded run, newest first.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        func run() throws {
            let runs = try registry.open().runs()
            if json { return print(try JSONOutput.string(runs)) }
            guard !runs.isEmpty else { return print("no runs recorded in \(registry.folder)") }
            print(TextTable.render(header: ["run", "name", "started", "seconds", "trials", "seed", "status", "dataset", "by"], rows: runs.map {
                [String($0.id), $0.name, $0.startedAt, Format.fixed($0.seconds, 1), String($0.trialCount), String($0.seed), $0.status,
                 String($0.dataset.prefix(12)), $0.actor]
            }, rightAligned: [0, 3, 4]).joined(separator: "\n"))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One run: settings, overrides and its trials.")
        @Argument(help: "The run number.") var id: Int
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        struct Output: Encodable {
            var run: RunRecord
            var trials: [TrialRecord]
        }

        func run() throws {
            let store = try registry.open()
            let record = try store.run(id)
            let trials = try store.trials(ofRun: id)
            if json { return print(try JSONOutput.string(Output(run: record, trials: trials))) }
            var lines = ["run \(record.id) (\(record.name)) started \(record.startedAt) by \(record.actor): \(record.status), \(Format.fixed(record.seconds, 1)) s, seed \(record.seed), Keel \(record.keelVersion)",
                         "dataset \(record.dataset)", "settings \(record.settingsJSON.replacingOccurrences(of: "\n", with: " "))"]
            if !record.overrides.isEmpty { lines.append("overrides: \(record.overrides.joined(separator: "; "))") }
            lines.append("")
            lines += TextTable.render(header: ["trial", "learner", "settings", "cv mean", "cv std", "fit/fold", "status"], rows: trials.map {
                [String($0.trial), $0.family, $0.summary, Format.fixed($0.mean, 4), Format.fixed($0.std, 4), Format.fixed($0.fitSeconds, 2) + "s", $0.status]
            }, rightAligned: [0, 3, 4, 5])
            print(lines.joined(separator: "\n"))
        }
    }

    struct Reproduce: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay a run's trial schedule on its data, config and seed; check the model and scores are identical.",
            discussion: """
            The data comes from the registry's snapshot (or --data, which must have the same fingerprint). The run's \
            trials and its clock-dependent decisions (trials cut short, an ensemble skipped for time, the refit on \
            all rows) are replayed without the clock, so a time-limited run reproduces too; only a refit cut short \
            mid-way (or a fallback ridge model stopped before converging) cannot be (the output says so). Exit code 3 when anything differs.
            """)
        @Argument(help: "The run number.") var id: Int
        @Option(help: ArgumentHelp("The original data file, when the run kept no snapshot.", valueName: "file")) var data: String?
        @OptionGroup var registry: RegistryOptions
        @OptionGroup var keys: ArtifactReadOptions

        func run() throws {
            let store = try registry.open()
            let record = try store.run(id)
            let dataset = try store.dataset(record.dataset)
            let schema = try JSONDecoder().decode(Schema.self, from: Data(dataset.schemaJSON.utf8))
            var recorded = try JSONDecoder().decode(RunSettings.self, from: Data(record.settingsJSON.utf8))
            let frame = try self.frame(dataset, schema: schema, textColumns: recorded.textColumns, store: store)
            guard let version = try store.models().first(where: { $0.run == record.id }) else {
                throw RegistryError.notFound("run \(record.id) registered no model")
            }
            let original = try Artifact.read(from: store.artifactPath(version), options: try keys.readOptions()).model
            recorded.trials = record.trialCount
            var settings = try recorded.searchSettings()
            settings.analyst = ExplainingAnalyst()
            settings.replay = try? JSONDecoder().decode(RecordedReplay.self, from: Data(record.reportJSON.utf8)).replay
            Terminal.progress("replaying run \(record.id): \(record.trialCount) trials, seed \(record.seed), \(frame.rowCount) rows")
            var replayed = try Search.outcome(frame: frame, schema: schema, settings: settings).model
            replayed.textColumns = recorded.textColumns
            var differences: [String] = []
            if try Self.payload(replayed) != Self.payload(original) { differences.append("the model payload differs") }
            if replayed.crossValidatedScore != original.crossValidatedScore {
                differences.append("cross-validation \(original.crossValidatedScore) → \(replayed.crossValidatedScore)")
            }
            if replayed.holdoutScore != original.holdoutScore {
                differences.append("holdout \(original.holdoutScore) → \(replayed.holdoutScore)")
            }
            if differences.isEmpty {
                print("run \(record.id) reproduced: \(version.reference) has the same payload, cross-validation \(original.crossValidatedScore) and holdout \(original.holdoutScore)")
                return
            }
            var message = "run \(record.id) did not reproduce: " + differences.joined(separator: "; ")
            if settings.replay?.refitCutShort == true {
                message += " (the original refit was cut short by the time budget at a round the run could not record)"
            }
            if settings.replay?.baselineCutShort == true {
                message += " (no trial completed, and the original's fallback ridge model stopped at the time budget before it converged; the replay fits it to convergence)"
            }
            throw CheckFailed(message: message)
        }

        private func frame(_ dataset: DatasetRecord, schema: Schema, textColumns: [String], store: Registry) throws -> Frame {
            if let snapshot = dataset.snapshot { return try store.loadSnapshot(snapshot) }
            guard let data else {
                throw ValidationError("run \(id)'s dataset has no snapshot in the registry (trained with --no-snapshot); give the original file with --data")
            }
            var options = CSVOptions()
            options.stringColumns = Set(textColumns)
            let frame = try CSVReader.read(path: data, options: options).conforming(to: schema)
            guard frame.fingerprint == dataset.fingerprint else {
                throw ValidationError("\(data) is not the run's data: its fingerprint is \(frame.fingerprint.prefix(16)), the run's \(dataset.fingerprint.prefix(16))")
            }
            return frame
        }

        /// The clock-dependent decisions a run's report recorded.
        struct RecordedReplay: Decodable {
            var replay: ReplaySchedule?
        }

        /// The model's canonical JSON without its creation time.
        static func payload(_ model: TrainedModel) throws -> Data {
            var model = model
            model.createdAt = ""
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return try encoder.encode(model)
        }
    }
}
