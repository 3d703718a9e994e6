#!/usr/bin/env bash
# Prediction latency of `keel serve` while it does heavy work: wrk sends single-row POST /v1/predict at 16
# connections for SECONDS, once idle and once while 100 model reloads (POST /v1/admin/reload, one after
# another) and 4 clients each sending 200-row POST /v1/explain requests back to back run beside it. The
# same 500-tree, 31-leaf boosted model as bench/serve.sh, with bearer keys. Run it with two builds (KEEL_BIN)
# to compare before and after a change. Usage: [KEEL_BIN=...] bench/serve_under_work.sh [SECONDS] (default 20).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
seconds=${1:-20}
out="$here/out/serve-work"
mkdir -p "$out"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
. "$here/keel_bin.sh"
data="$root/examples/customer_churn.csv"
printf 'learners: [gbdt]\nhyperparameters:\n  gbdt: {rounds: 500, max_leaves: 31, learning_rate: 0.05, early_stopping_rounds: 0}\n' > "$out/fixed.yaml"
"$keel" train "$data" --target churned --trials 1 --config "$out/fixed.yaml" --out "$out/model.keel" --quiet --no-registry > /dev/null
rm -f "$out/keys.json"
predict_key=$("$keel" keys create --role predict --keys-file "$out/keys.json" 2>/dev/null)
admin_key=$("$keel" keys create --role admin --keys-file "$out/keys.json" 2>/dev/null)
row='{"customer_id":"C000001","snapshot_month":"2024-01-01","signup_date":"2022-09-27","plan":"standard","internet":"fibre","region":"east","monthly_fee":72.01,"tenure_months":15,"support_calls":4,"usage_hours":40.5,"autopay":false,"satisfaction":4,"contract":"month-to-month"}'
printf '{"rows":[%s' "$row" > "$out/explain.json"
for _ in $(seq 199); do printf ',%s' "$row" >> "$out/explain.json"; done
printf ']}' >> "$out/explain.json"
cat > "$out/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$row'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $predict_key"
LUA
port=18090
# --allow-unsigned where the build has it (the model file is unsigned; builds before signing have no flag).
extra=()
"$keel" serve --help 2>/dev/null | grep -q -- "--max-explain-rows" && extra+=(--max-explain-rows 200)
"$keel" serve "$out/model.keel" --port $port --keys-file "$out/keys.json" --log-level warning "${extra[@]}" 2> "$out/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
wrk -t2 -c16 -d3s -s "$out/post.lua" "http://127.0.0.1:$port/v1/predict" > /dev/null
wrk -t2 -c16 -d"${seconds}s" --latency -s "$out/post.lua" "http://127.0.0.1:$port/v1/predict" > "$out/idle.txt"

rm -f "$out/explains.txt" "$out/reloads.txt"
stop="$out/stop"; rm -f "$stop"
clients=()
for _ in 1 2 3 4; do
  ( while [ ! -f "$stop" ]; do
      curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$port/v1/explain" -H 'Content-Type: application/json' \
        -H "Authorization: Bearer $predict_key" --data-binary "@$out/explain.json" >> "$out/explains.txt"
    done ) &
  clients+=($!)
done
( for _ in $(seq 100); do
    curl -s -o /dev/null -w '%{http_code}\n' -X POST "http://127.0.0.1:$port/v1/admin/reload" -H "Authorization: Bearer $admin_key" >> "$out/reloads.txt"
  done ) &
reloads=$!
wrk -t2 -c16 -d"${seconds}s" --latency -s "$out/post.lua" "http://127.0.0.1:$port/v1/predict" > "$out/busy.txt"
wait $reloads || true
touch "$stop"
for client in "${clients[@]}"; do wait "$client" || true; done
python3 - "$out" "$seconds" "${KEEL_COMMIT:-$(git -C "$root" rev-parse --short HEAD)}" "$keel" <<'PY'
import re, sys, collections
out, seconds, commit, keel = sys.argv[1:5]
def parse(path):
    text = open(path).read()
    def ms(label):
        m = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)\b", text)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text)) + (int(non2xx.group(1)) if non2xx else 0)
    return rps, ms(" 50"), ms(" 99"), ms("100") if re.search(r"100%", text) else float("nan"), errors
idle, busy = parse(f"{out}/idle.txt"), parse(f"{out}/busy.txt")
explains = collections.Counter(open(f"{out}/explains.txt").read().split())
reloads = collections.Counter(open(f"{out}/reloads.txt").read().split())
print(f"keel serve under reloads and explanations; binary {keel} (commit {commit}); wrk -t2 -c16, {seconds}s per phase")
print(f"{'phase':<40} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
print(f"{'idle':<40} {idle[0]:>8.0f} {idle[1]:>8.3f} {idle[2]:>8.3f} {idle[4]:>7}")
print(f"{'100 reloads + 4 explain clients (200 rows)':<40} {busy[0]:>8.0f} {busy[1]:>8.3f} {busy[2]:>8.3f} {busy[4]:>7}")
print(f"p99 ratio busy/idle: {busy[2] / idle[2]:.2f}x; reloads by status {dict(reloads)}; explains by status {dict(explains)}")
PY
