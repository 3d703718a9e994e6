# Sourced by the bench scripts (after setting $root): sets $keel to KEEL_BIN, a release keel built
# elsewhere (KEEL_COMMIT names its commit), or builds this checkout's release keel into .build-release.
if [ -n "${KEEL_BIN:-}" ]; then
  keel=$KEEL_BIN
else
  swift build -c release --package-path "$root" --scratch-path "$root/.build-release" --product keel >&2
  keel="$root/.build-release/release/keel"
fi
