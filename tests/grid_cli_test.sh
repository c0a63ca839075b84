#!/usr/bin/env bash
# The whole product as a user runs it: `lafs grid` (an introducer, storage nodes and a client as
# separate processes on 127.0.0.1), the CLI through the client's web gateway, a storage process
# killed with SIGKILL in the middle of an upload (the upload still succeeds, and the grid restarts
# the node), check, verify and deep-check of a healthy tree, bad input to the CLI and the web API,
# and caps never written to any log.
# Usage: grid_cli_test.sh PATH_TO_lafs
set -u
lafs="$1"
T=$(mktemp -d /tmp/lafs-grid-test.XXXXXX)
G="$T/grid"
fail=0
grid_pid=""
# check CONDITION MESSAGE: both evaluated when the check runs (so a message can show output the
# condition produced); quote them with single quotes.
check() { if ! eval "$1"; then echo "FAILED: $(eval echo "\"$2\"")"; fail=1; fi; }
cleanup() {
  if [ -n "$grid_pid" ] && kill -0 "$grid_pid" 2>/dev/null; then
    kill -INT "$grid_pid"
    for _ in $(seq 1 200); do kill -0 "$grid_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$grid_pid" 2>/dev/null
  fi
  pkill -9 -f "lafs run $G/" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
die() { echo "FAILED: $1"; for f in "$G"/*/logs/node.log; do echo "== $f"; tail -20 "$f"; done; exit 1; }

# ---- start the grid ----
"$lafs" grid "$G" --servers 5 --web-listen 127.0.0.1:0 > "$T/grid.out" 2>&1 &
grid_pid=$!
for _ in $(seq 1 600); do [ -s "$G/client/node.url" ] && break; sleep 0.1; done
[ -s "$G/client/node.url" ] || die "the grid did not start: $(cat "$T/grid.out")"
URL=$(head -1 "$G/client/node.url")
servers=0
for _ in $(seq 1 300); do
  servers=$(curl -s "${URL}?t=json" | grep -o '"nickname":"storage-[0-9]*"' | wc -l)
  [ "$servers" -ge 5 ] && break
  sleep 0.1
done
[ "$servers" -eq 5 ] || die "the client learned $servers of 5 storage servers"
# The grid prints its banner once it has read the client's node.url, which the test may see
# first: wait for the banner rather than race it.
for _ in $(seq 1 300); do grep -q "Ctrl-C stops the grid" "$T/grid.out" && break; sleep 0.1; done
check 'grep -q "web gateway: http://127.0.0.1:" "$T/grid.out"' "lafs grid prints the gateway"
check 'grep -q "2-of-5 (happy 4)" "$T/grid.out"' "lafs grid fits the encoding to 5 servers"
check '[ "$(stat -c %a "$G/client/private")" = 700 ]' "private/ is 0700"
check '[ "$(stat -c %a "$G/client/private/convergence.secret")" = 600 ]' "secrets are 0600"

export LAFS_NODE_DIR="$G/client"

# ---- put / get / ls / mkdir / cp -r / mv / rm ----
echo "hello, grid" > "$T/small.txt"
head -c 3000000 /dev/urandom > "$T/medium.bin"
check '"$lafs" create-alias tahoe > "$T/alias.out" 2>&1' 'create-alias: $(cat "$T/alias.out")'
check '[ "$(stat -c %a "$G/client/private/aliases")" = 600 ]' "aliases file is 0600"
check '"$lafs" put "$T/small.txt" tahoe:small.txt > /dev/null 2>&1' "put into a directory"
check '"$lafs" put "$T/medium.bin" tahoe:medium.bin > /dev/null 2>&1' "put a 3 MB file"
check '"$lafs" get tahoe:small.txt "$T/small.back" 2>/dev/null && cmp -s "$T/small.txt" "$T/small.back"' \
  "get returns the same bytes"
check '"$lafs" get tahoe:medium.bin - 2>/dev/null | cmp -s - "$T/medium.bin"' "get to stdout"
cap=$("$lafs" put "$T/medium.bin" 2>/dev/null)
check '[[ "$cap" == lafs1:chk:* ]]' "put without a target prints a cap"
check '"$lafs" ls tahoe: 2>/dev/null | grep -qx "small.txt"' "ls lists the file"
check '"$lafs" ls -l tahoe: 2>/dev/null | grep -q "3000000"' "ls -l shows sizes"
check '"$lafs" ls --json tahoe: 2>/dev/null | grep -q "\"dirnode\""' "ls --json"
check '"$lafs" mkdir tahoe:sub > /dev/null 2>&1' "mkdir"
mkdir -p "$T/tree/a/b" "$T/tree/c"
echo one > "$T/tree/a/one.txt"; echo two > "$T/tree/a/b/two.txt"; : > "$T/tree/c/empty"
head -c 200000 /dev/urandom > "$T/tree/blob"
ln -s /etc/passwd "$T/tree/link-out"  # never followed
check '"$lafs" cp -r "$T/tree" tahoe:sub/tree > /dev/null 2> "$T/cp.err"' 'cp -r to the grid: $(cat "$T/cp.err")'
check '"$lafs" cp -r tahoe:sub/tree "$T/back" > /dev/null 2> "$T/cpback.err"' 'cp -r from the grid: $(cat "$T/cpback.err")'
rm "$T/tree/link-out"
check 'diff -r "$T/tree" "$T/back/tree" > /dev/null 2>&1 || diff -r "$T/tree" "$T/back" > /dev/null 2>&1' \
  'cp -r round trip gives the same tree (without the symlink): $(diff -r "$T/tree" "$T/back" 2>&1 | head -5)'
check '"$lafs" mv tahoe:small.txt tahoe:sub/moved.txt > /dev/null 2>&1' "mv across directories"
check '"$lafs" ls tahoe:sub 2>/dev/null | grep -qx "moved.txt"' "mv put it there"
check '! "$lafs" ls tahoe: 2>/dev/null | grep -qx "small.txt"' "mv took it away"
check '"$lafs" rm tahoe:sub/moved.txt > /dev/null 2>&1' "rm"
"$lafs" get tahoe:sub/moved.txt "$T/gone" > /dev/null 2> "$T/gone.err"
rc=$?
check '[ $rc -eq 1 ] && grep -qi "no .*moved.txt" "$T/gone.err"' 'get of a removed name: exit 1, says so (rc=$rc: $(cat "$T/gone.err"))'

# ---- check, verify, repair, deep-check (every server up: everything is healthy) ----
"$lafs" check tahoe: > "$T/check.out" 2>&1; rc=$?
check '[ $rc -eq 0 ] && grep -qx "Summary: Healthy" "$T/check.out"' 'check of a directory: exit 0, Healthy (rc=$rc: $(cat "$T/check.out"))'
"$lafs" check tahoe:medium.bin > "$T/check.out" 2>&1; rc=$?
check '[ $rc -eq 0 ] && grep -qx " good-shares: 5 (encoding is 2-of-5)" "$T/check.out"' 'check of a file: every share (rc=$rc: $(cat "$T/check.out"))'
"$lafs" check --verify --json tahoe:medium.bin > "$T/verify.json" 2> "$T/verify.err"; rc=$?
check '[ $rc -eq 0 ] && python3 -c "import json,sys; r = json.load(open(sys.argv[1])); assert r[\"healthy\"] is True and r[\"corrupt\"] == [], r" "$T/verify.json"' \
  'check --verify --json: "healthy":true (rc=$rc: $(cat "$T/verify.json" "$T/verify.err"))'
"$lafs" check --repair --add-lease tahoe:medium.bin > "$T/repair.out" 2>&1; rc=$?
check '[ $rc -eq 0 ] && grep -qx "No repair needed" "$T/repair.out" && grep -qx " leases renewed: 5" "$T/repair.out"' \
  'check --repair --add-lease of a healthy file (rc=$rc: $(cat "$T/repair.out"))'
"$lafs" deep-check tahoe: > "$T/deep.out" 2>&1; rc=$?
check '[ $rc -eq 0 ] && grep -qE "^done: [0-9]+ objects checked, [0-9]+ healthy, 0 unhealthy, 0 unrecoverable$" "$T/deep.out"' \
  'deep-check: exit 0 with a summary line (rc=$rc: $(cat "$T/deep.out"))'
"$lafs" deep-check -v --add-lease tahoe: > "$T/deep.out" 2>&1; rc=$?
check '[ $rc -eq 0 ] && grep -qx "'"'<root>'"': Healthy" "$T/deep.out" && grep -qx "'"'sub/tree/blob'"': Healthy" "$T/deep.out" && grep -qE "; leases renewed [1-9][0-9]*$" "$T/deep.out"' \
  'deep-check -v --add-lease: a line per object, leases renewed (rc=$rc: $(cat "$T/deep.out"))'
"$lafs" deep-check --verify --json tahoe:sub > "$T/deep.json" 2>&1; rc=$?
check '[ $rc -eq 0 ] && tail -1 "$T/deep.json" | grep -q "^{\"type\":\"summary\",\"objects_checked\":[1-9]" && ! grep -qE "lafs1:(dir|dir-read|chk|ssk|ssk-read):" "$T/deep.json"' \
  'deep-check --verify --json: JSON lines, the summary last, no read or write cap (rc=$rc: $(tail -3 "$T/deep.json"))'

# ---- a storage node killed with SIGKILL in the middle of an upload ----
head -c $((48 << 20)) /dev/urandom > "$T/big.bin"
"$lafs" put "$T/big.bin" tahoe:big.bin > "$T/big.out" 2> "$T/big.err" &
put_pid=$!
victim_before=$(cat "$G/storage-1/node.pid")
# Mid-upload for certain: once the victim holds a share being written (storage/incoming/).
for _ in $(seq 1 600); do
  [ -n "$(find "$G/storage-1/storage/incoming" -type f 2>/dev/null | head -1)" ] && break
  sleep 0.05
done
check '[ -n "$(find "$G/storage-1/storage/incoming" -type f 2>/dev/null | head -1)" ]' \
  "the victim was receiving a share when it was killed"
check 'kill -0 $put_pid 2>/dev/null' "the upload is still running when the storage node is killed"
kill -9 "$victim_before"
wait $put_pid
rc=$?
echo "upload with a storage node killed mid-way: exit $rc"
if [ $rc -eq 0 ]; then
  check '"$lafs" get tahoe:big.bin - 2>/dev/null | cmp -s - "$T/big.bin"' \
    "the upload that lost a server mid-way reads back whole"
else
  check 'grep -qi "happiness\|happy" "$T/big.err"' 'a failed upload names happiness: $(cat "$T/big.err")'
fi
check 'grep -q "storage-1 killed by signal 9; restarting it" "$T/grid.out"' "the grid noticed the kill"
restarted=""
for _ in $(seq 1 200); do
  p=$(cat "$G/storage-1/node.pid" 2>/dev/null)
  if [ -n "$p" ] && [ "$p" != "$victim_before" ] && kill -0 "$p" 2>/dev/null; then restarted=$p; break; fi
  sleep 0.1
done
check '[ -n "$restarted" ]' "the grid restarted the killed storage node"
check '"$lafs" put "$T/medium.bin" tahoe:after-restart.bin > /dev/null 2>&1' "uploads work after the restart"

# ---- bad input: CLI ----
"$lafs" get lafs1:chk:nonsense "$T/x" > /dev/null 2> "$T/e1"; rc=$?
check '[ $rc -eq 2 ] && grep -qi "cap" "$T/e1"' 'malformed cap: exit 2 (rc=$rc: $(cat "$T/e1"))'
"$lafs" put "$T/does-not-exist" tahoe:x > /dev/null 2> "$T/e2"; rc=$?
check '[ $rc -ne 0 ] && grep -q "does-not-exist" "$T/e2"' 'missing local file named (rc=$rc: $(cat "$T/e2"))'
"$lafs" ls nosuchalias: > /dev/null 2> "$T/e3"; rc=$?
check '[ $rc -eq 2 ] && grep -q "nosuchalias" "$T/e3"' 'unknown alias (rc=$rc: $(cat "$T/e3"))'
"$lafs" put -d "$T/nowhere" "$T/small.txt" > /dev/null 2> "$T/e4"; rc=$?
check '[ $rc -ne 0 ] && grep -q "node.url\|nowhere" "$T/e4"' 'no node directory (rc=$rc: $(cat "$T/e4"))'
"$lafs" check tahoe:sub/no-such-file > /dev/null 2> "$T/e5"; rc=$?
check '[ $rc -eq 1 ] && grep -q "no-such-file" "$T/e5"' 'check of a missing name: exit 1 (rc=$rc: $(cat "$T/e5"))'
"$lafs" deep-check tahoe:medium.bin > /dev/null 2> "$T/e6"; rc=$?
check '[ $rc -eq 2 ] && grep -q "t=check" "$T/e6"' 'deep-check of a file: exit 2 (rc=$rc: $(cat "$T/e6"))'

# ---- bad input and authority: the web API ----
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
dircap=$(awk -F': ' '$1=="tahoe"{print $2}' "$G/client/private/aliases")
rocap=$(curl -s "${URL}uri/${dircap}?t=json" | grep -o '"ro_uri":"[^"]*"' | head -1 | cut -d'"' -f4)
check '[[ "$rocap" == lafs1:dir-read:* ]]' "t=json gives the read cap"
G1=(-H "X-Lafs-Request: 1")  # the CSRF guard every change carries (docs/webui.md)
check '[ "$(code "${G1[@]}" -X PUT --data-binary x "${URL}uri/${rocap}/evil")" = 403 ]' "a read cap cannot write (PUT)"
check '[ "$(code "${G1[@]}" -X DELETE "${URL}uri/${rocap}/big.bin")" = 403 ]' "a read cap cannot write (DELETE)"
check '[ "$(code "${URL}uri/lafs1:chk:bogus")" = 400 ]' "malformed cap: 400"
check '[ "$(code "${URL}nope")" = 404 ]' "unknown page: 404"
check '[ "$(code -H "X-Big: $(head -c 20000 /dev/zero | tr "\0" a)" "${URL}")" = 431 ]' "huge headers: 431"
hostport=${URL#http://}; hostport=${hostport%/}
reply=$(printf 'GARBAGE\r\n\r\n' | timeout 5 bash -c "exec 3<>/dev/tcp/${hostport%:*}/${hostport#*:}; cat >&3; cat <&3" 2>/dev/null | head -1)
check '[[ "$reply" == "HTTP/1.1 400"* ]]' "garbage request: 400 ($reply)"
check '[ "$(code -H "Host: rebound.example:80" "${URL}?t=json")" = 403 ]' "a foreign Host header: 403 (DNS rebinding)"
check '[ "$(code "${G1[@]}" -X POST -H "Origin: https://evil.example" "${URL}uri?t=mkdir")" = 403 ]' "a cross-site POST: 403 (CSRF)"
check '[ "$(code -X POST "${URL}uri?t=mkdir")" = 403 ]' "a POST without the CSRF guard header: 403"
check '[ "$(code "${G1[@]}" -X POST "${URL}uri?t=mkdir")" = 200 ]' "the same POST with it: 200"
check '[ "$(code "${URL}?t=json")" = 200 ]' "the gateway still answers after all that"

# ---- a client without the grid's secret is refused ----
good=$(cat "$G/introducer/private/introducer.address")
forged=$(echo "$good" | sed -E 's/^(lafs-introducer:v1:[0-9a-f]{64}:)[0-9a-f]{64}@/\10000000000000000000000000000000000000000000000000000000000000000@/')
check '[ "$forged" != "$good" ]' "forged an address with another secret"
echo "$forged" | "$lafs" create-node "$T/outsider" --no-storage --web-listen 127.0.0.1:0 --introducer - > /dev/null 2>&1
"$lafs" run "$T/outsider" > "$T/outsider.log" 2>&1 &
outsider_pid=$!
for _ in $(seq 1 300); do [ -s "$T/outsider/node.url" ] && break; sleep 0.1; done
OURL=$(head -1 "$T/outsider/node.url" 2>/dev/null)
sleep 2
check '[ "$(curl -s "${OURL}?t=json" | grep -o "\"nickname\":\"storage-" | wc -l)" = 0 ]' \
  "the outsider learns no storage servers"
ocode=$(curl -s -o "$T/outsider.put" -w '%{http_code}' "${G1[@]}" -T "$T/medium.bin" "${OURL}uri")
check '[ "$ocode" = 503 ]' 'the outsider cannot upload (HTTP $ocode: $(cat "$T/outsider.put"))'
check 'grep -q "grid secret" "$T/outsider.log"' "the outsider's log says why"
kill -TERM $outsider_pid; wait $outsider_pid 2>/dev/null

# ---- a node with a broken config: refused, naming the file, key and problem ----
sed -i 's/^shares.happy = .*/shares.happy = many/' "$T/outsider/node.cfg"
"$lafs" run "$T/outsider" > /dev/null 2> "$T/badcfg.err"; rc=$?
check '[ $rc -eq 2 ] && grep -q "node.cfg" "$T/badcfg.err" && grep -q "shares.happy" "$T/badcfg.err"' \
  'a bad node.cfg: exit 2 naming file and key (rc=$rc: $(cat "$T/badcfg.err"))'
"$lafs" run "$G/client" > /dev/null 2> "$T/twice.err"; rc=$?
check '[ $rc -eq 1 ] && grep -q "already running" "$T/twice.err"' \
  'a second lafs run on a running node is refused (rc=$rc: $(cat "$T/twice.err"))'

# ---- caps never appear in logs ----
check '! grep -l "lafs1:" "$G"/*/logs/node.log "$T/grid.out" "$T/outsider.log"' "no cap in any log"

# ---- clean stop ----
kill -INT "$grid_pid"
for _ in $(seq 1 300); do kill -0 "$grid_pid" 2>/dev/null || break; sleep 0.1; done
check '! kill -0 "$grid_pid" 2>/dev/null' "the grid stopped on SIGINT"
check '! pgrep -f "lafs run $G/" > /dev/null' "every node process stopped"
check 'grep -q "^stopped" "$T/grid.out"' "the grid says it stopped"
grid_pid=""

exit $fail
