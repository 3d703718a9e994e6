import Foundation
import KeelData
import KeelLearn
@testable import KeelSearch
import KeelTestSupport
import Testing

/// A trial is data: its spec, encoded and run by another process (`keel trial`), gives the fold scores the
/// search got, and a spec that cannot give them (other semantics, changed rows, a damaged file) is refused
/// by name.
@Suite(.serialized) struct TrialSpecTests {
    private static func search(trials: Int) throws -> SearchRun {
        let frame = try CSVFixtures.read(CustomerChurnFixture.sample(rows: 600))
        let schema = try SchemaInference.infer(frame, target: "churned").schema
        var settings = SearchSettings()
        settings.trials = trials
        settings.seed = 7
        var run = try SearchRun(frame: frame, schema: schema, settings: settings) { _ in }
        try run.screenColumns { _ in }
        try run.screenValues { _ in }
        run.runTrials { _ in }
        return run
    }

    private func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-trial-spec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func aSpecRunInAChildProcessGivesTheSearchsFoldScores() throws {
        let run = try Self.search(trials: 4)
        let folder = try folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let context = try run.trialContext(snapshot: folder.appendingPathComponent("search-rows.keelsnap").path)
        let completed = run.trials.filter { $0.status == .completed }
        #expect(Set(completed.map(\.family)).count >= 2, "the portfolio's first trials span families: \(completed.map(\.family))")
        for trial in completed {
            let spec = try #require(run.spec(ofTrial: trial.id, context: context))
            #expect(spec.trial.seedPurpose.hasPrefix("portfolio."), "\(spec.trial.seedPurpose)")
            let path = folder.appendingPathComponent("trial-\(trial.id).json")
            try JSONEncoder().encode(spec).write(to: path)
            let child = try KeelProcess.run(["trial", path.path, "--json"])
            #expect(child.status == 0, "\(child.stderr)")
            let result = try JSONDecoder().decode(TrialResult.self, from: Data(child.stdout.utf8))
            #expect(result.status == .completed && result.id == trial.id && result.learner == trial.learner)
            // Bit for bit: the same folds, pipeline, seed and learner give the same numbers.
            #expect(result.foldScores == trial.foldScores, "trial \(trial.id) \(trial.family): \(result.foldScores) against \(trial.foldScores)")
            #expect(result.bestRounds == trial.bestRounds)
        }
        // The human form names the trial and its scores.
        let human = try KeelProcess.run(["trial", folder.appendingPathComponent("trial-\(completed[0].id).json").path])
        #expect(human.status == 0 && human.stdout.contains("trial \(completed[0].id) (\(completed[0].family)") && human.stdout.contains("roc_auc per fold"), "\(human.stdout)")
    }

    @Test func aSpecThatCannotGiveTheSameScoresIsRefusedByName() throws {
        let run = try Self.search(trials: 1)
        let folder = try folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let snapshot = folder.appendingPathComponent("search-rows.keelsnap").path
        let context = try run.trialContext(snapshot: snapshot)
        let spec = try #require(run.spec(ofTrial: 1, context: context))

        var otherVersion = spec
        otherVersion.searchVersion = Search.semanticsVersion + 1
        #expect(throws: TrialSpec.RunError.otherSearchVersion(Search.semanticsVersion + 1)) { try otherVersion.run() }
        var otherFormat = spec
        otherFormat.format = 99
        let formatPath = folder.appendingPathComponent("format.json")
        try JSONEncoder().encode(otherFormat).write(to: formatPath)
        let refused = try KeelProcess.run(["trial", formatPath.path])
        #expect(refused.status == 1 && refused.stderr.contains("format 99"), "\(refused.stderr)")

        var outside = spec
        outside.context.folds[0].validation.append(run.data.searchFrame.rowCount)
        #expect(throws: TrialSpec.RunError.self) { try outside.run() }

        // Other rows under the snapshot's name: the fingerprint no longer matches.
        try FrameSnapshot.write(run.data.searchFrame.selecting(rows: Array(0..<100)), to: snapshot)
        do {
            _ = try spec.run()
            Issue.record("a spec ran on rows that are not the search's")
        } catch let error as TrialSpec.RunError {
            guard case .dataChanged(let file, _, _) = error else { Issue.record("\(error)"); return }
            #expect(file == snapshot)
        }

        // A relative snapshot path is taken from the spec's folder, wherever the worker runs.
        var relative = spec
        relative.context.snapshot = "rows.keelsnap"
        try FrameSnapshot.write(run.data.searchFrame, to: folder.appendingPathComponent("rows.keelsnap").path)
        let relativePath = folder.appendingPathComponent("relative.json")
        try JSONEncoder().encode(relative).write(to: relativePath)
        let ranThere = try KeelProcess.run(["trial", relativePath.path, "--json"])
        #expect(ranThere.status == 0, "\(ranThere.stderr)")
        // Target values that are not class indices are an inconsistency, not a crash.
        var badTarget = spec
        badTarget.context.snapshot = folder.appendingPathComponent("rows.keelsnap").path
        badTarget.context.target[0] = 7
        #expect(throws: TrialSpec.RunError.self) { try badTarget.run() }

        let broken = folder.appendingPathComponent("broken.json")
        try Data("{\"format\": 1, \"trial\": {}}".utf8).write(to: broken)
        let bad = try KeelProcess.run(["trial", broken.path])
        #expect(bad.status == 2 && bad.stderr.contains("broken.json is not a trial spec"), "\(bad.stderr)")
    }
}
