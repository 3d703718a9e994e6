import KeelData

#if canImport(Glibc)
import Glibc
#endif

/// A seeded generator of realistic customer-churn data: the bundled example and test fixtures.
///
/// Mixed kinds (identifiers, dates, categoricals, integer codes, counts, money, booleans), missing values
/// that are more likely for some customers, a monthly `snapshot_month` time column, and drift between
/// periods: from the second half of the year fees rise, fibre replaces DSL and support calls weigh more on
/// churn. The label follows a logistic model of the features, so a good learner reaches an AUC near 0.85.
public struct CustomerChurnData: Sendable {
    public var rows: Int
    public var seed: UInt64

    public init(rows: Int = 4000, seed: UInt64 = 7) {
        self.rows = rows
        self.seed = seed
    }

    public static let header = [
        "customer_id", "snapshot_month", "signup_date", "plan", "internet", "region", "monthly_fee", "tenure_months",
        "support_calls", "usage_hours", "autopay", "satisfaction", "contract", "churned",
    ]

    /// The data as CSV text (LF line ends, a header row, empty fields for missing values).
    public func csv() -> String {
        var generator = SeededGenerator(seed: seed)
        var lines = [Self.header.joined(separator: ",")]
        lines.reserveCapacity(rows + 1)
        for row in 0..<rows { lines.append(record(row, &generator).joined(separator: ",")) }
        return lines.joined(separator: "\n") + "\n"
    }

    private func record(_ row: Int, _ g: inout SeededGenerator) -> [String] {
        let month = row * 12 / rows + 1
        let late = month > 6
        let plan = pick(["basic", "standard", "premium"], weights: [0.45, 0.35, 0.2], &g)
        let internet = pick(["dsl", "fibre", "none"], weights: late ? [0.25, 0.6, 0.15] : [0.5, 0.3, 0.2], &g)
        let contract = pick(["month-to-month", "one-year", "two-year"], weights: [0.55, 0.25, 0.2], &g)
        let tenure = min(72, Int(-log(1 - g.nextUnit()) * 20))
        let signup = DateTimeParser.daysFromCivil(year: 2024, month: month, day: 1) - tenure * 30 - g.next(below: 28)
        let baseFee = ["basic": 25.0, "standard": 55.0, "premium": 90.0][plan]! * (late ? 1.12 : 1.0)
        let fee = max(9.99, baseFee + normal(&g) * 6 + (internet == "fibre" ? 15 : 0)) * 100
        let calls = poisson(contract == "month-to-month" ? 2.2 : 1.1, &g)
        let usage = max(0, 40 + normal(&g) * 18 + (plan == "premium" ? 25 : 0))
        let autopay = g.nextUnit() < (contract == "month-to-month" ? 0.35 : 0.7)
        let satisfaction = max(1, min(5, Int((4.2 - Double(calls) * 0.45 + normal(&g) * 0.8).rounded())))
        let margin = -1.2 + (contract == "month-to-month" ? 1.4 : contract == "one-year" ? 0 : -1.1)
            - Double(tenure) * 0.035 + Double(calls) * (late ? 0.45 : 0.25) - Double(satisfaction - 3) * 0.55
            + (internet == "fibre" ? 0.5 : 0) - (autopay ? 0.6 : 0) + (fee / 100 - 55) * 0.012
        let churned = g.nextUnit() < 1 / (1 + exp(-margin))
        let regionMissing = g.nextUnit() < 0.04
        let usageMissing = g.nextUnit() < (internet == "none" ? 0.5 : 0.05)
        let satisfactionMissing = g.nextUnit() < 0.08
        return [
            "C" + padded(row + 1, 6),
            "2024-\(padded(month, 2))-01",
            DateTimeParser.format(Double(signup) * 86_400),
            plan,
            internet,
            regionMissing ? "" : pick(["north", "south", "east", "west", "central"], weights: [0.25, 0.2, 0.2, 0.2, 0.15], &g),
            NumberFormatting.canonical(fee.rounded() / 100),
            String(tenure),
            String(calls),
            usageMissing ? "" : NumberFormatting.canonical((usage * 10).rounded() / 10),
            autopay ? "true" : "false",
            satisfactionMissing ? "" : String(satisfaction),
            contract,
            churned ? "yes" : "no",
        ]
    }

    private func pick(_ options: [String], weights: [Double], _ g: inout SeededGenerator) -> String {
        var u = g.nextUnit() * weights.reduce(0, +)
        for (option, weight) in zip(options, weights) {
            if u < weight { return option }
            u -= weight
        }
        return options[options.count - 1]
    }

    private func normal(_ g: inout SeededGenerator) -> Double {
        let u1 = max(g.nextUnit(), 1e-300)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * g.nextUnit())
    }

    private func poisson(_ mean: Double, _ g: inout SeededGenerator) -> Int {
        let limit = exp(-mean)
        var product = g.nextUnit()
        var count = 0
        while product > limit {
            product *= g.nextUnit()
            count += 1
        }
        return count
    }

    private func padded(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
