import KeelData
import Testing

@Suite struct ColumnStatisticsTests {
    @Test func numericMomentsAndQuantilesMatchPandasAndNumpy() {
        // Reference: pandas Series([4, 1, nan, 3, 10, inf, 2]) with inf dropped: mean 4, std (ddof 1) sqrt(12.5);
        // numpy.quantile([1, 2, 3, 4, 10], [.01, .25, .5, .75, .99]) = 1.04, 2, 3, 4, 9.76.
        let stats = ColumnStatistics(Column(name: "x", values: .numeric([4, 1, .nan, 3, 10, .infinity, 2])))
        #expect(stats.count == 6)
        #expect(stats.missing == 1)
        #expect(stats.infinite == 1)
        #expect(stats.distinct == 6)
        #expect(stats.min == 1 && stats.max == 10)
        #expect(stats.mean == 4)
        #expect(abs(stats.std! - 12.5.squareRoot()) < 1e-12)
        let expected = [1.04, 2, 3, 4, 9.76]
        for (value, reference) in zip(stats.quantiles!, expected) { #expect(abs(value - reference) < 1e-12) }
        #expect(stats.integral == true)
    }

    @Test func topLevelsByCountThenFirstAppearance() {
        let strings = EncodedStrings(codes: [0, 1, 1, 2, 2, EncodedStrings.missing, 0], levels: ["a", "b", "c"])
        let stats = ColumnStatistics(Column(name: "c", values: .categorical(strings)), topLevelCount: 2)
        #expect(stats.count == 6 && stats.missing == 1 && stats.distinct == 3)
        #expect(stats.topLevels?.map(\.level) == ["a", "b"])
        #expect(stats.topLevels?.map(\.count) == [2, 2])
    }

    @Test func allMissingColumnHasNoMoments() {
        let stats = ColumnStatistics(Column(name: "x", values: .numeric([.nan, .nan])))
        #expect(stats.count == 0 && stats.missing == 2 && stats.mean == nil && stats.quantiles == nil)
    }
}
