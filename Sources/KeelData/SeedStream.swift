/// Where every random choice of a run gets its seed: the run's one seed (`--seed`), a named purpose and an
/// index, mixed into an independent 64-bit seed. Two purposes never share a stream by accident (as two
/// hand-picked offsets of the seed could), a purpose's streams differ by index (trees of a forest, bags of
/// an EBM, repeats of a fold plan), and a new purpose cannot shift the seeds of the others.
///
/// The mix is FNV-1a over the purpose's UTF-8 bytes, then SplitMix64's finaliser over the seed, the
/// purpose's hash and the index: stable across platforms and Swift versions, since it is the record of how
/// a run was made.
public struct SeedStream: Sendable, Hashable, Codable {
    public let root: UInt64

    public init(_ root: UInt64) { self.root = root }

    /// The seed for `purpose` (a dotted name such as "validation.folds") and `index`.
    public func seed(_ purpose: String, index: Int = 0) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in purpose.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return Self.mix(Self.mix(root ^ Self.mix(hash)) &+ UInt64(bitPattern: Int64(index)))
    }

    /// A generator for `purpose` and `index`.
    public func generator(_ purpose: String, index: Int = 0) -> SeededGenerator {
        SeededGenerator(seed: seed(purpose, index: index))
    }

    /// The stream of `purpose`, for a part that draws its own named purposes beneath it (a learner's).
    public func substream(_ purpose: String, index: Int = 0) -> SeedStream {
        SeedStream(seed(purpose, index: index))
    }

    /// SplitMix64's finaliser (Steele, Lea, Flood 2014): every input bit moves every output bit.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
