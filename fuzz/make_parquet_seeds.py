"""Writes the Parquet fuzzer's reference seeds into fuzz/seeds/parquet/: small files by pyarrow (the reference
writer) covering the codecs, encodings, page versions, nulls and logical types Keel reads, each prefixed with
the options byte the harness reads (0: every column). Seeded, so a rerun writes the same values; the files are
committed, since the fuzzing step runs before any Python environment exists.
Usage: .venv-parquet/bin/python fuzz/make_parquet_seeds.py   (pyarrow==18.1.0, as the reference tests pin)
"""
import datetime
import decimal
import io
import os
import random

import pyarrow as pa
import pyarrow.parquet as pq

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds", "parquet")
os.makedirs(here, exist_ok=True)
rng = random.Random(26)
rows = 24


def maybe(value):
    return None if rng.random() < 0.2 else value


table = pa.table({
    "name": pa.array([maybe(f"n{rng.randrange(5)}") for _ in range(rows)], pa.string()),
    "amount": pa.array([maybe(rng.uniform(-50, 50)) for _ in range(rows)], pa.float64()),
    "count": pa.array([maybe(rng.randrange(-1000, 1000)) for _ in range(rows)], pa.int64()),
    "small": pa.array([maybe(rng.randrange(0, 100)) for _ in range(rows)], pa.int32()),
    "ratio": pa.array([maybe(rng.random()) for _ in range(rows)], pa.float32()),
    "flag": pa.array([maybe(rng.random() < 0.5) for _ in range(rows)], pa.bool_()),
    "day": pa.array([maybe(datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randrange(400))) for _ in range(rows)], pa.date32()),
    "at": pa.array([maybe(datetime.datetime(2024, 1, 1) + datetime.timedelta(seconds=rng.randrange(10**7))) for _ in range(rows)], pa.timestamp("us")),
    "price": pa.array([maybe(decimal.Decimal(rng.randrange(-99999, 99999)) / 100) for _ in range(rows)], pa.decimal128(9, 2)),
})


def write(name, data=table, **options):
    buffer = io.BytesIO()
    pq.write_table(data, buffer, **options)
    with open(os.path.join(here, name + ".seed"), "wb") as seed:
        seed.write(b"\x00" + buffer.getvalue())


for codec in ["none", "snappy", "gzip", "zstd"]:
    for version in ["1.0", "2.0"]:
        write(f"{codec}-page{version[0]}", compression=codec, data_page_version=version, row_group_size=10)
write("plain", compression="none", use_dictionary=False)
write("delta", compression="none", use_dictionary=False,
      column_encoding={"count": "DELTA_BINARY_PACKED", "small": "DELTA_BINARY_PACKED", "name": "DELTA_LENGTH_BYTE_ARRAY"})
write("delta-byte-array", compression="none", use_dictionary=False, column_encoding={"name": "DELTA_BYTE_ARRAY"})
write("byte-stream-split", compression="none", use_dictionary=False, column_encoding={"amount": "BYTE_STREAM_SPLIT", "ratio": "BYTE_STREAM_SPLIT"})
write("int96", compression="none", use_deprecated_int96_timestamps=True)
write("dictionary-fallback", compression="snappy", dictionary_pagesize_limit=64)
