#!/usr/bin/env bash
# The main job: install dependencies, build the `release` preset, and run the simulator on the
# default scenario, writing its JSON report to build/release/default-run.json. Extra arguments
# go to lafs-sim, e.g. `scripts/run-main.sh --seed 7`. (The node issue turns this into a local
# grid.)
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

t=$(date +%s)
echo "=== run-main.sh: build/release/bin/lafs-sim $SCENARIO --json $REPORT $*"
build/release/bin/lafs-sim "$SCENARIO" --json "$REPORT" "$@"
echo "=== run-main.sh: simulation took $(elapsed "$t"); report in $REPORT"
