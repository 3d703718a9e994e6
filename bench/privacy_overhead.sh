#!/usr/bin/env bash
# What privacy rules cost when scoring: `keel predict` on the same file with a model that pseudonymises its
# customer id (HMAC-SHA256 of every distinct value) and drops an e-mail column, against a model trained the
# same way without the pseudonymisation; and, as the peer, pseudonymising the same column in Python (pandas
# and the standard library's hmac), what a team would do before handing the file over.
# Usage: bench/privacy_overhead.sh [ROWS] [RUNS]   (default 1000000 rows, 5 runs each)
# Rows: a distinct customer id and e-mail address each, an age, a plan, a spend, a label.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
source "$here/keel_bin.sh"
venv="$root/.venv-bench"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install --quiet --disable-pip-version-check pandas==3.1.1
rows=${1:-1000000}
runs=${2:-5}
out="$here/out/privacy"
mkdir -p "$out"
cd "$out"
export KEEL_HOME="$out/registry"
python3 - "$rows" <<'PY'
import random, sys
rows = int(sys.argv[1])
r = random.Random(29)
with open("people.csv", "w") as f:
    f.write("customer,email,age,plan,spend,y\n")
    for i in range(rows):
        age = 18 + r.randrange(60); spend = round(r.random() * 100, 2)
        y = "yes" if spend + age * 0.5 + r.random() * 20 > 60 else "no"
        f.write(f"CUST{i:08d},person{i}@mail-example.org,{age},{('basic','plus','pro')[i % 3]},{spend},{y}\n")
PY
head -c 32 /dev/urandom | base64 > pii.key
head -n 20001 people.csv > train.csv
"$keel" train train.csv --target y --trials 1 --learner linear --seed 1 --out plain.keel --quiet --no-registry
"$keel" train train.csv --target y --trials 1 --learner linear --seed 1 --out pseudonymised.keel --quiet --no-registry \
  --privacy customer=pseudonymise --pii-key-file pii.key
cat > peer.py <<'PY'
import base64, hashlib, hmac, sys
import pandas as pd
key = base64.b64decode(open("pii.key").read().strip())
frame = pd.read_csv("people.csv", dtype={"customer": str})
frame["customer"] = [hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in frame["customer"]]
frame.drop(columns=["email"]).to_csv("peer.csv", index=False)
PY
# Alternating runs, medians of wall time (no hyperfine needed).
"$venv/bin/python" - "$runs" "$keel" "$venv/bin/python" <<'PY'
import statistics, subprocess, sys, time
runs, keel, python = int(sys.argv[1]), sys.argv[2], sys.argv[3]
commands = {
    "keel predict, no rule on customer": [keel, "predict", "plain.keel", "people.csv", "--out", "plain.csv"],
    "keel predict, customer pseudonymised": [keel, "predict", "pseudonymised.keel", "people.csv", "--out", "pseudonymised.csv", "--pii-key-file", "pii.key"],
    "python: pandas read + hmac + write (peer)": [python, "peer.py"],
}
times = {name: [] for name in commands}
for _ in range(runs):
    for name, command in commands.items():
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times[name].append(time.perf_counter() - start)
for name, values in times.items():
    print(f"{name}: median {statistics.median(values):.2f} s ({', '.join(f'{v:.2f}' for v in values)})")
plain, pseudo, peer = (statistics.median(v) for v in times.values())
print(f"pseudonymisation adds {pseudo - plain:.2f} s to scoring (x{pseudo / plain:.2f}); the peer spends {peer:.2f} s pseudonymising the file alone")
PY
