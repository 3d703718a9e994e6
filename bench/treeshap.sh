#!/usr/bin/env bash
# Exact TreeSHAP on a seeded synthetic binary dataset (50,000 training rows, 20 numeric features), explaining
# ROWS rows, two peers:
# 1. a 500-tree, 63-leaf boosted model (5% missing values): Keel's GBDT against LightGBM explained through
#    shap.TreeExplainer, which for a LightGBM booster calls LightGBM's own C++ TreeSHAP (pred_contrib);
# 2. a 100-tree random forest of depth 8 (no missing values, which shap's scikit-learn path does not take):
#    Keel's forest against scikit-learn's RandomForestClassifier explained by shap's own C++ algorithm.
# Each side trains its own model with the same settings; times cover the explanation only. Keel runs with 1
# thread and with all cores (KEEL_THREADS); both peers run one thread (the LightGBM booster is set to one;
# shap's own path-dependent algorithm has no threads).
# Usage: bench/treeshap.sh [ROWS_TO_EXPLAIN] (default 10000).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
rows=${1:-10000}
out="$here/out/treeshap"
mkdir -p "$out"
venv="$root/.venv-bench"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install --quiet --disable-pip-version-check numpy==2.4.6 pandas==3.1.1 lightgbm==4.7.0 scikit-learn==1.9.1 shap==0.51.0
py="$venv/bin/python"
swift build -c release --package-path "$here" --product treeshap >&2
bin="$(swift build -c release --package-path "$here" --show-bin-path)/treeshap"
[ -f "$out/train.csv" ] || "$py" "$here/treeshap_peer.py" data "$out" 62500 20
forest="$out/forest"
mkdir -p "$forest"
[ -f "$forest/train.csv" ] || "$py" "$here/treeshap_peer.py" data "$forest" 62500 20 0
keel1=$(KEEL_THREADS=1 "$bin" "$out/train.csv" "$out/explain.csv" label gbdt:500:63:0.05 "$rows")
keel2=$("$bin" "$out/train.csv" "$out/explain.csv" label gbdt:500:63:0.05 "$rows")
shap1=$("$py" "$here/treeshap_peer.py" run "$out" 500 63 0.05 "$rows" 1)
forest1=$(KEEL_THREADS=1 "$bin" "$forest/train.csv" "$forest/explain.csv" label forest:100:8 "$rows")
forest2=$("$bin" "$forest/train.csv" "$forest/explain.csv" label forest:100:8 "$rows")
shapf=$("$py" "$here/treeshap_peer.py" forest "$forest" 100 8 "$rows" 1)
"$py" - "$keel1" "$keel2" "$shap1" "$forest1" "$forest2" "$shapf" <<'PY'
import json, sys
k1, k2, s1, f1, f2, sf = (json.loads(a) for a in sys.argv[1:7])
def table(title, peer_name, peer, ones, twos):
    print(title)
    print(f"{'system':<40} {'threads':>7} {'seconds':>9} {'ratio to peer':>14}")
    for name, r in [(peer_name, peer), ("Keel", ones), ("Keel", twos)]:
        print(f"{name:<40} {r['threads']:>7} {r['explain_seconds']:>9.3f} {r['explain_seconds'] / peer['explain_seconds']:>14.2f}")
    print(f"Keel additivity error (max |base + sum - margin|): {twos['additivity_error']:.2e}")
table(f"exact TreeSHAP, boosting: 500 trees x 63 leaves, {k1['rows']} rows, 20 features", "LightGBM pred_contrib (via shap)", s1, k1, k2)
print()
table(f"exact TreeSHAP, random forest: 100 trees of depth 8 (leaves a tree: Keel {f2['mean_leaves']:.0f}, scikit-learn {sf['mean_leaves']:.0f}), {f1['rows']} rows",
      "shap.TreeExplainer (scikit-learn forest)", sf, f1, f2)
PY
