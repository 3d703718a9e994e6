/// Durations in words the way the command line takes them: `1h30m`, `90s` as `1m30s`, `0.5s`.
public enum DurationText {
    /// Whole hours, minutes and seconds; fractions of a second as seconds.
    public static func describe(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        guard Double(whole) == seconds else { return "\(seconds)s" }
        guard whole > 0 else { return "0s" }
        let parts = [(whole / 3600, "h"), (whole / 60 % 60, "m"), (whole % 60, "s")]
        return parts.filter { $0.0 > 0 }.map { "\($0.0)\($0.1)" }.joined()
    }
}
