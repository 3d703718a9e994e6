import Foundation
/// libFuzzer entry point for the CSV reader: any bytes must give a frame or a `DataError`, never a crash,
/// hang or memory error. Compiled together with KeelData's sources into one instrumented module by
/// `scripts/fuzz-csv` (SwiftPM does not instrument a dependency package for coverage).
/// The first byte picks reader options so that explicit delimiters and header-less files are covered too.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    // A deliberate crash, so that a test can show a crash fails `scripts/fuzz-csv`.
    if crashOnPurpose { fatalError("KEEL_FUZZ_CRASH is set: crashing on purpose") }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var options = CSVOptions()
    if let first = bytes.first {
        if first & 1 == 1 { options.hasHeader = false }
        if first & 6 != 0 { options.delimiter = CSVOptions.detectableDelimiters[Int(first >> 1 & 3)] }
        if first & 8 != 0 { options.missingMarkers = ["-", ""] }
    }
    do {
        let frame = try CSVReader.read(bytes: Array(bytes.dropFirst()), name: "fuzz.csv", options: options)
        _ = frame.fingerprint
        _ = try SchemaInference.infer(frame, target: frame.columnNames.last)
    } catch is DataError {
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    return 0
}

/// Set by the test of the fuzzing script (KEEL_FUZZ_CRASH=1).
let crashOnPurpose = getenv("KEEL_FUZZ_CRASH").map { String(cString: $0) == "1" } ?? false
