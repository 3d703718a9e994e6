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
    public static func read(path: String, options: CSVOptions = CSVOptions()) throws -> Frame {
        let source = try ByteSource(path: path)
        var tokenizer = try CSVTokenizer(source: source, options: options)
        return try tokenizer.readFrame()
    }

    /// Reads from bytes in memory (tests, fuzzing, request bodies); `name` stands for the file in messages.
    public static func read(bytes: [UInt8], name: String = "<memory>", options: CSVOptions = CSVOptions()) throws -> Frame {
        var tokenizer = try CSVTokenizer(bytes: bytes, name: name, options: options)
        return try tokenizer.readFrame()
    }
}
