/// Picks the field separator from a sample of the first lines: the candidate that appears the same, non-zero
/// number of times (outside quotes) on every complete line, preferring the most frequent; failing that, the
/// most frequent overall; failing that, a comma.
enum DelimiterDetector {
    static func detect(_ sample: UnsafeRawBufferPointer, candidates: [UInt8] = CSVOptions.detectableDelimiters) -> UInt8 {
        var perLine: [[Int]] = []
        var counts = [Int](repeating: 0, count: candidates.count)
        var inQuotes = false
        for byte in sample {
            if byte == UInt8(ascii: "\"") { inQuotes.toggle(); continue }
            if inQuotes { continue }
            if byte == UInt8(ascii: "\n") {
                perLine.append(counts)
                counts = [Int](repeating: 0, count: candidates.count)
                if perLine.count == 50 { break }
            } else if let index = candidates.firstIndex(of: byte) {
                counts[index] += 1
            }
        }
        if perLine.isEmpty { perLine.append(counts) }
        var best: (index: Int, count: Int)?
        for index in candidates.indices {
            let first = perLine[0][index]
            guard first > 0, perLine.allSatisfy({ $0[index] == first }) else { continue }
            if best == nil || first > best!.count { best = (index, first) }
        }
        if let best { return candidates[best.index] }
        let totals = candidates.indices.map { index in perLine.reduce(0) { $0 + $1[index] } }
        if let top = totals.indices.max(by: { totals[$0] < totals[$1] }), totals[top] > 0 { return candidates[top] }
        return UInt8(ascii: ",")
    }
}
