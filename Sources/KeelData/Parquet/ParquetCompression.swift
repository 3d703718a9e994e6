import CSnappy
import CZlib
import CZstd

/// Page decompression and (for the writer) snappy compression, on Debian's zlib, snappy and zstd.
enum ParquetCompression {
    struct Failure: Error {
        var message: String
    }

    /// Decompresses `input` into `output`, which must hold exactly the page's uncompressed size.
    static func decompress(_ codec: ParquetCodec, _ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        switch codec {
        case .uncompressed:
            guard input.count == output.count else { throw Failure(message: "page is \(input.count) bytes, its header says \(output.count)") }
            if input.count > 0 { output.copyMemory(from: input) }
        case .snappy:
            var length = 0
            guard snappy_uncompressed_length(input.baseAddress?.assumingMemoryBound(to: CChar.self), input.count, &length) == SNAPPY_OK,
                  length == output.count else { throw Failure(message: "page fails to decompress (snappy: bad length)") }
            guard output.count > 0 else { return }
            var written = output.count
            guard snappy_uncompress(input.baseAddress?.assumingMemoryBound(to: CChar.self), input.count,
                                    output.baseAddress?.assumingMemoryBound(to: CChar.self), &written) == SNAPPY_OK,
                  written == output.count else { throw Failure(message: "page fails to decompress (snappy)") }
        case .zstd:
            guard output.count > 0 else { return }
            let written = ZSTD_decompress(output.baseAddress, output.count, input.baseAddress, input.count)
            guard ZSTD_isError(written) == 0, written == output.count else {
                let reason = ZSTD_isError(written) != 0 ? String(cString: ZSTD_getErrorName(written)) : "\(written) bytes, expected \(output.count)"
                throw Failure(message: "page fails to decompress (zstd: \(reason))")
            }
        case .gzip:
            try inflate(input, into: output)
        case .lzo, .brotli, .lz4, .lz4Raw:
            throw Failure(message: "the \(codec) codec is not supported (Keel reads uncompressed, snappy, gzip and zstd pages)")
        }
    }

    private static func inflate(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        var stream = z_stream()
        // 15 + 32: a zlib or gzip header, detected.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(message: "zlib cannot start")
        }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.avail_in = UInt32(input.count)
        stream.next_out = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.avail_out = UInt32(output.count)
        let status = CZlib.inflate(&stream, Z_FINISH)
        guard status == Z_STREAM_END, Int(stream.total_out) == output.count else {
            throw Failure(message: "page fails to decompress (gzip: status \(status))")
        }
    }

    /// Snappy-compressed `input`.
    static func snappy(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        let capacity = snappy_max_compressed_length(input.count)
        return [UInt8](unsafeUninitializedCapacity: max(capacity, 1)) { buffer, count in
            var length = capacity
            let status = snappy_compress(input.baseAddress?.assumingMemoryBound(to: CChar.self), input.count,
                                         UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self), &length)
            precondition(status == SNAPPY_OK, "snappy_compress failed")
            count = length
        }
    }
}
