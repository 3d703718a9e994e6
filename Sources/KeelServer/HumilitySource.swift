import Foundation
import KeelLearn

/// Where a server's humility rules come from: `keel serve --config`'s `humility:` section (for whichever
/// model the file serves), or the registry's `keel.yaml` (`models.NAME.humility`, per name). Read at start
/// (rules that do not parse or do not fit a model stop the server), again on every reload, and, when a
/// server follows a registry, whenever the file changes; a change that does not parse or fit keeps the rules
/// in force and says why.
public struct HumilitySource: Sendable {
    /// The rules, per model name or for any model.
    public struct Table: Sendable, Equatable {
        public var byName: [String: [HumilityRule]]
        public var anyModel: [HumilityRule]

        public init(byName: [String: [HumilityRule]] = [:], anyModel: [HumilityRule] = []) {
            (self.byName, self.anyModel) = (byName, anyModel)
        }

        public func rules(for name: String) -> [HumilityRule] { byName[name] ?? anyModel }
    }

    /// Names the source in messages: "keel.yaml (models.NAME.humility)".
    public var origin: String
    /// Something that changes when the source does (the file's bytes); nil when it cannot be read.
    public var fingerprint: @Sendable () -> [UInt8]?
    public var read: @Sendable () throws -> Table

    public init(origin: String, fingerprint: @escaping @Sendable () -> [UInt8]?, read: @escaping @Sendable () throws -> Table) {
        (self.origin, self.fingerprint, self.read) = (origin, fingerprint, read)
    }

    /// Rules given once, never read again (tests, and servers without a file).
    public static func fixed(_ table: Table) -> HumilitySource {
        HumilitySource(origin: "the server's settings", fingerprint: { [] }, read: { table })
    }

    /// A file read as a whole by `parse`; its bytes are the fingerprint.
    public static func file(_ path: String, origin: String, parse: @escaping @Sendable (String, [UInt8]) throws -> Table) -> HumilitySource {
        HumilitySource(origin: origin, fingerprint: { FileManager.default.contents(atPath: path).map { Array($0) } ?? [] }, read: {
            guard let data = FileManager.default.contents(atPath: path) else { return Table() }
            return try parse(path, Array(data))
        })
    }
}
