#!/usr/bin/env bash
# `lafs debug dump-cap` as a user runs it: the known-answer cap of every kind (docs/specs/caps.md)
# dumps its kind, fields, storage index and diminished caps; --json is one parseable object with
# the same content; malformed caps exit 2 with a message naming the problem.
# Usage: dump_cap_cli_test.sh PATH_TO_lafs
set -u
lafs="$1"
fail=0
check() { if ! eval "$1"; then echo "FAILED: $2"; fail=1; fi; }

KEY=aaaqeayeaudaocajbifqydiob4ibceqtcqkrmfyydenbwha5dypq
UEB=eaqseizeeutcokbjfivsyljof4ydcmrtgq2tmnzyhe5dwpb5hy7q
CSI=wfbrcvj3crcokp5w7kozxm7xaq
WK=656encj5grkewdcwcedvgjhe5gfmo3judxundpvy3donzemxg4za
RK=dkpu7druztd2snx5sf7wms3xtku5u2jaz54eoyiwoycpmt7bf54a
MSI=cmtya73ynhfvfy3imuceecefie
FP=bg5wovuhiqaistvyxxt4dmqowdxlq6dynd5anyxfrvvuaf3iu6ia

# kind | cap | storage index | diminished caps (space-separated) | a field line
cases=(
  "chk|lafs1:chk:$KEY:$UEB:3:10:1000000|$CSI|lafs1:chk-verify:$CSI:$UEB:3:10:1000000|needed shares:  3"
  "chk-verify|lafs1:chk-verify:$CSI:$UEB:3:10:1000000|$CSI||storage index:  b14311553b1444e53fb6fa9d9bb3f704"
  "lit|lafs1:lit:nbswy3dpfqqgyylgom|||data:           68656c6c6f2c206c616673"
  "ssk|lafs1:ssk:$WK:$FP|$MSI|lafs1:ssk-read:$RK:$FP lafs1:ssk-verify:$MSI:$FP|write key:      f77c46893d34544b0c5611075324e4e98ac76d341de8d1beb8d8dcdc91973732"
  "ssk-read|lafs1:ssk-read:$RK:$FP|$MSI|lafs1:ssk-verify:$MSI:$FP|read key:       1a9f4f8e34ccc7a936fd917f664b779aa9da6920cf784761167604f64fe12f78"
  "ssk-verify|lafs1:ssk-verify:$MSI:$FP|$MSI||fingerprint:    09bb6756874400894eb8bde7c1b20eb0eeb8787868fa06e2e58d6b401768a790"
  "dir|lafs1:dir:$WK:$FP|$MSI|lafs1:dir-read:$RK:$FP lafs1:dir-verify:$MSI:$FP|directory:      yes"
  "dir-read|lafs1:dir-read:$RK:$FP|$MSI|lafs1:dir-verify:$MSI:$FP|authority:      read"
  "dir-verify|lafs1:dir-verify:$MSI:$FP|$MSI||authority:      verify"
  "dir-chk|lafs1:dir-chk:$KEY:$UEB:3:10:1000000|$CSI|lafs1:dir-chk-verify:$CSI:$UEB:3:10:1000000|size:           1000000"
  "dir-chk-verify|lafs1:dir-chk-verify:$CSI:$UEB:3:10:1000000|$CSI||total shares:   10"
  "dir-lit|lafs1:dir-lit:|||size:           0"
)

for c in "${cases[@]}"; do
  IFS='|' read -r kind cap si dims field <<<"$c"
  out=$("$lafs" debug dump-cap "$cap" 2>&1); rc=$?
  check "[ $rc -eq 0 ]" "$kind: exits 0 (got $rc): $out"
  check "grep -qx 'kind:           $kind (.*)' <<<\"\$out\"" "$kind: prints its kind: $out"
  check "grep -qxF '$field' <<<\"\$out\"" "$kind: prints '$field': $out"
  if [ -n "$si" ]; then
    check "grep -qxF 'storage index:  $si' <<<\"\$out\"" "$kind: prints storage index $si"
  else
    check "grep -q '^storage index:  none' <<<\"\$out\"" "$kind: a literal has no storage index"
  fi
  for d in $dims; do
    check "grep -qF ' $d' <<<\"\$out\"" "$kind: prints diminished cap $d"
  done
  json=$("$lafs" debug dump-cap --json "$cap" 2>&1); rc=$?
  check "[ $rc -eq 0 ]" "$kind --json: exits 0 (got $rc)"
  check "python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o[\"kind\"] == \"$kind\", o
assert o[\"cap\"] == \"$cap\", o
assert o[\"format_version\"] == 1, o
assert o[\"storage_index\"] == (\"$si\" or None), o
assert sorted(o[\"diminished\"].values()) == sorted(\"$dims\".split()), o
assert isinstance(o[\"fields\"], dict) and o[\"fields\"], o
' <<<\"\$json\"" "$kind --json: one object with kind, cap, storage index, diminished caps: $json"
done

# Malformed caps: exit 2, a message on stderr naming the problem, nothing on stdout.
bad=(
  "lafs1:chk:$KEY:$UEB:0:10:1000000|needed shares k=0"
  "lafs1:chk:$KEY:$UEB:3:257:1000000|total shares n=257"
  "lafs1:ssk:$WK|missing fields"
  "lafs1:ssk:$WK:$FP:x|extra fields"
  "lafs1:ssk:${WK:0:51}:$FP|must be 52 base32 characters"
  "lafs1:ssk:${WK^^}:$FP|uppercase"
  "lafs1:nope:$WK|unknown cap kind 'nope'"
  "lafs2:ssk:$WK:$FP|cap format version 2 is newer"
  "URI:CHK:abc:def:3:10:100|Tahoe-LAFS cap"
  "|empty cap"
)
for b in "${bad[@]}"; do
  IFS='|' read -r cap msg <<<"$b"
  for flag in "" "--json"; do
    stdout=$("$lafs" debug dump-cap $flag "$cap" 2>/tmp/dump_cap_err.$$); rc=$?
    err=$(cat /tmp/dump_cap_err.$$)
    check "[ $rc -eq 2 ]" "'$cap' $flag: exits 2 (got $rc)"
    check "grep -qF \"\$msg\" <<<\"\$err\"" "'$cap' $flag: stderr names the problem ('$msg'): $err"
    check "[ -z \"\$stdout\" ]" "'$cap' $flag: nothing on stdout: $stdout"
  done
done
rm -f /tmp/dump_cap_err.$$

out=$("$lafs" debug dump-cap 2>&1); rc=$?
check "[ $rc -eq 2 ]" "missing CAP argument exits 2 (got $rc)"

if [ $fail -ne 0 ]; then
  echo "dump-cap CLI: FAILED"
  exit 1
fi
echo "dump-cap CLI: OK"
