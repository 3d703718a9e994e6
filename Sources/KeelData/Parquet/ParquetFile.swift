import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An open Parquet file (or bytes in memory): its footer decoded, its top-level columns mapped, and column
/// chunks read on demand with `pread`, so only the chunks a command needs are ever read, from any thread.
final class ParquetFile: @unchecked Sendable {
    let name: String
    let metadata: FileMetadata
    let fields: [ParquetField]
    private let descriptor: Int32
    private let memory: [UInt8]?
    private let dataEnd: Int
    /// The file's size in bytes.
    let byteCount: Int

    convenience init(path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw DataError.cannotOpen(file: path, reason: String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw DataError.cannotOpen(file: path, reason: "not a regular file")
        }
        try self.init(name: path, descriptor: descriptor, memory: nil, size: Int(info.st_size))
    }

    convenience init(bytes: [UInt8], name: String) throws {
        try self.init(name: name, descriptor: -1, memory: bytes, size: bytes.count)
    }

    private init(name: String, descriptor: Int32, memory: [UInt8]?, size: Int) throws {
        self.name = name
        self.descriptor = descriptor
        self.memory = memory
        self.byteCount = size
        func fail(_ reason: String) -> DataError {
            if descriptor >= 0 { close(descriptor) }
            return DataError.cannotOpen(file: name, reason: reason)
        }
        guard size >= 12 else { throw fail("not a Parquet file (\(size) bytes, too short for the PAR1 magic and a footer)") }
        guard let head = try? Self.read(descriptor, memory, offset: 0, count: 4, name: name),
              let tail = try? Self.read(descriptor, memory, offset: size - 8, count: 8, name: name) else { throw fail("cannot read the file") }
        guard head == Array("PAR1".utf8) else { throw fail("not a Parquet file (it does not start with the PAR1 magic)") }
        if tail[4..<8].elementsEqual("PARE".utf8) { throw fail("the Parquet file is encrypted, which Keel does not read") }
        guard tail[4..<8].elementsEqual("PAR1".utf8) else { throw fail("truncated Parquet file: the footer's PAR1 magic is missing") }
        let footerLength = Int(tail[0]) | Int(tail[1]) << 8 | Int(tail[2]) << 16 | Int(tail[3]) << 24
        guard footerLength > 0, footerLength <= size - 12 else {
            throw fail("truncated Parquet footer: it claims \(footerLength) bytes, the file has \(size - 12) after its magic")
        }
        dataEnd = size - 8 - footerLength
        guard let footer = try? Self.read(descriptor, memory, offset: dataEnd, count: footerLength, name: name) else { throw fail("cannot read the footer") }
        do {
            var reader = ThriftReader(footer)
            metadata = try reader.fileMetadata()
            fields = try ParquetSchemaMapping.fields(metadata.schema)
        } catch let error as ThriftError {
            throw fail("malformed Parquet footer: \(error.message)")
        }
        let leaves = fields.reduce(0) { $0 + $1.leafCount }
        for (g, group) in metadata.rowGroups.enumerated() where group.columns.count != leaves || group.rowCount < 0 {
            throw DataError.cannotOpen(file: name, reason: "malformed Parquet footer: row group \(g + 1) has \(group.columns.count) column chunks, the schema \(leaves) columns")
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    var rowGroupCount: Int { metadata.rowGroups.count }

    func rows(inGroup group: Int) -> Int { Int(metadata.rowGroups[group].rowCount) }

    /// The bytes of `field`'s column chunk in row group `group`, checked to lie inside the file's data.
    func chunk(group: Int, field: ParquetField) throws -> (bytes: [UInt8], meta: ColumnMetadata) {
        guard let meta = metadata.rowGroups[group].columns[field.leaf] else {
            throw EncodingError(message: "the column chunk has no metadata (or lives in another file)")
        }
        var start = meta.dataPageOffset
        if let dictionary = meta.dictionaryPageOffset, dictionary > 0, dictionary < start { start = dictionary }
        guard start >= 4, meta.compressedSize >= 0, start <= Int64(dataEnd), meta.compressedSize <= Int64(dataEnd) - start else {
            throw EncodingError(message: "the column chunk points past the end of the file (bytes \(start) to \(start &+ meta.compressedSize), data ends at \(dataEnd))")
        }
        return (try Self.read(descriptor, memory, offset: Int(start), count: Int(meta.compressedSize), name: name), meta)
    }

    private static func read(_ descriptor: Int32, _ memory: [UInt8]?, offset: Int, count: Int, name: String) throws -> [UInt8] {
        if let memory { return Array(memory[offset..<offset + count]) }
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let n = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw DataError.cannotOpen(file: name, reason: n == 0 ? "the file ends early" : String(cString: strerror(errno))) }
                done += n
            }
            initialized = count
        }
    }
}
