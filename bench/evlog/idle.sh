#!/usr/bin/env bash
# bench/evlog/idle.sh -- how often an idle daemon's threads wake up.
#
# usage: bench/evlog/idle.sh BUILD_DIR [SECONDS]
#
# Starts `sinkhole serve` (one worker, one seized name, the event log on,
# flush_ms 1000) on 127.0.0.1, lets it settle for 2 s with no traffic, then
# counts every thread's context switches (voluntary + involuntary, from
# /proc/PID/task/TID/status) over SECONDS (default 10) and prints them per
# second, one line per thread, with the thread's name where it has one
# (the log writer is "sk-evlog"). A thread that sleeps until it has work
# wakes a few times a second at most; one that polls shows hundreds.
# Sends no traffic and stops the daemon it started (by PID) when done.
set -euo pipefail

BUILD=${1:?usage: bench/evlog/idle.sh BUILD_DIR [SECONDS]}
SECS=${2:-10}
BIN=$(cd "$BUILD" && pwd)/sinkhole
[ -x "$BIN" ] || {
    echo "bench/evlog/idle.sh: $BIN missing" >&2
    exit 1
}
case $SECS in '' | *[!0-9]* | 0) echo "bench/evlog/idle.sh: SECONDS must be 1-600" >&2 && exit 2 ;; esac
[ "$SECS" -le 600 ] || SECS=600
TMP=$(mktemp -d /tmp/sk-bench-idle-XXXXXX)
PID=
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$TMP/lists"
echo "idle.example" >"$TMP/lists/idle.txt"
cat >"$TMP/sinkhole.ini" <<EOF
[server]
node = idle
data_dir = data
workers = 1
stats_interval = 3600

[dns]
listen = 127.0.0.1:$PORT
answer_a = 192.0.2.10
soa_mname = ns1.sinkhole.example
soa_rname = abuse.sinkhole.example
ns = ns1.sinkhole.example

[seized.idle]
file = lists/idle.txt
family = idle

[log]
flush_ms = 1000
EOF
"$BIN" serve -c "$TMP/sinkhole.ini" >"$TMP/out.txt" 2>"$TMP/err.txt" &
PID=$!
sleep 2
kill -0 "$PID" 2>/dev/null || {
    echo "bench/evlog/idle.sh: sinkhole serve did not start:" >&2
    cat "$TMP/err.txt" >&2
    exit 1
}

# tid name switches, for every thread of the daemon
snapshot() {
    for t in /proc/"$PID"/task/*; do
        [ -r "$t/status" ] || continue
        awk -v tid="${t##*/}" '
            /^Name:/ { name = $2 }
            /^voluntary_ctxt_switches:/ { v = $2 }
            /^nonvoluntary_ctxt_switches:/ { n = $2 }
            END { print tid, name, v + n }' "$t/status"
    done
}
snapshot >"$TMP/before"
sleep "$SECS"
snapshot >"$TMP/after"

echo "# bench/evlog/idle.sh $(date -u +%Y-%m-%dT%H:%M:%SZ): $BIN, idle for $SECS s"
echo "# thread  name  wake-ups/s"
awk -v secs="$SECS" '
    NR == FNR { before[$1] = $3; next }
    ($1 in before) { printf "%s %s %.1f\n", $1, $2, ($3 - before[$1]) / secs }' \
    "$TMP/before" "$TMP/after"
