#!/usr/bin/env bash
# Keel's gradient boosting against LightGBM with the same settings, data and thread count, in one run.
# Usage: bench/gbdt.sh [ROUNDS] [SYNTHETIC_ROWS]   (defaults: 500 rounds, 1,000,000 synthetic rows x 50 features)
# Settings: 255 bins, 63 leaves, learning rate 0.05, 2 threads. Datasets: the largest classification and the
# largest regression dataset of the shared suite (by rows), on the protocol's 75/25 split, and the synthetic set.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
datasets=${KEEL_DATASETS:-$root/../shared/datasets}
rounds=${1:-500}
synthetic_rows=${2:-1000000}
out="$here/out"
mkdir -p "$out"

venv="$root/.venv-bench"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install --quiet --disable-pip-version-check pandas lightgbm scikit-learn numpy
py="$venv/bin/python"
swift build -c release --package-path "$here" --product gbdt-train >&2
keel="$here/.build/release/gbdt-train"

read -r cls_file cls_target reg_file reg_target < <("$py" -c "
import json, sys
m = json.load(open(sys.argv[1]))['datasets']
c = max((d for d in m if d['task'] != 'regression'), key=lambda d: d['rows'])
r = max((d for d in m if d['task'] == 'regression'), key=lambda d: d['rows'])
print(c['file'], c['target'], r['file'], r['target'])" "$datasets/manifest.json")

"$py" "$here/gbdt_prepare.py" split "$datasets/$cls_file" "$cls_target" binary "$out/classification"
"$py" "$here/gbdt_prepare.py" split "$datasets/$reg_file" "$reg_target" regression "$out/regression"
if [ ! -f "$out/synthetic_${synthetic_rows}_train.f64" ]; then
  "$py" "$here/gbdt_prepare.py" synthetic "$synthetic_rows" 50 "$out/synthetic_${synthetic_rows}"
fi

results="$out/gbdt-results.jsonl"
: > "$results"
run() {  # name train test target
  local keel_json lgb_json
  keel_json=$("$keel" "$2" "$3" "$4" "$rounds" 63 0.05 255)
  lgb_json=$("$py" "$here/gbdt_lightgbm.py" "$2" "$3" "$4" "$rounds" 63 0.05 255)
  echo "{\"name\": \"$1\", \"keel\": $keel_json, \"lightgbm\": $lgb_json}" >> "$results"
}
run "${cls_file%%.*}" "$out/classification_train.csv" "$out/classification_test.csv" "$cls_target"
run "${reg_file%%.*}" "$out/regression_train.csv" "$out/regression_test.csv" "$reg_target"
run "synthetic ${synthetic_rows}x50" "$out/synthetic_${synthetic_rows}_train.f64" "$out/synthetic_${synthetic_rows}_test.f64" y

"$py" - "$results" "$rounds" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print(f"GBDT: {sys.argv[2]} rounds, 63 leaves, learning rate 0.05, 255 bins, 2 threads; ratio = keel / lightgbm")
print(f"{'dataset':<30} {'system':<9} {'train s':>8} {'peak MB':>8} {'metric':>9} {'score':>10} {'predict rows/s':>15}")
for r in rows:
    for system in ("keel", "lightgbm"):
        s = r[system]
        print(f"{r['name']:<30} {system:<9} {s['train_seconds']:>8.2f} {s['peak_mb']:>8.0f} {s['metric']:>9} {s['score']:>10.4f} {s['predict_rows_per_second']:>15,.0f}")
    k, l = r["keel"], r["lightgbm"]
    print(f"{'':<30} {'ratio':<9} {k['train_seconds'] / l['train_seconds']:>8.2f} {k['peak_mb'] / l['peak_mb']:>8.2f} {'':>9} {k['score'] - l['score']:>+10.4f} {k['predict_rows_per_second'] / l['predict_rows_per_second']:>15.2f}")
PY
