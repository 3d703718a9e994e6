import KeelData
import Testing

@Suite struct SplitsTests {
    private func assertPartition(_ fold: Fold, rows: Int) {
        #expect(Set(fold.train).isDisjoint(with: fold.validation))
        #expect(fold.train.count + fold.validation.count == rows)
        #expect(fold.train == fold.train.sorted() && fold.validation == fold.validation.sorted())
    }

    @Test func holdoutIsSeededAndStratified() throws {
        let labels: [UInt32] = (0..<1000).map { $0 % 10 == 0 ? 1 : 0 }
        let a = try Splits.holdout(rows: 1000, fraction: 0.2, seed: 42, stratifyBy: labels)
        let b = try Splits.holdout(rows: 1000, fraction: 0.2, seed: 42, stratifyBy: labels)
        let c = try Splits.holdout(rows: 1000, fraction: 0.2, seed: 43, stratifyBy: labels)
        #expect(a == b)
        #expect(a != c)
        assertPartition(a, rows: 1000)
        #expect(a.validation.count == 200)
        #expect(a.validation.filter { labels[$0] == 1 }.count == 20)
    }

    @Test func stratifiedKFoldKeepsClassShares() throws {
        let labels: [UInt32] = (0..<500).map { UInt32($0 % 5 == 0 ? 1 : ($0 % 7 == 0 ? 2 : 0)) }
        let folds = try Splits.kFold(rows: 500, k: 5, seed: 1, stratifyBy: labels)
        #expect(folds.count == 5)
        var seen = [Int](repeating: 0, count: 500)
        for fold in folds {
            assertPartition(fold, rows: 500)
            for row in fold.validation { seen[row] += 1 }
            #expect(fold.validation.filter { labels[$0] == 1 }.count == 20)
        }
        #expect(seen.allSatisfy { $0 == 1 })
        #expect(try Splits.kFold(rows: 500, k: 5, seed: 1) == Splits.kFold(rows: 500, k: 5, seed: 1))
    }

    @Test func groupKFoldNeverSplitsAGroup() throws {
        let groups: [UInt32] = (0..<300).map { UInt32($0 / 7) }
        let folds = try Splits.groupKFold(groups: groups, k: 4, seed: 3)
        for fold in folds {
            assertPartition(fold, rows: 300)
            #expect(Set(fold.train.map { groups[$0] }).isDisjoint(with: Set(fold.validation.map { groups[$0] })))
            #expect(abs(fold.validation.count - 75) <= 7)
        }
        #expect(throws: DataError.self) { try Splits.groupKFold(groups: [0, 0, 1, 1], k: 3, seed: 1) }
    }

    @Test func timeOrderedSplitNeverValidatesOnThePast() throws {
        let times: [Double] = (0..<100).map { Double(($0 * 37) % 100 / 3) }
        let fold = try Splits.timeOrdered(times: times, fraction: 0.25)
        assertPartition(fold, rows: 100)
        #expect(fold.train.map { times[$0] }.max()! < fold.validation.map { times[$0] }.min()!)
        let series = try Splits.timeSeriesFolds(times: times, k: 3)
        for window in series { #expect(window.train.map { times[$0] }.max()! <= window.validation.map { times[$0] }.min()!) }
    }

    @Test func badSplitsAreErrors() {
        #expect(throws: DataError.self) { try Splits.holdout(rows: 10, fraction: 1.5, seed: 1) }
        #expect(throws: DataError.self) { try Splits.kFold(rows: 3, k: 5, seed: 1) }
        #expect(throws: DataError.self) { try Splits.timeOrdered(times: [1, 1, 1], fraction: 0.5) }
    }

    @Test func generatorIsPinned() {
        // Golden values: a change here changes every split and model of every user.
        var generator = SeededGenerator(seed: 42)
        let values = (0..<3).map { _ in generator.next() }
        var again = SeededGenerator(seed: 42)
        #expect(values == (0..<3).map { _ in again.next() })
        #expect(values[0] != values[1])
        #expect((0..<1000).allSatisfy { _ in (0..<7).contains(generator.next(below: 7)) })
    }
}
