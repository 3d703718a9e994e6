import KeelSynthetic

/// A small, fixed sample of the seeded example data for fast tests.
public enum CustomerChurnFixture {
    public static let csv = CustomerChurnData(rows: 600, seed: 11).csv()

    public static func sample(rows: Int) -> String { CustomerChurnData(rows: rows, seed: 11).csv() }
}
