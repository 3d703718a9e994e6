import Foundation

/// The order in which a person expects a column's levels on a chart axis: numbers ascending, booleans false
/// then true (no/yes, n/y, 0/1 alike), anything else alphabetically (case-insensitive), "missing" last.
/// Never frequency: a chart about values should not reshuffle its axis when the data changes.
public enum NaturalOrder {
    public static func sorted(_ levels: [String]) -> [String] {
        let present = levels.filter { $0 != "missing" }
        let tail = levels.count - present.count > 0 ? ["missing"] : []
        let numbers = present.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        if numbers.count == present.count, numbers.allSatisfy(\.isFinite) {
            return zip(present, numbers).sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.map(\.0) + tail
        }
        let falseWords: Set<String> = ["false", "no", "n", "f"]
        let trueWords: Set<String> = ["true", "yes", "y", "t"]
        let lowered = present.map { $0.lowercased() }
        if !present.isEmpty, lowered.allSatisfy({ falseWords.contains($0) || trueWords.contains($0) }) {
            return present.sorted { a, b in
                let fa = falseWords.contains(a.lowercased()), fb = falseWords.contains(b.lowercased())
                return fa != fb ? fa : a < b
            } + tail
        }
        return present.sorted {
            let order = $0.localizedCaseInsensitiveCompare($1)
            return order != .orderedSame ? order == .orderedAscending : $0 < $1
        } + tail
    }
}
