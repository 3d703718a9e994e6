#!/usr/bin/env bash
# Load test of `keel serve` against a FastAPI + uvicorn (2 workers) + LightGBM server on loopback, in one run.
# Both serve a 500-tree, 31-leaf boosted model of the bundled example data and require a bearer key; wrk
# sends single-row POST /v1/predict requests. Usage: [KEEL_BIN=... KEEL_COMMIT=...] [SKIP_PEER=1] bench/serve.sh [SECONDS]
# (default 30); SKIP_PEER=1 measures Keel alone, to compare two Keel builds in one sitting.
# Prints throughput, p50/p99 latency, errors and server peak memory for each, and the ratios.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
seconds=${1:-30}
out="$here/out/serve"
mkdir -p "$out"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
venv="$root/.venv-bench"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
"$venv/bin/pip" install --quiet --disable-pip-version-check numpy pandas lightgbm fastapi "uvicorn[standard]"
. "$here/keel_bin.sh"
data="$root/examples/customer_churn.csv"

# The same kind of model on both sides: 500 trees of up to 31 leaves, learning rate 0.05, no early stopping.
printf 'learners: [gbdt]\nhyperparameters:\n  gbdt: {rounds: 500, max_leaves: 31, learning_rate: 0.05, early_stopping_rounds: 0}\n' > "$out/fixed.yaml"
"$keel" train "$data" --target churned --trials 1 --config "$out/fixed.yaml" --out "$out/model.keel" --quiet > /dev/null
rm -f "$out/keys.json"
key=$("$keel" keys create --role predict --keys-file "$out/keys.json" 2>/dev/null)
[ "${SKIP_PEER:-0}" = 1 ] || (cd "$root" && PEER_STATE="$out/peer" "$venv/bin/python" bench/serve_peer.py train "$data") >&2
row='{"customer_id":"C000001","snapshot_month":"2024-01-01","signup_date":"2022-09-27","plan":"standard","internet":"fibre","region":"east","monthly_fee":72.01,"tenure_months":15,"support_calls":4,"usage_hours":40.5,"autopay":false,"satisfaction":4,"contract":"month-to-month"}'

script() {  # $1 = key
  cat > "$out/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$row'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $1"
LUA
}

tree_kb() {  # peak resident memory (VmHWM) of a process and its children, in kB
  local total=0
  for pid in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
  done
  echo $total
}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

load() {  # $1 = name, $2 = port, $3 = pid: warm up, then 16 and 64 connections
  for i in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$2/v1/predict" -H 'Content-Type: application/json' -H "Authorization: Bearer $4" -d "$row"; done
  wrk -t2 -c16 -d3s -s "$out/post.lua" "http://127.0.0.1:$2/v1/predict" > /dev/null
  local before=$(rss_kb "$3")
  wrk -t2 -c16 -d"${seconds}s" --latency -s "$out/post.lua" "http://127.0.0.1:$2/v1/predict" > "$out/$1-16.txt"
  local after=$(rss_kb "$3")
  wrk -t2 -c64 -d"${seconds}s" --latency -s "$out/post.lua" "http://127.0.0.1:$2/v1/predict" > "$out/$1-64.txt"
  echo "$before $(rss_kb "$3") $after $(tree_kb "$3")" > "$out/$1-memory.txt"
}

port=18080
script "$key"
"$keel" serve "$out/model.keel" --port $port --keys-file "$out/keys.json" --log-level warning 2> "$out/keel-server.log" &
keel_pid=$!
trap 'kill $keel_pid 2>/dev/null || true; kill $peer_pid 2>/dev/null || true' EXIT
for i in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
load keel $port $keel_pid "$key"
kill -TERM $keel_pid; wait $keel_pid || true

peer_pid=
if [ "${SKIP_PEER:-0}" != 1 ]; then
peer_port=18081
(cd "$root" && PEER_STATE="$out/peer" PEER_KEY="$key" PYTHONPATH="$here" exec "$venv/bin/uvicorn" serve_peer:app --workers 2 --port $peer_port --log-level warning) 2> "$out/peer-server.log" &
peer_pid=$!
for i in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$peer_port/v1/predict" -H 'Content-Type: application/json' -H "Authorization: Bearer $key" -d "$row" && break; sleep 0.1; done
load peer $peer_port $peer_pid "$key"
kill -TERM $peer_pid; wait $peer_pid || true
fi

"$venv/bin/python" - "$out" "$seconds" "${SKIP_PEER:-0}" "${KEEL_COMMIT:-$(git -C "$root" rev-parse --short HEAD)}" <<'PY'
import re, sys
out, seconds, skip_peer, commit = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
def parse(path):
    text = open(path).read()
    def ms(label):
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", text)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return rps, ms(" 50"), ms(" 99"), errors + (int(non2xx.group(1)) if non2xx else 0)
rows = []
for name in (["keel"] if skip_peer else ["keel", "peer"]):
    before, mid, after, peak = map(int, open(f"{out}/{name}-memory.txt").read().split())
    for conns in [16, 64]:
        rps, p50, p99, errors = parse(f"{out}/{name}-{conns}.txt")
        rows.append((name, conns, rps, p50, p99, errors, peak / 1024, (mid - before) / 1024))
label = {"keel": "keel serve", "peer": "FastAPI+uvicorn(2)+LightGBM"}
print(f"single-row POST /v1/predict, 500-tree GBDT, bearer auth, wrk -t2, {seconds}s per run, keel at commit {commit}")
print(f"{'server':<30} {'conns':>5} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'peak MB':>8} {'RSS growth MB (16-conn run)':>28}")
for name, conns, rps, p50, p99, errors, peak, growth in rows:
    print(f"{label[name]:<30} {conns:>5} {rps:>10.0f} {p50:>8.3f} {p99:>8.3f} {errors:>7} {peak:>8.1f} {growth:>28.1f}")
if skip_peer:
    sys.exit(0)
k16 = next(r for r in rows if r[0] == "keel" and r[1] == 16)
p16 = next(r for r in rows if r[0] == "peer" and r[1] == 16)
print(f"ratio keel/peer at 16 connections: throughput {k16[2] / p16[2]:.1f}x, p99 latency {k16[4] / p16[4]:.2f}x, peak memory {k16[6] / p16[6]:.2f}x")
PY
