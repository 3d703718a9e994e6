import Foundation
import KeelData
import KeelTestSupport
import Testing

/// Bad input gives one clear sentence naming the file, line and column; never a crash.
@Suite struct CSVErrorTests {
    private func message(_ text: String, options: CSVOptions = CSVOptions()) -> String? {
        CSVFixtures.errorMessage { _ = try CSVFixtures.read(text, options: options) }
    }

    @Test func raggedRowNamesTheLine() {
        #expect(message("a,b\n1,2\n3\n4,5\n") == "test.csv:3: expected 2 fields as in the header, found 1")
        #expect(message("a,b\n1,2,3\n") == "test.csv:2: expected 2 fields as in the header, found 3")
    }

    @Test func unterminatedQuoteNamesTheOpeningLine() {
        #expect(message("a,b\n1,2\n3,\"open\n4,5\n") == "test.csv:3: a quoted field is never closed (the quote opens on this line)")
    }

    @Test func junkAfterClosingQuote() {
        #expect(message("a,b\n1,\"x\"y\n")?.hasPrefix("test.csv:2, column 2: unexpected character 'y' after a closing quote") == true)
    }

    @Test func invalidUTF8NamesLineAndColumn() {
        // 0x81 is neither UTF-8 nor a character in Windows-1252: no encoding can be guessed.
        let bytes = Array("a,b\n1,ok\n2,".utf8) + [0x81, 0x28] + Array("\n".utf8)
        let message = CSVFixtures.errorMessage { _ = try CSVReader.read(bytes: bytes, name: "bad.csv") }
        #expect(message == "bad.csv:3, column 2 ('b'): invalid utf-8 in a field (a file in another encoding reads with --encoding latin-1 or --encoding windows-1252)")
    }

    @Test func invalidUTF8InHeader() throws {
        let message = CSVFixtures.errorMessage { _ = try CSVReader.read(bytes: [0x61, 0x2C, 0x81, 0x0A, 0x31, 0x2C, 0x32], name: "h.csv") }
        #expect(message == "h.csv:1, column 2: invalid utf-8 in the header (a file in another encoding reads with --encoding latin-1 or --encoding windows-1252)")
        // Bytes that are letters in Windows-1252 read as such, and the reader says so.
        let frame = try CSVReader.read(bytes: [0x61, 0x2C, 0xFF, 0x0A, 0x31, 0x2C, 0x32], name: "h.csv")
        #expect(frame.columnNames == ["a", "ÿ"] && frame.notes.first?.contains("read as windows-1252") == true)
    }

    @Test func emptyAndHeaderOnlyFiles() {
        #expect(message("") == "test.csv is empty")
        #expect(message("\n\n") == "test.csv is empty")
        #expect(message("a,b\n") == "test.csv has a header but no data rows")
    }

    @Test func duplicateAndEmptyColumnNames() {
        #expect(message("a,b,a\n1,2,3\n") == "test.csv:1: column name 'a' appears twice (columns 1 and 3)")
        #expect(message("a,,c\n1,2,3\n") == "test.csv:1: column 2 has an empty name")
    }

    @Test func missingAndUnreadableFiles() {
        let missing = CSVFixtures.errorMessage { _ = try CSVReader.read(path: "/nonexistent/x.csv") }
        #expect(missing == "cannot open /nonexistent/x.csv: No such file or directory")
        let folder = CSVFixtures.errorMessage { _ = try CSVReader.read(path: NSTemporaryDirectory()) }
        #expect(folder?.hasSuffix("it is a directory") == true)
    }

    @Test func corruptGzipIsAnErrorNotACrash() throws {
        let path = try CSVFixtures.temporaryFile([0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xFF, 0xFF, 0x12, 0x34], suffix: ".csv.gz")
        #expect(CSVFixtures.errorMessage { _ = try CSVReader.read(path: path) } != nil)
    }
}
