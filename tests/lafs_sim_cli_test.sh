#!/usr/bin/env bash
# lafs-sim as a user runs it: each shipped scenario twice with --json, compared byte for byte
# apart from wall_seconds; another seed changes the digest; --csv and --report; a sweep run whole
# and as two shards merged gives the same aggregate; bad input exits 2 with a message naming the
# problem. Usage: lafs_sim_cli_test.sh PATH_TO_lafs-sim SOURCE_DIR
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

# Outputs of one run: --csv (the time series, one table with a series column) and --report.
"$sim" "$tmp/grid.textproto" --quiet --csv "$tmp/g.csv" --report "$tmp/g-report"
check '[ $? -eq 0 ]' "grid run with --csv and --report exits 0"
check "head -1 '$tmp/g.csv' | grep -q '^series,day'" "run CSV starts with series,day: $(head -1 "$tmp/g.csv")"
if [ "$(wc -l < "$tmp/g.csv")" -gt 1 ]; then  # the run sampled series: they are charted
  check "grep -q '<svg' '$tmp/g-report/index.html'" "--report writes index.html with an <svg> chart"
else
  check "grep -q 'No samples' '$tmp/g-report/index.html'" "--report without series says so"
fi
check "grep -q 'tiny-grid' '$tmp/g-report/index.html'" "the report names the scenario"

# A sweep: seeds 1..3 in one process, and as two shards merged, give the same aggregate (and the
# same runs) apart from wall_seconds.
no_wall() {  # the JSON without wall_seconds lines and the aggregate's wall_seconds block
  awk '/"wall_seconds": \{/ {skip = 1} skip { if ($0 ~ /\}/) skip = 0; next } !/wall_seconds/' "$1"
}
"$sim" "$tmp/grid.textproto" --quiet --seeds 1..3 --json "$tmp/w.json" --csv "$tmp/w.csv" \
  --report "$tmp/w-report"
check '[ $? -eq 0 ]' "sweep --seeds 1..3 exits 0"
"$sim" "$tmp/grid.textproto" --quiet --seeds 1..3 --shard 0/2 --json "$tmp/s0.json"
check '[ $? -eq 0 ]' "shard 0/2 exits 0"
"$sim" "$tmp/grid.textproto" --quiet --seeds 1..3 --shard 1/2 --json "$tmp/s1.json"
check '[ $? -eq 0 ]' "shard 1/2 exits 0"
check "grep -q '\"shard\": \"1/2\"' '$tmp/s1.json'" "a shard's JSON names its shard"
"$sim" merge --quiet "$tmp/s1.json" "$tmp/s0.json" --json "$tmp/m.json" --csv "$tmp/m.csv" \
  --report "$tmp/m-report"
check '[ $? -eq 0 ]' "merge exits 0"
check "grep -q '\"aggregate\"' '$tmp/w.json'" "sweep JSON has the aggregate"
check "grep -q '\"ci_high\"' '$tmp/w.json'" "sweep JSON has the loss fraction's interval"
check "[ \$(grep -c '\"trace_digest\"' '$tmp/w.json') -eq 3 ]" "sweep JSON has the 3 runs"
check "diff <(no_wall '$tmp/w.json') <(no_wall '$tmp/m.json') >/dev/null" \
  "merged shards equal the whole sweep apart from wall_seconds: $(diff <(no_wall "$tmp/w.json") <(no_wall "$tmp/m.json") | head -5)"
check "[ \$(wc -l < '$tmp/w.csv') -eq 4 ]" "sweep CSV has a header and 3 rows"
check "head -1 '$tmp/w.csv' | grep -q '^seed,events,.*,loss_fraction$'" "sweep CSV header"
check "grep -q '<svg' '$tmp/m-report/index.html'" "merge --report writes a page with a chart"
out=$("$sim" merge --quiet "$tmp/s0.json" "$tmp/s0.json" 2>&1); rc=$?
check "[ $rc -eq 2 ]" "merging a shard twice exits 2"
check "grep -q 'seed 1 appears in both' <<<\"\$out\"" "repeated seed named: $out"
out=$("$sim" merge --quiet "$tmp/s0.json" 2>&1); rc=$?
check "[ $rc -eq 2 ]" "merging without every shard exits 2"
check "grep -q 'is a shard' <<<\"\$out\"" "missing seeds explained: $out"
"$sim" merge --quiet --allow-missing "$tmp/s0.json" 2>/dev/null; check '[ $? -eq 0 ]' "--allow-missing merges"
out=$("$sim" merge --quiet "$tmp/s0.json" "$tmp/a.json" 2>&1); rc=$?
check "[ $rc -eq 2 ]" "merging another scenario exits 2"
check "grep -q \"scenario 'smoke' differs\" <<<\"\$out\"" "other scenario named: $out"
for bad in 3..1 1.. x 1-3; do
  out=$("$sim" "$tmp/grid.textproto" --quiet --seeds "$bad" 2>&1); rc=$?
  check "[ $rc -eq 2 ]" "--seeds $bad exits 2"
  check "grep -q -- '--seeds:' <<<\"\$out\"" "--seeds $bad names the flag: $out"
done
out=$("$sim" "$tmp/grid.textproto" --quiet --seeds 1..3 --shard 2/2 2>&1); rc=$?
check "[ $rc -eq 2 ]" "--shard 2/2 exits 2"
check "grep -q -- '--shard:' <<<\"\$out\"" "--shard 2/2 names the flag: $out"
out=$("$sim" "$tmp/grid.textproto" --quiet --shard 0/2 2>&1); rc=$?
check "[ $rc -eq 2 ]" "--shard without --seeds exits 2"
printf '{"scenario": ' > "$tmp/broken.json"
out=$("$sim" merge "$tmp/broken.json" 2>&1); rc=$?
check "[ $rc -eq 2 ]" "merging broken JSON exits 2"
check "grep -q 'broken.json: not JSON' <<<\"\$out\"" "broken JSON names the file: $out"

if [ $fail -ne 0 ]; then exit 1; fi
echo "lafs-sim cli: OK"
