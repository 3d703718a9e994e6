import Foundation
import KeelRegistry

/// The server's background retraining: every `every` seconds, `keel retrain NAME --promote` for each model
/// in production, as a child process (training must not share a crash or a heap with serving; on two cores it
/// still competes for time, so choose the interval and the policy's budget accordingly).
public struct RetrainJob: Sendable {
    public var registry: String
    public var every: Double
    /// Where each run's one-line outcome goes (the server's log).
    public var report: @Sendable (String) -> Void

    public init(registry: String, every: Double, report: @escaping @Sendable (String) -> Void) {
        (self.registry, self.every, self.report) = (registry, every, report)
    }

    public func start() -> Task<Void, Never> {
        Task.detached(priority: .background) {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int(every * 1000)))
                guard !Task.isCancelled, let store = try? await RegistryStores.open(registry, create: false),
                      let names = try? await Set(store.allModels().filter { $0.stage == .production }.map(\.name)) else { continue }
                for name in names.sorted() { run(name) }
            }
        }
    }

    private func run(_ name: String) {
        let process = Process()
        // This very binary, wherever it was started from.
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["retrain", name, "--promote", "--registry", registry, "--by", "keel serve (retrain job)"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        do {
            try process.run()
            let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let summary = output.split(separator: "\n").last.map(String.init) ?? ""
            report("retrain job for \(name): exit \(process.terminationStatus)\(summary.isEmpty ? "" : ": \(summary)")")
        } catch {
            report("retrain job for \(name) could not start: \(error)")
        }
    }
}
