import Foundation
#if canImport(KeelData)
import KeelData
#endif

/// Reads one table file with Keel, CSV or Parquet as `keel` would decide, and prints one JSON line: wall
/// seconds, peak RSS and RSS before reading. Built by the bench package for bench/csv_read.sh, and compiled
/// with KeelData's sources into one module by bench/parquet_read.sh (hence the conditional import).
@main
enum ReadBenchmark {
    static func main() throws {
        guard CommandLine.arguments.count == 2 else {
            FileHandle.standardError.write(Data("usage: csv-read FILE\n".utf8))
            exit(2)
        }
        let path = CommandLine.arguments[1]
        let baseline = residentMegabytes()
        let started = ContinuousClock.now
        let frame = CSVOptions().isParquet(path) ? try ParquetReader.read(path: path) : try CSVReader.read(path: path)
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
