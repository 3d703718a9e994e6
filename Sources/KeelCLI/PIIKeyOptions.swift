import ArgumentParser
import KeelArtifact
import KeelData

/// `--pii-key-file`: the secret key of pseudonymised columns, for every command that reads data a model's
/// privacy rules apply to (train, predict, explain, monitor, serve).
struct PIIKeyOptions: ParsableArguments {
    @Option(name: .customLong("pii-key-file"), help: ArgumentHelp("The secret key pseudonymised columns are made with (at least 32 bytes; also KEEL_PII_KEY, base64); the same key is needed to score.", valueName: "file"))
    var keyFile: String?

    static let source = "--pii-key-file FILE (or KEEL_PII_KEY)"

    /// The guard `schema`'s privacy rules ask for when scoring; nil when they change nothing.
    func scoringGuard(_ schema: Schema) throws -> PrivacyGuard? {
        try PrivacyGuard.scoring(schema, keyFile: keyFile, keySource: Self.source)
    }

    /// `frame` (a file read for a model) under `schema`'s rules, each said on the terminal.
    func protect(_ frame: Frame, schema: Schema) throws -> Frame {
        guard let privacyGuard = try scoringGuard(schema) else { return frame }
        for line in privacyGuard.notes(for: frame) { Terminal.progress(line) }
        return try privacyGuard.apply(frame)
    }
}
