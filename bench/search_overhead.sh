#!/usr/bin/env bash
# The search's overhead, two builds in one run: the seconds a search spends outside its trials' fold fits
# (preparing data and folds, screens, bookkeeping, refits, calibration, scoring the holdout, the report's
# analyses), with the clock taken out of the picture.
# Usage: bench/search_overhead.sh BEFORE_BIN AFTER_BIN [DATASETS] [TRIALS] [REPEATS]
#   BEFORE_BIN, AFTER_BIN: two release keel binaries of the same search semantics (name their commits where
#   you quote the numbers); DATASETS: names from the shared suite (default "german_credit adult_income
#   letter_recognition"); TRIALS: --trials (default 8); REPEATS: runs per build and dataset (default 3).
# Every run: KEEL_THREADS=1 (folds one after another, learners on one thread, so the trials' fold fits add up
# to their wall time), --trials (no clock: both builds run the same trials), --seed 1, --no-registry.
# From each run's report: used = secondsUsed; fits = the sum over trials of fitSeconds × folds run;
# outside = used − fits. The table gives each build's median over the repeats and after/before.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
before=${1:?the keel binary before the change}
after=${2:?the keel binary after the change}
venv="$root/.venv-bench"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install --quiet --disable-pip-version-check pandas scikit-learn numpy
py="$venv/bin/python"
names=${3:-german_credit adult_income letter_recognition}
trials=${4:-8}
repeats=${5:-3}
out="$here/out/search_overhead"
mkdir -p "$out"
: > "$out/results.jsonl"
export KEEL_THREADS=1
for name in $names; do
  "$py" "$here/automl_peers.py" split "$name"
  dir="$here/out/automl/$name"
  target=$("$py" "$here/automl_peers.py" target "$name")
  for run in $(seq 1 "$repeats"); do
  for build in before after; do
    bin=$([ "$build" = before ] && echo "$before" || echo "$after")
    "$bin" train "$dir/train.csv" --target "$target" --trials "$trials" --seed 1 --no-registry --out "$out/$build.keel" --json \
      > "$out/$name-$build-$run.json" 2> /dev/null
    "$py" - "$name" "$build" "$run" "$out/$name-$build-$run.json" >> "$out/results.jsonl" <<'PY'
import json, sys
name, build, run, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
report = json.load(open(path))
fits = sum(t["fitSeconds"] * len(t["foldScores"]) for t in report["trials"])
print(json.dumps({"name": name, "build": build, "run": run, "used": report["secondsUsed"], "fits": fits,
                  "outside": report["secondsUsed"] - fits, "trials": len(report["trials"])}))
PY
    tail -1 "$out/results.jsonl" >&2
  done
  done
done
"$py" - "$out/results.jsonl" <<'PY'
import json, sys, statistics, collections
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = collections.defaultdict(lambda: collections.defaultdict(list))
for r in rows: by[r["name"]][r["build"]].append(r)
print(f"median over {max(len(v) for e in by.values() for v in e.values())} runs per build; KEEL_THREADS=1")
print(f"{'dataset':<22} {'used before':>12} {'after':>8} {'fits before':>12} {'after':>8} {'outside before':>15} {'after':>8} {'outside after/before':>21}")
for name, e in by.items():
    m = {b: {k: statistics.median(r[k] for r in e[b]) for k in ("used", "fits", "outside")} for b in ("before", "after")}
    ratio = m["after"]["outside"] / m["before"]["outside"] if m["before"]["outside"] > 0 else float("nan")
    print(f"{name:<22} {m['before']['used']:>12.2f} {m['after']['used']:>8.2f} {m['before']['fits']:>12.2f} {m['after']['fits']:>8.2f} "
          f"{m['before']['outside']:>15.2f} {m['after']['outside']:>8.2f} {ratio:>21.2f}")
PY
