import ArgumentParser
import Foundation
import KeelData
import KeelLifecycle
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

    @Option(help: ArgumentHelp("Write instead the personal-data detector's labelled set: this many columns of each kind and of each decoy, named col_N, with their labels in OUT.labels.json (bench/pii_detection.sh).",
                               visibility: .hidden))
    var personalDataColumns: Int?

    func validate() throws {
        guard rows > 0 else { throw ValidationError("--rows must be positive, not \(rows)") }
        if let count = personalDataColumns, count <= 0 { throw ValidationError("--personal-data-columns must be positive, not \(count)") }
    }

    func run() throws {
        let folder = (out as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        if let count = personalDataColumns { return try writeLabelledSet(count) }
        try AtomicFile.write(CustomerChurnData(rows: rows, seed: seed).csv(), to: out)
        Terminal.progress("wrote \(rows) rows to \(out)")
    }

    private func writeLabelledSet(_ count: Int) throws {
        var generator = PersonalDataColumns(rows: rows, seed: seed)
        let columns = generator.labelled(count: count)
        var lines = [CSVLine.join(columns.indices.map { "col_\($0)" })]
        for row in 0..<rows { lines.append(CSVLine.join(columns.map { $0.values[row] })) }
        try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: out)
        let labels = columns.enumerated().map { i, column in ["column": "col_\(i)", "kind": column.kind?.rawValue ?? "", "decoy": column.decoy ?? ""] }
        try AtomicFile.write(try JSONOutput.string(labels) + "\n", to: out + ".labels.json")
        Terminal.progress("wrote \(columns.count) labelled columns of \(rows) rows to \(out) and \(out).labels.json")
    }
}
