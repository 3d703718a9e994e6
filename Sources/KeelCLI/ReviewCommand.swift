import ArgumentParser
import Foundation
import KeelArtifact
import KeelData
import KeelLifecycle
import KeelRegistry

/// `keel review …`: the queue of predictions humility rules sent to people, from the terminal.
struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "List, show and decide predictions that humility rules queued for review.",
        discussion: """
        Rows reach the queue when a humility rule with `action: review` fires on a served prediction (see \
        `models.NAME.humility` in the registry's keel.yaml). A decision is audited and becomes a feedback label \
        that remembers its source (review-confirm or review-override, beside observed labels); retraining uses \
        review labels only with --use-review-labels.
        """,
        subcommands: [List.self, Show.self, Decide.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queued items, least confident first.")
        @Option(help: "Only this model's items.") var model: String?
        @Option(help: "open (default), decided or all.") var status = "open"
        @Option(help: "At most this many items.") var limit = 50
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        func validate() throws {
            if status != "all" && ReviewItem.Status(rawValue: status) == nil { throw ValidationError("--status must be open, decided or all, not '\(status)'") }
            if limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let items = try await registry.open().reviewItems(model: model, status: ReviewItem.Status(rawValue: status), limit: limit)
            if json { return print(ReviewItem.jsonText(["items": items.map(\.json)])) }
            guard !items.isEmpty else { return print("no \(status == "all" ? "" : status + " ")review items\(model.map { " of \($0)" } ?? "") in \(registry.folder)") }
            print(TextTable.render(
                header: ["id", "model", "prediction", "confidence", "status", "rules", "created"],
                rows: items.map { item in
                    [String(item.id), "\(item.model)@\(item.version)", item.prediction, item.confidence.map { Format.fixed($0, 3) } ?? "-",
                     item.status == .decided ? "\(item.decision?.rawValue ?? "") → \(item.label ?? "")" : "open",
                     ReviewCommand.ruleNames(item.flags), ReviewCommand.time(item.createdAt)]
                }, rightAligned: [0, 3]).joined(separator: "\n"))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One item: the row, the prediction, why it was queued and any decision.")
        @Argument(help: "The item id.") var id: Int
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            guard let item = try await registry.open().reviewItem(id) else { throw RegistryError.notFound("there is no review item \(id) in \(registry.folder)") }
            if json { return print(ReviewItem.jsonText(item.json)) }
            var lines = ["review item \(item.id): \(item.model)@\(item.version), request \(item.requestID) row \(item.row), queued \(ReviewCommand.time(item.createdAt))",
                         "  row: \(item.inputs)",
                         "  prediction: \(item.prediction)\(item.probabilities.map { " \($0)" } ?? "")"]
            if let flags = try? JSONDecoder().decode([FlagText].self, from: Data(item.flags.utf8)) {
                for flag in flags { lines.append("  \(flag.rule) (\(flag.trigger), \(flag.action)): \(flag.reason)") }
            }
            lines.append("  reasons: \(item.reasons)")
            if item.status == .decided {
                lines.append("  decided \(item.decision?.rawValue ?? "") → '\(item.label ?? "")' by \(item.decidedBy ?? "") at \(ReviewCommand.time(item.decidedAt ?? 0))\(item.comment.map { $0.isEmpty ? "" : ": \($0)" } ?? "")")
            } else {
                lines.append("  open: decide with `keel review decide \(item.id) --decision confirm|override [--label L] --by NAME`")
            }
            print(lines.joined(separator: "\n"))
        }
    }

    struct Decide: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Confirm an item's prediction or override it with another label; audited, and kept as a feedback label with its source.")
        @Argument(help: "The item id.") var id: Int
        @Option(help: "confirm (the prediction was right) or override (give --label).") var decision: ReviewItem.Decision
        @Option(help: "The right label: a class of the model as spelled in training, or a number for regression.") var label: String?
        @Option(help: "Why, for the audit log.") var comment = ""
        @Option(help: ArgumentHelp("Who decides, for the audit log.", valueName: "actor")) var by: String
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions
        @OptionGroup var keys: ArtifactReadOptions

        func validate() throws {
            if decision == .override && label == nil { throw ValidationError("--decision override needs --label: the label that replaces the prediction") }
            if by.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--by must name who decides") }
        }

        func run() async throws {
            let store = try await registry.open()
            guard let item = try await store.reviewItem(id) else { throw RegistryError.notFound("there is no review item \(id) in \(registry.folder)") }
            if decision == .override, let label, let version = Int(item.version),
               let registered = try? await store.resolve(ModelReference(name: item.model, selector: .version(version))),
               let file = try? await store.artifactFile(registered),
               let task = try? Artifact.inspect(file, options: try keys.readOptions()).manifest.schema.task {
                if task.kind == .regression {
                    guard Double(label)?.isFinite == true else { throw ValidationError("'\(label)' is not a number, and \(item.model) is a regression model") }
                } else if let classes = task.classes, !classes.contains(label) {
                    throw ValidationError("'\(label)' is not a class of \(item.model) (its classes: \(classes.joined(separator: ", ")))")
                }
            }
            let decided = try await store.decideReview(id: id, decision: decision, label: label, comment: comment, actor: by)
            if json { return print(ReviewItem.jsonText(decided.json)) }
            print("review item \(id): \(decision.rawValue) → '\(decided.label ?? "")', recorded as a \(decision == .confirm ? "review-confirm" : "review-override") label and in the audit log")
        }
    }

    private struct FlagText: Decodable { var rule: String; var trigger: String; var action: String; var reason: String }

    static func ruleNames(_ flags: String) -> String {
        ((try? JSONDecoder().decode([FlagText].self, from: Data(flags.utf8))) ?? []).map(\.rule).joined(separator: ", ")
    }

    static func time(_ seconds: Double) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: seconds))
    }
}

extension ReviewItem.Decision: ExpressibleByArgument {}
