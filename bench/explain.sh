#!/usr/bin/env bash
# `keel explain --global` on diamonds (53,940 rows), release build: how long the global views take (mean
# |attribution| on a seeded sample sized to finish in seconds, permutation importance, partial dependence)
# and the HTML report, with the sample size Keel chose. The model is Keel's default search at 60 s, seed 1,
# trained once into bench/out/explain/ (delete it to train again). Median of 3 runs per command; the
# issue's goal is under 10 s.
# Usage: bench/explain.sh [DATASET] [TARGET] (default: diamonds price).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
dataset=${1:-diamonds}
target=${2:-price}
data="${KEEL_DATASETS:-$root/../shared/datasets}/$dataset.csv"
out="$here/out/explain"
mkdir -p "$out"
. "$here/keel_bin.sh"
model="$out/$dataset.keel"
if [ ! -f "$model" ]; then
  (cd "$out" && "$keel" train "$data" --target "$target" --time 60s --seed 1 --out "$model" --no-registry --quiet)
fi
echo "keel explain --global, release build, $(nproc) cores, commit $(git -C "$root" rev-parse --short HEAD)"
echo "model: $model ($dataset, target $target)"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for variant in "--global" "--global --html $out/report.html" "--rows 0-9"; do
  times=()
  for run in 1 2 3; do
    start=$EPOCHREALTIME
    # shellcheck disable=SC2086
    "$keel" explain "$model" "$data" $variant > "$out/last.txt" 2>/dev/null
    end=$EPOCHREALTIME
    times+=("$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')")
  done
  printf '%-45s median %6.2f s  (runs: %s)\n' "keel explain $variant" "$(printf '%s\n' "${times[@]}" | median)" "${times[*]}"
done
"$keel" explain "$model" "$data" --global --json > "$out/global.json" 2>/dev/null
python3 - "$out/global.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
g = d["global"]
print(f"global views on {g['rows_explained']} of {g['rows_in_data']} rows (a seeded sample chosen by Keel)")
print("top columns:", ", ".join(f"{i['column']} {i['mean_absolute']:.4g}" for i in g["importance"][:5]))
PY
