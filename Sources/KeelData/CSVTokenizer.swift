#if canImport(Glibc)
import Glibc
#endif

/// The byte-level state machine behind `CSVReader`: splits a chunked byte stream into records and fields.
///
/// A record that straddles two chunks is parsed again from its start once more bytes are in, so parsing
/// never needs state across calls; the buffer only grows when a single record is larger than it.
struct CSVTokenizer {
    private enum Step { case record, needMore, endOfFile }

    private let source: ByteSource?
    private let name: String
    private let options: CSVOptions
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var atEOF = false
    /// Bytes dropped from the front of `buffer` so far: `discarded + start` is the offset in the file.
    private var discarded = 0
    /// File offsets where the header and the first data record start.
    private var headerOffset = 0
    private var dataOffset = 0
    private var delimiter = UInt8(ascii: ",")
    /// The file's encoding and number style, decided from its first bytes or the options.
    private var rules = ColumnBuilder.Rules()
    /// What was detected, to be said (`Frame.notes`).
    private var notes: [String] = []
    /// Line on which the next record starts.
    private var line = 1
    private var recordLine = 1
    /// Reused per record: where each field starts and ends in `buffer`, and whether it was quoted / has `""`.
    private var fields = FieldList()
    private var scratch: [UInt8] = []
    private let missing: MissingMarkers

    private static let quote = UInt8(ascii: "\"")
    private static let newline = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")
    private static let quotedFlag: UInt8 = 1
    private static let escapedFlag: UInt8 = 2

    init(source: ByteSource, options: CSVOptions) throws {
        self.source = source
        self.name = source.path
        self.options = options
        buffer = .allocate(byteCount: 1 << 20, alignment: 16)
        missing = MissingMarkers(options.missingMarkers)
        try fill()
    }

    init(bytes: [UInt8], name: String, options: CSVOptions) throws {
        source = nil
        self.name = name
        self.options = options
        buffer = .allocate(byteCount: max(bytes.count, 1), alignment: 16)
        if !bytes.isEmpty { buffer.copyBytes(from: bytes) }
        end = bytes.count
        atEOF = true
        missing = MissingMarkers(options.missingMarkers)
    }

    /// The buffers are freed by `readFrame`, the only entry point after `init`.
    mutating func readFrame() throws -> Frame {
        var frame: Frame?
        try readBatches(rows: Int.max, recordLines: false) { frame = $0.frame }
        guard let frame else { throw DataError.noDataRows(file: name) }
        return frame
    }

    /// Reads the records in frames of at most `rows` rows each, so a file of any size is scored in bounded
    /// memory. Each batch's columns are typed on their own: callers conform them to a schema.
    mutating func readBatches(rows batchRows: Int, recordLines: Bool, _ body: (CSVBatch) throws -> Void) throws {
        defer {
            buffer.deallocate()
            fields.deallocate()
        }
        try prepare()
        let names = try readHeader()
        var total = 0
        var more = true
        while more {
            var builders = names.map { ColumnBuilder(forceStrings: options.stringColumns.contains($0)) }
            var lines: [Int] = []
            var rows = 0
            try builders.withUnsafeMutableBufferPointer { builders in
                while rows < batchRows {
                    guard try nextRecord() else {
                        more = false
                        return
                    }
                    guard fields.count == names.count else {
                        throw DataError.malformed(
                            SourceLocation(file: name, line: recordLine),
                            "expected \(names.count) fields as in the header, found \(fields.count)")
                    }
                    for column in 0..<names.count { deliver(column, to: &builders[column]) }
                    if recordLines { lines.append(recordLine) }
                    rows += 1
                    if rows == Self.sampleRows, batchRows == Int.max, let hint = rowHint(sampled: rows) {
                        for i in 0..<builders.count { builders[i].reserve(hint) }
                    }
                }
            }
            if rows == 0 { break }
            var columns: [Column] = []
            columns.reserveCapacity(names.count)
            for (position, builder) in builders.enumerated() {
                columns.append(try builder.finish(name: names[position], file: name, position: position + 1, rules: rules))
            }
            var frame = try Frame(columns: columns)
            frame.notes = notes
            frame.encoding = rules.encoding
            frame.numberStyle = rules.style
            try body(CSVBatch(frame: frame, firstRow: total, lines: lines))
            total += rows
        }
        guard total > 0 else { throw DataError.noDataRows(file: name) }
    }

    // MARK: Setup

    private mutating func fill() throws {
        guard let source, !atEOF else { return }
        if start > 0 {
            if end > start { memmove(buffer.baseAddress!, buffer.baseAddress! + start, end - start) }
            discarded += start
            end -= start
            start = 0
        }
        if end == buffer.count {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: buffer.count * 2, alignment: 16)
            bigger.copyMemory(from: UnsafeRawBufferPointer(buffer))
            buffer.deallocate()
            buffer = bigger
        }
        let read = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]))
        if read == 0 { atEOF = true }
        end += read
    }

    private mutating func prepare() throws {
        while !atEOF, end < 65_536 { try fill() }
        if end >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { start = 3 }
        guard end > start else { throw DataError.emptyFile(file: name) }
        headerOffset = start
        delimiter = options.delimiter ?? DelimiterDetector.detect(UnsafeRawBufferPointer(rebasing: buffer[start..<min(end, start + 65_536)]))
        let sample = UnsafeBufferPointer(rebasing: UnsafeRawBufferPointer(buffer).bindMemory(to: UInt8.self)[start..<min(end, start + 65_536)])
        if let encoding = options.encoding {
            rules.encoding = encoding
        } else if let detected = TextEncoding.detect(sample), detected != .utf8 {
            rules.encoding = detected
            notes.append("read as \(detected.rawValue): the file is not valid UTF-8, and its other bytes are letters in \(detected.rawValue) (--encoding sets the encoding)")
        }
        rules.wordsAmongNumbers = options.wordsAmongNumbers
        let noGrouping: Character = "-"
        if options.decimal != nil || options.thousands != nil {
            let decimal = options.decimal ?? (options.thousands == "," ? "." : ",")
            let thousands = options.thousands == noGrouping ? nil : options.thousands ?? (decimal == "," ? "." : nil)
            rules.style = decimal == "." && thousands == nil ? nil : NumberStyle(decimal: decimal, thousands: thousands)
        } else if let detected = NumberStyle.detect(sample, delimiter: delimiter) {
            rules.style = detected
            notes.append("numbers read with a \(detected), as the file writes them (--decimal and --thousands set the style)")
        }
    }

    private static let sampleRows = 1024

    /// Rows expected in a plain file, from its size and the bytes the first `sampled` data rows took, so that
    /// columns are allocated once instead of doubling; nil for gzip input, whose size says nothing of rows.
    private func rowHint(sampled: Int) -> Int? {
        guard let source, !atEOF, !source.isCompressed else { return nil }
        var info = stat()
        guard stat(name, &info) == 0 else { return nil }
        let sampledBytes = discarded + start - dataOffset
        guard sampledBytes > 0 else { return nil }
        let expected = Double(Int(info.st_size) - dataOffset) / Double(sampledBytes) * Double(sampled)
        return Int(expected * 1.02) + 16
    }

    private mutating func readHeader() throws -> [String] {
        guard try nextRecord() else { throw DataError.emptyFile(file: name) }
        if !options.hasHeader {
            let count = fields.count
            for column in 0..<count { try checkHeaderBytes(column) }
            start = headerOffset - discarded
            line = 1
            dataOffset = headerOffset
            return (1...count).map { "column_\($0)" }
        }
        var names: [String] = []
        var seen: [String: Int] = [:]
        for column in 0..<fields.count {
            let text = try checkHeaderBytes(column)
            guard !text.isEmpty else {
                throw DataError.invalidHeader(file: name, "column \(column + 1) has an empty name")
            }
            if let earlier = seen[text] {
                throw DataError.invalidHeader(file: name, "column name '\(text)' appears twice (columns \(earlier + 1) and \(column + 1))")
            }
            seen[text] = column
            names.append(text)
        }
        dataOffset = discarded + start
        return names
    }

    @discardableResult
    private mutating func checkHeaderBytes(_ column: Int) throws -> String {
        let bytes = field(column)
        guard let text = rules.encoding.decode(bytes) else {
            throw DataError.malformed(SourceLocation(file: name, line: recordLine, column: column + 1),
                                      "invalid \(rules.encoding.rawValue) in the header (a file in another encoding reads with --encoding latin-1 or --encoding windows-1252)")
        }
        return text
    }

    // MARK: Fields

    /// The bytes of field `column` of the current record, with doubled quotes undone and, when unquoted,
    /// surrounding spaces trimmed.
    private mutating func field(_ column: Int) -> UnsafeBufferPointer<UInt8> {
        let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var first = fields.start[column]
        var length = fields.length[column]
        let flags = fields.flags[column]
        if flags & Self.escapedFlag != 0 {
            scratch.removeAll(keepingCapacity: true)
            var i = first
            while i < first + length {
                scratch.append(base[i])
                i += base[i] == Self.quote ? 2 : 1
            }
            return scratch.withUnsafeBufferPointer { $0 }
        }
        if flags & Self.quotedFlag == 0 {
            while length > 0, base[first] == 32 || base[first] == 9 { first += 1; length -= 1 }
            while length > 0, base[first + length - 1] == 32 || base[first + length - 1] == 9 { length -= 1 }
        }
        return UnsafeBufferPointer(start: base + first, count: length)
    }

    private mutating func deliver(_ column: Int, to builder: inout ColumnBuilder) {
        let bytes = field(column)
        if missing.contains(bytes) {
            builder.appendMissing()
        } else {
            builder.append(bytes, line: recordLine, rules: rules)
        }
    }

    // MARK: Records

    /// Advances to the next non-blank record; false at the end of the input.
    private mutating func nextRecord() throws -> Bool {
        while true {
            switch try parseRecord() {
            case .record:
                if fields.count == 1, fields.length[0] == 0, fields.flags[0] == 0 { continue }
                return true
            case .endOfFile:
                return false
            case .needMore:
                try fill()
            }
        }
    }

    /// Parses one record starting at `start`. On success moves `start` and `line` past it.
    private mutating func parseRecord() throws -> Step {
        fields.count = 0
        let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        if start == end { return atEOF ? .endOfFile : .needMore }
        var p = start
        var newlines = 0
        let delimiter = self.delimiter
        while true {
            if p == end {
                // Only reachable after a delimiter at the very end of the input: a last, empty field.
                if !atEOF { return .needMore }
                fields.append(p, 0, 0)
                break
            }
            if base[p] == Self.quote {
                p += 1
                let fieldBegin = p
                var flags = Self.quotedFlag
                while true {
                    if p == end {
                        if !atEOF { return .needMore }
                        throw DataError.malformed(SourceLocation(file: name, line: line),
                                                  "a quoted field is never closed (the quote opens on this line)")
                    }
                    let byte = base[p]
                    if byte == Self.quote {
                        if p + 1 == end, !atEOF { return .needMore }
                        if p + 1 < end, base[p + 1] == Self.quote {
                            flags |= Self.escapedFlag
                            p += 2
                            continue
                        }
                        break
                    }
                    if byte == Self.newline { newlines += 1 }
                    p += 1
                }
                fields.append(fieldBegin, p - fieldBegin, flags)
                p += 1
                while p < end, base[p] == 32 || (base[p] == 9 && delimiter != 9) { p += 1 }
                if p == end {
                    if !atEOF { return .needMore }
                    break
                }
                let next = base[p]
                if next == delimiter { p += 1; continue }
                if next == Self.newline || next == Self.carriageReturn { break }
                throw DataError.malformed(
                    SourceLocation(file: name, line: line + newlines, column: fields.count),
                    "unexpected character '\(Character(Unicode.Scalar(next)))' after a closing quote")
            } else {
                let fieldBegin = p
                while p < end {
                    let byte = base[p]
                    if byte == delimiter || byte == Self.newline || byte == Self.carriageReturn { break }
                    p += 1
                }
                if p == end, !atEOF { return .needMore }
                fields.append(fieldBegin, p - fieldBegin, 0)
                if p == end { break }
                if base[p] == delimiter { p += 1; continue }
                break
            }
        }
        if p < end {
            if base[p] == Self.carriageReturn {
                if p + 1 == end, !atEOF { return .needMore }
                p += 1
                if p < end, base[p] == Self.newline { p += 1 }
            } else {
                p += 1
            }
            newlines += 1
        }
        recordLine = line
        line += newlines
        start = p
        return .record
    }
}
