"""Reads one Parquet file with pyarrow.parquet.read_table (2 threads) and prints one JSON line like csv-read.
With --write SRC DEST instead: writes the CSV file SRC as Parquet (snappy, dictionary-encoded) to DEST."""
import sys

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from read_measure import measure

pa.set_cpu_count(2)
pa.set_io_thread_count(2)

if sys.argv[1] == "--write":
    pq.write_table(pacsv.read_csv(sys.argv[2]), sys.argv[3], compression="snappy", use_dictionary=True)
    sys.exit(0)


def read():
    table = pq.read_table(sys.argv[1], use_threads=True)
    return table.num_rows, table.num_columns


measure(read)
