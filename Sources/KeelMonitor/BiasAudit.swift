/// Limits a bias audit checks; the same numbers serve as registry promotion gates.
public struct FairnessThresholds: Codable, Sendable, Equatable {
    /// Largest gap in selection rate between groups.
    public var demographicParityDifference = 0.1
    /// Largest gap in true positive rate between groups.
    public var equalOpportunityDifference = 0.1
    /// Smallest ratio of selection rates (the "four-fifths rule").
    public var disparateImpactRatio = 0.8
    /// Groups smaller than this are reported but not judged (their rates are noise).
    public var minimumGroupSize = 30

    public init() {}
}

/// One group's outcomes.
public struct GroupOutcome: Codable, Sendable, Equatable {
    public var group: String
    public var count: Int
    /// Share predicted positive.
    public var selectionRate: Double
    /// Share of actual positives predicted positive (nil without labels or positives).
    public var truePositiveRate: Double?
    public var falsePositiveRate: Double?
    public var accuracy: Double?
}

/// The fairness of a binary model's decisions across the groups of one protected attribute.
public struct BiasAudit: Codable, Sendable, Equatable {
    public var attribute: String
    public var positiveClass: String
    public var groups: [GroupOutcome]
    public var demographicParityDifference: Double
    public var equalOpportunityDifference: Double?
    public var disparateImpactRatio: Double
    public var thresholds: FairnessThresholds
    /// Each limit broken, in words.
    public var violations: [String]

    /// - Parameters:
    ///   - groups: the protected attribute per row (nil = missing, reported as its own group).
    ///   - predicted: whether each row was predicted positive.
    ///   - actual: whether each row is actually positive, when labels are known.
    public static func audit(attribute: String, positiveClass: String, groups: [String?], predicted: [Bool], actual: [Bool]?,
                             thresholds: FairnessThresholds = FairnessThresholds()) -> BiasAudit {
        var rows: [String: [Int]] = [:]
        for (row, group) in groups.enumerated() { rows[group ?? "(missing)", default: []].append(row) }
        var outcomes: [GroupOutcome] = []
        for (group, members) in rows.sorted(by: { $0.key < $1.key }) {
            let selected = members.filter { predicted[$0] }.count
            var outcome = GroupOutcome(group: group, count: members.count, selectionRate: Double(selected) / Double(members.count))
            if let actual {
                let positives = members.filter { actual[$0] }, negatives = members.filter { !actual[$0] }
                if !positives.isEmpty { outcome.truePositiveRate = Double(positives.filter { predicted[$0] }.count) / Double(positives.count) }
                if !negatives.isEmpty { outcome.falsePositiveRate = Double(negatives.filter { predicted[$0] }.count) / Double(negatives.count) }
                outcome.accuracy = Double(members.filter { predicted[$0] == actual[$0] }.count) / Double(members.count)
            }
            outcomes.append(outcome)
        }
        let judged = outcomes.filter { $0.count >= thresholds.minimumGroupSize }
        let rates = judged.map(\.selectionRate)
        let parity = (rates.max() ?? 0) - (rates.min() ?? 0)
        let impact = (rates.max() ?? 0) > 0 ? (rates.min() ?? 0) / rates.max()! : 1
        let tprs = judged.compactMap(\.truePositiveRate)
        let opportunity = actual == nil || tprs.count < 2 ? nil : tprs.max()! - tprs.min()!
        var violations: [String] = []
        func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
        if parity > thresholds.demographicParityDifference {
            violations.append("selection rates differ by \(percent(parity)) between groups of \(attribute) (limit \(percent(thresholds.demographicParityDifference)))")
        }
        if impact < thresholds.disparateImpactRatio {
            violations.append(String(format: "disparate impact ratio %.2f for %@ is below %.2f", impact, attribute, thresholds.disparateImpactRatio))
        }
        if let opportunity, opportunity > thresholds.equalOpportunityDifference {
            violations.append("true positive rates differ by \(percent(opportunity)) between groups of \(attribute) (limit \(percent(thresholds.equalOpportunityDifference)))")
        }
        return BiasAudit(attribute: attribute, positiveClass: positiveClass, groups: outcomes, demographicParityDifference: parity,
                         equalOpportunityDifference: opportunity, disparateImpactRatio: impact, thresholds: thresholds, violations: violations)
    }
}
