/// Parquet's value and level encodings (`Encodings.md` in apache/parquet-format), decoding from a page's bytes
/// into caller-owned scratch buffers: no allocation per value. Every read is bounds-checked against the page,
/// so a malformed page is an error, never a read past its end.
struct EncodingError: Error {
    var message: String
}

/// A reader of ULEB128 varints and their zigzag-coded signed form, over whatever yields its bytes: a page's
/// cursor and the Thrift metadata reader share them.
protocol VarintReading {
    mutating func byte() throws -> UInt8
    /// The error for a varint longer than 64 bits.
    static func tooLong() -> any Error
}

extension VarintReading {
    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw Self.tooLong() }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func zigzag() throws -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }
}

/// A forward cursor over a page's bytes.
struct ByteCursor: VarintReading {
    let base: UnsafeRawBufferPointer
    var position = 0

    init(_ base: UnsafeRawBufferPointer) { self.base = base }

    static func tooLong() -> any Error { EncodingError(message: "varint too long") }

    var remaining: Int { base.count - position }

    mutating func byte() throws -> UInt8 {
        guard position < base.count else { throw EncodingError(message: "page data ends early") }
        defer { position += 1 }
        return base[position]
    }

    mutating func uint32() throws -> UInt32 {
        guard remaining >= 4 else { throw EncodingError(message: "page data ends early") }
        defer { position += 4 }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    mutating func take(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw EncodingError(message: "page data ends early (\(count) bytes wanted, \(remaining) left)") }
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: base[position..<position + count])
    }
}

enum BitUnpacking {
    /// `width` bits (≤ 64) starting at bit `bit` of `data`, least significant bit first; bits past the end read 0.
    @inline(__always)
    static func bits(_ data: UnsafeRawBufferPointer, at bit: Int, width: Int) -> UInt64 {
        guard width > 0 else { return 0 }
        let byte = bit >> 3
        let shift = bit & 7
        let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
        if byte + 8 <= data.count {
            var value = UInt64(littleEndian: data.loadUnaligned(fromByteOffset: byte, as: UInt64.self)) >> UInt64(shift)
            if shift + width > 64 {
                let next = byte + 8 < data.count ? UInt64(data[byte + 8]) : 0
                value |= next << UInt64(64 - shift)
            }
            return value & mask
        }
        var value: UInt64 = 0
        var i = 0
        while i * 8 < shift + width, byte + i < data.count {
            let part = UInt64(data[byte + i])
            if i == 0 { value = part >> UInt64(shift) } else { value |= part << UInt64(i * 8 - shift) }
            i += 1
        }
        return value & mask
    }
}

/// The RLE / bit-packing hybrid (levels, dictionary indices, RLE booleans).
enum HybridDecoder {
    /// Decodes `count` values of `width` bits (≤ 32) from `cursor` into `out`.
    static func decode(_ cursor: inout ByteCursor, width: Int, count: Int, into out: UnsafeMutablePointer<UInt32>) throws {
        guard width >= 0, width <= 32 else { throw EncodingError(message: "bit width \(width) out of range") }
        var produced = 0
        let valueBytes = (width + 7) / 8
        while produced < count {
            let header = try cursor.varint()
            if header & 1 == 0 {
                let run = Int(clamping: header >> 1)
                var value: UInt32 = 0
                for i in 0..<valueBytes { value |= UInt32(try cursor.byte()) << UInt32(8 * i) }
                let n = min(run, count - produced)
                (out + produced).update(repeating: value, count: n)
                produced += n
            } else {
                let groups = Int(clamping: header >> 1)
                guard groups <= cursor.remaining else { throw EncodingError(message: "bit-packed run runs past the page") }
                let values = groups * 8
                let n = min(values, count - produced)
                // Writers may stop the last run's bytes at the last value they needed.
                let bytes = min(groups * width, cursor.remaining)
                let data = try cursor.take(bytes)
                guard (n * width + 7) / 8 <= data.count else { throw EncodingError(message: "bit-packed run runs past the page") }
                for i in 0..<n { out[produced + i] = UInt32(truncatingIfNeeded: BitUnpacking.bits(data, at: i * width, width: width)) }
                produced += n
            }
        }
    }
}

/// DELTA_BINARY_PACKED: a header, then blocks of miniblocks of bit-packed deltas above each block's minimum.
enum DeltaDecoder {
    /// Decodes all values into `out` (resized); leaves `cursor` just after the encoded data. More than
    /// `limit` values (the page's count) is an error, so a malformed header cannot ask for unbounded memory.
    static func decode(_ cursor: inout ByteCursor, limit: Int, into out: inout [Int64]) throws {
        let blockSize = Int(clamping: try cursor.varint())
        let miniblocks = Int(clamping: try cursor.varint())
        let total = Int(clamping: try cursor.varint())
        var previous = try cursor.zigzag()
        guard miniblocks > 0, blockSize > 0, blockSize % miniblocks == 0, (blockSize / miniblocks) % 8 == 0, blockSize <= 1 << 20,
              miniblocks <= 256 else { throw EncodingError(message: "bad DELTA_BINARY_PACKED header") }
        guard total <= limit else { throw EncodingError(message: "DELTA_BINARY_PACKED holds \(total) values, the page \(limit)") }
        out.removeAll(keepingCapacity: true)
        guard total > 0 else { return }
        out.reserveCapacity(total)
        out.append(previous)
        let perMiniblock = blockSize / miniblocks
        var widths = [Int](repeating: 0, count: miniblocks)
        while out.count < total {
            let minDelta = try cursor.zigzag()
            for i in 0..<miniblocks {
                widths[i] = Int(try cursor.byte())
                guard widths[i] <= 64 else { throw EncodingError(message: "bit width \(widths[i]) out of range") }
            }
            for i in 0..<miniblocks where out.count < total {
                let width = widths[i]
                let data = try cursor.take(perMiniblock * width / 8)
                let n = min(perMiniblock, total - out.count)
                for j in 0..<n {
                    let delta = BitUnpacking.bits(data, at: j * width, width: width)
                    previous = previous &+ minDelta &+ Int64(bitPattern: delta)
                    out.append(previous)
                }
            }
        }
    }
}

/// Byte-array encodings: calls `body` with each value's bytes, in order.
enum ByteArrayDecoder {
    static func plain(_ data: UnsafeRawBufferPointer, count: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var cursor = ByteCursor(data)
        for _ in 0..<count {
            let length = Int(try cursor.uint32())
            try body(try cursor.take(length))
        }
    }

    static func fixed(_ data: UnsafeRawBufferPointer, width: Int, count: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard width >= 0, width * count <= data.count else { throw EncodingError(message: "page holds fewer values than its header says") }
        for i in 0..<count { try body(UnsafeRawBufferPointer(rebasing: data[i * width..<(i + 1) * width])) }
    }

    static func deltaLength(_ cursor: inout ByteCursor, count: Int, lengths: inout [Int64], _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try DeltaDecoder.decode(&cursor, limit: count, into: &lengths)
        guard lengths.count >= count else { throw EncodingError(message: "DELTA_LENGTH_BYTE_ARRAY holds \(lengths.count) lengths, expected \(count)") }
        for i in 0..<count {
            guard lengths[i] >= 0, lengths[i] <= Int64(cursor.remaining) else { throw EncodingError(message: "byte array length \(lengths[i]) out of range") }
            try body(try cursor.take(Int(lengths[i])))
        }
    }

    static func deltaStrings(_ cursor: inout ByteCursor, count: Int, scratch: inout Scratch, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try DeltaDecoder.decode(&cursor, limit: count, into: &scratch.prefixes)
        guard scratch.prefixes.count >= count else { throw EncodingError(message: "DELTA_BYTE_ARRAY holds \(scratch.prefixes.count) prefixes, expected \(count)") }
        var value: [UInt8] = []
        var index = 0
        try deltaLength(&cursor, count: count, lengths: &scratch.lengths) { suffix in
            let prefix = scratch.prefixes[index]
            guard prefix >= 0, prefix <= Int64(value.count) else { throw EncodingError(message: "DELTA_BYTE_ARRAY prefix \(prefix) longer than the previous value") }
            value.removeSubrange(Int(prefix)...)
            value.append(contentsOf: suffix)
            index += 1
            try value.withUnsafeBytes { try body($0) }
        }
    }

    struct Scratch {
        var prefixes: [Int64] = []
        var lengths: [Int64] = []
    }
}

enum ByteStreamSplit {
    /// Interleaves `count` values of `width` bytes, stored as `width` streams, into plain layout in `out`.
    static func join(_ data: UnsafeRawBufferPointer, width: Int, count: Int, into out: UnsafeMutableRawBufferPointer) throws {
        guard width * count <= data.count, width * count <= out.count else { throw EncodingError(message: "BYTE_STREAM_SPLIT page holds fewer values than its header says") }
        let streamLength = data.count / width
        for k in 0..<width {
            let stream = k * streamLength
            for i in 0..<count { out[i * width + k] = data[stream + i] }
        }
    }
}
