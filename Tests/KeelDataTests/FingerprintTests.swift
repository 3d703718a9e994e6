import Foundation
import KeelData
import KeelTestSupport
import Testing

@Suite struct FingerprintTests {
    @Test func sha256MatchesKnownVectorsAndSha256sum() throws {
        var empty = SHA256Hasher()
        #expect(SHA256Hasher.hex(empty.finalize()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var abc = SHA256Hasher()
        abc.update("abc")
        #expect(SHA256Hasher.hex(abc.finalize()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // Lengths around the 64-byte block and padding boundaries, fed in uneven pieces, against coreutils.
        for length in [55, 56, 63, 64, 65, 127, 1000] {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var hasher = SHA256Hasher()
            hasher.update(Array(bytes.prefix(length / 3)))
            hasher.update(Array(bytes.dropFirst(length / 3)))
            let path = try CSVFixtures.temporaryFile(bytes, suffix: ".bin")
            let reference = try sha256sum(path)
            #expect(SHA256Hasher.hex(hasher.finalize()) == reference, "length \(length)")
        }
    }

    @Test func sameDataInOtherSpellingsHasTheSameFingerprint() throws {
        let plain = try CSVFixtures.read("a,b,c\n1.50,x,2024-01-01\n2,y,\n")
        let spelled = try CSVFixtures.read("\u{FEFF}\"a\",\"b\",\"c\"\r\n\"1.5\",\"x\",2024-01-01T00:00:00Z\r\n2.0,y,NA\r\n")
        #expect(plain.fingerprint == spelled.fingerprint)
        let changed = try CSVFixtures.read("a,b,c\n1.50,x,2024-01-01\n2,z,\n")
        #expect(plain.fingerprint != changed.fingerprint)
        let reordered = try CSVFixtures.read("b,a,c\nx,1.50,2024-01-01\ny,2,\n")
        #expect(plain.fingerprint != reordered.fingerprint)
    }

    private func sha256sum(_ path: String) throws -> String {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }
}
