import ArgumentParser
import Foundation
import KeelData
import KeelLearn
import KeelLifecycle
import KeelSearch

/// `keel trial SPEC`: runs one trial spec, the worker's side of a search. A spec names its configuration,
/// seed purpose, folds and the snapshot of the search rows; the fold scores are those the search that wrote
/// it got. The basis for running trials on other machines; hidden until the search hands trials out.
struct TrialCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trial",
        abstract: "Run one trial spec (a configuration, its folds and a snapshot of the search rows) and print its fold scores.",
        shouldDisplay: false)

    @Argument(help: "The trial spec (JSON), as a search writes it.") var spec: String
    @Option(help: "Stop the trial after this long (for example 30s or 2m); without it, it runs to completion.") var time: DurationArgument?
    @Flag(help: "Print the trial's result as JSON.") var json = false

    func run() throws {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: spec))
        } catch {
            throw ValidationError("cannot read the trial spec \(spec): \((error as NSError).localizedDescription)")
        }
        let decoded: TrialSpec
        do {
            let folder = (spec as NSString).deletingLastPathComponent
            decoded = try TrialSpec.decode(bytes, folder: folder.isEmpty ? "." : folder)
        } catch let refused as TrialSpec.RunError {
            throw refused
        } catch {
            throw ValidationError("\(spec) is not a trial spec: \((error as? DecodingError).map(SchemaFile.describe) ?? "\(error)")")
        }
        let result = try decoded.run(deadline: time.map { .now + .seconds($0.seconds) })
        if json { return print(try JSONOutput.string(result)) }
        let scores = result.foldScores.map { String(format: "%.6f", $0) }.joined(separator: ", ")
        print("trial \(result.id) (\(result.family), \(result.summary)): \(result.status.rawValue)\(result.message.map { ", \($0)" } ?? "")")
        print("\(decoded.context.metric.rawValue) per fold: \(scores)")
        if result.status == .completed { print(String(format: "mean %.6f ± %.6f over %d folds", result.mean, result.std, result.foldScores.count)) }
    }
}
