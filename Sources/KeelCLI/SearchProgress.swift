import Foundation
import KeelLearn
import KeelSearch

#if canImport(Glibc)
import Glibc
#endif

/// Renders search events on standard error: one live, rewritten status line on a terminal (elapsed and
/// budget, trials done, best score so far, the learner running); plain log lines otherwise.
final class SearchProgress: @unchecked Sendable {
    private let metric: String
    private let budget: Double?
    private let live = isatty(2) == 1
    private var done = 0
    private var best: String = "–"

    init(metric: String, budget: Double?) {
        self.metric = metric
        self.budget = budget
    }

    func handle(_ event: SearchEvent) {
        switch event {
        case .plan(let text), .refitting(let text):
            clear()
            Terminal.progress(text)
        case .stopping(let reason):
            clear()
            Terminal.progress("stopping the search: \(reason); refitting the best model so far")
        case .trialStarted(let id, let family, _):
            if live { status("trial \(id) \(family) running") }
        case .trialFinished(let trial, let leader, let elapsed):
            done += 1
            if let leader { best = "\(Format.fixed(leader.mean, 4)) (\(leader.family))" }
            let clock = budget.map { "\(Int(elapsed))s/\(Int($0))s" } ?? "\(Int(elapsed))s"
            if live {
                status("[\(clock)] \(done) trials, best \(metric) \(best)")
            } else if trial.status == .completed {
                Terminal.progress("[\(clock)] trial \(trial.id) \(trial.family) (\(trial.summary)): \(metric) \(Format.score(trial.mean, std: trial.std, folds: trial.foldScores.count))")
            } else {
                Terminal.progress("[\(clock)] trial \(trial.id) \(trial.family): \(trial.status.rawValue)\(trial.message.map { " (\($0))" } ?? "")")
            }
        }
    }

    func finish() { clear() }

    private func status(_ text: String) {
        FileHandleOutput.standardError.write("\r\u{1B}[K\(text)")
    }

    private func clear() {
        if live { FileHandleOutput.standardError.write("\r\u{1B}[K") }
    }
}

/// Turns the first SIGINT or SIGTERM into a stop request (the search ends after the trial under way and
/// still writes its model and report); a second one ends the process at once.
enum InterruptHandling {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    static func install(_ stop: StopRequest) {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                if stop.isRequested { exit(130) }
                stop.request()
                Terminal.progress("\nstop requested: finishing the trial under way, then saving the best model so far (again to quit now)")
            }
            source.resume()
            sources.append(source)
        }
    }
}
