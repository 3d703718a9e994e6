import Foundation
import KeelData

/// Helpers for tests that read CSV text.
public enum CSVFixtures {
    public static func read(_ text: String, options: CSVOptions = CSVOptions()) throws -> Frame {
        try CSVReader.read(bytes: Array(text.utf8), name: "test.csv", options: options)
    }

    /// Writes `bytes` to a fresh temporary file and returns its path.
    public static func temporaryFile(_ bytes: [UInt8], suffix: String = ".csv") throws -> String {
        let path = NSTemporaryDirectory() + "keel-test-\(UUID().uuidString)\(suffix)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    public static func temporaryFile(_ text: String, suffix: String = ".csv") throws -> String {
        try temporaryFile(Array(text.utf8), suffix: suffix)
    }

    /// The message of the error `body` throws, or nil when it does not throw.
    public static func errorMessage(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return String(describing: error)
        }
    }
}
