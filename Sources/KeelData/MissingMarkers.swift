/// The missing-value markers, checked without calls: a field is compared only when its length and first
/// byte match some marker.
struct MissingMarkers {
    private let markers: [[UInt8]]
    private let longest: Int
    private let matchesEmpty: Bool
    private var firstBytes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init(_ markers: [String]) {
        self.markers = markers.map { Array($0.utf8) }.filter { !$0.isEmpty }
        longest = self.markers.map(\.count).max() ?? 0
        matchesEmpty = markers.contains("")
        for marker in self.markers { set(marker[0]) }
    }

    private mutating func set(_ byte: UInt8) {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: firstBytes.0 |= bit
        case 1: firstBytes.1 |= bit
        case 2: firstBytes.2 |= bit
        default: firstBytes.3 |= bit
        }
    }

    @inline(__always)
    func contains(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if bytes.isEmpty { return matchesEmpty }
        guard bytes.count <= longest else { return false }
        let first = bytes[0]
        let word = switch first >> 6 {
        case 0: firstBytes.0
        case 1: firstBytes.1
        case 2: firstBytes.2
        default: firstBytes.3
        }
        guard word & (UInt64(1) << UInt64(first & 63)) != 0 else { return false }
        return markers.contains { $0.count == bytes.count && $0.elementsEqual(bytes) }
    }
}
