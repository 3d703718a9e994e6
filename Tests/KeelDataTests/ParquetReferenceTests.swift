import Foundation
import KeelData
import KeelTestSupport
import Testing

/// Parquet files written by pyarrow (pinned in `ParquetReference`) with every codec × encoding × data page
/// version, nulls, dictionary fallback, several row groups and the logical types; every file's columns are
/// compared with pyarrow's own reading: a column sum, the null count and a sample of rows.
@Suite("Parquet against pyarrow", .serialized)
struct ParquetReferenceTests {
    /// Writes the files into `folder` and prints, per file and column, pyarrow's values as Keel stores them.
    static let generator = #"""
import sys, json, random, datetime, decimal, os
import pyarrow as pa, pyarrow.parquet as pq, pyarrow.csv as pcsv
out = sys.argv[1]
n = 5000
rnd = random.Random(7)
def maybe(v, p=0.1): return None if rnd.random() < p else v
words = ["alpha", "beta", "gamma", "delta", "eps", "NA", "zeta", "eta", "theta", "iota"]
t0 = datetime.datetime(2020, 1, 1)
main = pa.table({
  "i32": pa.array([maybe(rnd.randint(-2**31, 2**31 - 1)) for _ in range(n)], pa.int32()),
  "i64": pa.array([rnd.randint(-2**60, 2**60) for _ in range(n)], pa.int64()),
  "f32": pa.array([maybe(rnd.uniform(-1e3, 1e3)) for _ in range(n)], pa.float32()),
  "f64": pa.array([maybe(rnd.gauss(0, 1e6)) for _ in range(n)], pa.float64()),
  "b": pa.array([maybe(rnd.random() < 0.3) for _ in range(n)], pa.bool_()),
  "s": pa.array([maybe(rnd.choice(words)) for _ in range(n)], pa.string()),
  "s2": pa.array(["item-%06d" % rnd.randint(0, 10**6) for _ in range(n)], pa.string()),
  "ts": pa.array([maybe(t0 + datetime.timedelta(seconds=rnd.randint(0, 10**8), microseconds=rnd.choice([0, rnd.randint(0, 999999)]))) for _ in range(n)], pa.timestamp("us")),
})
modes = {
  "dict": dict(use_dictionary=True, dictionary_pagesize_limit=2048),
  "plain": dict(use_dictionary=False),
  "delta": dict(use_dictionary=False, column_encoding={"i32": "DELTA_BINARY_PACKED", "i64": "DELTA_BINARY_PACKED", "ts": "DELTA_BINARY_PACKED",
        "s": "DELTA_LENGTH_BYTE_ARRAY", "s2": "DELTA_BYTE_ARRAY", "f32": "BYTE_STREAM_SPLIT", "f64": "BYTE_STREAM_SPLIT", "b": "RLE"}),
}
files = {}
for codec in ["none", "snappy", "gzip", "zstd"]:
    for version in ["1.0", "2.0"]:
        for mode, kw in modes.items():
            name = f"t_{codec}_{version}_{mode}.parquet"
            pq.write_table(main, os.path.join(out, name), compression=codec, data_page_version=version, row_group_size=1500, data_page_size=4096, **kw)
            files[name] = main
m = 600
logical = pa.table({
  "u8": pa.array([rnd.randint(0, 255) for _ in range(m)], pa.uint8()),
  "u16": pa.array([rnd.randint(0, 65535) for _ in range(m)], pa.uint16()),
  "u32": pa.array([maybe(rnd.randint(0, 2**32 - 1)) for _ in range(m)], pa.uint32()),
  "u64": pa.array([rnd.randint(0, 2**64 - 1) for _ in range(m)], pa.uint64()),
  "i8": pa.array([rnd.randint(-128, 127) for _ in range(m)], pa.int8()),
  "i16": pa.array([rnd.randint(-32768, 32767) for _ in range(m)], pa.int16()),
  "date": pa.array([maybe(datetime.date(1960, 1, 1) + datetime.timedelta(days=rnd.randint(0, 30000))) for _ in range(m)], pa.date32()),
  "ts_ms": pa.array([t0 + datetime.timedelta(milliseconds=rnd.randint(-10**12, 10**12)) for _ in range(m)], pa.timestamp("ms")),
  "ts_us_utc": pa.array([t0 + datetime.timedelta(microseconds=rnd.randint(0, 10**15)) for _ in range(m)], pa.timestamp("us", tz="UTC")),
  "ts_ns": pa.array([rnd.randint(-10**18, 10**18) for _ in range(m)], pa.timestamp("ns")),
  "dec": pa.array([maybe(decimal.Decimal(rnd.randint(-10**11, 10**11)) / 1000) for _ in range(m)], pa.decimal128(14, 3)),
  "dec_big": pa.array([decimal.Decimal(rnd.randint(-10**15, 10**15)) / 100 for _ in range(m)], pa.decimal128(30, 2)),
  "t_ms": pa.array([rnd.randint(0, 86399999) for _ in range(m)], pa.time32("ms")),
  "t_us": pa.array([rnd.randint(0, 86399999999) for _ in range(m)], pa.time64("us")),
  "bin": pa.array([rnd.choice([b"ab", b"cd", b"ef"]) for _ in range(m)], pa.binary()),
  "large": pa.array([maybe(rnd.choice(words)) for _ in range(m)], pa.large_string()),
  "dictstr": pa.array([rnd.choice(words[:3]) for _ in range(m)]).dictionary_encode(),
  "fixed": pa.array([bytes([65 + rnd.randint(0, 2)] * 3) for _ in range(m)], pa.binary(3)),
})
for codec in ["snappy", "zstd"]:
    name = f"logical_{codec}.parquet"
    pq.write_table(logical, os.path.join(out, name), compression=codec, row_group_size=250)
    files[name] = logical
    name = f"logical_int_decimals_{codec}.parquet"
    pq.write_table(logical.select(["dec"]), os.path.join(out, name), compression=codec, store_decimal_as_integer=True)
    files[name] = logical.select(["dec"])
int96 = pa.table({"ts96": pa.array([maybe(rnd.randint(-10**18, 10**18)) for _ in range(m)], pa.timestamp("ns"))})
pq.write_table(int96, os.path.join(out, "int96.parquet"), use_deprecated_int96_timestamps=True)
files["int96.parquet"] = int96

def keel(col, typ):
    if pa.types.is_timestamp(typ) or pa.types.is_time(typ):
        per = {"s": 1, "ms": 1000, "us": 10**6, "ns": 10**9}[typ.unit]
        ints = (col.cast(pa.int32()) if pa.types.is_time32(typ) else col).cast(pa.int64()).to_pylist()
        return [None if v is None else (lambda w, f: float(w) if f == 0 else float(w) + f / per)(*divmod(v, per)) for v in ints]
    if pa.types.is_date32(typ):
        return [None if v is None else float(v * 86400) for v in col.cast(pa.int32()).to_pylist()]
    if pa.types.is_decimal(typ): return [None if v is None else float(v) for v in col.to_pylist()]
    if pa.types.is_boolean(typ): return [None if v is None else (1 if v else 0) for v in col.to_pylist()]
    if pa.types.is_integer(typ) or pa.types.is_floating(typ): return [None if v is None else float(v) for v in col.to_pylist()]
    if pa.types.is_dictionary(typ): return col.cast(pa.string()).to_pylist()
    return [None if v is None else (v.decode() if isinstance(v, bytes) else v) for v in col.to_pylist()]

manifest = {}
for name, table in files.items():
    read = pq.read_table(os.path.join(out, name))
    cols = {}
    for field in read.schema:
        values = keel(read.column(field.name).combine_chunks(), field.type)
        numbers = [v for v in values if v is not None and not isinstance(v, str)]
        sample = list(range(0, len(values), 37)) + [len(values) - 1]
        # Numbers travel as hex floats ("#0x1.8p+1"), exact whatever the JSON parser does with decimals.
        exact = lambda v: "#" + float(v).hex() if v is not None and not isinstance(v, str) else v
        cols[field.name] = {"sum": exact(sum(numbers)) if len(numbers) == len([v for v in values if v is not None]) else None,
                            "nulls": sum(1 for v in values if v is None),
                            "sample": [[i, exact(values[i])] for i in sample]}
    manifest[name] = {"rows": read.num_rows, "columns": cols}
# The same data as CSV, for the fingerprint. Left out: float32 (its CSV spelling is float32's shortest, not its
# double), "NA" strings (missing in CSV, a string in Parquet) and fractional seconds (CSV parses them digit by digit).
twin = main.select(["i32", "i64", "f64", "b", "s2"]).append_column("ts", pa.array(
    [maybe(t0 + datetime.timedelta(seconds=rnd.randint(0, 10**8))) for _ in range(n)], pa.timestamp("s"))).append_column(
    "w", pa.array([maybe(rnd.choice(words[:5])) for _ in range(n)]))
pcsv.write_csv(twin, os.path.join(out, "twin.csv"))
pq.write_table(twin, os.path.join(out, "twin.parquet"), row_group_size=999)
print(json.dumps(manifest))
"""#

    static let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("keel-parquet-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// The generator's output (JSON), made once per process.
    static let generated: Result<String, PythonEnvironment.Failure> = {
        do {
            return .success(try ParquetReference.run(generator, arguments: [folder.path]))
        } catch {
            return .failure(error as? PythonEnvironment.Failure ?? .init(description: "\(error)"))
        }
    }()

    static func manifest() throws -> [String: Any] {
        let json = try JSONSerialization.jsonObject(with: Data(try generated.get().utf8))
        return json as? [String: Any] ?? [:]
    }

    @Test("every codec × encoding × page version, and every logical type, reads as pyarrow reads it")
    func valuesMatchPyarrow() throws {
        let manifest = try Self.manifest()
        #expect(manifest.count == 24 + 5)
        for (name, entry) in manifest.sorted(by: { $0.key < $1.key }) {
            let entry = entry as! [String: Any]
            let frame = try ParquetReader.read(path: Self.folder.appendingPathComponent(name).path)
            #expect(frame.rowCount == entry["rows"] as! Int, "\(name)")
            for (columnName, expected) in entry["columns"] as! [String: Any] {
                let expected = expected as! [String: Any]
                guard let column = frame[columnName] else {
                    Issue.record("\(name): no column \(columnName)")
                    continue
                }
                #expect(column.missingCount == expected["nulls"] as! Int, "\(name) \(columnName)")
                for pair in expected["sample"] as! [[Any]] {
                    let row = pair[0] as! Int
                    #expect(Self.value(column, row) == Self.expected(pair[1]), "\(name) \(columnName) row \(row)")
                }
                if case .number(let sum) = Self.expected(expected["sum"] ?? NSNull()) {
                    let values: [Double]
                    switch column.values {
                    case .numeric(let v), .datetime(let v): values = v
                    case .boolean(let b): values = b.map { $0 == Column.missingBoolean ? .nan : Double($0) }
                    default: Issue.record("\(name) \(columnName): \(column.kind), expected numbers"); continue
                    }
                    #expect(values.filter { !$0.isNaN }.reduce(0, +) == sum, "\(name) \(columnName) sum")
                }
            }
        }
    }

    @Test("a Parquet file's fingerprint equals that of the same data as CSV")
    func fingerprintMatchesCSV() throws {
        _ = try Self.generated.get()
        let parquet = try CSVReader.read(path: Self.folder.appendingPathComponent("twin.parquet").path)
        let csv = try CSVReader.read(path: Self.folder.appendingPathComponent("twin.csv").path)
        #expect(parquet.columnNames == csv.columnNames)
        for column in csv.columns {
            #expect(parquet[column.name]?.kind == column.kind, "\(column.name)")
            // Per column, by fingerprint (NaN, the missing number, is never == itself).
            #expect(try Frame(columns: [parquet[column.name]!]).fingerprint == Frame(columns: [column]).fingerprint, "\(column.name)")
        }
        #expect(parquet.fingerprint == csv.fingerprint)
    }

    @Test("a file pyarrow writes with no rows reads as its columns, and training or inspecting it says there are no rows")
    func anEmptyTableIsItsColumns() throws {
        let path = Self.folder.appendingPathComponent("empty-\(UUID().uuidString).parquet").path
        _ = try ParquetReference.run("""
        import sys, pyarrow as pa, pyarrow.parquet as pq
        pq.write_table(pa.table({"a": pa.array([], pa.int64()), "b": pa.array([], pa.string())}), sys.argv[1])
        """, arguments: [path])
        let frame = try ParquetReader.read(path: path)
        #expect(frame.columnNames == ["a", "b"])
        #expect(frame.rowCount == 0)
        #expect(throws: DataError.noRows(file: path)) { try CSVReader.read(path: path) }
        var batches = 0
        try CSVReader.readBatches(path: path, rows: 100) { _ in batches += 1 }
        #expect(batches <= 1, "at most one empty batch, which a scorer writes as a header")
    }

    @Test("only the named columns are read")
    func projection() throws {
        _ = try Self.generated.get()
        let path = Self.folder.appendingPathComponent("t_snappy_1.0_dict.parquet").path
        let frame = try ParquetReader.read(path: path, options: ParquetOptions(columns: ["s", "f64"]))
        #expect(frame.columnNames == ["f64", "s"])
        #expect(frame.rowCount == 5000)
    }

    enum Value: Equatable { case missing, number(Double), text(String) }

    static func value(_ column: Column, _ row: Int) -> Value {
        switch column.values {
        case .numeric(let v), .datetime(let v): v[row].isNaN ? .missing : .number(v[row])
        case .boolean(let b): b[row] == Column.missingBoolean ? .missing : .number(Double(b[row]))
        case .categorical(let s), .text(let s): s.value(at: row).map(Value.text) ?? .missing
        }
    }

    static func expected(_ any: Any) -> Value {
        if any is NSNull { return .missing }
        let text = any as! String
        if text.hasPrefix("#") { return .number(Double(text.dropFirst())!) }
        return .text(text)
    }
}
