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

printf 'duration_days: 1\n' > "$tmp/grid.textproto"
out=$("$sim" "$tmp/grid.textproto" 2>&1); rc=$?
check "[ $rc -eq 2 ] && grep -q 'not built yet' <<<\"\$out\"" "grid workload says it is not built yet: $out"

if [ $fail -ne 0 ]; then exit 1; fi
echo "lafs-sim cli: OK"
