#!/usr/bin/env bash
# Personal-data detection: precision and recall of Keel's detector (schema inference, as `keel inspect
# --json` reports it) and of Presidio's structured analyzer, on the same seeded labelled set in one run.
# Usage: bench/pii_detection.sh [COLUMNS] [ROWS] [SEED]
#   COLUMNS: columns of each of the 10 direct kinds and of each of the 5 decoys (default 200); ROWS: values
#   per column (default 40); SEED: the generator's seed (default 1).
# The set is written by `keel example --personal-data-columns` (KeelSynthetic.PersonalDataColumns): the
# columns are named col_N, so neither detector reads a hint from a name. Presidio gets the CSV as pandas
# reads it (every column as text), with its default recognizers. Its default NLP pipeline is spaCy's
# en_core_web_lg, downloaded from GitHub, which this machine cannot reach: Presidio runs here on a blank
# spaCy English pipeline, so its pattern recognizers (e-mail, phone, SSN, UK NINO, IBAN, card, IP) work
# and its NER-based ones (PERSON, LOCATION) find nothing. Say so wherever the numbers are quoted.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
source "$here/keel_bin.sh"
venv="$root/.venv-bench"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install --quiet --disable-pip-version-check pandas presidio-analyzer==2.2.358 presidio-structured==0.0.10
columns=${1:-200}
rows=${2:-40}
seed=${3:-1}
out="$here/out/pii"
mkdir -p "$out"
"$keel" example --personal-data-columns "$columns" --rows "$rows" --seed "$seed" --out "$out/labelled.csv"
"$keel" inspect "$out/labelled.csv" --json --quiet > "$out/keel.json"
"$venv/bin/python" "$here/pii_peer.py" "$out/labelled.csv" "$out/keel.json"
