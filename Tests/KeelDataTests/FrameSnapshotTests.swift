import Foundation
import KeelData
import Testing

/// Data snapshots: every column kind and missing value comes back exactly; damage is an error.
@Suite struct FrameSnapshotTests {
    static let frame = try! Frame(columns: [
        Column(name: "x", values: .numeric([1.5, .nan, -0.0, 1e308, -3])),
        Column(name: "when", values: .datetime([0, 86_400, .nan, 1.7e9, 12.5])),
        Column(name: "colour", values: .categorical(EncodedStrings(codes: [0, 1, EncodedStrings.missing, 0, 2], levels: ["red", "grün", "🔵"]))),
        Column(name: "note", values: .text(EncodedStrings(codes: [0, 0, 0, EncodedStrings.missing, 1], levels: ["a, \"quoted\"\nline", ""]))),
        Column(name: "flag", values: .boolean([1, 0, Column.missingBoolean, 1, 0])),
    ])

    static func path() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("keel-snapshot-\(UUID().uuidString).snap").path
    }

    @Test func roundTripKeepsEveryKindAndMissingValue() throws {
        let path = Self.path()
        let fingerprint = try FrameSnapshot.write(Self.frame, to: path)
        #expect(fingerprint == Self.frame.fingerprint)
        let back = try FrameSnapshot.read(from: path)
        #expect(back.fingerprint == fingerprint)
        #expect(back.columnNames == Self.frame.columnNames)
        #expect(back.columns.map(\.kind) == Self.frame.columns.map(\.kind))
        #expect(back["colour"] == Self.frame["colour"] && back["note"] == Self.frame["note"] && back["flag"] == Self.frame["flag"])
        guard case .numeric(let x) = back["x"]!.values else { Issue.record("x is not numeric"); return }
        #expect(x[1].isNaN && x[0] == 1.5 && x[3] == 1e308 && x[4] == -3)
    }

    @Test func damagedTruncatedAndForeignFilesAreErrors() throws {
        let bytes = try FrameSnapshot.encode(Self.frame)
        var flipped = bytes
        flipped[bytes.count - 3] ^= 0x40
        for (name, damaged) in [("flipped", flipped), ("truncated", Array(bytes.prefix(bytes.count / 2))), ("foreign", Array("x,y\n1,2\n".utf8)),
                                ("empty", [])] {
            #expect(throws: DataError.self, "\(name)") { try FrameSnapshot.decode(damaged, file: "data.snap") }
        }
        var newer = bytes
        newer[8] = 9
        do {
            _ = try FrameSnapshot.decode(newer, file: "data.snap")
            Issue.record("a newer format was read")
        } catch {
            #expect("\(error)".contains("newer"))
        }
    }

    @Test func appendingConvertsKindsRecodesLevelsAndFillsAbsentColumns() throws {
        let more = try Frame(columns: [
            Column(name: "x", values: .categorical(EncodedStrings(codes: [0, 1], levels: ["2.5", "7"]))),
            Column(name: "colour", values: .categorical(EncodedStrings(codes: [0, EncodedStrings.missing], levels: ["🔵"]))),
            Column(name: "extra", values: .numeric([1, 2])),
        ])
        let joined = try Self.frame.appending(more)
        #expect(joined.rowCount == 7 && joined.columnNames == Self.frame.columnNames, "this frame's columns, extra ones dropped")
        guard case .numeric(let x) = joined["x"]!.values else { Issue.record("x is not numeric"); return }
        #expect(x[5] == 2.5 && x[6] == 7, "text that is a number becomes the number")
        #expect(joined["colour"]!.displayValue(at: 5) == "🔵" && joined["colour"]!.displayValue(at: 6) == nil)
        #expect(joined["colour"]!.displayValue(at: 1) == "grün", "earlier codes keep their meaning")
        #expect(joined["note"]!.isMissing(at: 5) && joined["flag"]!.isMissing(at: 6), "absent columns are missing")
        let bad = try Frame(columns: [Column(name: "x", values: .categorical(EncodedStrings(codes: [0], levels: ["abc"])))])
        #expect(throws: DataError.self) { try Self.frame.appending(bad) }
    }
}
