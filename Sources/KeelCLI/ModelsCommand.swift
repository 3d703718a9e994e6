import ArgumentParser
import Foundation
import KeelData
import KeelLifecycle
import KeelRegistry

/// `keel models …`: the registered versions of each model, their stages, and the moves between them.
struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List, inspect, promote, approve, compare, roll back, export and import registered models.",
        discussion: """
        Versions move candidate → staging → production (or straight to production); promoting to production \
        archives the version it replaces and must pass the gates in the registry's keel.yaml (models.NAME.gates). \
        Every move is recorded with its actor in the audit log.
        """,
        subcommands: [List.self, Show.self, Promote.self, Approve.self, Rollback.self, History.self, Compare.self, Shadow.self, Humility.self, Export.self, Import.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every registered version, newest first.")
        @Argument(help: "Only this model name.") var name: String?
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let versions = try await registry.open().models(named: name)
            if json { return print(try JSONOutput.string(versions)) }
            guard !versions.isEmpty else { return print("no models registered in \(registry.folder)") }
            print(TextTable.render(
                header: ["model", "stage", "learner", "metric", "cv", "holdout", "created", "by"],
                rows: versions.map {
                    [$0.reference, $0.stage.rawValue, $0.modelKind, $0.metric, Format.fixed($0.crossValidatedScore, 4),
                     Format.fixed($0.holdoutScore, 4), $0.createdAt, $0.createdBy]
                }, rightAligned: [4, 5]).joined(separator: "\n"))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One version: metrics, lineage (run and dataset), approvals and stage history.")
        @Argument(help: "NAME, NAME@VERSION or NAME@STAGE.") var model: String
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        struct Output: Encodable {
            var model: ModelVersion
            var artifactPath: String
            var run: RunRecord?
            var dataset: DatasetRecord?
            var approvals: [Approval]
            var history: [StageTenure]
        }

        func run() async throws {
            let store = try await registry.open()
            let version = try await store.resolve(try ModelsCommand.reference(model))
            var run: RunRecord?
            if let id = version.run { run = try await store.run(id) }
            var dataset: DatasetRecord?
            if let fingerprint = version.dataset { dataset = try await store.dataset(fingerprint) }
            let output = Output(model: version, artifactPath: try await store.artifactFile(version), run: run,
                                dataset: dataset,
                                approvals: try await store.approvals(name: version.name, version: version.version),
                                history: try await store.history(name: version.name).filter { $0.version == version.version })
            if json { return print(try JSONOutput.string(output)) }
            var lines = [
                "\(version.reference): \(version.stage.rawValue)",
                "  learner \(version.modelKind), task \(version.task)",
                "  \(version.metric): cross-validation \(Format.fixed(version.crossValidatedScore, 4)), holdout \(Format.fixed(version.holdoutScore, 4))",
                "  artefact \(output.artifactPath) (\(version.size) bytes, sha256 \(version.artifact))",
                "  created \(version.createdAt) by \(version.createdBy)",
            ]
            if let run {
                lines.append("  run \(run.id): seed \(run.seed), \(run.trialCount) trials, \(Format.fixed(run.seconds, 1)) s, \(run.status), Keel \(run.keelVersion)")
                if !run.overrides.isEmpty { lines.append("  overrides: \(run.overrides.joined(separator: "; "))") }
            }
            if let dataset = output.dataset {
                lines.append("  dataset \(dataset.fingerprint.prefix(16)) from \(dataset.source): \(dataset.rows) rows × \(dataset.columns) columns\(dataset.snapshot == nil ? " (no snapshot)" : "")")
            }
            for approval in output.approvals { lines.append("  approved by \(approval.actor) at \(approval.at)\(approval.comment.isEmpty ? "" : ": \(approval.comment)")") }
            for tenure in output.history {
                lines.append("  \(tenure.stage.rawValue) from \(tenure.from) until \(tenure.until ?? "now") (\(tenure.reason.rawValue) by \(tenure.movedBy))")
            }
            print(lines.joined(separator: "\n"))
        }
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a version to another stage (production through the gates).",
            discussion: "Gates come from the registry's keel.yaml: models.NAME.gates (max_metric_drop, required_approvals) and models.NAME.fairness (bias limits on the candidate's holdout).")
        @Argument(help: "The model name.") var name: String
        @Argument(help: "The version number.") var version: Int
        @Option(help: "The stage: candidate, staging, production or archived.") var to: Stage
        @Option(help: ArgumentHelp("Who promotes, for the audit log (default: the user name).", valueName: "name")) var by: String?
        @Flag(help: "Promote even when a gate fails (the override is audited).") var force = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions
        @OptionGroup var keys: ArtifactReadOptions

        func run() async throws {
            let store = try await registry.open()
            let config = try await registry.configuration(store)
            let readOptions = try keys.readOptions()
            let promotion: Promotion
            do {
                promotion = try await PromotionGates.promote(name: name, version: version, to: to, actor: by ?? Registry.currentUser, store: store,
                                                       policy: config?.policy(for: name) ?? PromotionPolicy(), fairness: config?.fairness(for: name),
                                                       force: force, readOptions: readOptions)
            } catch let blocked as RegistryError {
                // Gates that ran and failed are a check that found a problem (exit 3), not an error.
                guard case .gatesFailed = blocked else { throw blocked }
                throw CheckFailed(message: "\(blocked)")
            }
            if json { return print(try JSONOutput.string(PromotionOutput(promotion))) }
            var lines = promotion.gates.map { "gate \($0.gate): \($0.passed ? "passed" : "FAILED") — \($0.detail)" }
            if promotion.forced { lines.append("warning: promoted despite failed gates (--force); the override is in the audit log") }
            lines.append("\(promotion.version.reference) is now in \(promotion.version.stage.rawValue)" +
                         (promotion.replaced.map { "; \($0.reference) archived" } ?? ""))
            print(lines.joined(separator: "\n"))
        }
    }

    struct PromotionOutput: Encodable {
        var model: ModelVersion
        var replaced: ModelVersion?
        var gates: [GateResult]
        var forced: Bool

        init(_ promotion: Promotion) {
            (model, replaced, gates, forced) = (promotion.version, promotion.replaced, promotion.gates, promotion.forced)
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a human approval of a version (a gate may require it).")
        @Argument(help: "The model name.") var name: String
        @Argument(help: "The version number.") var version: Int
        @Option(help: ArgumentHelp("Who approves (default: the user name).", valueName: "name")) var by: String?
        @Option(help: "Why.") var comment: String = ""
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let approval = try await registry.open().approve(name: name, version: version, actor: by ?? Registry.currentUser, comment: comment)
            print("\(name)@\(version) approved by \(approval.actor) at \(approval.at)")
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Put the previous production version back; the current one is archived.")
        @Argument(help: "The model name.") var name: String
        @Option(help: ArgumentHelp("Who rolls back (default: the user name).", valueName: "name")) var by: String?
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let (restored, retired) = try await registry.open().rollback(name: name, actor: by ?? Registry.currentUser)
            print("\(restored.reference) is in production again; \(retired.reference) archived")
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Which version was in which stage, from when to when, and who moved it.")
        @Argument(help: "The model name.") var name: String
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let tenures = try await registry.open().history(name: name)
            if json { return print(try JSONOutput.string(tenures)) }
            print(TextTable.render(header: ["version", "stage", "from", "until", "how", "by"], rows: tenures.map {
                ["\(name)@\($0.version)", $0.stage.rawValue, $0.from, $0.until ?? "now", $0.reason.rawValue, $0.movedBy]
            }, rightAligned: []).joined(separator: "\n"))
        }
    }

    struct Compare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Score two versions side by side on the same holdout data.",
            discussion: "Both versions are scored on each one's holdout (rows its search never saw), with the first one's metric.")
        @Argument(help: "NAME@A.") var first: String
        @Argument(help: "NAME@B.") var second: String
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions
        @OptionGroup var keys: ArtifactReadOptions

        func run() async throws {
            let store = try await registry.open()
            let a = try await store.resolve(try ModelsCommand.reference(first))
            let b = try await store.resolve(try ModelsCommand.reference(second))
            let options = try keys.readOptions()
            var contests = [try await PromotionGates.compare(a, b, store: store, readOptions: options)]
            if a.run != b.run, let other = try? await PromotionGates.compare(b, a, store: store, readOptions: options) { contests.append(other) }
            if json { return print(try JSONOutput.string(contests)) }
            var rows: [[String]] = []
            for contest in contests {
                rows.append([contest.data, contest.metric, String(contest.rows),
                             Format.fixed(contest.scores[a.reference] ?? .nan, 4), Format.fixed(contest.scores[b.reference] ?? .nan, 4)])
            }
            print(TextTable.render(header: ["data", "metric", "rows", a.reference, b.reference], rows: rows, rightAligned: [2, 3, 4]).joined(separator: "\n"))
        }
    }

    struct Shadow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare the production model with its shadow (the staging version) on the live requests both scored.",
            discussion: "Needs a server run with `keel serve --registry --shadow --log-predictions`.")
        @Argument(help: "The model name.") var name: String
        @Option(help: ArgumentHelp("How far back, e.g. 24h (default 24h).", valueName: "duration")) var since: DurationArgument?
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let store = try await registry.open()
            let from = Date().timeIntervalSince1970 - (since?.seconds ?? 86_400)
            let champion = try await store.predictionLog(model: name, since: from)
            let shadow = try await store.predictionLog(model: name + PredictionRecord.shadowSuffix, since: from)
            guard !shadow.isEmpty else {
                throw ValidationError("no shadow predictions of \(name) in that window (serve with --registry --shadow --log-predictions, with a version in staging)")
            }
            let task = TaskKind(rawValue: try await store.resolve(ModelReference(name: name)).task) ?? .binary
            let report = ShadowReport.make(name: name, champion: champion, shadow: shadow, task: task)
            print(json ? try JSONOutput.string(report) : report.text)
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a version, its lineage, holdout and audit entries to one file.")
        @Argument(help: "NAME@VERSION.") var model: String
        @Argument(help: "The bundle file to write.") var file: String
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let bundle = try await registry.open().exportBundle(try ModelsCommand.reference(model), actor: Registry.currentUser)
            try AtomicFile.write(try bundle.encoded(), to: file)
            print("exported \(bundle.model.reference) with run, holdout and \(bundle.audit.count) audit entries to \(file)")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add an exported version to this registry, as a candidate.",
            discussion: """
            When this registry has a signing key (`keel keys generate-signing --registry`), the imported artefact is \
            stored signed by it, whoever signed it before: importing vouches for the file, so import only bundles \
            you trust. Without a key it is stored as it came.
            """
        )
        @Argument(help: "A bundle from `keel models export`.") var file: String
        @Option(help: ArgumentHelp("Who imports (default: the user name).", valueName: "name")) var by: String?
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw DataError.cannotOpen(file: file, reason: "no such file or not readable")
            }
            let bundle: ModelBundle
            do {
                bundle = try ModelBundle.decode(data)
            } catch {
                throw ValidationError("\(file) is not a Keel model bundle (from `keel models export`): \(error)")
            }
            let store = try await registry.open(create: true)
            let key = try await store.signingKey()
            let version = try await store.importBundle(bundle, actor: by ?? Registry.currentUser, signingKey: key)
            print("imported \(version.reference) as a candidate into \(registry.folder)\(key == nil ? "" : ", signed with the registry's key")")
        }
    }

    static func reference(_ text: String) throws -> ModelReference {
        guard let reference = ModelReference(text) else {
            throw ValidationError("'\(text)' is not a model reference: use NAME, NAME@VERSION or NAME@STAGE")
        }
        return reference
    }
}

extension Stage: ExpressibleByArgument {}
