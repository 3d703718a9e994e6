import Foundation
import KeelRegistry
import KeelTestSupport
import Testing

@Suite struct APIKeyStoreTests {
    @Test func keysAreStoredOnlyAsHashesAndCarryTheirRole() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keel-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("api-keys.json").path
        var store = try APIKeyStore(path: path)
        let (admin, adminSecret) = try store.create(role: .admin, name: "ops")
        let (_, predictSecret) = try store.create(role: .predict, name: "app")
        let reloaded = try APIKeyStore(path: path)
        #expect(reloaded.keys.count == 2)
        #expect(reloaded.role(of: adminSecret) == .admin)
        #expect(reloaded.role(of: predictSecret) == .predict)
        #expect(reloaded.role(of: "keel_guess") == nil)
        let file = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!file.contains(adminSecret) && !file.contains(predictSecret))
        #expect(APIKeyRole.admin.allows(.predict) && !APIKeyRole.predict.allows(.admin))
        var editable = reloaded
        #expect(try editable.revoke(id: admin.id))
        #expect(try APIKeyStore(path: path).role(of: adminSecret) == nil)
        #expect(try !editable.revoke(id: "nope"))
    }
}
