import ArgumentParser
import Foundation
import KeelData
import KeelSynthetic

/// `keel example`: writes the seeded example dataset that the README and tests use.
struct ExampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "example",
        abstract: "Write the seeded customer-churn example dataset (mixed kinds, missing values, drift over time)."
    )

    @Option(help: "Where to write the CSV file.")
    var out: String = "examples/customer_churn.csv"

    @Option(help: "Number of rows.")
    var rows: Int = 4000

    @Option(help: "Random seed.")
    var seed: UInt64 = 7

    func validate() throws {
        guard rows > 0 else { throw ValidationError("--rows must be positive, not \(rows)") }
    }

    func run() throws {
        let folder = (out as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try AtomicFile.write(CustomerChurnData(rows: rows, seed: seed).csv(), to: out)
        Terminal.progress("wrote \(rows) rows to \(out)")
    }
}
