#!/usr/bin/env bash
# Keel alone, two builds on one host in one run: each dataset's test score, wall time and the search's pace
# (trials started per minute of the training command's wall time) before and after a change to the search or its learners.
# Usage: bench/search_versions.sh BEFORE_BIN AFTER_BIN [DATASETS] [SECONDS] [SEEDS]
#        bench/search_versions.sh --summary RESULTS.jsonl...   (the table again, over several runs' results)
#   BEFORE_BIN, AFTER_BIN: two release keel binaries (name their commits where you quote the numbers);
#   DATASETS: space-separated names from the shared suite (default: all); SECONDS: the time budget (default 60);
#   SEEDS: space-separated --seed values, each dataset run once per seed and build (default "1").
# Uses the AutoML benchmark's split (bench/automl_peers.py: 75/25, random_state 42); both builds get
# KEEL_THREADS=2 and the same flags as bench/automl.sh (--refit-full). Results: bench/out/search_versions/results.jsonl.
# With several seeds the table gives each build's median score and pace per dataset.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
summary() {
"$root/.venv-bench/bin/python" - "$@" <<'PY'
import json, sys, collections, statistics
rows = [json.loads(l) for path in sys.argv[1:] for l in open(path) if l.strip()]
by = collections.defaultdict(lambda: collections.defaultdict(list))
for r in rows: by[r["name"]][r["build"]].append(r)
seeds = max(len(v) for e in by.values() for v in e.values())
print(f"median over {seeds} seed(s) per build" if seeds > 1 else "one run per build")
print(f"{'dataset':<28} {'metric':<8} {'before':>9} {'after':>9} {'trials/min before':>18} {'after':>7} {'wall s before':>14} {'after':>6}")
better = worse = 0
ratios = []
for name, e in by.items():
    if "before" not in e or "after" not in e: continue
    b, a = e["before"], e["after"]
    higher = b[0]["metric"] == "roc_auc"
    score = [statistics.median(x["score"] for x in runs) for runs in (b, a)]
    pace = [statistics.median(60 * x["trials"] / x["seconds"] for x in runs) for runs in (b, a)]
    wall = [statistics.median(x["seconds"] for x in runs) for runs in (b, a)]
    ratios.append(pace[1] / pace[0])
    if score[1] != score[0]:
        if (score[1] > score[0]) == higher: better += 1
        else: worse += 1
    print(f"{name:<28} {b[0]['metric']:<8} {score[0]:>9.4f} {score[1]:>9.4f} {pace[0]:>18.1f} {pace[1]:>7.1f} {wall[0]:>14.1f} {wall[1]:>6.1f}")
geo = 1.0
for r in ratios: geo *= r
print(f"after better on {better}, worse on {worse} of {len(ratios)} datasets; trials per minute after/before, geometric mean {geo ** (1 / max(len(ratios), 1)):.2f}")
PY
}
if [ "${1:-}" = --summary ]; then shift; summary "$@"; exit 0; fi
before=${1:?the keel binary before the change}
after=${2:?the keel binary after the change}
venv="$root/.venv-bench"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install --quiet --disable-pip-version-check pandas scikit-learn numpy
py="$venv/bin/python"
names=${3:-$("$py" "$here/automl_peers.py" names)}
budget=${4:-60}
seeds=${5:-1}
out="$here/out/search_versions"
mkdir -p "$out"
: > "$out/results.jsonl"
export KEEL_THREADS=2
for name in $names; do
  "$py" "$here/automl_peers.py" split "$name"
  dir="$here/out/automl/$name"
  target=$("$py" "$here/automl_peers.py" target "$name")
  for seed in $seeds; do
  for build in before after; do
    bin=$([ "$build" = before ] && echo "$before" || echo "$after")
    start=$(date +%s.%N)
    "$bin" train "$dir/train.csv" --target "$target" --time "${budget}s" --seed "$seed" --refit-full --no-registry --out "$dir/$build.keel" --json \
      > "$dir/$build-$seed-report.json" 2> /dev/null
    end=$(date +%s.%N)
    "$bin" predict "$dir/$build.keel" "$dir/test.csv" --out "$dir/$build-predictions.csv" 2> /dev/null
    score=$("$py" "$here/automl_peers.py" score "$name" "keel-$build" "$dir/$build-predictions.csv" "$("$py" -c "print($end - $start)")" 1)
    "$py" - "$build" "$dir/$build-$seed-report.json" "$score" "$seed" >> "$out/results.jsonl" <<'PY'
import json, sys
build, report, score = sys.argv[1], json.load(open(sys.argv[2])), json.loads(sys.argv[3])
score["seed"] = int(sys.argv[4])
trials = report["trials"]
ran = [t for t in trials if t["status"] != "failed"]
score.update(build=build, trials=len(trials), completed=sum(t["status"] == "completed" for t in trials),
             searchSeconds=report["secondsUsed"], foldFitSeconds=sum(t["fitSeconds"] * len(t["foldScores"]) for t in ran),
             cv=report["crossValidatedScore"], holdout=report["holdoutScore"],
             shipped=sorted({t["family"] for t in trials if t["id"] in (report["ensemble"]["members"] if report.get("ensemble") else [report["bestTrial"]])}),
             calibration=(report.get("calibration") or {}).get("method"))
print(json.dumps(score))
PY
    tail -1 "$out/results.jsonl" >&2
  done
  done
done
summary "$out/results.jsonl"
