#!/usr/bin/env bash
# Data drift decisions: `keel drift` against Evidently (DataDriftPreset, its defaults) on the same splits of the
# shared airline data: where nothing drifted (random halves, small random splits) and where it did (January vs
# December). Usage: bench/drift.sh [SMALL_SPLITS] (default 20). KEEL_BIN uses an existing keel binary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
runs=${1:-20}
out="$here/out/drift"
mkdir -p "$out"
venv="$root/.venv-bench-drift"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
# Evidently 0.7 still imports a pandas internal that pandas 2.3 removed.
"$venv/bin/pip" install --quiet --disable-pip-version-check evidently "pandas<2.3"
if [ -z "${KEEL_BIN:-}" ]; then
  swift build -c release --package-path "$root" --product keel >&2
  KEEL_BIN="$root/.build/release/keel"
fi
data="${KEEL_DATASETS:-$root/../shared/datasets}/airline_delay_houston_2011.csv.gz"
"$venv/bin/python" -W ignore "$here/drift_compare.py" "$KEEL_BIN" "$data" "$out" "$runs"
