#!/usr/bin/env bash
# Keel's search against peers on every dataset of the shared suite, with the datasets README's split.
# Usage: bench/automl.sh [SYSTEMS] [DATASETS]
#   SYSTEMS: comma-separated from keel,lightgbm,hgb,flaml (default keel,lightgbm,hgb); DATASETS: names (default all).
# Keel runs `keel train --time 60s` on the training part and `keel predict` on the test part; the wall time of
# training is measured around the command. Results go to bench/out/automl/results.jsonl and a table with
# each system's mean rank is printed (lower is better).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
systems=${1:-keel,lightgbm,hgb}
venv="$root/.venv-bench"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
packages="pandas scikit-learn lightgbm numpy"
case ",$systems," in *,flaml,*) packages="$packages flaml";; esac
"$venv/bin/pip" install --quiet --disable-pip-version-check $packages
py="$venv/bin/python"
names=${2:-$("$py" "$here/automl_peers.py" names)}
swift build -c release --package-path "$root" --product keel >&2
keel="$root/.build/release/keel"
results="$here/out/automl/results.jsonl"
mkdir -p "$(dirname "$results")"
: > "$results"
for name in $names; do
  "$py" "$here/automl_peers.py" split "$name"
  dir="$here/out/automl/$name"
  target=$("$py" -c "import json,sys; print({d['name']: d for d in json.load(open(sys.argv[1]))['datasets']}[sys.argv[2]]['target'])" \
    "${KEEL_DATASETS:-$root/../shared/datasets}/manifest.json" "$name")
  for system in ${systems//,/ }; do
    if [ "$system" = keel ]; then
      start=$(date +%s.%N)
      "$keel" train "$dir/train.csv" --target "$target" --time 60s --refit-full --out "$dir/model.keel" --quiet > "$dir/keel-train.txt"
      end=$(date +%s.%N)
      "$keel" predict "$dir/model.keel" "$dir/test.csv" --out "$dir/predictions.csv" 2>/dev/null
      "$py" "$here/automl_peers.py" score "$name" "$dir/predictions.csv" "$("$py" -c "print($end - $start)")" | tee -a "$results"
    else
      "$py" "$here/automl_peers.py" run "$system" "$name" | tee -a "$results"
    fi
  done
done
"$py" - "$results" <<'PY'
import json, sys, collections
rows = [json.loads(l) for l in open(sys.argv[1])]
by = collections.defaultdict(dict)
for r in rows: by[r["name"]][r["system"]] = r
systems = sorted({r["system"] for r in rows})
print(f"{'dataset':<28} {'metric':<8} " + " ".join(f"{s:>16}" for s in systems))
ranks = collections.defaultdict(list)
for name, entries in by.items():
    metric = next(iter(entries.values()))["metric"]
    higher = metric == "roc_auc"
    print(f"{name:<28} {metric:<8} " + " ".join(f"{entries[s]['score']:>9.4f} ({entries[s]['seconds']:>3.0f}s)" if s in entries else f"{'':>16}" for s in systems))
    ordered = sorted(entries, key=lambda s: -entries[s]["score"] if higher else entries[s]["score"])
    for rank, s in enumerate(ordered, 1): ranks[s].append(rank)
print("mean rank: " + ", ".join(f"{s} {sum(v) / len(v):.2f}" for s, v in sorted(ranks.items(), key=lambda kv: sum(kv[1]) / len(kv[1]))))
PY
