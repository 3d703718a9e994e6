"""Data drift decisions of `keel drift` and Evidently's DataDriftPreset on the same splits of the airline
data (223,874 flights from Houston in 2011): random halves and many small random 500/500 splits, where
nothing drifted, and January against December, where schedules changed. Prints a table and a summary."""
import csv, gzip, json, os, random, subprocess, sys, time
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset

keel, source, out, small_runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
columns = ["DayOfWeek", "DepTime", "UniqueCarrier", "FlightNum", "TailNum", "Dest", "Distance"]
text = ["UniqueCarrier", "FlightNum", "TailNum", "Dest"]
rows = list(csv.reader(gzip.open(source, "rt")))
header, body = rows[0], rows[1:]

def write(name, part):
    path = os.path.join(out, name)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(part)
    return path

def keel_drift(ref, cur):
    args = [keel, "drift", "--reference", ref, "--current", cur, "--json"]
    for c in columns: args += ["--column", c]
    for c in text: args += ["--categorical", c]
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    report = json.loads(done.stdout)
    return sorted(f["name"] for f in report["features"] if f["drifted"]), seconds

def evidently_drift(ref, cur):
    types = {c: str for c in text}
    a, b = pd.read_csv(ref, usecols=columns, dtype=types), pd.read_csv(cur, usecols=columns, dtype=types)
    start = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(current_data=b, reference_data=a)
    seconds = time.perf_counter() - start
    drifted = []
    for metric in snapshot.dict()["metrics"]:
        name = metric.get("metric_name", "")
        if not name.startswith("ValueDrift(column="): continue
        column = name[len("ValueDrift(column="):].split(",")[0].rstrip(")")
        method, threshold, value = metric["config"]["method"], metric["config"]["threshold"], metric["value"]
        # A p-value method flags values below its threshold; a distance flags values at or above it.
        if (value < threshold) if "p_value" in method else (value >= threshold): drifted.append(column)
    return sorted(drifted), seconds

splits = []
generator = random.Random(7)
order = list(range(len(body)))
generator.shuffle(order)
half = len(order) // 2
splits.append(("random halves (111,937 each)", write("half_a.csv", [body[i] for i in sorted(order[:half])]),
               write("half_b.csv", [body[i] for i in sorted(order[half:])]), False))
for run in range(small_runs):
    picked = random.Random(100 + run).sample(range(len(body)), 1000)
    splits.append((f"random 500 vs 500 #{run + 1}", write(f"small_{run}_a.csv", [body[i] for i in picked[:500]]),
                   write(f"small_{run}_b.csv", [body[i] for i in picked[500:]]), False))
splits.append(("January vs December", write("january.csv", [r for r in body if r[0] < "2011-02-01"]),
               write("december.csv", [r for r in body if r[0] >= "2011-12-01"]), True))

print(f"| split | Keel drifted | Evidently drifted | Keel s | Evidently s |")
print(f"|---|---|---|---:|---:|")
false_keel = false_evidently = 0
for name, ref, cur, real in splits:
    k, ks = keel_drift(ref, cur)
    e, es = evidently_drift(ref, cur)
    if not real:
        false_keel += bool(k)
        false_evidently += bool(e)
    print(f"| {name} | {', '.join(k) or '—'} | {', '.join(e) or '—'} | {ks:.2f} | {es:.2f} |", flush=True)
stable = len(splits) - 1
print(f"\nsplits without drift that raised a false alarm: Keel {false_keel}/{stable}, Evidently {false_evidently}/{stable}")
