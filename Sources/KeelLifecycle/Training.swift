import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import KeelRegistry
import KeelSearch

/// A training run from loaded data to a written (and, with a registry, registered) model: what `keel train`
/// does after parsing its flags, callable in-process by anything else.
///
/// The budget counts from `started` (the command's start, so reading the file is inside it); the data's
/// profile and snapshot are taken before the search so the budget's end is not spent on them. A registry
/// that cannot be written must not cost the trained model: the model goes to `out` all the same, and the
/// result says why it was not registered.
public enum Training {
    /// Where a run registers what it made: the dataset (with or without a copy of its rows), the run and
    /// the model's next version.
    public struct Registration {
        /// Opens the store; called once, before the search, so a broken registry is found early but reported
        /// only after the model is safe in `out`.
        public var open: () async throws -> any RegistryStore
        public var snapshot: Bool
        public var actor: String

        public init(open: @escaping () async throws -> any RegistryStore, snapshot: Bool, actor: String) {
            (self.open, self.snapshot, self.actor) = (open, snapshot, actor)
        }
    }

    public struct Request {
        public var frame: Frame
        public var schema: Schema
        /// Where the data came from (a file path, or a description), as the registry records it.
        public var source: String
        /// The data's profile as the registry records it (compact JSON).
        public var profileJSON: String
        public var settings: RunSettings
        /// What the user changed from the defaults, as the registry and report list it.
        public var overrides: [String]
        public var name: String
        public var out: String
        public var writeOptions: Artifact.WriteOptions
        /// Nil: write `out` only.
        public var registration: Registration?
        public var started: ContinuousClock.Instant
        public var stop: StopRequest

        public init(frame: Frame, schema: Schema, source: String, profileJSON: String, settings: RunSettings, overrides: [String],
                    name: String, out: String, writeOptions: Artifact.WriteOptions, registration: Registration?,
                    started: ContinuousClock.Instant = .now, stop: StopRequest = StopRequest()) {
            (self.frame, self.schema, self.source, self.profileJSON, self.settings) = (frame, schema, source, profileJSON, settings)
            (self.overrides, self.name, self.out, self.writeOptions) = (overrides, name, out, writeOptions)
            (self.registration, self.started, self.stop) = (registration, started, stop)
        }
    }

    public struct Result: Sendable {
        public var outcome: SearchOutcome
        public var model: TrainedModel
        /// The registered version; nil without a registry or when registering failed.
        public var registered: ModelVersion?
        /// Why the model was not registered although a registry was asked for.
        public var notRegistered: String?
        /// The run's wall time, from `started` until the model was written.
        public var seconds: Double

        public var report: SearchReport { outcome.report }
    }

    /// The search settings a recorded run turns into (the report's importance and attributions included).
    public static func searchSettings(_ settings: RunSettings) throws -> SearchSettings {
        var search = try settings.searchSettings()
        search.analyst = ExplainingAnalyst()
        return search
    }

    /// Direct identifiers the privacy policy keeps as they are (`--allow-pii`).
    static func keptIdentifiers(_ schema: Schema) -> [String] {
        schema.columns.filter { $0.pii?.identifierClass == .direct && schema.privacy?[$0.name] == .keep }.map(\.name)
    }

    /// Writes one audit entry per direct identifier kept; a registry that cannot take them stops the run,
    /// since keeping them is allowed only on the record.
    static func auditKeptIdentifiers(_ request: Request, store: Swift.Result<any RegistryStore, any Error>?, actor: String) async throws {
        let kept = keptIdentifiers(request.schema)
        guard !kept.isEmpty, let store else { return }
        let registry: any RegistryStore
        do { registry = try store.get() } catch {
            throw LifecycleError.invalid("keeping \(kept.joined(separator: ", ")) (--allow-pii) must be written to the audit log, and the registry cannot be opened: \(error)")
        }
        for name in kept {
            let pii = request.schema[name]?.pii
            _ = try await registry.audit(actor: actor, action: "privacy.keep", subject: "\(request.name) column \(name)",
                                   details: ["column": name, "kind": pii?.kind.rawValue ?? "", "class": pii?.identifierClass.rawValue ?? "",
                                             "dataset": request.frame.fingerprint, "source": request.source, "flag": "--allow-pii \(name)"])
        }
    }

    public static func run(_ request: Request, progress: (SearchEvent) -> Void = { _ in }) async throws -> Result {
        let startedAt = ISO8601DateFormatter().string(from: Date())
        var settings = try searchSettings(request.settings)
        var store: Swift.Result<any RegistryStore, any Error>?
        if let registration = request.registration {
            do { store = .success(try await registration.open()) } catch { store = .failure(error) }
            // A kept direct identifier is on the record before any copy of it is stored.
            try await auditKeptIdentifiers(request, store: store, actor: registration.actor)
            // The snapshot before the search: its time is then inside the budget, not taken from its end. A
            // failure here is not lost: registering stores the snapshot again, and its error becomes the
            // result's `notRegistered` (the model still goes to `out`).
            if registration.snapshot, case .success(let opened) = store { try? await opened.storeSnapshot(request.frame) }
        } else if case let kept = keptIdentifiers(request.schema), !kept.isEmpty {
            throw LifecycleError.invalid("keeping a direct identifier (--allow-pii \(kept.joined(separator: ", "))) is written to the registry's audit log, and this run has no registry (--no-registry)")
        }
        settings.writesAfterSearch = request.registration == nil ? 1 : 2
        if request.settings.trials == nil {
            settings.timeBudget = max(1, request.settings.timeBudget - (ContinuousClock.now - request.started).seconds)
        }
        settings.stop = request.stop
        let outcome = try Search.outcome(frame: request.frame, schema: request.schema, settings: settings, progress: progress)
        let model = outcome.model
        var registered: ModelVersion?
        var notRegistered: String?
        if let registration = request.registration, let store {
            do {
                let recorder = TrainingRecorder(registry: try store.get(), name: request.name, source: request.source,
                                                snapshot: registration.snapshot, actor: registration.actor, writeOptions: request.writeOptions)
                let stored = try await recorder.register(
                    outcome, model: model, frame: request.frame, schema: request.schema, profileJSON: request.profileJSON,
                    settings: request.settings, seed: request.settings.seed, overrides: request.overrides, startedAt: startedAt,
                    seconds: (ContinuousClock.now - request.started).seconds, status: request.stop.isRequested ? "stopped" : "completed")
                try await recorder.writeCopy(of: stored, model: model, to: request.out)
                registered = stored.version
            } catch {
                notRegistered = "\(error)"
            }
        }
        if registered == nil {
            var options = request.writeOptions
            options.name = request.name
            try Artifact.write(model, to: request.out, options: options)
        }
        return Result(outcome: outcome, model: model, registered: registered, notRegistered: notRegistered,
                      seconds: (ContinuousClock.now - request.started).seconds)
    }
}
