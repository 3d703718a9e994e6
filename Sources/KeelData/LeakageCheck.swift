/// Detects features that give away the target: a one-to-one relabelling of it, or (numbers) a near-perfect
/// linear relation. Such a column is usually recorded after the outcome and is missing at prediction time.
enum LeakageCheck {
    static func isSuspect(_ feature: Column, target: Column) -> Bool {
        if case .numeric(let x) = feature.values, case .numeric(let y) = target.values,
           abs(correlation(x, y) ?? 0) >= 0.999 {
            return true
        }
        return isBijection(keys(feature), keys(target))
    }

    /// Per-row hashable keys; nil marks a missing value.
    private static func keys(_ column: Column) -> [UInt64?] {
        switch column.values {
        case .numeric(let v), .datetime(let v): v.map { $0.isNaN ? nil : ($0 == 0 ? 0 : $0.bitPattern) }
        case .categorical(let s), .text(let s): s.codes.map { $0 == EncodedStrings.missing ? nil : UInt64($0) }
        case .boolean(let b): b.map { $0 == Column.missingBoolean ? nil : UInt64($0) }
        }
    }

    /// True when, over rows where both are present, each feature value has one target value and vice versa,
    /// with at least two values and at least 90% of rows present.
    private static func isBijection(_ feature: [UInt64?], _ target: [UInt64?]) -> Bool {
        var forward: [UInt64: UInt64] = [:]
        var backward: [UInt64: UInt64] = [:]
        var present = 0
        for (f, t) in zip(feature, target) {
            guard let f, let t else { continue }
            present += 1
            if let seen = forward.updateValue(t, forKey: f), seen != t { return false }
            if let seen = backward.updateValue(f, forKey: t), seen != f { return false }
        }
        return forward.count >= 2 && present * 10 >= feature.count * 9
    }

    private static func correlation(_ x: [Double], _ y: [Double]) -> Double? {
        var n = 0.0, sx = 0.0, sy = 0.0
        for (a, b) in zip(x, y) where a.isFinite && b.isFinite { n += 1; sx += a; sy += b }
        guard n > 2 else { return nil }
        let mx = sx / n, my = sy / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) where a.isFinite && b.isFinite {
            sxy += (a - mx) * (b - my)
            sxx += (a - mx) * (a - mx)
            syy += (b - my) * (b - my)
        }
        guard sxx > 0, syy > 0 else { return nil }
        return sxy / (sxx * syy).squareRoot()
    }
}
