import Foundation
import KeelTestSupport
import Synchronization

/// A `keel serve` process for a test: started on a free port (`--port 0`), its standard error collected in
/// the background, stopped with SIGTERM.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    private let log = LogBuffer()
    private(set) var port = 0
    private(set) var scheme = "http"
    private var reader: Thread?

    init(_ arguments: [String], in directory: URL = Datasets.packageRoot, environment: [String: String] = [:]) throws {
        process.executableURL = KeelProcess.executable
        process.arguments = ["serve"] + arguments + ["--port", "0"]
        process.currentDirectoryURL = directory
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        let log = self.log
        // A thread of its own reads the pipe until end of file, blocking. Not `readabilityHandler`: its
        // dispatch read source, torn down while the pipe closes, crashes libdispatch on Linux now and then
        // (`_dispatch_event_loop_drain`, swift-corelibs-foundation#5507), and took a whole test run with it.
        let handle = err.fileHandleForReading
        reader = Thread {
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                log.append(String(decoding: data, as: UTF8.self))
            }
        }
        try process.run()
        reader?.start()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let text = stderr
            if let range = text.range(of: #"listening on (https?)://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                let url = String(text[range]).replacingOccurrences(of: "listening on ", with: "")
                scheme = url.hasPrefix("https") ? "https" : "http"
                port = Int(url.split(separator: ":").last!)!
                return
            }
            guard process.isRunning else {
                // The process has exited: its last words may still be on their way through the pipe's handler.
                let drained = Date().addingTimeInterval(2)
                while log.text.isEmpty, Date() < drained { Thread.sleep(forTimeInterval: 0.02) }
                break
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        process.terminate()
        throw HTTPTestClient.Failure(description: "keel serve did not start: \(stderr)")
    }

    var stderr: String { log.text }
    var client: HTTPTestClient { HTTPTestClient(port: port) }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Sends SIGTERM and waits; returns the exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning { signal(SIGTERM) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

/// Text appended from a pipe's handler thread and read from the test's.
final class LogBuffer: Sendable {
    private let storage = Mutex("")

    func append(_ text: String) { storage.withLock { $0 += text } }
    var text: String { storage.withLock { $0 } }
}
