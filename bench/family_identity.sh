#!/usr/bin/env bash
# Which learner families' models changed between two builds: each family alone, a fixed number of trials and
# one seed, before and after, on the AutoML benchmark's split of a few datasets; the test-set predictions of
# the two models compared value by value. A family whose randomness and numerics did not change, on a search
# that picks the same configuration, predicts identically; a difference is reported with its size and with
# the configuration each build shipped, so a reader can tell a changed learner from a changed choice.
# Usage: bench/family_identity.sh BEFORE_BIN AFTER_BIN [DATASETS] [TRIALS]
#   DATASETS: default "german_credit auto_mpg glass" (binary, regression, multiclass); TRIALS: default 3.
# Results: bench/out/family_identity/results.jsonl and a table on standard output.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
before=${1:?the keel binary before the change}
after=${2:?the keel binary after the change}
names=${3:-german_credit auto_mpg glass}
trials=${4:-3}
venv="$root/.venv-bench"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install --quiet --disable-pip-version-check pandas scikit-learn numpy
py="$venv/bin/python"
out="$here/out/family_identity"
mkdir -p "$out"
: > "$out/results.jsonl"
export KEEL_THREADS=2
for name in $names; do
  "$py" "$here/automl_peers.py" split "$name"
  dir="$here/out/automl/$name"
  target=$("$py" "$here/automl_peers.py" target "$name")
  for family in linear gbdt random_forest extra_trees ebm; do
    for build in before after; do
      bin=$([ "$build" = before ] && echo "$before" || echo "$after")
      "$bin" train "$dir/train.csv" --target "$target" --trials "$trials" --seed 1 --learner "$family" --no-registry \
        --out "$out/$name-$family-$build.keel" --json > "$out/$name-$family-$build.json" 2> /dev/null
      "$bin" predict "$out/$name-$family-$build.keel" "$dir/test.csv" --out "$out/$name-$family-$build.csv" 2> /dev/null
    done
    "$py" - "$name" "$family" "$out/$name-$family" >> "$out/results.jsonl" <<'PY'
import csv, json, sys
name, family, stem = sys.argv[1:4]
def read(build):
    with open(f"{stem}-{build}.csv") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    # Regression: the predicted value; classification: every class's probability (the label follows them).
    keep = [i for i, h in enumerate(header) if h.startswith("proba_")] or [header.index("prediction")]
    report = json.load(open(f"{stem}-{build}.json"))
    best = next(t for t in report["trials"] if t["id"] == report["bestTrial"])
    return [float(r[i]) for r in body for i in keep], best["summary"]
b, bs = read("before")
a, as_ = read("after")
diff = max((abs(x - y) for x, y in zip(a, b)), default=0.0) if len(a) == len(b) else float("inf")
print(json.dumps(dict(name=name, family=family, identical=a == b, maxDifference=diff, before=bs, after=as_)))
PY
    tail -1 "$out/results.jsonl" >&2
  done
done
"$py" - "$out/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"{'dataset':<16} {'family':<14} {'predictions':<12} {'max |diff|':>11}  configuration shipped (before → after)")
for r in rows:
    same = "identical" if r["identical"] else "differ"
    config = r["before"] if r["before"] == r["after"] else f"{r['before']} → {r['after']}"
    print(f"{r['name']:<16} {r['family']:<14} {same:<12} {r['maxDifference']:>11.3g}  {config}")
PY
