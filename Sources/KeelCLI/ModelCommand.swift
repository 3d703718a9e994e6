import ArgumentParser
import Foundation
import KeelArtifact
import KeelData
import KeelLifecycle
import KeelRegistry

/// `keel model info FILE`: what a model file holds, readable without its decryption key.
struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Look inside model files.",
        subcommands: [Info.self]
    )

    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a model file's manifest: format, Keel version, task, schema, scores, fingerprint, seed.",
            discussion: "The manifest is never encrypted, so no key is needed. With --verify-key-file, an unsigned or wrongly signed file is an error."
        )

        @Argument(help: "A model file, or a registered model: NAME, NAME@VERSION or NAME@production.")
        var file: String

        @Option(help: ArgumentHelp("Check the file's signature against this Ed25519 public key.", valueName: "file"))
        var verifyKeyFile: String?

        @Flag(help: "Print the manifest as JSON.")
        var json = false

        @OptionGroup var registry: RegistryOptions

        func run() async throws {
            let info = try Artifact.inspect(try await registry.modelPath(file), options: Artifact.ReadOptions(verifyKey: try verifyKeyFile.map(VerifyKey.init(file:))))
            if json {
                print(try JSONOutput.string(Summary(info)))
                return
            }
            let m = info.manifest
            var lines = [
                "file            \(file)",
                "format          \(m.formatVersion)",
                "keel version    \(m.keelVersion)",
                "created         \(m.createdAt)",
                "name            \(m.name ?? "-")",
                "task            \(m.schema.task.map { $0.kind.rawValue + ($0.classes.map { " (\($0.joined(separator: ", ")))" } ?? "") } ?? "-")",
                "target          \(m.schema.target ?? "-")",
                "model           \(m.modelKind)",
                "validation      \(m.validation)",
                "cv \(m.metric)\(String(repeating: " ", count: max(1, 12 - m.metric.count)))\(Format.fixed(m.crossValidatedScore, 4))",
                "holdout         \(Format.fixed(m.holdoutScore, 4))\(m.refittedOnAllRows ? " (before the refit on all rows)" : "")",
                "data            \(m.dataFingerprint)",
                "seed            \(m.seed)",
                "trials          \(m.trialCount)",
                "checksum        \(info.checksum)",
                "payload         \(m.payload.bytes) bytes \(m.payload.encoding)\(m.payload.encryption.map { ", encrypted (\($0))" } ?? "")",
                "signature       \(info.signer.map { "Ed25519 by \($0)\(verifyKeyFile == nil ? " (not checked against a trusted key)" : " (verified)")" } ?? "none")",
                "",
                "columns:",
            ]
            for column in m.schema.columns {
                lines.append("  \(column.name)  \(column.kind.rawValue)  \(column.role.rawValue)\(column.nullable ? "  nullable" : "")")
            }
            print(lines.joined(separator: "\n"))
        }
    }

    /// The JSON form: the manifest plus what the container says about itself.
    struct Summary: Encodable {
        var manifest: ArtifactManifest
        var checksum: String
        var signer: String?
        var encrypted: Bool

        init(_ info: ArtifactInfo) {
            manifest = info.manifest
            checksum = info.checksum
            signer = info.signer
            encrypted = info.encrypted
        }
    }
}
