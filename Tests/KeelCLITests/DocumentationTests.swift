import Foundation
import KeelTestSupport
import Testing

/// The documentation that is generated from the command definitions stays in step with them, and the shell
/// completion the getting-started page tells users to install exists for each shell it names.
@Suite struct DocumentationTests {
    @Test func theCommandReferenceMatchesTheCommandDefinitions() throws {
        let check = try ScriptRun.script("command-reference", ["--check"], environment: ["KEEL_BIN": KeelProcess.executable.path])
        #expect(check.status == 0, "docs/reference is out of date; run scripts/command-reference:\n\(check.stderr.suffix(3000))")
    }

    @Test func theCheckFailsWhenAPageDiffers() throws {
        // A copy of the reference with one page changed: the check must notice and name it.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("keel-docs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("scripts"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("docs"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Datasets.packageRoot.appendingPathComponent("scripts/command-reference"),
                                         to: root.appendingPathComponent("scripts/command-reference"))
        try FileManager.default.copyItem(at: Datasets.packageRoot.appendingPathComponent("docs/reference"), to: root.appendingPathComponent("docs/reference"))
        let page = root.appendingPathComponent("docs/reference/train.md")
        try (String(contentsOf: page, encoding: .utf8) + "\nAn edit by hand.\n").write(to: page, atomically: true, encoding: .utf8)
        let check = try ScriptRun.run(root.appendingPathComponent("scripts/command-reference"), ["--check"],
                                      environment: ["KEEL_BIN": KeelProcess.executable.path])
        #expect(check.status == 1)
        #expect(check.stderr.contains("train.md"), "the failing check names the page: \(check.stderr.prefix(500))")
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsAreGenerated(shell: String) throws {
        let result = try KeelProcess.run(["--generate-completion-script", shell])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("train"), "the \(shell) script completes the subcommands")
        #expect(result.stdout.contains("target"), "and their options (fish spells them -l target)")
    }
}
