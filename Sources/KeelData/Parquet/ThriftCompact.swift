/// The Thrift compact protocol, as far as Parquet's metadata needs it: structs, lists, integers, binaries and
/// booleans (reading and writing), and skipping anything else. See Apache Thrift's `thrift-compact-protocol.md`.
///
/// Integers are ULEB128 varints, zigzag-coded when signed; a field header packs the field-id delta (high nibble)
/// with the type (low nibble); a boolean field's value is its type (1 true, 2 false).
enum ThriftType: UInt8 {
    case stop = 0, boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7, binary = 8
    case list = 9, set = 10, map = 11, structure = 12
}

struct ThriftError: Error {
    var message: String
}

/// Reads compact-protocol values from a byte array, starting at `position`; every read is bounds-checked and
/// nesting is limited, so a malformed footer is an error, never a crash.
struct ThriftReader: VarintReading {
    let bytes: [UInt8]
    var position: Int
    let end: Int
    private var depth = 0

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        position = start
        self.end = end ?? bytes.count
    }

    static func tooLong() -> any Error { ThriftError(message: "varint too long") }

    mutating func byte() throws -> UInt8 {
        guard position < end else { throw ThriftError(message: "metadata ends early") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func i32() throws -> Int32 {
        let value = try zigzag()
        guard let narrow = Int32(exactly: value) else { throw ThriftError(message: "integer \(value) out of range") }
        return narrow
    }

    mutating func i64() throws -> Int64 { try zigzag() }

    mutating func binary() throws -> ArraySlice<UInt8> {
        let length = try varint()
        guard length <= UInt64(end - position) else { throw ThriftError(message: "string runs past the metadata") }
        defer { position += Int(length) }
        return bytes[position..<position + Int(length)]
    }

    mutating func string() throws -> String { String(decoding: try binary(), as: UTF8.self) }

    /// A boolean field's value (carried by its type) or a list element's byte.
    func bool(_ type: UInt8) -> Bool { type == ThriftType.boolTrue.rawValue }

    /// A list header: element count and element type.
    mutating func listHeader() throws -> (count: Int, type: UInt8) {
        let header = try byte()
        var count = UInt64(header >> 4)
        if count == 15 { count = try varint() }
        // Every element takes at least one byte, except empty structs; bound the count by what is left.
        guard count <= UInt64(end - position) + 1 else { throw ThriftError(message: "list of \(count) elements runs past the metadata") }
        return (Int(count), header & 0x0F)
    }

    /// Calls `field` with each field's id and type until the struct's stop byte; `field` must consume (or
    /// `skip`) the value.
    mutating func readStruct(_ field: (inout ThriftReader, Int16, UInt8) throws -> Void) throws {
        depth += 1
        defer { depth -= 1 }
        guard depth < 32 else { throw ThriftError(message: "metadata nested too deeply") }
        var last: Int16 = 0
        while true {
            let header = try byte()
            if header == 0 { return }
            let type = header & 0x0F
            let delta = header >> 4
            let id: Int16
            if delta != 0 {
                id = last &+ Int16(delta)
            } else {
                guard let full = Int16(exactly: try zigzag()) else { throw ThriftError(message: "bad field id") }
                id = full
            }
            last = id
            try field(&self, id, type)
        }
    }

    /// Reads a list of `T`, each element read by `element`.
    mutating func list<T>(_ element: (inout ThriftReader, UInt8) throws -> T) throws -> [T] {
        let (count, type) = try listHeader()
        var result: [T] = []
        result.reserveCapacity(min(count, 1 << 16))
        for _ in 0..<count { result.append(try element(&self, type)) }
        return result
    }

    /// Skips a value of `type`.
    mutating func skip(_ type: UInt8) throws {
        guard let kind = ThriftType(rawValue: type) else { throw ThriftError(message: "unknown type \(type)") }
        switch kind {
        case .stop: throw ThriftError(message: "unexpected stop")
        case .boolTrue, .boolFalse: return
        case .byte: _ = try byte()
        case .i16, .i32, .i64: _ = try varint()
        case .double:
            guard end - position >= 8 else { throw ThriftError(message: "metadata ends early") }
            position += 8
        case .binary: _ = try binary()
        case .list, .set:
            let (count, element) = try listHeader()
            for _ in 0..<count {
                // A bool inside a list is one byte.
                if element == ThriftType.boolTrue.rawValue || element == ThriftType.boolFalse.rawValue { _ = try byte() } else { try skip(element) }
            }
        case .map:
            let count = try varint()
            guard count <= UInt64(end - position) else { throw ThriftError(message: "map runs past the metadata") }
            if count > 0 {
                let types = try byte()
                for _ in 0..<count {
                    try skipElement(types >> 4)
                    try skipElement(types & 0x0F)
                }
            }
        case .structure:
            try readStruct { reader, _, type in try reader.skip(type) }
        }
    }

    private mutating func skipElement(_ type: UInt8) throws {
        if type == ThriftType.boolTrue.rawValue || type == ThriftType.boolFalse.rawValue { _ = try byte() } else { try skip(type) }
    }
}

/// Writes compact-protocol structs: call `field` for each field in increasing id order, then `stop`.
struct ThriftWriter {
    var bytes: [UInt8] = []
    private var lastIDs: [Int16] = [0]

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func zigzag(_ value: Int64) { varint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

    mutating func fieldHeader(_ id: Int16, _ type: ThriftType) {
        let delta = id - lastIDs[lastIDs.count - 1]
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            zigzag(Int64(id))
        }
        lastIDs[lastIDs.count - 1] = id
    }

    mutating func i32(_ id: Int16, _ value: Int32) { fieldHeader(id, .i32); zigzag(Int64(value)) }
    mutating func i64(_ id: Int16, _ value: Int64) { fieldHeader(id, .i64); zigzag(value) }
    mutating func bool(_ id: Int16, _ value: Bool) { fieldHeader(id, value ? .boolTrue : .boolFalse) }

    mutating func string(_ id: Int16, _ value: String) {
        fieldHeader(id, .binary)
        let utf8 = Array(value.utf8)
        varint(UInt64(utf8.count))
        bytes += utf8
    }

    /// Opens a struct-valued field (or, with `id` nil, a struct inside a list); close it with `endStruct`.
    mutating func beginStruct(_ id: Int16?) {
        if let id { fieldHeader(id, .structure) }
        lastIDs.append(0)
    }

    mutating func endStruct() {
        bytes.append(0)
        lastIDs.removeLast()
    }

    mutating func listHeader(_ id: Int16, count: Int, of type: ThriftType) {
        fieldHeader(id, .list)
        if count < 15 {
            bytes.append(UInt8(count) << 4 | type.rawValue)
        } else {
            bytes.append(0xF0 | type.rawValue)
            varint(UInt64(count))
        }
    }
}
