import Foundation
import KeelData
import KeelTestSupport
import Testing

/// Files as spreadsheets outside the US write them: decimal commas, thousands separators, Windows-1252
/// and Latin-1 text, numbers with a few words among them. Nothing is lost or retyped without a word.
@Suite struct LocaleReadingTests {
    /// A `;` file from a German spreadsheet, in Windows-1252: `1.234,56`, `984,90`, umlauts, a euro sign.
    static func european(rows: Int = 40) -> [UInt8] {
        var g = SeededGenerator(seed: 9)
        var text = "kunde;betrag;zinssatz;stadt;alter\r\n"
        for i in 0..<rows {
            let amount = Double(g.next(below: 900_000)) / 100 + 100
            let whole = Int(amount), cents = Int((amount - Double(whole)) * 100 + 0.5) % 100
            let grouped = whole >= 1000 ? "\(whole / 1000).\(String(format: "%03d", whole % 1000))" : "\(whole)"
            let age = i == 3 ? "unbekannt" : (i == 17 ? "vierzig" : "\(18 + g.next(below: 60))")
            text += "\(i);\(grouped),\(String(format: "%02d", cents));\(g.next(below: 10)),\(g.next(below: 10))5;\(["München", "Köln", "Zürich €"][i % 3]);\(age)\r\n"
        }
        return Array(text.data(using: .windowsCP1252)!)
    }

    @Test func aWindows1252SemicolonFileWithDecimalCommasReadsAsNumbers() throws {
        let bytes = Self.european()
        #expect(String(bytes: bytes, encoding: .utf8) == nil, "the fixture is not UTF-8")
        let frame = try CSVReader.read(bytes: bytes, name: "eu.csv")
        #expect(frame["betrag"]?.kind == .numeric && frame["zinssatz"]?.kind == .numeric, "\(frame.columns.map { "\($0.name) \($0.kind)" })")
        #expect(frame.encoding == .windows1252)
        #expect(frame.numberStyle == NumberStyle(decimal: ",", thousands: "."))
        #expect(frame.notes.contains { $0.contains("read as windows-1252") } && frame.notes.contains { $0.contains("decimal comma") })
        guard case .categorical(let cities)? = frame["stadt"]?.values else { Issue.record("stadt is categorical"); return }
        #expect(Set(cities.levels) == ["München", "Köln", "Zürich €"])
        // The values themselves: line 2 of the file.
        let text = try #require(String(data: Data(bytes), encoding: .windowsCP1252))
        let second = text.split(separator: "\r\n")[1].split(separator: ";")
        let expected = try #require(Double(second[1].replacingOccurrences(of: ".", with: "").replacingOccurrences(of: ",", with: ".")))
        guard case .numeric(let amounts)? = frame["betrag"]?.values else { Issue.record("betrag should be read as numbers: \(String(describing: frame["betrag"]?.kind))"); return }
        #expect(amounts[0] == expected, "\(amounts[0]) vs \(second[1])")
        // A mostly numeric column with two words: numeric, the words missing and counted.
        let age = try #require(frame["alter"])
        #expect(age.kind == .numeric && age.missingWords == ["unbekannt": 1, "vierzig": 1])
        let inference = try SchemaInference.infer(frame, target: nil)
        #expect(inference.schema["alter"]?.missingWords == ["unbekannt", "vierzig"])
        #expect(inference.notes.contains { $0.contains("'alter' is numeric; 2 values that are words were read as missing: 'unbekannt' (1 row), 'vierzig' (1 row)") })
    }

    @Test func theStyleAndEncodingCanBeNamed() throws {
        // Latin-1 named: bytes that Windows-1252 leaves undefined read as their Latin-1 characters.
        let latin = Array("name;wert\r\nA\u{81}x;1,5\r\nB;2,5\r\nC;3,25\r\n".data(using: .isoLatin1)!)
        var options = CSVOptions()
        options.encoding = .latin1
        let frame = try CSVReader.read(bytes: latin, name: "latin.csv", options: options)
        #expect(frame["wert"]?.kind == .numeric)
        // Undetectable without the name: an undefined Windows-1252 byte is an error that says what to do.
        let message = CSVFixtures.errorMessage { _ = try CSVReader.read(bytes: latin, name: "latin.csv") } ?? ""
        #expect(message.contains("latin.csv") && message.contains("--encoding latin-1"), "\(message)")

        // --decimal , with no detection possible (a single value).
        options = CSVOptions()
        options.decimal = ","
        options.thousands = "."
        let one = try CSVReader.read(bytes: Array("x;y\n1.234,5;7\n".utf8), name: "one.csv", options: options)
        guard case .numeric(let x)? = one["x"]?.values else { Issue.record("x is numeric"); return }
        #expect(x == [1234.5])
        // Grouping must be whole: "1.5" is one and a half, never fifteen hundred, and with a decimal comma
        // it is not a number at all.
        #expect(NumberStyle(decimal: ",", thousands: ".").parse("1.5") == nil)
        #expect(NumberStyle(decimal: ",", thousands: ".").parse("12.345.678,9") == 12_345_678.9)
        #expect(NumberStyle(decimal: ".", thousands: ",").parse("-1,234.5") == -1234.5)
        #expect(NumberStyle(decimal: ".", thousands: ",").parse("12,34") == nil)
    }

    @Test func usThousandsInQuotedFieldsReadAsNumbers() throws {
        let text = "id,amount\n1,\"1,234.50\"\n2,\"12,000.00\"\n3,999.99\n4,\"2,500.00\"\n"
        let frame = try CSVFixtures.read(text)
        guard case .numeric(let amounts)? = frame["amount"]?.values else { Issue.record("amount is numeric: \(frame["amount"]!.kind)"); return }
        #expect(amounts == [1234.5, 12000, 999.99, 2500])
    }

    @Test func plainFilesAndCodesAreUntouched() throws {
        // A plain file reads as before, with no notes.
        let plain = try CSVFixtures.read("a,b\n1.5,x\n2.25,y\n")
        #expect(plain.notes.isEmpty && plain.numberStyle == nil && plain.encoding == .utf8)
        // Codes with letters and digits, and a column of words with few numbers, stay strings.
        var text = "code,size\n"
        for i in 0..<30 { text += "\(i)B,\(i < 25 ? "large" : "\(i)")\n" }
        let frame = try CSVFixtures.read(text)
        #expect(frame["code"]?.kind == .categorical && frame["size"]?.kind == .categorical)
    }
}
