import Foundation
import KeelTestSupport

/// Runs the built `keel` executable as a user would, capturing standard output, standard error and the exit code.
struct KeelProcess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The `keel` binary next to the test bundle (SwiftPM builds it because the tests depend on it).
    static let executable: URL = {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("keel").path), folder.path != "/" {
            folder = folder.deletingLastPathComponent()
        }
        return folder.appendingPathComponent("keel")
    }()

    /// Where runs register models unless a test names its own registry: a folder of this test process,
    /// never the checkout's `.keel`.
    static let sharedRegistry = FileManager.default.temporaryDirectory.appendingPathComponent("keel-tests-\(getpid())").path

    static func run(_ arguments: [String], in directory: URL = Datasets.packageRoot, environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        var variables = ProcessInfo.processInfo.environment
        variables["KEEL_HOME"] = variables["KEEL_HOME"] ?? sharedRegistry
        process.environment = variables.merging(environment) { _, given in given }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self))
    }
}
