"""Reads one Parquet file with pyarrow.parquet.read_table (2 threads) and prints one JSON line like parquet-read.
With --write SRC DEST instead: writes the CSV file SRC as Parquet (snappy, dictionary-encoded) to DEST."""
import json
import resource
import sys
import time

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

pa.set_cpu_count(2)
pa.set_io_thread_count(2)


def resident_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


if sys.argv[1] == "--write":
    pq.write_table(pacsv.read_csv(sys.argv[2]), sys.argv[3], compression="snappy", use_dictionary=True)
    sys.exit(0)
baseline = resident_mb()
started = time.perf_counter()
table = pq.read_table(sys.argv[1], use_threads=True)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rows": table.num_rows, "columns": table.num_columns, "seconds": seconds, "peak_mb": peak, "baseline_mb": baseline}))
