#!/usr/bin/env bash
# Weighs a search rule on training rows only: `keel train` on each dataset's training part of the AutoML split,
# once with the rule and once with it turned off (KEEL_SEARCH_RULES_OFF=RULE, a benchmark's switch), same
# seed, hence the same held-out rows; the score compared is Keel's own holdout score, rows carved out of the
# training part before the search. The test part is never read. Over several seeds the table gives the paired
# difference (off − on) with its standard error; how many runs the rule acted in; and the wall times.
# Usage: bench/search_rules.sh RULE [DATASETS] [SECONDS] [SEEDS]
#        bench/search_rules.sh --summary RESULTS.jsonl...   (the table again from saved results)
#   RULE: complete-pruned, affordable-folds or rare-class-repeats (`keel` names them in SearchRule); DATASETS: names from the
#   shared suite (default: every one); SECONDS: the budget (default 60); SEEDS: space-separated --seed values
#   (default "1 2 3 4 5"). KEEL_BIN: the keel binary (default: this checkout built in release).
# Results: bench/out/search_rules/RULE.jsonl (replaced by each run).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
venv="$root/.venv-bench"
summary() {
"$venv/bin/python" - "$@" <<'PY'
import json, sys, collections, statistics
rows = [json.loads(l) for path in sys.argv[1:] for l in open(path) if l.strip()]
by = collections.defaultdict(lambda: collections.defaultdict(dict))
for r in rows: by[r["name"]][r["seed"]][r["variant"]] = r
print("holdout score on training rows (Keel's own held-out rows of the training part); difference = off − on, "
      "mean ± standard error over seeds; negative is better for log_loss and rmse, positive for roc_auc")
print(f"{'dataset':<28} {'metric':<8} {'seeds':>5} {'with rule':>10} {'rule off':>10} {'off − on':>20} {'acted':>6} {'wall on':>8} {'off':>6}")
for name, seeds in by.items():
    pairs = [(s["on"], s["off"]) for s in seeds.values() if "on" in s and "off" in s]
    if not pairs: continue
    diffs = [off["holdout"] - on["holdout"] for on, off in pairs]
    mean = statistics.mean(diffs)
    se = statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else float("nan")
    acted = sum(on["acted"] for on, _ in pairs)
    print(f"{name:<28} {pairs[0][0]['metric']:<8} {len(pairs):>5} {statistics.mean(on['holdout'] for on, _ in pairs):>10.4f} "
          f"{statistics.mean(off['holdout'] for _, off in pairs):>10.4f} {f'{mean:+.4f} ± {se:.4f}':>20} {acted:>6} "
          f"{statistics.median(on['seconds'] for on, _ in pairs):>8.1f} {statistics.median(off['seconds'] for _, off in pairs):>6.1f}")
PY
}
if [ "${1:-}" = --summary ]; then shift; summary "$@"; exit 0; fi
rule=${1:?a search rule: complete-pruned, affordable-folds or rare-class-repeats}
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install --quiet --disable-pip-version-check pandas==3.1.1 numpy==2.4.6 scikit-learn==1.9.1
py="$venv/bin/python"
source "$here/keel_bin.sh"
names=${2:-$("$py" "$here/automl_peers.py" names)}
budget=${3:-60}
seeds=${4:-1 2 3 4 5}
out="$here/out/search_rules"
mkdir -p "$out"
results="$out/$rule.jsonl"
: > "$results"
export KEEL_THREADS=2
for name in $names; do
  [ -f "$here/out/automl/$name/train.csv" ] || "$py" "$here/automl_peers.py" split "$name"
  dir="$here/out/automl/$name"
  target=$("$py" "$here/automl_peers.py" target "$name")
  for seed in $seeds; do
    for variant in on off; do
      report="$out/$name-$rule-$variant-$seed.json"
      start=$(date +%s.%N)
      if [ "$variant" = off ]; then
        KEEL_SEARCH_RULES_OFF=$rule "$keel" train "$dir/train.csv" --target "$target" --time "${budget}s" --seed "$seed" \
          --no-registry --out "$out/model.keel" --json > "$report" 2> /dev/null
      else
        "$keel" train "$dir/train.csv" --target "$target" --time "${budget}s" --seed "$seed" \
          --no-registry --out "$out/model.keel" --json > "$report" 2> /dev/null
      fi
      end=$(date +%s.%N)
      "$py" - "$name" "$rule" "$variant" "$seed" "$report" "$start" "$end" >> "$results" <<'PY'
import json, sys
name, rule, variant, seed, path, start, end = sys.argv[1:]
report = json.load(open(path))
trials = report["trials"]
# Whether the rule changed anything in the run that has it: trials completing pruned ones, or folds cut.
acted = {"complete-pruned": any("completes" in t for t in trials),
         "affordable-folds": "cut one step for the budget" in report["validation"],
         "rare-class-repeats": "the rarest class has" in report["validation"]}[rule]
if variant == "off" and acted:
    raise SystemExit(f"{path}: the rule {rule} acted though KEEL_SEARCH_RULES_OFF turned it off")
print(json.dumps({"name": name, "rule": rule, "variant": variant, "seed": int(seed), "metric": report["metric"],
                  "holdout": report["holdoutScore"], "cv": report["crossValidatedScore"], "trials": len(trials),
                  "acted": bool(acted), "validation": report["validation"], "seconds": float(end) - float(start)}))
PY
      tail -1 "$results" >&2
    done
  done
done
summary "$results"
