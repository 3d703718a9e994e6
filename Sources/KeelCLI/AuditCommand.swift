import ArgumentParser
import Foundation
import KeelArtifact
import KeelData
import KeelLifecycle
import KeelRegistry

/// `keel audit …`: check and export the registry's hash-chained audit log.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify, export and sign the registry's tamper-evident audit log.",
        subcommands: [Verify.self, Export.self, Checkpoint.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the hash chain, its head and signed checkpoints; exit code 3 names the first bad entry.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var registry: RegistryOptions

        struct Output: Encodable {
            var intact: Bool
            var entries: Int
            var checkpoints: Int
            var problem: String?
            var firstBadEntry: Int?
        }

        func run() async throws {
            let result = try await registry.open().verifyAudit()
            if json {
                print(try JSONOutput.string(Output(intact: result.problem == nil, entries: result.entries, checkpoints: result.checkpoints,
                                                   problem: result.problem, firstBadEntry: result.firstBadEntry)))
            }
            if let problem = result.problem { throw CheckFailed(message: "audit log at \(registry.folder) is NOT intact: \(problem)") }
            if !json { print("audit log intact: \(result.entries) entries, \(result.checkpoints) signed checkpoint\(result.checkpoints == 1 ? "" : "s")") }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every entry, oldest first, as JSON lines or CSV (for auditors).")
        @Option(help: "jsonl or csv.") var format: String = "jsonl"
        @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file")) var out: String?
        @OptionGroup var registry: RegistryOptions

        func validate() throws {
            guard ["jsonl", "csv"].contains(format) else { throw ValidationError("--format takes jsonl or csv, not '\(format)'") }
        }

        func run() async throws {
            let entries = try await registry.open().auditEntries()
            var text = ""
            if format == "jsonl" {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                for entry in entries { text += String(decoding: try encoder.encode(entry), as: UTF8.self) + "\n" }
            } else {
                text = "sequence,at,actor,action,subject,details,previous_hash,hash\n"
                for entry in entries {
                    text += [String(entry.sequence), entry.at, entry.actor, entry.action, entry.subject, entry.details, entry.previousHash, entry.hash]
                        .map(CSVLine.quote).joined(separator: ",") + "\n"
                }
            }
            if let out { try AtomicFile.write(text, to: out) } else { print(text, terminator: "") }
        }
    }

    struct Checkpoint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign the log's current head with an Ed25519 key, so later rewrites are caught even with the head file.")
        @Option(help: ArgumentHelp("The Ed25519 private key (from `keel keys generate-signing`).", valueName: "file")) var signKeyFile: String
        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let checkpoint = try await registry.open().writeCheckpoint(signingKey: try SigningKey(file: signKeyFile))
            print("signed checkpoint at entry \(checkpoint.count) (hash \(checkpoint.hash.prefix(16))…)")
        }
    }
}
