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

"$venv/bin/python" "$here/read_measure.py" "$file" pandas "$keel_runs" "$pandas_runs"
