#!/usr/bin/env bash
# Keel's CSV reader against pandas.read_csv (C engine) on the largest shared dataset, in the same run.
# Usage: bench/csv_read.sh [FILE] [REPEATS]   (default: the dataset with the most rows in $KEEL_DATASETS or ../shared/datasets, 5 runs)
# Prints the median wall time and peak memory of each, and Keel/pandas ratios (below 1.0 means Keel is better).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
datasets=${KEEL_DATASETS:-$root/../shared/datasets}
largest=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(max(m['datasets'], key=lambda d: d['rows'])['file'])" "$datasets/manifest.json")
file=${1:-$datasets/$largest}
repeats=${2:-5}

venv="$root/.venv-bench"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet pandas
fi
swift build -c release --package-path "$here" --product csv-read >&2
keel="$here/.build/release/csv-read"

run() { for _ in $(seq "$repeats"); do "$@"; done; }
keel_runs=$(run "$keel" "$file")
pandas_runs=$(run "$venv/bin/python" "$here/csv_read_pandas.py" "$file")

"$venv/bin/python" - "$file" "$keel_runs" "$pandas_runs" <<'PY'
import json, statistics, sys
name, keel, pandas = sys.argv[1], [json.loads(l) for l in sys.argv[2].splitlines()], [json.loads(l) for l in sys.argv[3].splitlines()]
def summary(runs):
    return {k: statistics.median(r[k] for r in runs) for k in ("seconds", "peak_mb", "baseline_mb")} | {"rows": runs[0]["rows"], "columns": runs[0]["columns"]}
k, p = summary(keel), summary(pandas)
print(f"file: {name} ({k['rows']} rows x {k['columns']} columns; pandas: {p['rows']} x {p['columns']}); median of {len(keel)} runs")
print(f"{'system':<8} {'wall s':>8} {'peak MB':>9} {'read MB':>9}")
for label, s in (("keel", k), ("pandas", p)):
    print(f"{label:<8} {s['seconds']:>8.3f} {s['peak_mb']:>9.1f} {s['peak_mb'] - s['baseline_mb']:>9.1f}")
print(f"{'ratio':<8} {k['seconds'] / p['seconds']:>8.2f} {k['peak_mb'] / p['peak_mb']:>9.2f} {(k['peak_mb'] - k['baseline_mb']) / (p['peak_mb'] - p['baseline_mb']):>9.2f}")
print("(read MB = peak RSS minus RSS before reading; ratio = keel / pandas, below 1.0 favours keel)")
PY
