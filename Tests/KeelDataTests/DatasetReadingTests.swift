import KeelData
import KeelTestSupport
import Testing

@Suite struct DatasetReadingTests {
    @Test func manifestIsPresent() {
        #expect(Datasets.all.count >= 13, "datasets not found at \(Datasets.folder.path); set KEEL_DATASETS")
    }

    @Test(arguments: Datasets.all)
    func parsesToManifestShape(_ entry: Datasets.Entry) throws {
        let frame = try CSVReader.read(path: entry.path)
        #expect(frame.rowCount == entry.rows)
        #expect(frame.columnCount == entry.columns)
        #expect(frame.missingCellCount == entry.missingCells)
        #expect(frame[entry.target] != nil)
        for name in entry.stringColumns where !entry.dateColumns.contains(name) {
            let kind = try #require(frame[name]).kind
            #expect([.categorical, .text, .boolean].contains(kind), "\(name) read as \(kind)")
        }
        for name in entry.dateColumns {
            #expect(frame[name]?.kind == .datetime, "\(name) should be a datetime")
        }
    }
}
