#!/usr/bin/env bash
# The main job: install dependencies, build the `release` preset, and run a whole grid on this
# machine with `lafs grid` (an introducer, 5 storage nodes and a client with its web gateway on
# http://127.0.0.1:3456/) until Ctrl-C. The grid lives in $LAFS_GRID_DIR (default ~/lafs-grid)
# and is reused by later runs. Extra arguments go to `lafs grid`, e.g. `--servers 10`.
# `scripts/run-main.sh --sim` runs the simulator on the default scenario instead (the previous
# main job), with any further arguments going to lafs-sim.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
SCENARIO="sim/scenarios/default.textproto"
REPORT="build/release/default-run.json"

elapsed() {  # elapsed START: prints seconds since START
  echo "$(($(date +%s) - $1))s"
}

t=$(date +%s)
echo "=== run-main.sh: install-deps"
"$ROOT/scripts/install-deps.sh"
echo "=== run-main.sh: install-deps took $(elapsed "$t")"

t=$(date +%s)
echo "=== run-main.sh: configure + build (release)"
cmake --preset release
cmake --build --preset release -j 2
echo "=== run-main.sh: build took $(elapsed "$t")"

if [ "${1:-}" = "--sim" ]; then
  shift
  t=$(date +%s)
  echo "=== run-main.sh: build/release/bin/lafs-sim $SCENARIO --json $REPORT $*"
  build/release/bin/lafs-sim "$SCENARIO" --json "$REPORT" "$@"
  echo "=== run-main.sh: simulation took $(elapsed "$t"); report in $REPORT"
  exit 0
fi

GRID="${LAFS_GRID_DIR:-$HOME/lafs-grid}"
echo "=== run-main.sh: build/release/bin/lafs grid $GRID $*"
echo "=== in another terminal: LAFS_NODE_DIR=$GRID/client build/release/bin/lafs ls ... (docs/cli.md)"
exec build/release/bin/lafs grid "$GRID" "$@"
