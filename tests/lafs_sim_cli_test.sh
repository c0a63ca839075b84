#!/usr/bin/env bash
# lafs-sim as a user runs it: each shipped scenario twice with --json, compared byte for byte
# apart from wall_seconds; another seed changes the digest; bad input exits 2 with a message
# naming the problem. Usage: lafs_sim_cli_test.sh PATH_TO_lafs-sim SOURCE_DIR
set -u
sim="$1"
src="$2"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if ! eval "$1"; then echo "FAILED: $2"; fail=1; fi; }

s="$src/sim/scenarios/smoke.textproto"
"$sim" "$s" --quiet --json "$tmp/a.json"; check '[ $? -eq 0 ]' "smoke run exits 0"
"$sim" "$s" --quiet --json "$tmp/b.json"; check '[ $? -eq 0 ]' "smoke rerun exits 0"
"$sim" "$s" --quiet --seed 7 --json "$tmp/c.json"; check '[ $? -eq 0 ]' "smoke seed 7 exits 0"
for k in seed trace_digest events simulated_days wall_seconds; do
  check "grep -q '\"$k\"' '$tmp/a.json'" "report has key $k"
done
check "diff <(grep -v wall_seconds '$tmp/a.json') <(grep -v wall_seconds '$tmp/b.json') >/dev/null" \
  "same seed gives identical JSON apart from wall_seconds"
check "! diff <(grep trace_digest '$tmp/a.json') <(grep trace_digest '$tmp/c.json') >/dev/null" \
  "another seed gives another trace digest"
check "grep -q '\"seed\": 7' '$tmp/c.json'" "--seed overrides the scenario's seed"

printf 'toy { nodes: 1 }\n' > "$tmp/bad.textproto"
out=$("$sim" "$tmp/bad.textproto" 2>&1); rc=$?
check "[ $rc -eq 2 ]" "invalid scenario exits 2 (got $rc)"
check "grep -q 'toy.nodes' <<<\"\$out\"" "invalid scenario names the field: $out"

printf 'toy { nodez: 3 }\n' > "$tmp/typo.textproto"
out=$("$sim" "$tmp/typo.textproto" 2>&1); rc=$?
check "[ $rc -eq 2 ]" "unknown field exits 2"
check "grep -q 'typo.textproto:1' <<<\"\$out\"" "unknown field error has file:line: $out"

out=$("$sim" "$tmp/missing.textproto" 2>&1); rc=$?
check "[ $rc -eq 2 ]" "missing file exits 2"

# A tiny grid (real storage servers and client code): runs, twice the same.
cat > "$tmp/grid.textproto" <<'EOF2'
name: "tiny-grid" seed: 5 duration_days: 20
servers { count: 8 capacity_bytes: 1000000000 }
churn { server_lifetime_days_mean: 30 replace_departed: true }
encoding { needed: 2 happy: 3 total: 4 segment_size_bytes: 65536 }
workload { files: 12 file_size_bytes_min: 1000 file_size_bytes_max: 9000 reads_per_day: 5 }
maintenance { check_interval_days: 5 repair_below_shares: 4 lease_days: 31 renew_interval_days: 5 }
EOF2
"$sim" "$tmp/grid.textproto" --quiet --json "$tmp/g1.json"; check '[ $? -eq 0 ]' "grid run exits 0"
"$sim" "$tmp/grid.textproto" --quiet --json "$tmp/g2.json"; check '[ $? -eq 0 ]' "grid rerun exits 0"
for k in files_total files_lost reads_attempted reads_succeeded repairs repair_bytes bytes_stored_end server_load_cv; do
  check "grep -q '\"$k\"' '$tmp/g1.json'" "grid report has key $k"
done
check "grep -q '\"files_total\": 12' '$tmp/g1.json'" "grid stored the 12 files: $(cat "$tmp/g1.json")"
check "diff <(grep -v wall_seconds '$tmp/g1.json') <(grep -v wall_seconds '$tmp/g2.json') >/dev/null" \
  "grid: same seed gives identical JSON apart from wall_seconds"

if [ $fail -ne 0 ]; then exit 1; fi
echo "lafs-sim cli: OK"
