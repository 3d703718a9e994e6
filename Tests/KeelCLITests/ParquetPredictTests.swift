import Foundation
import KeelData
import KeelTestSupport
import Testing

/// `keel predict ... --out x.parquet`: the file pyarrow (pinned in `ParquetReference`) reads holds, value for
/// value, what the same run writes as CSV; Keel's own reader reads it back too.
@Suite(.serialized) struct ParquetPredictTests {
    /// Compares the Parquet file (argv 1) with the CSV (argv 2): strings exactly (null is the CSV's empty
    /// field), doubles as the CSV spells them (%.6g); checks the footer; prints "ok ROWS GROUPS".
    static let compare = #"""
import sys, csv
import pyarrow as pa, pyarrow.parquet as pq
f = pq.ParquetFile(sys.argv[1])
t = f.read()
rows = list(csv.reader(open(sys.argv[2], newline="")))
header, body = rows[0], rows[1:]
assert t.column_names == header, (t.column_names, header)
assert t.num_rows == len(body), (t.num_rows, len(body))
assert f.metadata.created_by == "keel", f.metadata.created_by
for g in range(f.metadata.num_row_groups):
    for c in range(f.metadata.num_columns):
        col = f.metadata.row_group(g).column(c)
        assert col.compression == "SNAPPY", col.compression
        if col.physical_type == "BYTE_ARRAY":
            assert col.has_dictionary_page and "RLE_DICTIONARY" in col.encodings, col.encodings
for c, name in enumerate(header):
    column = t.column(name)
    values = column.to_pylist()
    for r, v in enumerate(values):
        want = body[r][c]
        if pa.types.is_floating(column.type):
            got = "" if v is None else "%.6g" % v
        else:
            assert v is None or pa.types.is_string(column.type), column.type
            got = "" if v is None else v
        assert got == want, f"row {r} column {name}: parquet {v!r}, csv {want!r}"
print("ok", t.num_rows, f.metadata.num_row_groups)
"""#

    @Test func predictionsAsParquetMatchTheCSVOfTheSameRun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keel-parquet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = Datasets.packageRoot.appendingPathComponent("examples/customer_churn.csv")
        let model = dir.appendingPathComponent("model.keel").path
        let train = try KeelProcess.run(["train", source.path, "--target", "churned", "--trials", "1", "--out", model])
        #expect(train.status == 0, "\(train.stderr)")

        // Some ids missing (nulls in Parquet, empty fields in CSV), a quoted comma in one.
        var lines = try String(contentsOf: source, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for i in stride(from: 7, to: 4000, by: 97) {
            lines[i] = String(lines[i].drop { $0 != "," })
        }
        lines[3] = "\"C,3\"" + lines[3].drop { $0 != "," }
        let data = dir.appendingPathComponent("scored.csv").path
        try lines.joined(separator: "\n").write(toFile: data, atomically: true, encoding: .utf8)

        let csv = dir.appendingPathComponent("p.csv").path
        let parquet = dir.appendingPathComponent("p.parquet").path
        for out in [csv, parquet] {
            let run = try KeelProcess.run(["predict", model, data, "--out", out, "--batch-rows", "1500", "--warnings-column"])
            #expect(run.status == 0, "\(run.stderr)")
        }
        let checked = try ParquetReference.run(Self.compare, arguments: [parquet, csv])
        #expect(checked.trimmingCharacters(in: .whitespacesAndNewlines) == "ok 4000 3")

        // Keel's own reader: the same columns and values.
        let mine = try ParquetReader.read(path: parquet)
        let expected = try CSVReader.read(path: csv)
        #expect(mine.columnNames == ["customer_id", "prediction", "proba_no", "proba_yes", "warnings"])
        #expect(mine.rowCount == 4000)
        #expect(mine["customer_id"]?.displayValue(at: 6) == nil, "a missing id is null")
        #expect(mine["customer_id"]?.displayValue(at: 2) == "C,3")
        for name in ["customer_id", "prediction"] {
            #expect((0..<4000).allSatisfy { mine[name]!.displayValue(at: $0) == expected[name]!.displayValue(at: $0) }, "\(name)")
        }
        guard case .numeric(let yes) = mine["proba_yes"]!.values, case .numeric(let csvYes) = expected["proba_yes"]!.values else {
            Issue.record("probabilities are numbers"); return
        }
        #expect(zip(yes, csvYes).allSatisfy { abs($0 - $1) <= 1e-6 * max(1, abs($1)) })
    }

    /// `--format` overrides the extension: a CSV named .parquet reads as CSV, a Parquet file named .data as
    /// Parquet (scored as its CSV twin is), and a CSV forced to Parquet is a clear error naming it.
    @Test func formatOptionOverridesTheExtension() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keel-format-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = Datasets.packageRoot.appendingPathComponent("examples/customer_churn.csv").path
        let model = dir.appendingPathComponent("model.keel").path
        #expect(try KeelProcess.run(["train", source, "--target", "churned", "--trials", "1", "--out", model]).status == 0)

        let misnamed = dir.appendingPathComponent("churn.parquet").path
        try FileManager.default.copyItem(atPath: source, toPath: misnamed)
        let fromCSV = dir.appendingPathComponent("a.csv").path
        let asCSV = try KeelProcess.run(["predict", model, misnamed, "--format", "csv", "--out", fromCSV])
        #expect(asCSV.status == 0, "\(asCSV.stderr)")
        #expect(try KeelProcess.run(["predict", model, misnamed, "--out", dir.appendingPathComponent("x.csv").path]).status != 0,
                "without --format the extension says Parquet")

        let parquet = dir.appendingPathComponent("churn.data").path
        _ = try ParquetReference.run("import sys, pyarrow.csv as c, pyarrow.parquet as pq; pq.write_table(c.read_csv(sys.argv[1]), sys.argv[2])",
                                     arguments: [source, parquet])
        let fromParquet = dir.appendingPathComponent("b.csv").path
        let asParquet = try KeelProcess.run(["predict", model, parquet, "--format", "parquet", "--out", fromParquet])
        #expect(asParquet.status == 0, "\(asParquet.stderr)")
        let a = try CSVReader.read(path: fromCSV), b = try CSVReader.read(path: fromParquet)
        #expect(a.rowCount == 4000 && b.rowCount == 4000)
        #expect((0..<4000).allSatisfy { a["prediction"]!.displayValue(at: $0) == b["prediction"]!.displayValue(at: $0) })

        // Only the model's columns are read; the others (a nested one too) are named, not decoded.
        let wider = dir.appendingPathComponent("wider.parquet").path
        _ = try ParquetReference.run("""
            import sys, pyarrow as pa, pyarrow.csv as c, pyarrow.parquet as pq
            t = c.read_csv(sys.argv[1])
            t = t.append_column("unused_extra", pa.array(range(t.num_rows)))
            t = t.append_column("tags", pa.array([[i % 3] for i in range(t.num_rows)], pa.list_(pa.int64())))
            pq.write_table(t, sys.argv[2])
            """, arguments: [source, wider])
        let fromWider = dir.appendingPathComponent("c.csv").path
        let projected = try KeelProcess.run(["predict", model, wider, "--out", fromWider])
        #expect(projected.status == 0, "\(projected.stderr)")
        #expect(projected.stderr.contains("not read from \(wider): 2 column(s) the model does not use: unused_extra, tags"), "\(projected.stderr)")
        let c = try CSVReader.read(path: fromWider)
        #expect((0..<4000).allSatisfy { a["prediction"]!.displayValue(at: $0) == c["prediction"]!.displayValue(at: $0) })
        let explained = try KeelProcess.run(["explain", model, wider, "--rows", "0"])
        #expect(explained.status == 0 && explained.stderr.contains("not read from \(wider): 2 column(s)"), "\(explained.stderr)")

        let forced = try KeelProcess.run(["predict", model, source, "--format", "parquet"])
        #expect(forced.status != 0 && forced.stderr.contains(source) && forced.stderr.contains("PAR1"), "\(forced.stderr)")
        let train = try KeelProcess.run(["inspect", parquet, "--format", "parquet"])
        #expect(train.status == 0, "\(train.stderr)")
    }

    /// A regression's prediction is a DOUBLE column, equal to the CSV's value as spelled there.
    @Test func regressionPredictionsAreDoubles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keel-pq-reg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = Datasets.packageRoot.appendingPathComponent("examples/customer_churn.csv").path
        let model = dir.appendingPathComponent("model.keel").path
        let train = try KeelProcess.run(["train", source, "--target", "monthly_fee", "--trials", "1", "--out", model])
        #expect(train.status == 0, "\(train.stderr)")
        let csv = dir.appendingPathComponent("p.csv").path, parquet = dir.appendingPathComponent("p.parquet").path
        for out in [csv, parquet] {
            let run = try KeelProcess.run(["predict", model, source, "--out", out])
            #expect(run.status == 0, "\(run.stderr)")
        }
        let types = try ParquetReference.run("import sys, pyarrow.parquet as pq; print(pq.read_schema(sys.argv[1]).field('prediction').type)", arguments: [parquet])
        #expect(types.trimmingCharacters(in: .whitespacesAndNewlines) == "double")
        let mine = try ParquetReader.read(path: parquet), expected = try CSVReader.read(path: csv)
        guard case .numeric(let got) = mine["prediction"]!.values, case .numeric(let want) = expected["prediction"]!.values else {
            Issue.record("predictions are numbers"); return
        }
        #expect(got.count == 4000 && want.count == 4000)
        #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
    }
}
