import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One `key=value` line per event on standard error (logfmt): readable in a terminal, parseable by log
/// collectors. Metadata is formatted only when a line is written, since the server attaches a request id
/// to every request's logger and most of those loggers never write.
struct LogfmtHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    private static let output = Mutex(())

    /// Installs this handler for the whole process (once; later calls do nothing).
    static func bootstrap() {
        _ = installed
    }

    private static let installed: Void = LoggingSystem.bootstrap { LogfmtHandler(label: $0) }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        var line = "ts=\(Date().formatted(.iso8601)) level=\(event.level.rawValue) msg=\(Self.quote(event.message.description))"
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(Self.quote(value.description))"
        }
        line += "\n"
        let bytes = Array(line.utf8)
        Self.output.withLock { _ in _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) } }
    }

    private static func quote(_ text: String) -> String {
        guard text.isEmpty || text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
