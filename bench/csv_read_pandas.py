"""Reads one CSV file with pandas.read_csv (C engine) and prints one JSON line like bench csv-read."""
import json
import resource
import sys
import time

import pandas as pd


def resident_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


baseline = resident_mb()
started = time.perf_counter()
frame = pd.read_csv(sys.argv[1], engine="c")
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"rows": len(frame), "columns": frame.shape[1], "seconds": seconds, "peak_mb": peak, "baseline_mb": baseline}))
