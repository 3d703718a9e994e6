import Foundation
import KeelTestSupport
import Testing

/// `scripts/fuzz` is CI's fuzzing step (CSV and Parquet readers): a crash of either harness must fail it (a
/// filter after the fuzzer once hid its exit status). The harnesses crash on purpose when KEEL_FUZZ_CRASH=1.
@Suite(.serialized) struct FuzzScriptTests {
    private func fuzz(_ target: String, seconds: Int, environment: [String: String]) throws -> (status: Int32, stderr: String) {
        try ScriptRun.script("fuzz", [target, String(seconds)], environment: environment)
    }

    @Test(arguments: ["csv", "parquet"])
    func aCrashOfTheHarnessFailsTheScriptAndACleanRunPasses(target: String) throws {
        let crashed = try fuzz(target, seconds: 2, environment: ["KEEL_FUZZ_CRASH": "1"])
        #expect(crashed.status != 0, "a crashing fuzzer exited 0")
        #expect(crashed.stderr.contains("the \(target) fuzzer failed"), "\(crashed.stderr)")
        let clean = try fuzz(target, seconds: 1, environment: ["KEEL_FUZZ_CRASH": "0"])
        #expect(clean.status == 0, "\(clean.stderr)")
    }
}
