import Foundation
import KeelSynthetic
import KeelTestSupport
import Testing

@Suite struct InspectCommandTests {
    private let example = "examples/customer_churn.csv"

    @Test func helpAndVersion() throws {
        let help = try KeelProcess.run(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE: keel <subcommand>"))
        #expect(help.stdout.contains("inspect"))
        let inspectHelp = try KeelProcess.run(["inspect", "--help"])
        #expect(inspectHelp.status == 0)
        for flag in ["--target", "--schema", "--task", "--positive-class", "--id", "--time-column", "--group", "--weight",
                     "--protected", "--ignore", "--categorical", "--numeric", "--json", "--write-schema"] {
            #expect(inspectHelp.stdout.contains(flag), "help lacks \(flag)")
        }
        #expect(try KeelProcess.run(["example", "--help"]).status == 0)
        let version = try KeelProcess.run(["--version"])
        #expect(version.status == 0 && version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
    }

    @Test func inspectsTheExample() throws {
        let result = try KeelProcess.run(["inspect", example, "--target", "churned"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("4000 rows × 14 columns"))
        #expect(result.stdout.contains("target 'churned': binary"))
        #expect(result.stdout.contains("positive class 'yes'"))
        #expect(result.stdout.contains("customer_id"))
        #expect(result.stdout.contains("id-like"))
        #expect(result.stderr.contains("read \(example)"), "progress goes to standard error")
        #expect(!result.stdout.contains("read \(example)"))
    }

    @Test func jsonIsOneDocument() throws {
        let result = try KeelProcess.run(["inspect", example, "--target", "churned", "--json"])
        #expect(result.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        #expect(object?["rows"] as? Int == 4000)
        #expect((object?["task"] as? [String: Any])?["kind"] as? String == "binary")
        #expect((object?["profile"] as? [Any])?.count == 14)
        #expect((object?["fingerprint"] as? String)?.count == 64)
        #expect(result.stderr.isEmpty)
    }

    @Test func schemaFileRoundTripWithOverrides() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let schemaPath = folder.appendingPathComponent("schema.yaml").path
        let data = Datasets.packageRoot.appendingPathComponent(example).path
        let written = try KeelProcess.run(["inspect", data, "--target", "churned", "--time-column", "snapshot_month",
                                           "--protected", "region", "--write-schema", schemaPath, "--quiet"])
        #expect(written.status == 0, "\(written.stderr)")
        let yaml = try String(contentsOfFile: schemaPath, encoding: .utf8)
        #expect(yaml.contains("role: protected"))
        let reread = try KeelProcess.run(["inspect", data, "--schema", schemaPath, "--json"])
        #expect(reread.status == 0, "\(reread.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(reread.stdout.utf8)) as? [String: Any]
        let columns = (object?["schema"] as? [String: Any])?["columns"] as? [[String: Any]] ?? []
        #expect(columns.first { $0["name"] as? String == "snapshot_month" }?["role"] as? String == "time")
        #expect(columns.first { $0["name"] as? String == "region" }?["role"] as? String == "protected")
        #expect(object?["target"] as? String == "churned")

        try "columns:\n  - name: plan\n    kind: categorical\n    rol: id\n".write(toFile: schemaPath, atomically: true, encoding: .utf8)
        let bad = try KeelProcess.run(["inspect", data, "--schema", schemaPath])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("unknown key 'rol'"))
    }

    @Test func errorsAndUsageErrorsHaveTheirExitCodes() throws {
        let missing = try KeelProcess.run(["inspect", "no/such.csv"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "error: cannot open no/such.csv: No such file or directory\n")
        let badTarget = try KeelProcess.run(["inspect", example, "--target", "nope"])
        #expect(badTarget.status == 1 && badTarget.stderr.contains("unknown column 'nope'"))
        let ragged = try CSVFixtures.temporaryFile("a,b\n1,2\n3\n")
        let raggedResult = try KeelProcess.run(["inspect", ragged])
        #expect(raggedResult.status == 1 && raggedResult.stderr.contains("\(ragged):3: expected 2 fields"))
        let usage = try KeelProcess.run(["inspect"])
        #expect(usage.status == 2 && usage.stderr.contains("Missing expected argument"))
        let unknownFlag = try KeelProcess.run(["inspect", example, "--bogus"])
        #expect(unknownFlag.status == 2)
        let badTask = try KeelProcess.run(["inspect", example, "--target", "churned", "--task", "ranking"])
        #expect(badTask.status == 2)
        let badDelimiter = try KeelProcess.run(["inspect", example, "--delimiter", "ab"])
        #expect(badDelimiter.status == 2 && badDelimiter.stderr.contains("--delimiter takes one character"))
        let unknownCommand = try KeelProcess.run(["frobnicate"])
        #expect(unknownCommand.status == 2)
    }

    @Test func bundledExampleIsWhatTheGeneratorMakes() throws {
        let committed = try String(contentsOf: Datasets.packageRoot.appendingPathComponent(example), encoding: .utf8)
        #expect(committed == CustomerChurnData().csv())
    }
}
