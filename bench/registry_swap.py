"""Promotion-to-swap delay of `keel serve --registry`: trains two versions of one model, serves the registry,
then promotes and rolls back in turn, timing from each command's exit to the first prediction answered by the
new version. Runs on a PostgreSQL database (change notifications; polling set to 30 s) and on a registry
folder (polling every second). Prints one JSON line per backend."""
import argparse, json, os, re, statistics, subprocess, tempfile, time, urllib.parse, urllib.request, uuid

def run(keel, args, env):
    done = subprocess.run([keel] + args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"keel {' '.join(args[:3])} failed: {done.stderr}")
    return done.stdout

def served_version(port, row):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models/churn/predict", data=row.encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)["model"]["version"]

def measure(keel, registry, poll, swaps, folder, env):
    data = os.path.join(folder, "churn.csv")
    run(keel, ["example", "--rows", "600", "--seed", "5", "--out", data], env)
    # Version 1 goes to production; each promotion takes a new candidate, each rollback brings back version 1.
    for version in range(1, swaps // 2 + 3):
        run(keel, ["train", data, "--target", "churned", "--trials", "1", "--learner", "linear", "--quiet",
                   "--out", os.path.join(folder, f"v{version}.keel"), "--registry", registry], env)
    run(keel, ["models", "promote", "churn", "1", "--to", "production", "--registry", registry], env)
    server = subprocess.Popen([keel, "serve", "--registry", "--registry-path", registry, "--poll", poll, "--port", "0",
                               "--keys-file", os.path.join(folder, "none.json")], env=env, stderr=subprocess.PIPE, text=True)
    port = None
    for line in server.stderr:
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if found:
            port = int(found.group(1))
            break
    with open(data) as handle:
        header = handle.readline().strip().split(",")
        values = handle.readline().strip().split(",")
    row = json.dumps({k: (float(v) if re.fullmatch(r"-?\d+(\.\d+)?", v) else v) for k, v in zip(header, values) if k != "churned"})
    delays = []
    try:
        for index in range(swaps):
            candidate = str(2 + index // 2)
            command, expected = (["models", "promote", "churn", candidate, "--to", "production"], candidate) if index % 2 == 0 \
                else (["models", "rollback", "churn"], "1")
            run(keel, command + ["--registry", registry], env)
            committed = time.perf_counter()
            while served_version(port, row) != expected:
                if time.perf_counter() - committed > 60:
                    raise SystemExit("the server did not swap within 60 s")
                time.sleep(0.002)
            delays.append(time.perf_counter() - committed)
    finally:
        server.terminate()
        server.wait()
    return delays

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--keel", required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--swaps", type=int, default=10)
    args = parser.parse_args()
    base = urllib.parse.urlsplit(args.server)
    for backend in ["postgres", "sqlite"]:
        folder = tempfile.mkdtemp(prefix="keel-bench-swap-")
        env = dict(os.environ, KEEL_CACHE=os.path.join(folder, "cache"), KEEL_ACTOR="bench")
        if backend == "postgres":
            name = "keel_swap_" + uuid.uuid4().hex[:8]
            admin = subprocess.run(["psql", args.server, "-q", "-c", f"CREATE DATABASE {name}"], capture_output=True, text=True)
            if admin.returncode != 0:
                raise SystemExit(admin.stderr)
            registry, poll = base._replace(path="/" + name).geturl(), "30s"
        else:
            registry, poll = os.path.join(folder, "registry"), "1s"
        delays = measure(args.keel, registry, poll, args.swaps, folder, env)
        print(json.dumps({"backend": backend, "operation": "promotion_to_swap", "poll": poll, "swaps": len(delays),
                          "median_ms": round(statistics.median(delays) * 1000, 1), "max_ms": round(max(delays) * 1000, 1),
                          "min_ms": round(min(delays) * 1000, 1)}))

if __name__ == "__main__":
    main()
