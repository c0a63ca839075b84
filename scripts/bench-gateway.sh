#!/usr/bin/env bash
# Throughput through the web gateway, measured as a user would (docs/performance.md, "Through
# the gateway"): `lafs grid` with 10 storage nodes at 3-of-10 (happy 7) on 127.0.0.1, a file
# uploaded with `curl -T` and downloaded with `curl`, against the CPU limit measured in the same
# run (lafs_immutable_bench --limit-only, every core at once).
# Usage: scripts/bench-gateway.sh [MiB] [rounds]   (defaults: 256, 3). Needs the release build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LAFS="$ROOT/build/release/bin/lafs"
BENCH="$ROOT/build/release/bench/lafs_immutable_bench"
MIB="${1:-256}"
ROUNDS="${2:-3}"
T=$(mktemp -d /tmp/lafs-gateway-bench.XXXXXX)
grid_pid=""
cleanup() {
  if [ -n "$grid_pid" ]; then kill -INT "$grid_pid" 2>/dev/null || true; wait "$grid_pid" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT

"$LAFS" grid "$T/grid" --servers 10 --needed 3 --happy 7 --total 10 --web-listen 127.0.0.1:0 \
  > "$T/grid.out" 2>&1 &
grid_pid=$!
for _ in $(seq 1 600); do [ -s "$T/grid/client/node.url" ] && break; sleep 0.1; done
URL=$(head -1 "$T/grid/client/node.url")
for _ in $(seq 1 300); do
  n=$(curl -s "${URL}?t=json" | grep -o '"nickname":"storage-[0-9]*"' | wc -l)
  [ "$n" -ge 10 ] && break
  sleep 0.1
done
echo "grid: $(head -1 "$T/grid.out")"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$BENCH" --limit-only --mib 64
for r in $(seq 1 "$ROUNDS"); do
  head -c $((MIB << 20)) /dev/urandom > "$T/file"
  up=$(curl -s -o "$T/cap" -w '%{time_total} %{http_code}' -H "X-Lafs-Request: 1" -T "$T/file" "${URL}uri")
  cap=$(cat "$T/cap")
  down=$(curl -s -o "$T/back" -w '%{time_total} %{http_code}' "${URL}uri/$cap")
  cmp -s "$T/file" "$T/back" || { echo "round $r: downloaded bytes differ"; exit 1; }
  read -r ut uc <<< "$up"
  read -r dt dc <<< "$down"
  rss=$(ps -o rss= -p "$(cat "$T/grid/client/node.pid")")
  printf 'round %d: %d MiB, upload %.1f MiB/s (HTTP %s), download %.1f MiB/s (HTTP %s), client RSS now %d MiB\n' \
    "$r" "$MIB" "$(awk -v m="$MIB" -v t="$ut" 'BEGIN{print m/t}')" "$uc" "$(awk -v m="$MIB" -v t="$dt" 'BEGIN{print m/t}')" "$dc" $((rss / 1024))
  grep -m1 VmHWM "/proc/$(cat "$T/grid/client/node.pid")/status" | sed 's/^/client peak /'
  rm -f "$T/file" "$T/back"
done
