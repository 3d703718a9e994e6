import Foundation
import KeelLearn
import Synchronization

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
    /// Called before the server looks at the rules again: a source that is not a file (a registry's database)
    /// fetches its bytes here, so that `fingerprint` and `read` need no round trip.
    public var refresh: (@Sendable () async throws -> Void)?

    public init(origin: String, fingerprint: @escaping @Sendable () -> [UInt8]?, read: @escaping @Sendable () throws -> Table,
                refresh: (@Sendable () async throws -> Void)? = nil) {
        (self.origin, self.fingerprint, self.read, self.refresh) = (origin, fingerprint, read, refresh)
    }

    /// Bytes fetched by `fetch` (a keel.yaml kept in a registry's database), `initial` until the first refresh.
    public static func fetched(origin: String, initial: [UInt8]?, fetch: @escaping @Sendable () async throws -> [UInt8]?,
                               parse: @escaping @Sendable ([UInt8]) throws -> Table) -> HumilitySource {
        let held = Held(initial)
        return HumilitySource(origin: origin, fingerprint: { held.bytes ?? [] }, read: { try held.bytes.map(parse) ?? Table() },
                              refresh: { held.bytes = try await fetch() })
    }

    private final class Held: Sendable {
        private let storage: Mutex<[UInt8]?>
        init(_ bytes: [UInt8]?) { storage = Mutex(bytes) }
        var bytes: [UInt8]? {
            get { storage.withLock { $0 } }
            set { storage.withLock { $0 = newValue } }
        }
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
