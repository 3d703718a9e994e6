#!/usr/bin/env bash
# Keel's Parquet reader against pyarrow.parquet.read_table (2 threads each) on the largest dataset of the
# suite written as Parquet by pyarrow (snappy, dictionary-encoded), in the same run.
# Usage: bench/parquet_read.sh [REPEATS]   (default 5; datasets in $KEEL_DATASETS or ../shared/datasets)
# Prints the median wall time and peak memory of each and the Keel/pyarrow ratios (below 1.0 favours Keel).
# Keel's reader (bench/Sources/csv-read, which reads either format) is compiled here with swiftc -O (whole
# module) from KeelData's sources, as scripts/fuzz does, so the benchmark needs no package build.
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
swiftc -O -wmo -parse-as-library -module-name ParquetRead "${includes[@]}" "${sources[@]}" "$here/Sources/csv-read/CSVReadBenchmark.swift" -o "$binary"

run() { for _ in $(seq "$repeats"); do "$@"; done; }
keel_runs=$(run "$binary" "$file")
arrow_runs=$(run "$venv/bin/python" "$here/parquet_read_pyarrow.py" "$file")

"$venv/bin/python" "$here/read_measure.py" "$file" pyarrow "$keel_runs" "$arrow_runs" \
  "; $(du -m "$file" | cut -f1) MB; commit $(git -C "$root" rev-parse --short HEAD), $(nproc) cores"
