#!/usr/bin/env bash
# Keel's Parquet reader against pyarrow.parquet.read_table (2 threads each) on the largest dataset of the
# suite written as Parquet by pyarrow (snappy, dictionary-encoded), in the same run.
# Usage: bench/parquet_read.sh [REPEATS]   (default 5; datasets in $KEEL_DATASETS or ../shared/datasets)
# Prints the median wall time and peak memory of each and the Keel/pyarrow ratios (below 1.0 favours Keel).
# Keel's reader is compiled here with swiftc -O (whole module) from KeelData's sources, as scripts/fuzz does,
# so the benchmark needs no package build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
datasets=${KEEL_DATASETS:-$root/../shared/datasets}
repeats=${1:-5}
out="$here/out/parquet"
mkdir -p "$out"
largest=$(python3 -c "import json,sys; m=json.load(open(sys.argv[1])); print(max(m['datasets'], key=lambda d: d['rows'])['file'])" "$datasets/manifest.json")

venv="$root/.venv-bench-parquet"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet pyarrow==18.1.0
fi
file="$out/${largest%%.*}.parquet"
[ -f "$file" ] || "$venv/bin/python" "$here/parquet_read_pyarrow.py" --write "$datasets/$largest" "$file"

binary="$out/parquet-read"
mapfile -t sources < <(find "$root/Sources/KeelData" -name '*.swift' | sort)
includes=()
for shim in "$root"/Sources/C*/; do includes+=(-I "$shim" -I "$shim/include"); done
swiftc -O -wmo -parse-as-library -module-name ParquetRead "${includes[@]}" "${sources[@]}" "$here/parquet_read/ParquetRead.swift" -o "$binary"

run() { for _ in $(seq "$repeats"); do "$@"; done; }
keel_runs=$(run "$binary" "$file")
arrow_runs=$(run "$venv/bin/python" "$here/parquet_read_pyarrow.py" "$file")

"$venv/bin/python" - "$file" "$keel_runs" "$arrow_runs" "$(git -C "$root" rev-parse --short HEAD)" <<'PY'
import json, os, statistics, sys
name, keel, arrow, commit = sys.argv[1], [json.loads(l) for l in sys.argv[2].splitlines()], [json.loads(l) for l in sys.argv[3].splitlines()], sys.argv[4]
def summary(runs):
    return {k: statistics.median(r[k] for r in runs) for k in ("seconds", "peak_mb", "baseline_mb")} | {"rows": runs[0]["rows"], "columns": runs[0]["columns"]}
k, p = summary(keel), summary(arrow)
print(f"file: {os.path.basename(name)} ({os.path.getsize(name) / 1e6:.1f} MB; keel {k['rows']} x {k['columns']}, pyarrow {p['rows']} x {p['columns']}); median of {len(keel)} runs; commit {commit}, {os.cpu_count()} cores")
print(f"{'system':<8} {'wall s':>8} {'peak MB':>9} {'read MB':>9}")
for label, s in (("keel", k), ("pyarrow", p)):
    print(f"{label:<8} {s['seconds']:>8.3f} {s['peak_mb']:>9.1f} {s['peak_mb'] - s['baseline_mb']:>9.1f}")
print(f"{'ratio':<8} {k['seconds'] / p['seconds']:>8.2f} {k['peak_mb'] / p['peak_mb']:>9.2f} {(k['peak_mb'] - k['baseline_mb']) / (p['peak_mb'] - p['baseline_mb']):>9.2f}")
print("(read MB = peak RSS minus RSS before reading; ratio = keel / pyarrow, below 1.0 favours keel)")
PY
