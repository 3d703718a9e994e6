import Foundation
/// libFuzzer entry point for the Parquet reader: any bytes must give a frame or a `DataError` naming the
/// problem, never a crash, hang, memory error or an internal error type. Compiled together with KeelData's
/// sources into one instrumented module by `scripts/fuzz parquet`, which seeds it with pyarrow's files
/// (fuzz/seeds/parquet, from fuzz/make_parquet_seeds.py) and with Keel's own (below).
/// The first byte picks a column projection so that the reader's skipping paths are covered too.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParquet(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    if crashOnPurpose { fatalError("KEEL_FUZZ_CRASH is set: crashing on purpose") }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var options = ParquetOptions()
    if let first = bytes.first, first & 1 == 1 { options.columns = ["name", "amount"] }
    do {
        let frame = try ParquetReader.read(bytes: Array(bytes.dropFirst()), name: "fuzz.parquet", options: options)
        _ = frame.fingerprint
    } catch is DataError {
    } catch {
        fatalError("unexpected error type: \(type(of: error)): \(error)")
    }
    return 0
}

/// Writes the seed files (Keel's own writer, seeded values) into KEEL_FUZZ_WRITE_SEEDS, when set, before
/// fuzzing starts: a flat file, nulls, several row groups, one column, an empty string dictionary. Each seed
/// is prefixed with the byte the harness reads as options (0: all columns; 1: a projection).
@_cdecl("LLVMFuzzerInitialize")
public func writeParquetSeeds(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    guard let folder = ProcessInfo.processInfo.environment["KEEL_FUZZ_WRITE_SEEDS"] else { return 0 }
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    var state: UInt64 = 0x5EED
    func next() -> UInt64 { state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return state >> 33 }
    let both: [ParquetWriter.Column] = [.init(name: "name", type: .string), .init(name: "amount", type: .double)]
    let cases: [(String, [ParquetWriter.Column], [[ParquetWriter.Values]])] = [
        ("flat", both, [[.strings((0..<20).map { _ in "n\(next() % 5)" }), .doubles((0..<20).map { _ in Double(next() % 1000) / 8 })]]),
        ("nulls", both, [[.strings((0..<30).map { _ in next() % 3 == 0 ? nil : "level\(next() % 7)" }),
                          .doubles((0..<30).map { _ in next() % 4 == 0 ? nil : Double(next() % 100) - 50 })]]),
        ("groups", both, (0..<3).map { _ in [.strings((0..<8).map { _ in "g\(next() % 3)" }), .doubles((0..<8).map { _ in Double(next() % 10) })] }),
        ("one-column", [.init(name: "amount", type: .double)], [[.doubles((0..<12).map { _ in .nan })]]),
        ("empty-strings", both, [[.strings(Array(repeating: "", count: 5)), .doubles(Array(repeating: 0, count: 5))]]),
    ]
    for (name, columns, groups) in cases {
        let path = folder + "/" + name + ".parquet"
        guard let writer = try? ParquetWriter(path: path, columns: columns) else { continue }
        for group in groups { try? writer.writeRowGroup(group) }
        try? writer.commit()
        for prefix: UInt8 in [0, 1] {
            if let body = FileManager.default.contents(atPath: path) {
                _ = FileManager.default.createFile(atPath: folder + "/\(name)-\(prefix).seed", contents: Data([prefix]) + body)
            }
        }
        try? FileManager.default.removeItem(atPath: path)
    }
    return 0
}

/// Set by the test of the fuzzing script (KEEL_FUZZ_CRASH=1).
let crashOnPurpose = getenv("KEEL_FUZZ_CRASH").map { String(cString: $0) == "1" } ?? false
