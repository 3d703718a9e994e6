import ArgumentParser
import KeelArtifact
import KeelLifecycle
import KeelRegistry
import KeelSearch

/// `keel runs …`: recorded training runs, and replaying one to prove it reproduces.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List, inspect and reproduce recorded training runs.",
        subcommands: [List.self, Show.self, Reproduce.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every recorded run, newest first.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let runs = try await registry.open().runs()
            if json { return print(try JSONOutput.string(runs)) }
            guard !runs.isEmpty else { return print("no runs recorded in \(registry.folder)") }
            print(TextTable.render(header: ["run", "name", "started", "seconds", "trials", "seed", "status", "dataset", "by"], rows: runs.map {
                [String($0.id), $0.name, $0.startedAt, Format.fixed($0.seconds, 1), String($0.trialCount), String($0.seed), $0.status,
                 String($0.dataset.prefix(12)), $0.actor]
            }, rightAligned: [0, 3, 4]).joined(separator: "\n"))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One run: settings, overrides and its trials.")
        @Argument(help: "The run number.") var id: Int
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        struct Output: Encodable {
            var run: RunRecord
            var trials: [TrialRecord]
        }

        func run() async throws {
            let store = try await registry.open()
            let record = try await store.run(id)
            let trials = try await store.trials(ofRun: id)
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

    struct Reproduce: AsyncParsableCommand {
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
        @OptionGroup var piiKey: PIIKeyOptions

        func run() async throws {
            var readOptions = try keys.readOptions()
            readOptions.pseudonymKey = try KeyedHasher.personalDataKey(file: piiKey.keyFile)
            let result = try await Reproduction.run(id, store: try registry.open(), dataFile: data, readOptions: readOptions) { Terminal.progress($0) }
            if result.reproduced {
                let original = result.original
                print("run \(result.run.id) reproduced: \(result.version.reference) has the same payload, cross-validation \(original.provenance.crossValidatedScore) and holdout \(original.provenance.holdoutScore)")
                return
            }
            if let made = result.madeByOtherSearch {
                throw CheckFailed(message: "run \(result.run.id) was not replayed: it was made by search version \(made) (Keel \(result.original.provenance.keelVersion)), and this Keel searches with version \(Search.semanticsVersion), which makes other models from the same data and seed; replay it with the Keel that made it")
            }
            let because = result.explanations.map { " (\($0))" }.joined()
            throw CheckFailed(message: "run \(result.run.id) did not reproduce: " + result.differences.joined(separator: "; ") + because)
        }
    }
}
