import ArgumentParser
import Foundation
import KeelArtifact
import KeelData
import KeelLearn
import KeelLifecycle
import KeelRegistry
import Yams

extension ModelsCommand {
    /// `keel models humility NAME`: what the model's humility rules would have flagged on its holdout, and
    /// thresholds that flag about a chosen share of it.
    struct Humility: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what a model's humility rules flag on its holdout; --recommend suggests thresholds.",
            discussion: """
            The rules come from the registry's keel.yaml (models.NAME.humility). Each is run on the version's \
            holdout rows (rows its search never saw) and the share it flags is shown. --recommend adds one rule \
            per trigger the model supports, with the threshold that flags about --flag-rate of the holdout, ready \
            to paste into keel.yaml. A model refitted on all rows (--refit-full) has seen its holdout: said, \
            since its holdout probabilities are then optimistic.
            """)
        @Argument(help: "NAME, NAME@VERSION or NAME@STAGE.") var model: String
        @Flag(help: "Suggest a threshold per trigger that flags about --flag-rate of the holdout.") var recommend = false
        @Option(help: "The share of holdout rows the suggested thresholds should flag (default 0.05).") var flagRate = 0.05
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions
        @OptionGroup var keys: ArtifactReadOptions

        func validate() throws {
            if !(flagRate > 0 && flagRate < 1) { throw ValidationError("--flag-rate must be between 0 and 1 (e.g. 0.05), not \(flagRate)") }
        }

        struct Output: Encodable {
            var model: String
            var check: HumilityCheck
        }

        func run() async throws {
            let store = try await registry.open()
            let version = try await store.resolve(try ModelsCommand.reference(model))
            let rules = try await registry.configuration(store)?.humility(for: version.name) ?? []
            guard let runID = version.run, let file = try await store.run(runID).holdoutSnapshot else {
                throw RegistryError.notFound("\(version.reference) has no holdout in the registry (imported without one, or trained before holdouts were kept), so there is nothing to check the rules on")
            }
            let trained = try await Artifact.read(from: store.artifactFile(version), options: try keys.readOptions()).model
            let holdout = try await store.loadSnapshot(file)
            let check: HumilityCheck
            do {
                check = try HumilityCheck.run(model: trained, rules: rules, holdout: holdout, flagRate: recommend ? flagRate : nil)
            } catch let error as HumilityError {
                throw DataError.invalidSchema("\(store.location)/keel.yaml models.\(version.name).\(error)")
            }
            if json { return print(try JSONOutput.string(Output(model: version.reference, check: check))) }
            var lines = ["\(version.reference): humility rules on its \(check.holdoutRows) holdout rows"]
            if check.modelSawHoldout {
                lines.append("note: the model was refitted on all rows (--refit-full), holdout included, so its probabilities there are optimistic")
            }
            if check.rules.isEmpty {
                lines.append("no rules: add them under models.\(version.name).humility in \(store.location)/keel.yaml" + (recommend ? "" : " (--recommend suggests some)"))
            } else {
                lines += Self.table(check.rules)
            }
            if let recommended = check.recommended {
                lines.append("")
                lines.append("suggested for about \(Format.fixed(flagRate * 100, 1))% flagged (paste under models.\(version.name).humility and choose each action):")
                lines += Self.table(recommended)
                lines.append("")
                lines += recommended.map { "  - " + Self.yaml($0.rule) }
            }
            for note in check.notes { lines.append("note: \(note)") }
            print(lines.joined(separator: "\n"))
        }

        static func table(_ effects: [HumilityCheck.Effect]) -> [String] {
            var lines = TextTable.render(
                header: ["rule", "trigger", "action", "condition", "flagged", "share"],
                rows: effects.map { [$0.rule.name, $0.rule.trigger.rawValue, $0.rule.action.rawValue, $0.rule.condition, String($0.flagged), Format.fixed($0.share * 100, 1) + "%"] },
                rightAligned: [4, 5])
            for effect in effects {
                if let example = effect.examples.first { lines.append("  e.g. \(effect.rule.name): \(example)") }
            }
            return lines
        }

        /// The rule as one line of keel.yaml.
        static func yaml(_ rule: HumilityRule) -> String {
            var parts = ["trigger: \(rule.trigger.rawValue)"]
            if let t = rule.maxProbabilityBelow { parts.append("max_probability_below: \(NumberFormatting.canonical(t))") }
            if let s = rule.outlierScoreAbove { parts.append("outlier_score_above: \(NumberFormatting.canonical(s))") }
            if let m = rule.minTrainingRows { parts.append("min_training_rows: \(NumberFormatting.canonical(m))") }
            parts.append("action: \(rule.action.rawValue)")
            return "{" + parts.joined(separator: ", ") + "}"
        }
    }
}
