import Foundation
import KeelData
import KeelTestSupport
import Testing

@Suite struct CSVReaderTests {
    @Test func readsQuotedFieldsDoubledQuotesAndEmbeddedNewlines() throws {
        let frame = try CSVFixtures.read("name,note\n\"Smith, J\",\"said \"\"hi\"\"\"\nLee,\"two\nlines\"\n")
        #expect(frame.rowCount == 2)
        #expect(frame["name"]?.displayValue(at: 0) == "Smith, J")
        #expect(frame["note"]?.displayValue(at: 0) == "said \"hi\"")
        #expect(frame["note"]?.displayValue(at: 1) == "two\nlines")
    }

    @Test func lineEndingsAndBOMGiveTheSameFrame() throws {
        let lf = try CSVFixtures.read("a,b\n1,x\n2,y\n")
        let crlf = try CSVFixtures.read("a,b\r\n1,x\r\n2,y\r\n")
        let cr = try CSVFixtures.read("a,b\r1,x\r2,y")
        let bom = try CSVReader.read(bytes: [0xEF, 0xBB, 0xBF] + Array("a,b\n1,x\n2,y".utf8))
        #expect(lf == crlf)
        #expect(lf == cr)
        #expect(lf == bom)
        #expect(lf.columnNames == ["a", "b"])
    }

    @Test(arguments: [(";", "a;b\n1;2\n3;4\n"), ("\t", "a\tb\n1\t2\n3\t4\n"), ("|", "a|b\n1|2\n3|4\n"), (",", "a,b\n1,2\n3,4\n")])
    func detectsDelimiter(_ expected: String, _ text: String) throws {
        let frame = try CSVFixtures.read(text)
        #expect(frame.columnNames == ["a", "b"], "delimiter \(expected)")
        #expect(frame["b"]?.values == .numeric([2, 4]))
    }

    @Test func delimiterDetectionIgnoresSeparatorsInsideQuotes() throws {
        let frame = try CSVFixtures.read("a;b\n\"1,5\";2\n\"3,5\";4\n")
        #expect(frame.columnNames == ["a", "b"])
        // A `;` file's quoted "1,5" is a decimal comma, and the reader says it read it so.
        #expect(frame["a"]?.values == .numeric([1.5, 3.5]) && frame.notes.contains { $0.contains("decimal comma") })
    }

    @Test func delimiterOverride() throws {
        var options = CSVOptions()
        options.delimiter = UInt8(ascii: ";")
        let frame = try CSVFixtures.read("a,b;c\n1,2;3\n", options: options)
        #expect(frame.columnNames == ["a,b", "c"])
    }

    @Test func missingMarkers() throws {
        let frame = try CSVFixtures.read("x,y\n1,a\n,b\nNA,N/A\nNaN,null\n?,\"\"\n5,c\n")
        guard case .numeric(let x) = frame["x"]!.values else { Issue.record("x should be numeric"); return }
        #expect(x[0] == 1 && x[5] == 5)
        #expect(x[1...4].allSatisfy { $0.isNaN })
        #expect(frame["y"]!.missingCount == 3)
    }

    @Test func configurableMissingMarkers() throws {
        let frame = try CSVFixtures.read("x\n1\n-999\n3\n", options: CSVOptions(missingMarkers: ["-999"]))
        #expect(frame["x"]!.missingCount == 1)
    }

    @Test func trimsUnquotedSpacesOnly() throws {
        let frame = try CSVFixtures.read("s,n\n Male , 12 \n\" Male\",13\n")
        #expect(frame["s"]?.displayValue(at: 0) == "Male")
        #expect(frame["s"]?.displayValue(at: 1) == " Male")
        #expect(frame["n"]?.values == .numeric([12, 13]))
    }

    @Test func kindsAreInferred() throws {
        let text = "n,c,b,d,t,mixed\n" + (0..<30).map { i in
            "\(Double(i) * 1.5),lvl\(i % 3),\(i % 2 == 0 ? "True" : "false"),2024-01-\(i % 28 + 1 < 10 ? "0" : "")\(i % 28 + 1),a long sentence of free text number \(i),\(i == 29 ? "x" : String(i))"
        }.joined(separator: "\n")
        let frame = try CSVFixtures.read(text)
        #expect(frame["n"]?.kind == .numeric)
        #expect(frame["c"]?.kind == .categorical)
        #expect(frame["b"]?.kind == .boolean)
        #expect(frame["d"]?.kind == .datetime)
        #expect(frame["t"]?.kind == .text)
        // Numbers with one word among them: numeric, the word missing and counted.
        #expect(frame["mixed"]?.kind == .numeric && frame["mixed"]?.missingWords == ["x": 1])
        #expect(frame["mixed"]?.displayValue(at: 3) == "3")
    }

    @Test func stringColumnsKeepExactSpelling() throws {
        let frame = try CSVFixtures.read("zip\n02134\n10001\n", options: CSVOptions(stringColumns: ["zip"]))
        #expect(frame["zip"]?.displayValue(at: 0) == "02134")
    }

    @Test func noHeaderNamesColumns() throws {
        let frame = try CSVFixtures.read("1,a\n2,b\n", options: CSVOptions(hasHeader: false))
        #expect(frame.columnNames == ["column_1", "column_2"])
        #expect(frame.rowCount == 2)
    }

    @Test func noHeaderFileWithBOMAndAHugeFirstRecord() throws {
        let huge = String(repeating: "z", count: 200_000)
        let bytes = [0xEF, 0xBB, 0xBF] + Array("\(huge),1\nb,2\n".utf8) + Array((0..<3000).map { "r\($0),\($0)\n" }.joined().utf8)
        let frame = try CSVReader.read(path: try CSVFixtures.temporaryFile(bytes), options: CSVOptions(hasHeader: false))
        #expect(frame.rowCount == 3002)
        #expect(frame["column_1"]?.displayValue(at: 0) == huge)
        #expect(frame["column_2"]?.displayValue(at: 2999) == "2997")
    }

    @Test func skipsBlankLinesAndAcceptsMissingFinalNewline() throws {
        let frame = try CSVFixtures.read("a,b\n\n1,2\n\n3,4")
        #expect(frame.rowCount == 2)
    }

    @Test func readsGzipFilesLikePlainFiles() throws {
        let text = "a,b\n" + (0..<5000).map { "\($0),\"v\($0 % 7)\"" }.joined(separator: "\n") + "\n"
        let plain = try CSVFixtures.temporaryFile(text)
        let gzip = plain + ".gz"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gzip -c '\(plain)' > '\(gzip)'"]
        try process.run()
        process.waitUntilExit()
        let fromPlain = try CSVReader.read(path: plain)
        let fromGzip = try CSVReader.read(path: gzip)
        #expect(fromPlain == fromGzip)
        #expect(fromPlain.rowCount == 5000)
    }

    @Test func recordsLargerThanTheReadBufferAreRead() throws {
        let long = String(repeating: "x", count: 3_000_000)
        let path = try CSVFixtures.temporaryFile("a,b\n1,\"\(long)\"\n2,y\n")
        let frame = try CSVReader.read(path: path)
        #expect(frame["b"]?.displayValue(at: 0)?.count == long.count)
        #expect(frame.rowCount == 2)
    }

    @Test func recordsAcrossChunkBoundariesAreIntact() throws {
        // ~3 MiB of quoted fields with embedded newlines and CRLFs, so records straddle every 1 MiB chunk.
        var text = "id,text,value\r\n"
        for i in 0..<40_000 { text += "\(i),\"line \(i)\nhas \"\"quotes\"\", commas\",\(Double(i) / 8)\r\n" }
        let frame = try CSVReader.read(path: try CSVFixtures.temporaryFile(text))
        #expect(frame.rowCount == 40_000)
        #expect(frame["text"]?.displayValue(at: 39_999) == "line 39999\nhas \"quotes\", commas")
        #expect(frame["value"]?.values == .numeric((0..<40_000).map { Double($0) / 8 }))
    }

    @Test func numbersMatchStrtod() throws {
        let spellings = ["0", "-0", "1.5", "1e10", "1E-5", "123456789012345678901234", "0.1", "3.141592653589793238",
                         "2.2250738585072014e-308", "1.7976931348623157e308", "1e400", "+7", ".5", "5.", "-inf", "Infinity",
                         "0.000000000000000000000000000001", "9007199254740993", "123.456e-7"]
        let frame = try CSVFixtures.read("x\n" + spellings.joined(separator: "\n"))
        guard case .numeric(let values) = frame["x"]!.values else { Issue.record("not numeric"); return }
        for (spelling, value) in zip(spellings, values) {
            let expected = strtod(spelling, nil)
            #expect(value == expected || (value.isNaN && expected.isNaN), "\(spelling)")
        }
    }
}
