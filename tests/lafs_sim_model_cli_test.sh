#!/usr/bin/env bash
# `lafs-sim model` as a user runs it: the Tahoe model reproduces Tahoe-LAFS's pinned values
# (and the corrected ones), the binomial closed form, --json parses, and bad arguments exit 2
# with a message naming the flag. Usage: lafs_sim_model_cli_test.sh PATH_TO_lafs-sim
set -u
sim="$1"
fail=0
check() { if ! eval "$1"; then echo "FAILED: $2"; fail=1; fi; }

# The value on the "name  value" line of the text output.
value() { awk -v name="$1" '$1 == name { print $2 }'; }
# True when $1 is within 1e-12 relative of $2.
near() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && d <= 1e-12 * (b < 0 ? -b : b)) }'; }

# Tahoe's own test: ReliabilityModel.run(delta=100000, ...), everything else at its defaults.
out=$("$sim" model tahoe --step-seconds 100000); rc=$?
check "[ $rc -eq 0 ]" "model tahoe exits 0 (got $rc)"
u=$(value p_lost_unmaintained <<<"$out"); m=$(value p_lost_maintained <<<"$out")
check "near '$u' 0.033591004555395272" "faithful unmaintained is Tahoe's 0.033591004555395272: $u"
check "near '$m' 3.2983995819177542e-08" "faithful maintained is Tahoe's 3.2983995819177542e-08: $m"
check "[ \"\$(value steps <<<\"\$out\")\" = 1578 ]" "1578 steps: $out"

out=$("$sim" model tahoe --k 3 --repair-below 7 --n 10 --lifetime-years 8 --years 5 \
      --step-seconds 100000 --check-interval-seconds 2678400 --corrected); rc=$?
check "[ $rc -eq 0 ]" "model tahoe --corrected exits 0 (got $rc)"
u=$(value p_lost_unmaintained <<<"$out"); m=$(value p_lost_maintained <<<"$out")
check "near '$u' 0.03406142228586496" "corrected unmaintained: $u"
check "near '$m' 3.4696838393771096e-08" "corrected maintained: $m"
check "[ \"\$(value variant <<<\"\$out\")\" = corrected ]" "variant says corrected: $out"

json=$("$sim" model tahoe --step-seconds 100000 --json); rc=$?
check "[ $rc -eq 0 ]" "model tahoe --json exits 0"
check "python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert d[\"model\"] == \"tahoe\" and d[\"variant\"] == \"faithful\", d
assert abs(d[\"p_lost_maintained\"] / 3.2983995819177542e-08 - 1) < 1e-12, d
assert d[\"steps\"] == 1578 and d[\"k\"] == 3 and d[\"n\"] == 10, d
' \"\$json\"" "tahoe --json is the expected JSON: $json"

out=$("$sim" model binomial --k 3 --n 10 --lifetime-days 2920 --duration-days 1825); rc=$?
check "[ $rc -eq 0 ]" "model binomial exits 0 (got $rc)"
p=$(value p_lost <<<"$out")
check "near '$p' 0.033938319266300164" "binomial 3-of-10, 8 years, 5 years: $p"
json=$("$sim" model binomial --lifetime-days 730 --duration-days 1825 --json); rc=$?
check "[ $rc -eq 0 ]" "model binomial --json exits 0"
check "python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert d[\"model\"] == \"binomial\" and d[\"k\"] == 3 and d[\"n\"] == 10, d
assert abs(d[\"p_lost\"] / 0.95719622954169026 - 1) < 1e-12, d
' \"\$json\"" "binomial --json is the expected JSON: $json"

# Bad arguments: exit 2, and the message names the flag.
bad() {  # bad 'what' 'expected text' args...
  local what="$1" expected="$2"
  shift 2
  local out rc
  out=$("$sim" "$@" 2>&1); rc=$?
  check "[ $rc -eq 2 ]" "$what exits 2 (got $rc): $out"
  check "grep -qF -- '$expected' <<<\"\$out\"" "$what says '$expected': $out"
}
bad "k 0" "--k: must be between 1 and n (10), got 0" model tahoe --k 0
bad "repair-below > n" "--repair-below: must be between k (3, never repair) and n (10), got 11" \
  model tahoe --repair-below 11
bad "tiny step" "--step-seconds: must make at most" model tahoe --step-seconds 1
bad "zero check interval" "--check-interval-seconds: must be > 0, got 0" \
  model tahoe --check-interval-seconds 0
bad "zero lifetime" "--lifetime-years: must be > 0, got 0" model tahoe --lifetime-years 0
bad "negative years" "--years: must be > 0 and <= 1000, got -1" model tahoe --years -1
bad "binomial k > n" "--k: must be between 1 and n (4), got 5" \
  model binomial --k 5 --n 4 --lifetime-days 10 --duration-days 1
bad "binomial negative duration" "--duration-days: must be >= 0 and finite, got -1" \
  model binomial --lifetime-days 10 --duration-days -1
bad "binomial without lifetime" "--lifetime-days" model binomial --duration-days 1
bad "not a number" "--k" model tahoe --k three
bad "unknown flag" "--bogus" model tahoe --bogus 1
bad "no model" "subcommand" model
bad "unknown model" "weibull" model weibull

"$sim" model --help >/dev/null; rc=$?
check "[ $rc -eq 0 ]" "model --help exits 0 (got $rc)"
"$sim" model tahoe --help >/dev/null; rc=$?
check "[ $rc -eq 0 ]" "model tahoe --help exits 0 (got $rc)"

if [ $fail -ne 0 ]; then exit 1; fi
echo "lafs-sim model cli: OK"
