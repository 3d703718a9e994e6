import Foundation

/// Reads one Parquet file with Keel's reader and prints one JSON line: wall seconds, peak RSS and RSS before
/// reading (as bench/Sources/csv-read does for CSV). Compiled with KeelData's sources by bench/parquet_read.sh.
@main
enum ParquetReadBenchmark {
    static func main() throws {
        guard CommandLine.arguments.count == 2 else {
            FileHandle.standardError.write(Data("usage: parquet-read FILE\n".utf8))
            exit(2)
        }
        let baseline = residentMegabytes()
        let started = ContinuousClock.now
        let frame = try ParquetReader.read(path: CommandLine.arguments[1])
        let (seconds, attoseconds) = (ContinuousClock.now - started).components
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let peak = Double(usage.ru_maxrss) / 1024
        let wall = Double(seconds) + Double(attoseconds) / 1e18
        print("{\"rows\": \(frame.rowCount), \"columns\": \(frame.columnCount), \"seconds\": \(wall), \"peak_mb\": \(peak), \"baseline_mb\": \(baseline)}")
    }

    private static func residentMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kilobytes / 1024
    }
}
