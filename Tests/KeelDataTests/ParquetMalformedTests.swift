import Foundation
import KeelData
import Testing

/// Broken Parquet files are clear errors naming the file (and the row group and column where a chunk is at
/// fault), never a crash. Each starts from a good file written by `ParquetWriter` (2 row groups; a string
/// column `s` with a two-value dictionary, a double column `x`) and breaks one thing.
@Suite struct ParquetMalformedTests {
    private static func good() throws -> [UInt8] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keel-pq-good-\(UUID().uuidString).parquet").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try ParquetWriter(path: path, columns: [.init(name: "s", type: .string), .init(name: "x", type: .double)])
        for group in 0..<2 {
            let rows = 0..<300
            try writer.writeRowGroup([.strings(rows.map { $0 % 7 == 0 ? nil : ($0 % 2 == 0 ? "even-\(group)" : "odd-\(group)") }),
                                      .doubles(rows.map { $0 % 11 == 0 ? nil : Double($0) * 0.25 })])
        }
        try writer.commit()
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Writes `bytes` to a fresh file and returns the reader's error message (nil if it read the file).
    private static func failure(_ bytes: [UInt8]) throws -> (path: String, message: String?) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("keel-pq-bad-\(UUID().uuidString).parquet").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            _ = try ParquetReader.read(path: path)
            return (path, nil)
        } catch {
            return (path, "\(error)")
        }
    }

    /// Walks a Thrift compact struct starting at `position` (the page headers hold only i32 and structs),
    /// returning where it ends and, if found, where the value of field `path` (nested ids) starts.
    private static func walk(_ bytes: [UInt8], _ position: inout Int, find path: [Int], found: inout Int?) {
        var last = 0
        while true {
            let header = bytes[position]
            position += 1
            if header == 0 { return }
            let id = last + Int(header >> 4)
            last = id
            switch header & 0x0F {
            case 5, 6:
                if path == [id] { found = position }
                while bytes[position] & 0x80 != 0 { position += 1 }
                position += 1
            case 12:
                walk(bytes, &position, find: path.first == id ? Array(path.dropFirst()) : [-1], found: &found)
            default:
                return
            }
        }
    }

    @Test func goodFileReads() throws {
        let result = try Self.failure(try Self.good())
        #expect(result.message == nil, "\(result.message ?? "")")
    }

    @Test func wrongMagic() throws {
        var bytes = try Self.good()
        bytes[0] = UInt8(ascii: "X")
        let (path, message) = try Self.failure(bytes)
        #expect(message?.contains(path) == true && message?.contains("PAR1") == true, "\(message ?? "read")")
    }

    @Test func truncatedFooter() throws {
        let bytes = try Self.good()
        let (path, message) = try Self.failure(Array(bytes.dropLast(20)))
        #expect(message?.contains(path) == true && message?.contains("truncated") == true, "\(message ?? "read")")

        // The footer length says more than the file holds.
        var long = bytes
        long.replaceSubrange(long.count - 8..<long.count - 4, with: [0xFF, 0xFF, 0xFF, 0x00])
        let (path2, message2) = try Self.failure(long)
        #expect(message2?.contains(path2) == true && message2?.contains("footer") == true, "\(message2 ?? "read")")
    }

    @Test func aPageThatFailsToDecompress() throws {
        var bytes = try Self.good()
        // The first page (column s's dictionary in row group 1) starts at byte 4; its snappy body follows its
        // header and opens with the uncompressed length. Garbage after it: a copy from far before the start.
        var position = 4
        var found: Int?
        Self.walk(bytes, &position, find: [], found: &found)
        while bytes[position] & 0x80 != 0 { position += 1 }
        position += 1
        bytes.replaceSubrange(position..<position + 5, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        let (path, message) = try Self.failure(bytes)
        #expect(message?.contains(path) == true && message?.contains("row group 1") == true
                && message?.contains("'s'") == true && message?.contains("decompress") == true, "\(message ?? "read")")
    }

    @Test func aColumnChunkPointingPastTheEnd() throws {
        let bytes = try Self.good()
        // Keep the footer but drop most of the data: every chunk now lies past the end of the data.
        let footerLength = Int(bytes[bytes.count - 8]) | Int(bytes[bytes.count - 7]) << 8 | Int(bytes[bytes.count - 6]) << 16
        let dataEnd = bytes.count - 8 - footerLength
        let cut = Array(bytes[0..<12]) + Array(bytes[dataEnd...])
        let (path, message) = try Self.failure(cut)
        #expect(message?.contains(path) == true && message?.contains("row group 1") == true
                && message?.contains("past the end") == true, "\(message ?? "read")")
    }

    @Test func aDictionaryIndexOutOfRange() throws {
        var bytes = try Self.good()
        // The dictionary page header's num_values (field 7.1): 2 becomes 1, so index 1 has no value.
        var position = 4
        var found: Int?
        Self.walk(bytes, &position, find: [7, 1], found: &found)
        guard let at = found else { Issue.record("no dictionary page header at byte 4"); return }
        #expect(bytes[at] == 4, "zigzag 2")
        bytes[at] = 2
        let (path, message) = try Self.failure(bytes)
        #expect(message?.contains(path) == true && message?.contains("row group 1") == true
                && message?.contains("'s'") == true && message?.contains("out of range") == true, "\(message ?? "read")")
    }

    /// A header's counts are checked against its page's bytes before anything is allocated for them: a
    /// dictionary claiming more values than its bytes can hold is an error, not a large allocation.
    @Test func aDictionaryClaimingMoreValuesThanItsBytes() throws {
        var bytes = try Self.good()
        var position = 4
        var found: Int?
        Self.walk(bytes, &position, find: [7, 1], found: &found)
        let at = try #require(found, "no dictionary page header at byte 4")
        #expect(bytes[at] == 4, "zigzag 2")
        bytes[at] = 0x7E
        let (path, message) = try Self.failure(bytes)
        #expect(message?.contains(path) == true && message?.contains("'s'") == true
                && message?.contains("claims 63 values in") == true, "\(message ?? "read")")
    }

    /// A footer claiming a trillion rows in a small file is refused before anything is allocated for them.
    @Test func aFooterClaimingFarMoreRowsThanTheFileHolds() throws {
        let bytes = try Self.good()
        let footerLength = Int(bytes[bytes.count - 8]) | Int(bytes[bytes.count - 7]) << 8 | Int(bytes[bytes.count - 6]) << 16
        let dataEnd = bytes.count - 8 - footerLength
        var footer = Array(bytes[dataEnd..<bytes.count - 8])
        // The last row group's num_rows (field 3, i64, one after total_byte_size; zigzag 300 is varint D8 04)
        // ends the footer's last match: the chunks' num_values (field 5, one after the codec) come before it.
        let old: [UInt8] = [0x16, 0xD8, 0x04]
        let at = try #require(footer.indices.dropLast(2).last { Array(footer[$0..<$0 + 3]) == old }, "no num_rows 300")
        var varint: [UInt8] = []
        var zigzag: UInt64 = UInt64(1) << 41  // 2^40 rows, and 300 in the other group
        while zigzag >= 0x80 { varint.append(UInt8(zigzag & 0x7F) | 0x80); zigzag >>= 7 }
        varint.append(UInt8(zigzag))
        footer.replaceSubrange(at + 1..<at + 3, with: varint)
        let length = UInt32(footer.count)
        let broken = Array(bytes[0..<dataEnd]) + footer
            + [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24)] + Array("PAR1".utf8)
        let (path, message) = try Self.failure(broken)
        #expect(message?.contains(path) == true && message?.contains("claim 1099511628076 rows") == true
                && message?.contains("corrupt footer") == true, "\(message ?? "read")")
    }
}
