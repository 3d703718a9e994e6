#!/usr/bin/env bash
# Keel's search against peers on the datasets of the shared suite, each system run as its users would run it
# (bench/automl_peers.py says how each peer gets its data), all pinned to the same thread count.
# Usage: bench/automl.sh [--repeat N] [--keel-repeat K] [--threads T] [--seconds S] [--keel BIN] [SYSTEMS] [DATASETS]
#   SYSTEMS: comma-separated from keel,autogluon,autogluon_best,flaml,lightgbm,hgb (default all six);
#   DATASETS: names (default all); --repeat N: each system N times (run r uses seed r), the table gives the
#   median and the range; --keel-repeat K: Keel alone K times (default N), for its spread; --threads T (default 2): KEEL_THREADS, OMP_NUM_THREADS and each peer's own setting;
#   --seconds S (default 60): the time budget of Keel, FLAML and AutoGluon; --keel BIN: a keel binary (default:
#   this checkout built in release).
# Wall time is measured around each system's whole work, reading included: `keel train` plus `keel predict`,
# or the peer's one Python process (read, train, predict the test part). Results: bench/out/automl/results.jsonl
# (replaced by each run) with bench/out/automl/provenance.json (commit, command, versions); the table, mean
# ranks (of the medians), the Keel >= FLAML count and every system's longest wall time are printed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
repeat=1
keel_repeat=""
threads=2
seconds=60
keel=""
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) repeat=$2; shift 2;;
    --keel-repeat) keel_repeat=$2; shift 2;;
    --threads) threads=$2; shift 2;;
    --seconds) seconds=$2; shift 2;;
    --keel) keel=$2; shift 2;;
    --*) echo "unknown option $1" >&2; exit 2;;
    *) break;;
  esac
done
keel_repeat=${keel_repeat:-$repeat}
systems=${1:-keel,autogluon,autogluon_best,flaml,lightgbm,hgb}
# Its own environment: AutoGluon 1.6 requires pandas below 2.4, the other benchmarks pin pandas 3.
venv="$root/.venv-bench-automl"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
packages="pandas==2.3.3 numpy==2.4.6 scikit-learn==1.9.1 lightgbm==4.7.0"
case ",$systems," in *,flaml,*) packages="$packages flaml==2.8.0";; esac
# AutoGluon as `pip install autogluon` gives it: every tabular learner (neural nets on CPU torch included) and
# ray, which best_quality uses for its dynamic stacking check and parallel bagging.
case ",$systems," in *,autogluon*) packages="$packages autogluon.tabular[all]==1.6.3";; esac
"$venv/bin/pip" install --quiet --disable-pip-version-check $packages
py="$venv/bin/python"
names=${2:-$("$py" "$here/automl_peers.py" names)}
if [ -z "$keel" ]; then
  swift build -c release --package-path "$root" --product keel >&2
  keel="$root/.build/release/keel"
fi
export KEEL_THREADS=$threads OMP_NUM_THREADS=$threads BENCH_THREADS=$threads BENCH_SECONDS=$seconds
out="$here/out/automl"
mkdir -p "$out"
: > "$out/results.jsonl"
"$py" - "$out/provenance.json" "$root" "$keel" "$repeat" "$keel_repeat" "$threads" "$seconds" "$systems" "$names" <<'PY'
import json, subprocess, sys, datetime, importlib.metadata as md
path, root, keel, repeat, keel_repeat, threads, seconds, systems, names = sys.argv[1:]
git = lambda *a: subprocess.run(["git", "-C", root, *a], capture_output=True, text=True).stdout.strip()
versions = {}
for p in ["pandas", "numpy", "scikit-learn", "lightgbm", "flaml", "autogluon.tabular", "torch", "ray", "catboost", "xgboost", "fastai"]:
    try: versions[p] = md.version(p)
    except md.PackageNotFoundError: pass
json.dump({"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
           "keel": subprocess.run([keel, "--version"], capture_output=True, text=True).stdout.strip(),
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "command": f"bench/automl.sh --repeat {repeat} --keel-repeat {keel_repeat} --threads {threads} --seconds {seconds} {systems} '{names}'",
           "versions": versions}, open(path, "w"), indent=2)
PY
now() { date +%s.%N; }
for name in $names; do
  "$py" "$here/automl_peers.py" split "$name"
  dir="$out/$name"
  target=$("$py" "$here/automl_peers.py" target "$name")
  most=$(( keel_repeat > repeat ? keel_repeat : repeat ))
  for run in $(seq 1 "$most"); do
    for system in ${systems//,/ }; do
      if [ "$system" = keel ]; then [ "$run" -le "$keel_repeat" ] || continue
      else [ "$run" -le "$repeat" ] || continue; fi
      predictions="$dir/$system-$run.csv"
      start=$(now)
      if [ "$system" = keel ]; then
        "$keel" train "$dir/train.csv" --target "$target" --time "${seconds}s" --seed "$run" --refit-full --no-registry \
          --out "$dir/model.keel" --quiet > "$dir/keel-train-$run.txt"
        "$keel" predict "$dir/model.keel" "$dir/test.csv" --out "$predictions" 2> /dev/null
      else
        "$py" "$here/automl_peers.py" run "$system" "$name" "$predictions" "$run" 2> "$dir/$system-$run.log"
      fi
      end=$(now)
      "$py" "$here/automl_peers.py" score "$name" "$system" "$predictions" "$("$py" -c "print($end - $start)")" "$run" \
        | tee -a "$out/results.jsonl"
    done
  done
done
"$py" - "$out/results.jsonl" "$seconds" <<'PY'
import json, sys, collections, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
budget = float(sys.argv[2])
runs = collections.defaultdict(lambda: collections.defaultdict(list))
for r in rows: runs[r["name"]][r["system"]].append(r)
order = ["keel", "autogluon", "autogluon_best", "flaml", "lightgbm", "hgb"]
systems = [s for s in order if any(s in e for e in runs.values())]
counts = {s: max(len(e[s]) for e in runs.values() if s in e) for s in systems}
print("runs per system: " + ", ".join(f"{s} {n}" for s, n in counts.items()) + "; the median where more than one; [min–max] of the score where a system ran more than once; seconds: median wall time")
print(f"{'dataset':<28} {'metric':<8} " + " ".join(f"{s:>30}" for s in systems))
ranks = collections.defaultdict(list)
medians = {}
for name, entries in runs.items():
    metric = next(iter(entries.values()))[0]["metric"]
    higher = metric == "roc_auc"
    med = {s: statistics.median(r["score"] for r in v) for s, v in entries.items()}
    medians[name] = (med, higher)
    cells = []
    for s in systems:
        if s not in entries: cells.append(f"{'':>30}"); continue
        scores = [r["score"] for r in entries[s]]
        spread = f" [{min(scores):.4f}–{max(scores):.4f}]" if len(scores) > 1 else ""
        cells.append(f"{med[s]:.4f}{spread} ({statistics.median(r['seconds'] for r in entries[s]):.0f}s)".rjust(30))
    print(f"{name:<28} {metric:<8} " + " ".join(cells))
    ordered = sorted(med, key=lambda s: -med[s] if higher else med[s])
    for rank, s in enumerate(ordered, 1): ranks[s].append(rank)
print("mean rank (of the medians, lower is better): " + ", ".join(
    f"{s} {sum(v) / len(v):.2f}" for s, v in sorted(ranks.items(), key=lambda kv: sum(kv[1]) / len(kv[1]))))
pairs = [(m, h) for m, h in medians.values() if "keel" in m and "flaml" in m]
if pairs:
    wins = sum((m["keel"] >= m["flaml"]) if h else (m["keel"] <= m["flaml"]) for m, h in pairs)
    print(f"keel >= flaml (medians) on {wins} of {len(pairs)} datasets")
for s in systems:
    if s in ("lightgbm", "hgb"): continue
    longest = max((r for e in runs.values() for r in e.get(s, [])), key=lambda r: r["seconds"])
    print(f"{s}: longest wall time {longest['seconds']:.1f} s for a {budget:.0f} s budget ({longest['name']}), {100 * (longest['seconds'] / budget - 1):+.1f}%")
PY
