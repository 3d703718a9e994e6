#!/usr/bin/env bash
# Keel's search against peers on every dataset of the shared suite, with the datasets README's split.
# Usage: bench/automl.sh [SYSTEMS] [DATASETS]
#   SYSTEMS: comma-separated from keel,lightgbm,hgb,flaml,autogluon (default all five); DATASETS: names (default all).
# Keel runs `keel train --time 60s` on the training part and `keel predict` on the test part; the wall time of
# training is measured around the command. Each system's results go to bench/out/automl/results-SYSTEM.jsonl
# (a run replaces the files of the systems it runs); the table, each system's mean rank (lower is better) and
# the issue's goals are printed from every results file there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
systems=${1:-keel,autogluon,flaml,lightgbm,hgb}
venv="$root/.venv-bench"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
packages="pandas scikit-learn lightgbm numpy"
case ",$systems," in *,flaml,*) packages="$packages flaml";; esac
# AutoGluon as the issue installs it: its tree learners (LightGBM, CatBoost, XGBoost), no GPU libraries.
case ",$systems," in *,autogluon,*) packages="$packages autogluon.tabular[lightgbm,catboost,xgboost]";; esac
"$venv/bin/pip" install --quiet --disable-pip-version-check $packages
py="$venv/bin/python"
names=${2:-$("$py" "$here/automl_peers.py" names)}
swift build -c release --package-path "$root" --product keel >&2
keel="$root/.build/release/keel"
mkdir -p "$here/out/automl"
for system in ${systems//,/ }; do : > "$here/out/automl/results-$system.jsonl"; done
for name in $names; do
  "$py" "$here/automl_peers.py" split "$name"
  dir="$here/out/automl/$name"
  target=$("$py" -c "import json,sys; print({d['name']: d for d in json.load(open(sys.argv[1]))['datasets']}[sys.argv[2]]['target'])" \
    "${KEEL_DATASETS:-$root/../shared/datasets}/manifest.json" "$name")
  for system in ${systems//,/ }; do
    if [ "$system" = keel ]; then
      start=$(date +%s.%N)
      "$keel" train "$dir/train.csv" --target "$target" --time 60s --refit-full --no-registry --out "$dir/model.keel" --quiet > "$dir/keel-train.txt"
      end=$(date +%s.%N)
      "$keel" predict "$dir/model.keel" "$dir/test.csv" --out "$dir/predictions.csv" 2>/dev/null
      "$py" "$here/automl_peers.py" score "$name" "$dir/predictions.csv" "$("$py" -c "print($end - $start)")" | tee -a "$here/out/automl/results-keel.jsonl"
    else
      "$py" "$here/automl_peers.py" run "$system" "$name" | tee -a "$here/out/automl/results-$system.jsonl"
    fi
  done
done
"$py" - "$here"/out/automl/results-*.jsonl <<'PY'
import json, sys, collections
rows = [json.loads(l) for path in sys.argv[1:] for l in open(path) if l.strip()]
by = collections.defaultdict(dict)
for r in rows: by[r["name"]][r["system"]] = r
order = ["keel", "autogluon", "flaml", "lightgbm", "hgb"]
systems = [s for s in order if any(s in e for e in by.values())] + sorted({r["system"] for r in rows} - set(order))
print(f"{'dataset':<28} {'metric':<8} " + " ".join(f"{s:>18}" for s in systems))
ranks = collections.defaultdict(list)
for name, entries in by.items():
    metric = next(iter(entries.values()))["metric"]
    higher = metric == "roc_auc"
    cells = [f"{entries[s]['score']:>10.4f} ({entries[s]['seconds']:>3.0f}s)" if s in entries else f"{'':>18}" for s in systems]
    print(f"{name:<28} {metric:<8} " + " ".join(cells))
    ordered = sorted(entries, key=lambda s: -entries[s]["score"] if higher else entries[s]["score"])
    for rank, s in enumerate(ordered, 1): ranks[s].append(rank)
print("mean rank: " + ", ".join(f"{s} {sum(v) / len(v):.2f}" for s, v in sorted(ranks.items(), key=lambda kv: sum(kv[1]) / len(kv[1]))))
def better_or_equal(a, b, higher): return a >= b if higher else a <= b
if "keel" in systems:
    keel = {n: e["keel"] for n, e in by.items() if "keel" in e}
    if "flaml" in systems:
        pairs = [(n, e) for n, e in by.items() if "keel" in e and "flaml" in e]
        wins = sum(better_or_equal(e["keel"]["score"], e["flaml"]["score"], e["keel"]["metric"] == "roc_auc") for n, e in pairs)
        print(f"keel >= flaml on {wins} of {len(pairs)} datasets ({100 * wins / max(len(pairs), 1):.0f}%)")
    if "lightgbm" in systems:
        worse = []
        for n, e in by.items():
            if "keel" not in e or "lightgbm" not in e: continue
            k, l, metric = e["keel"]["score"], e["lightgbm"]["score"], e["keel"]["metric"]
            if (metric == "roc_auc" and k < l - 0.01) or (metric != "roc_auc" and k > l * 1.05): worse.append(f"{n} ({k:.4f} vs {l:.4f})")
        print("keel worse than lightgbm defaults by more than 0.01 AUC / 5%: " + (", ".join(worse) if worse else "none"))
    longest = max(keel.values(), key=lambda r: r["seconds"])
    print(f"keel wall time: at most {longest['seconds']:.1f} s of the 60 s budget ({longest['name']}), {100 * (longest['seconds'] / 60 - 1):+.1f}%")
PY
