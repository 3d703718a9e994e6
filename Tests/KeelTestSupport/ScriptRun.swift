import Foundation

/// Runs one of the package's scripts (or any executable) and returns its exit status and standard error,
/// standard output discarded: how tests check that CI's checks fail when they should.
public enum ScriptRun {
    public static func run(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    /// A script in the package's `scripts/` folder.
    public static func script(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, stderr: String) {
        try run(Datasets.packageRoot.appendingPathComponent("scripts/\(name)"), arguments, environment: environment)
    }
}
