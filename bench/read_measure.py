"""What the reader benchmarks share: one JSON line per run from a peer reader (like bench csv-read prints),
and the summary of Keel's runs against the peer's (`python read_measure.py NAME PEER KEEL_RUNS PEER_RUNS`)."""
import json
import os
import resource
import statistics
import sys
import time


def resident_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure(read):
    """Runs `read()` (which returns rows and columns) and prints its time and memory as one JSON line."""
    baseline = resident_mb()
    started = time.perf_counter()
    rows, columns = read()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "columns": columns, "seconds": seconds, "peak_mb": peak, "baseline_mb": baseline}))


def summarise(name, peer, keel_lines, peer_lines, header=""):
    keel, other = [json.loads(l) for l in keel_lines.splitlines()], [json.loads(l) for l in peer_lines.splitlines()]

    def summary(runs):
        return {k: statistics.median(r[k] for r in runs) for k in ("seconds", "peak_mb", "baseline_mb")} | {"rows": runs[0]["rows"], "columns": runs[0]["columns"]}

    k, p = summary(keel), summary(other)
    print(f"file: {os.path.basename(name)} ({k['rows']} rows x {k['columns']} columns; {peer}: {p['rows']} x {p['columns']}); median of {len(keel)} runs{header}")
    print(f"{'system':<8} {'wall s':>8} {'peak MB':>9} {'read MB':>9}")
    for label, s in (("keel", k), (peer, p)):
        print(f"{label:<8} {s['seconds']:>8.3f} {s['peak_mb']:>9.1f} {s['peak_mb'] - s['baseline_mb']:>9.1f}")
    print(f"{'ratio':<8} {k['seconds'] / p['seconds']:>8.2f} {k['peak_mb'] / p['peak_mb']:>9.2f} {(k['peak_mb'] - k['baseline_mb']) / (p['peak_mb'] - p['baseline_mb']):>9.2f}")
    print(f"(read MB = peak RSS minus RSS before reading; ratio = keel / {peer}, below 1.0 favours keel)")


if __name__ == "__main__":
    summarise(*sys.argv[1:])
