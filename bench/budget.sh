#!/usr/bin/env bash
# Whether `keel train --time T` ends within max(5%, 1 s) of T when the machine gets busy: three CPU hogs
# (`yes`) start S seconds into the run and keep two cores busy beside it. Release build, a seeded
# 73,000-row five-class table (twelve numbers, one category) made by bench/budget_data.py, registry on
# (as `keel train` runs by default). One row per (budget, hogs, start): wall time, the limit, the exit code
# (3: the refit was cut short, said and refused). The same scenario at 10 s runs in the test command
# (LoadedMachineTests, debug build).
# Usage: bench/budget.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out="$here/out/budget"
mkdir -p "$out"
. "$here/keel_bin.sh"
data="$out/five.csv"
[ -f "$data" ] || python3 "$here/budget_data.py" 73000 > "$data"
echo "keel train under load, release build, $(nproc) cores, commit ${KEEL_COMMIT:-$(git -C "$root" rev-parse --short HEAD)} (KEEL_COMMIT names a KEEL_BIN built elsewhere)"
printf '%-7s %-5s %-6s %-9s %-7s %s\n' budget hogs start wall limit exit
for spec in "8 0 0" "8 3 2" "10 3 2" "20 2 0" "30 0 0" "30 3 6" "30 3 15" "30 3 22" "60 3 10"; do
  read -r budget hogs start <<< "$spec"
  rm -rf "$out/registry"
  pids=()
  for _ in $(seq 1 "$hogs"); do (sleep "$start"; exec yes > /dev/null) & pids+=($!); done
  t0=$EPOCHREALTIME
  set +e
  "$keel" train "$data" --target y --time "${budget}s" --seed 1 --out "$out/model.keel" --registry "$out/registry" --quiet > "$out/last.txt" 2>&1
  status=$?
  set -e
  t1=$EPOCHREALTIME
  for pid in "${pids[@]}"; do pkill -P "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  awk -v a="$t0" -v b="$t1" -v t="$budget" -v h="$hogs" -v s="$start" -v e="$status" 'BEGIN {
    limit = t + (t * 0.05 > 1 ? t * 0.05 : 1)
    printf "%-7s %-5s %-6s %-9.2f %-7.2f %s%s\n", t "s", h, s "s", b - a, limit, e, (b - a > limit ? "  OVER" : "") }'
done
