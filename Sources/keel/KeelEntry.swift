import KeelCLI

/// The `keel` executable: everything lives in `KeelCLI` so tests can run commands in-process too.
@main
enum KeelEntry {
    static func main() async {
        await KeelCommand.runAndExit()
    }
}
