import KeelData
import KeelTestSupport
import Testing

@Suite struct FrameTests {
    @Test func selectingRowsAndColumns() throws {
        let frame = try CSVFixtures.read("a,b\n1,x\n2,y\n3,x\n")
        let picked = frame.selecting(rows: [2, 0])
        #expect(picked.rowCount == 2)
        #expect(picked["a"]?.values == .numeric([3, 1]))
        #expect(picked["b"]?.displayValue(at: 0) == "x")
        #expect(try frame.selecting(columns: ["b"]).columnNames == ["b"])
        #expect(throws: DataError.self) { try frame.selecting(columns: ["zz"]) }
    }

    @Test func invalidFramesAreRejected() {
        #expect(throws: DataError.self) {
            try Frame(columns: [Column(name: "a", values: .numeric([1])), Column(name: "a", values: .numeric([2]))])
        }
        #expect(throws: DataError.self) {
            try Frame(columns: [Column(name: "a", values: .numeric([1])), Column(name: "b", values: .numeric([1, 2]))])
        }
    }

    @Test func conversionsBetweenKinds() throws {
        let numbers = Column(name: "n", values: .numeric([3, 1, .nan, 3]))
        let asLevels = try numbers.converted(to: .categorical)
        #expect(asLevels.values == .categorical(EncodedStrings(codes: [0, 1, EncodedStrings.missing, 0], levels: ["3", "1"])))
        #expect(try asLevels.converted(to: .numeric).displayValue(at: 0) == "3")
        let words = Column(name: "w", values: .categorical(EncodedStrings(codes: [0, 1], levels: ["1", "one"])))
        #expect(CSVFixtures.errorMessage { _ = try words.converted(to: .numeric) } == "column 'w', row 2: 'one' is not a number")
    }
}
