import CZlib
#if canImport(Glibc)
import Glibc
#endif

/// A frame saved as typed, compressed columns, so a registry can keep the exact data a model was trained on
/// and a run can be replayed without the original CSV (which may have changed or gone).
///
/// Layout: the magic `KEELSNAP`, a format version (u16), the frame's fingerprint (64 hex bytes), the raw body
/// length (u64) and the zlib-deflated body. The body holds the row and column counts, then per column its
/// name, kind and values (numbers as IEEE bits, strings as levels plus one code per row), all little-endian.
/// Reading recomputes the fingerprint, so a damaged snapshot is an error, never a different dataset.
public enum FrameSnapshot {
    public static let formatVersion: UInt16 = 1
    private static let magic = Array("KEELSNAP".utf8)

    /// Writes the snapshot atomically and returns the frame's fingerprint.
    @discardableResult
    public static func write(_ frame: Frame, to path: String) throws -> String {
        let fingerprint = frame.fingerprint
        try AtomicFile.write(try encode(frame, fingerprint: fingerprint), to: path)
        return fingerprint
    }

    public static func encode(_ frame: Frame, fingerprint: String? = nil) throws -> [UInt8] {
        var body = ByteWriter()
        body.integer(UInt64(frame.rowCount))
        body.integer(UInt64(frame.columnCount))
        for column in frame.columns {
            body.text(column.name)
            body.text(column.kind.rawValue)
            switch column.values {
            case .numeric(let values), .datetime(let values):
                body.doubles(values)
            case .categorical(let strings), .text(let strings):
                body.integer(UInt64(strings.levels.count))
                for level in strings.levels { body.text(level) }
                body.codes(strings.codes)
            case .boolean(let bytes):
                body.bytes += bytes
            }
        }
        var out = ByteWriter()
        out.bytes += magic
        out.integer(formatVersion)
        out.bytes += Array((fingerprint ?? frame.fingerprint).utf8)
        out.integer(UInt64(body.bytes.count))
        out.bytes += try deflate(body.bytes)
        return out.bytes
    }

    public static func read(from path: String) throws -> Frame {
        guard let bytes = readAll(path) else {
            throw DataError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
        }
        return try decode(bytes, file: path)
    }

    public static func decode(_ bytes: [UInt8], file: String) throws -> Frame {
        let (fingerprint, rawLength, bodyStart) = try header(bytes, file: file)
        let body = try inflate(Array(bytes[bodyStart...]), rawLength: rawLength, file: file)
        var reader = ByteReader(bytes: body, file: file)
        let rows = Int(try reader.integer(UInt64.self))
        let count = Int(try reader.integer(UInt64.self))
        var columns: [Column] = []
        for _ in 0..<count {
            let name = try reader.text()
            guard let kind = ColumnKind(rawValue: try reader.text()) else { throw corrupt(file, "unknown column kind") }
            let values: ColumnValues
            switch kind {
            case .numeric: values = .numeric(try reader.doubles(rows))
            case .datetime: values = .datetime(try reader.doubles(rows))
            case .categorical, .text:
                let levelCount = Int(try reader.integer(UInt64.self))
                var levels: [String] = []
                for _ in 0..<levelCount { levels.append(try reader.text()) }
                let strings = EncodedStrings(codes: try reader.codes(rows), levels: levels)
                values = kind == .text ? .text(strings) : .categorical(strings)
            case .boolean: values = .boolean(try reader.take(rows))
            }
            columns.append(Column(name: name, values: values))
        }
        let frame = try Frame(columns: columns)
        guard frame.fingerprint == fingerprint else { throw corrupt(file, "its content does not match its fingerprint") }
        return frame
    }

    private static func header(_ bytes: [UInt8], file: String) throws -> (fingerprint: String, rawLength: Int, bodyStart: Int) {
        var reader = ByteReader(bytes: bytes, file: file)
        guard bytes.count >= 8, Array(bytes[0..<8]) == magic else { throw corrupt(file, "not a Keel data snapshot") }
        _ = try reader.take(8)
        let version = try reader.integer(UInt16.self)
        guard version <= formatVersion else {
            throw corrupt(file, "snapshot format \(version) is newer than this Keel reads (\(formatVersion)); upgrade Keel")
        }
        guard let fingerprint = String(validating: try reader.take(64), as: UTF8.self) else { throw corrupt(file, "bad fingerprint") }
        let rawLength = Int(try reader.integer(UInt64.self))
        return (fingerprint, rawLength, reader.offset)
    }

    private static func corrupt(_ file: String, _ message: String) -> DataError {
        .invalidFrame("\(file): damaged data snapshot: \(message)")
    }

    private static func readAll(_ path: String) -> [UInt8]? {
        guard let handle = fopen(path, "rb") else { return nil }
        defer { fclose(handle) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let read = fread(&chunk, 1, chunk.count, handle)
            if read > 0 { bytes += chunk[0..<read] }
            if read < chunk.count { break }
        }
        return ferror(handle) == 0 ? bytes : nil
    }

    private static func deflate(_ raw: [UInt8]) throws -> [UInt8] {
        var length = compressBound(uLong(raw.count))
        var out = [UInt8](repeating: 0, count: Int(length))
        let status = compress2(&out, &length, raw, uLong(raw.count), Z_BEST_SPEED)
        guard status == Z_OK else { throw DataError.invalidFrame("zlib could not compress the snapshot (status \(status))") }
        out.removeSubrange(Int(length)...)
        return out
    }

    private static func inflate(_ compressed: [UInt8], rawLength: Int, file: String) throws -> [UInt8] {
        guard rawLength >= 0, rawLength < 1 << 40 else { throw corrupt(file, "implausible length") }
        var out = [UInt8](repeating: 0, count: rawLength)
        var length = uLong(rawLength)
        let status = uncompress(&out, &length, compressed, uLong(compressed.count))
        guard status == Z_OK, Int(length) == rawLength else { throw corrupt(file, "truncated or damaged (zlib status \(status))") }
        return out
    }
}

/// Little-endian encoding into a growing byte array.
private struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func integer<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    mutating func text(_ value: String) {
        let utf8 = Array(value.utf8)
        integer(UInt32(utf8.count))
        bytes += utf8
    }

    mutating func doubles(_ values: [Double]) {
        values.map(\.bitPattern.littleEndian).withUnsafeBytes { bytes += $0 }
    }

    mutating func codes(_ values: [UInt32]) {
        values.map(\.littleEndian).withUnsafeBytes { bytes += $0 }
    }
}

/// Bounds-checked little-endian decoding; running past the end is a "damaged snapshot" error.
private struct ByteReader {
    let bytes: [UInt8]
    let file: String
    var offset = 0

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    mutating func take(_ count: Int) throws -> [UInt8] {
        guard count >= 0, count <= bytes.count - offset else {
            throw DataError.invalidFrame("\(file): damaged data snapshot: it ends early")
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let raw = try take(MemoryLayout<T>.size)
        return T(littleEndian: raw.withUnsafeBytes { $0.loadUnaligned(as: T.self) })
    }

    mutating func text() throws -> String {
        let length = Int(try integer(UInt32.self))
        guard let text = String(validating: try take(length), as: UTF8.self) else {
            throw DataError.invalidFrame("\(file): damaged data snapshot: text that is not UTF-8")
        }
        return text
    }

    mutating func doubles(_ count: Int) throws -> [Double] {
        let raw = try take(count * 8)
        return raw.withUnsafeBytes { buffer in (0..<count).map { Double(bitPattern: UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) } }
    }

    mutating func codes(_ count: Int) throws -> [UInt32] {
        let raw = try take(count * 4)
        return raw.withUnsafeBytes { buffer in (0..<count).map { UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) } }
    }
}
