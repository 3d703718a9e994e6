import Foundation

/// Reads RFC 4180 delimited text into a `Frame` in one streaming pass.
///
/// Handles quoted fields, doubled quotes, newlines inside quotes, CRLF / LF / CR line ends, a UTF-8 byte
/// order mark, gzip input, delimiter detection and missing-value markers. Memory stays close to the typed
/// columns: the text is read in chunks of about 1 MiB and never held whole. Blank lines are skipped.
/// Unquoted fields are trimmed of surrounding spaces, so `" Male"` and `"Male"` are the same level.
///
/// ```swift
/// let frame = try CSVReader.read(path: "examples/customer_churn.csv")
/// ```
public enum CSVReader {
    /// Files Keel does not read yet, known by their first bytes, get an error that says so (a Parquet file
    /// read as text once came back as "has a header but no data rows").
    static func checkFormat(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        // A directory or an unreadable file is left to the reader, which names the problem.
        guard let read = try? handle.read(upToCount: 8) else { return }
        let head = [UInt8](read)
        let lowered = path.lowercased()
        let format: String?
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            format = lowered.hasSuffix(".xlsx") || lowered.hasSuffix(".xlsm")
                ? "Excel workbooks are not supported yet; save the sheet as CSV" : "ZIP archives are not read; unpack the CSV file inside"
        } else if head.starts(with: [0xD0, 0xCF, 0x11, 0xE0]) {
            format = "Excel 97-2003 workbooks are not supported yet; save the sheet as CSV"
        } else if head.starts(with: Array("ARROW1".utf8)) || head.starts(with: Array("ORC".utf8)) {
            format = "Arrow and ORC files are not supported yet"
        } else {
            format = nil
        }
        if let format { throw DataError.cannotOpen(file: path, reason: "\(format) (Keel reads CSV files, plain or gzip-compressed)") }
    }

    /// Reads `path`; a Parquet file (by its `.parquet` extension, its magic bytes or `options.format`) is read
    /// by `ParquetReader` into the same typed frame.
    public static func read(path: String, options: CSVOptions = CSVOptions()) throws -> Frame {
        if options.isParquet(path) {
            let frame = try ParquetReader.read(path: path, options: options.parquet)
            guard frame.rowCount > 0 else { throw DataError.noRows(file: path) }
            return frame
        }
        try checkFormat(path)
        let source = try ByteSource(path: path)
        var tokenizer = try CSVTokenizer(source: source, options: options)
        return try tokenizer.readFrame()
    }

    /// Reads from bytes in memory (tests, fuzzing, request bodies); `name` stands for the file in messages.
    public static func read(bytes: [UInt8], name: String = "<memory>", options: CSVOptions = CSVOptions()) throws -> Frame {
        var tokenizer = try CSVTokenizer(bytes: bytes, name: name, options: options)
        return try tokenizer.readFrame()
    }

    /// Reads `path` in frames of at most `rows` rows, calling `body` with each in file order; memory stays
    /// bounded by one batch. The batch records the line each row started on, for error messages.
    public static func readBatches(path: String, options: CSVOptions = CSVOptions(), rows: Int,
                                   _ body: (CSVBatch) throws -> Void) throws {
        if options.isParquet(path) {
            // A Parquet file is read a row group at a time; a row's "line" is its 1-based row number.
            return try ParquetReader.readBatches(path: path, options: options.parquet) { frame, first in
                try body(CSVBatch(frame: frame, firstRow: first, lines: Array((first + 1)..<(first + 1 + frame.rowCount))))
            }
        }
        try checkFormat(path)
        let source = try ByteSource(path: path)
        var tokenizer = try CSVTokenizer(source: source, options: options)
        try tokenizer.readBatches(rows: max(rows, 1), recordLines: true, body)
    }
}

/// One slice of a file read in batches.
public struct CSVBatch: Sendable {
    public var frame: Frame
    /// The 0-based index of the batch's first row in the whole file.
    public var firstRow: Int
    /// The line of the file each row starts on (1-based, the header is line 1).
    public var lines: [Int]
}
