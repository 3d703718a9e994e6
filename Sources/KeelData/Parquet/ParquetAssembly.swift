import Foundation

/// Decodes the chunks of the selected columns × row groups on a few threads, each chunk straight into its slice
/// of the column's storage, then joins string chunks into one set of levels in order of first appearance
/// (row group by row group, as a CSV reader would meet them).
struct ParquetAssembly {
    let file: ParquetFile
    let fields: [ParquetField]
    let groups: [Int]
    let rowCounts: [Int]
    let threads: Int

    /// Storage for one column's rows, written by several threads at disjoint offsets.
    private final class Storage: @unchecked Sendable {
        let doubles: UnsafeMutableBufferPointer<Double>?
        let bytes: UnsafeMutableBufferPointer<UInt8>?
        let codes: UnsafeMutableBufferPointer<UInt32>?
        /// A string column's local levels per row group.
        private var tables: [LevelTable?]
        private let lock = NSLock()

        func setTable(_ table: LevelTable, group: Int) {
            lock.lock()
            defer { lock.unlock() }
            tables[group] = table
        }

        func table(group: Int) -> LevelTable? {
            lock.lock()
            defer { lock.unlock() }
            return tables[group]
        }

        init(_ conversion: LeafConversion, rows: Int, groups: Int) {
            switch conversion {
            case .doubles: (doubles, bytes, codes) = (.allocate(capacity: rows), nil, nil)
            case .booleans: (doubles, bytes, codes) = (nil, .allocate(capacity: rows), nil)
            case .strings: (doubles, bytes, codes) = (nil, nil, .allocate(capacity: rows))
            }
            tables = Array(repeating: nil, count: groups)
        }

        deinit {
            doubles?.deallocate()
            bytes?.deallocate()
            codes?.deallocate()
        }
    }

    private final class Progress: @unchecked Sendable {
        let lock = NSLock()
        var next = 0
        var failure: (task: Int, error: any Error)?

        func take() -> Int {
            lock.lock()
            defer { lock.unlock() }
            defer { next += 1 }
            return failure == nil ? next : Int.max
        }

        func fail(_ task: Int, _ error: any Error) {
            lock.lock()
            defer { lock.unlock() }
            if failure == nil || task < failure!.task { failure = (task, error) }
        }
    }

    func run() throws -> [Column] {
        let totalRows = rowCounts.reduce(0, +)
        var offsets: [Int] = [0]
        for count in rowCounts { offsets.append(offsets[offsets.count - 1] + count) }
        var storages: [Storage?] = fields.map { Storage($0.conversion!, rows: totalRows, groups: groups.count) }
        try decodeAll(offsets: offsets, storages: storages.map { $0! })
        // Each column's storage is freed once copied, so the peak stays near one set of columns plus one.
        return fields.indices.map { f in
            defer { storages[f] = nil }
            return column(fields[f], storages[f]!)
        }
    }

    private func decodeAll(offsets: [Int], storages: [Storage]) throws {
        // Tasks run column by column within a row group, so a group's chunks are read close together.
        let tasks = groups.indices.flatMap { g in fields.indices.map { (field: $0, group: g) } }
        let progress = Progress()
        let workers = max(1, min(threads, tasks.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let index = progress.take()
                guard index < tasks.count else { return }
                let (f, g) = tasks[index]
                do {
                    try decode(field: fields[f], group: g, offset: offsets[g], into: storages[f])
                } catch {
                    progress.fail(index, error)
                }
            }
        }
        if let failure = progress.failure {
            let (f, g) = tasks[failure.task]
            throw describe(failure.error, field: fields[f], group: groups[g])
        }
    }

    private func decode(field: ParquetField, group g: Int, offset: Int, into storage: Storage) throws {
        let rows = rowCounts[g]
        let (bytes, meta) = try file.chunk(group: groups[g], field: field)
        guard meta.type == field.element.type else { throw EncodingError(message: "the chunk's type \(meta.type) differs from the schema's") }
        guard let codec = ParquetCodec(rawValue: meta.codec) else { throw EncodingError(message: "unknown compression codec \(meta.codec)") }
        var decoder = ChunkDecoder(field: field, conversion: field.conversion!, codec: codec)
        if let doubles = storage.doubles {
            try decoder.decode(chunk: bytes, rows: rows, into: .doubles(doubles.baseAddress! + offset))
        } else if let booleans = storage.bytes {
            try decoder.decode(chunk: bytes, rows: rows, into: .booleans(booleans.baseAddress! + offset))
        } else if let codes = storage.codes {
            try decoder.decode(chunk: bytes, rows: rows, into: .codes(codes.baseAddress! + offset))
            storage.setTable(decoder.table, group: g)
        }
    }

    private func describe(_ error: any Error, field: ParquetField, group: Int) -> any Error {
        let message: String
        switch error {
        case let error as EncodingError: message = error.message
        case let error as ThriftError: message = error.message
        case let error as DataError: return error
        default: message = "\(error)"
        }
        return DataError.cannotOpen(file: file.name, reason: "row group \(group + 1) of \(file.rowGroupCount), column '\(field.name)': \(message)")
    }

    private func column(_ field: ParquetField, _ storage: Storage) -> Column {
        switch field.conversion! {
        case .doubles(_, let kind):
            let values = Array(storage.doubles!)
            return Column(name: field.name, values: kind == .datetime ? .datetime(values) : .numeric(values))
        case .booleans:
            return Column(name: field.name, values: .boolean(Array(storage.bytes!)))
        case .strings(let uuid):
            return Column(name: field.name, values: .categorical(joinedStrings(storage, uuid: uuid)))
        }
    }

    /// Re-codes each row group's local codes into one table, in order of first appearance.
    private func joinedStrings(_ storage: Storage, uuid: Bool) -> EncodedStrings {
        var global = LevelTable()
        let codes = storage.codes!
        var start = 0
        for (g, rows) in rowCounts.enumerated() {
            defer { start += rows }
            guard let local = storage.table(group: g) else { continue }
            var remap = [UInt32](repeating: EncodedStrings.missing, count: local.count)
            for row in start..<start + rows {
                let code = codes[row]
                guard code != EncodedStrings.missing else { continue }
                if remap[Int(code)] == EncodedStrings.missing {
                    remap[Int(code)] = local.bytes(of: Int(code)).withUnsafeBufferPointer { global.intern($0, line: row) }
                }
                codes[row] = remap[Int(code)]
            }
        }
        let levels = (0..<global.count).map { code -> String in
            let bytes = global.bytes(of: code)
            return uuid ? Self.uuidText(bytes) : String(decoding: bytes, as: UTF8.self)
        }
        return EncodedStrings(codes: Array(codes), levels: levels)
    }

    private static func uuidText(_ bytes: ArraySlice<UInt8>) -> String {
        let hex = bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        guard hex.count == 16 else { return hex.joined() }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }
}
