import Crypto
import Foundation
import GRDB
import KeelArtifact
import KeelData

extension Registry {
    /// Appends an entry for an action the registry does not perform itself (a server reload, a key created).
    @discardableResult
    public func audit(actor: String, action: String, subject: String, details: [String: String] = [:]) throws -> AuditEntry {
        try write { db in try AuditLog.append(db, actor: actor, action: action, subject: subject, details: details) }
    }

    /// Audits a change of a configuration file the first time a command sees its new content.
    public func noteConfiguration(path: String, content: [UInt8], actor: String) throws {
        let hash = Registry.sha256(content)
        let key = "config:" + ((path as NSString).standardizingPath)
        guard try read({ db in try setting(db, key) }) != hash else { return }
        try write { db in
            let known = try setting(db, key)
            guard known != hash else { return }
            try setSetting(db, key, hash)
            try AuditLog.append(db, actor: actor, action: known == nil ? "config.add" : "config.change", subject: path,
                                details: ["sha256": hash, "previous": known ?? ""])
        }
    }

    public func auditEntries() throws -> [AuditEntry] {
        try read { db in try AuditLog.entries(db) }
    }

    /// Checks the hash chain, the head file and every signed checkpoint.
    public func verifyAudit() throws -> AuditVerification {
        let entries = try auditEntries()
        let head = FileManager.default.contents(atPath: headPath).flatMap { try? JSONDecoder().decode(AuditHead.self, from: $0) }
        return AuditLog.verify(entries, head: head, checkpoints: try checkpoints())
    }

    /// Signs the current head, so even someone who can rewrite the database and the head file is caught.
    public func writeCheckpoint(signingKey: SigningKey) throws -> AuditCheckpoint {
        let entries = try auditEntries()
        guard let last = entries.last else { throw RegistryError.invalid("the audit log is empty; there is nothing to sign") }
        var checkpoint = AuditCheckpoint(count: entries.count, hash: last.hash, at: Registry.timestamp(), publicKey: signingKey.verifyKey.base64, signature: "")
        checkpoint.signature = try signingKey.key.signature(for: checkpoint.signedText).base64EncodedString()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(checkpoint)), to: checkpointsFolder + "/\(String(format: "%010d", checkpoint.count)).json")
        try audit(actor: Registry.currentUser, action: "audit.checkpoint", subject: "entry \(checkpoint.count)", details: ["public_key": checkpoint.publicKey])
        return checkpoint
    }

    func checkpoints() throws -> [AuditCheckpoint] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: checkpointsFolder)) ?? []
        return try files.filter { $0.hasSuffix(".json") }.sorted().map { file in
            guard let data = FileManager.default.contents(atPath: checkpointsFolder + "/" + file),
                  let checkpoint = try? JSONDecoder().decode(AuditCheckpoint.self, from: data) else {
                throw RegistryError.invalid("the audit checkpoint \(checkpointsFolder)/\(file) cannot be read")
            }
            return checkpoint
        }
    }
}
