#if canImport(Glibc)
import Glibc
#endif

/// An intern table for byte strings: gives each distinct value a dense code in order of first appearance.
///
/// Values live in one byte arena and the table is open-addressed over codes, so interning a field costs a
/// hash and usually one `memcmp`, with no allocation per row.
struct LevelTable {
    private var arena: [UInt8] = []
    private var starts: [Int] = [0]
    private var hashes: [UInt64] = []
    private var slots = [Int32](repeating: -1, count: 64)
    /// Line on which each level first appeared, for error messages about its bytes.
    private(set) var firstLines: [Int] = []

    var count: Int { hashes.count }

    mutating func intern(_ bytes: UnsafeBufferPointer<UInt8>, line: Int) -> UInt32 {
        let hash = Self.hash(bytes)
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let code = slots[slot]
            if code < 0 { break }
            if hashes[Int(code)] == hash, matches(Int(code), bytes) { return UInt32(code) }
            slot = (slot &+ 1) & mask
        }
        let code = Int32(hashes.count)
        slots[slot] = code
        hashes.append(hash)
        arena.append(contentsOf: bytes)
        starts.append(arena.count)
        firstLines.append(line)
        if hashes.count * 2 > slots.count { grow() }
        return UInt32(code)
    }

    /// The bytes of level `code`.
    func bytes(of code: Int) -> ArraySlice<UInt8> { arena[starts[code]..<starts[code + 1]] }

    private func matches(_ code: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = starts[code]
        let length = starts[code + 1] - start
        guard length == bytes.count else { return false }
        return arena.withUnsafeBufferPointer { stored in
            let base = stored.baseAddress! + start
            if length <= 16 {
                for i in 0..<length where base[i] != bytes[i] { return false }
                return true
            }
            return memcmp(base, bytes.baseAddress!, length) == 0
        }
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for (code, hash) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] >= 0 { slot = (slot &+ 1) & mask }
            slots[slot] = Int32(code)
        }
    }

    /// FNV-1a with a final avalanche so that the low bits used for slots are well mixed.
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        return h
    }
}
