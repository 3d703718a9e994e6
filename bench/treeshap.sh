#!/usr/bin/env bash
# Exact TreeSHAP: Keel against shap.TreeExplainer (its C++ path-dependent algorithm) on a 500-tree, 63-leaf
# boosted model of a seeded synthetic dataset (50,000 rows, 20 numeric features, 5% missing), explaining
# 10,000 rows. Each side trains its own model with the same settings; times cover the explanation only.
# Keel runs with 1 thread and with all cores (KEEL_THREADS); shap's path-dependent TreeSHAP uses one thread.
# Usage: bench/treeshap.sh [ROWS_TO_EXPLAIN] (default 10000).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
rows=${1:-10000}
out="$here/out/treeshap"
mkdir -p "$out"
venv="$root/.venv-bench"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install --quiet --disable-pip-version-check numpy pandas lightgbm shap
py="$venv/bin/python"
swift build -c release --package-path "$here" --product treeshap >&2
bin="$(swift build -c release --package-path "$here" --show-bin-path)/treeshap"
[ -f "$out/train.csv" ] || "$py" "$here/treeshap_peer.py" data "$out" 62500 20
keel1=$(KEEL_THREADS=1 "$bin" "$out/train.csv" "$out/explain.csv" label 500 63 0.05 "$rows")
keel2=$("$bin" "$out/train.csv" "$out/explain.csv" label 500 63 0.05 "$rows")
shap1=$("$py" "$here/treeshap_peer.py" run "$out" 500 63 0.05 "$rows" 1)
"$py" - "$keel1" "$keel2" "$shap1" <<'PY'
import json, sys
k1, k2, s1 = (json.loads(a) for a in sys.argv[1:4])
print(f"exact TreeSHAP, 500 trees x 63 leaves, {k1['rows']} rows, 20 features")
print(f"{'system':<28} {'threads':>7} {'seconds':>9} {'ratio to shap':>14}")
for name, r in [("shap.TreeExplainer (LightGBM)", s1), ("Keel", k1), ("Keel", k2)]:
    print(f"{name:<28} {r['threads']:>7} {r['explain_seconds']:>9.3f} {r['explain_seconds'] / s1['explain_seconds']:>14.2f}")
print(f"Keel additivity error (max |base + sum - margin|): {k2['additivity_error']:.2e}")
PY
