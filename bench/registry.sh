#!/usr/bin/env bash
# Registry throughput and following, SQLite against PostgreSQL in the same run:
#  1. audit appends and registrations per second with 1 and 8 writers (bench/registry-write), each writer its
#     own store, on a registry folder and on a PostgreSQL database (a throwaway local server with its
#     default durability: fsync and synchronous commit on);
#  2. the promotion-to-swap delay a `keel serve --registry` process shows: from the promote (or rollback)
#     command's exit to the first response served by the new version (bench/registry_swap.py), with
#     PostgreSQL's change notifications (polling set to 30 s) and with a folder's 1 s polling.
# Usage: bench/registry.sh [SWAPS] (default 10 promotions and rollbacks). Uses the release build of the
# test command (swift build -c release -Xswiftc -enable-testing), which it makes if needed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
swaps=${1:-10}
swift build -c release -Xswiftc -enable-testing --product keel-registry-bench > /dev/null
swift build -c release -Xswiftc -enable-testing --product keel > /dev/null
eval "$(scripts/test-postgres start --durable)"
trap 'scripts/test-postgres stop "$KEEL_TEST_POSTGRES_DIR"' EXIT
echo "# commit $(git rev-parse --short HEAD), $(date -u +%FT%TZ), $(nproc) cores, PostgreSQL $(ls -d /usr/lib/postgresql/*/ | sort -V | tail -1 | xargs basename)"
.build/release/keel-registry-bench sqlite
.build/release/keel-registry-bench postgres "$KEEL_TEST_POSTGRES_URL"
python3 bench/registry_swap.py --keel .build/release/keel --server "$KEEL_TEST_POSTGRES_URL" --swaps "$swaps"
