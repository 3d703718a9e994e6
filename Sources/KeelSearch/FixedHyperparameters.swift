import KeelLearn

/// Expert overrides: hyperparameters pinned per learner family (from the `hyperparameters:` section of a
/// train config). Every configuration the search tries for that family, portfolio or variation, takes the
/// pinned values; the rest stay searched. Which names a family takes is the family's (`pinnableNames`).
public struct FixedHyperparameters: Sendable, Equatable {
    public private(set) var values: [String: [String: Double]] = [:]

    /// The names each standard family accepts, as written in config files (families that take none are left out).
    public static var names: [String: [String]] {
        Dictionary(uniqueKeysWithValues: LearnerFamilies.standard.filter { !$0.pinnableNames.isEmpty }.map { ($0.name, $0.pinnableNames) })
    }

    public init() {}

    /// Checks every family and name, so a typo is an error naming it rather than a silently ignored setting.
    public init(_ values: [String: [String: Double]]) throws {
        let names = Self.names
        for (family, settings) in values {
            guard let allowed = names[family] else {
                throw SearchError.invalidInput("hyperparameters: '\(family)' is not a family with fixable settings; the families are \(names.keys.sorted().joined(separator: ", "))")
            }
            for (name, value) in settings {
                guard allowed.contains(name) else {
                    throw SearchError.invalidInput("hyperparameters.\(family): unknown setting '\(name)'; it takes \(allowed.joined(separator: ", "))")
                }
                guard value.isFinite, value >= 0 else { throw SearchError.invalidInput("hyperparameters.\(family).\(name) must be a non-negative number") }
            }
        }
        self.values = values
    }

    public var isEmpty: Bool { values.isEmpty }

    /// `candidate` with the pinned values of its family applied.
    func apply(_ candidate: Portfolio.Candidate) -> Portfolio.Candidate {
        guard let settings = values[candidate.family], !settings.isEmpty else { return candidate }
        let family = candidate.learner.family
        var copy = candidate
        copy.learner = family.pinning(candidate.learner, to: settings)
        copy.summary = family.describe(copy.learner) + " (fixed: \(settings.keys.sorted().joined(separator: ", ")))"
        return copy
    }
}
