#!/bin/sh
# The README's demo: the example config serves on loopback, answers dig,
# logs the query and writes its counters. Fails if any of that is missing.
set -eu
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$SK_SOURCE_DIR/scripts/demo.sh" "$SINKHOLE" >"$out" 2>&1 || {
    cat "$out"
    echo "0 passed, 1 failed"
    exit 1
}
fail=0
check() {
    if grep -q -- "$1" "$out"; then
        echo "ok: $2"
    else
        echo "FAIL: $2 (no '$1' in the output)"
        fail=$((fail + 1))
    fi
}
check 'www.Mega-D-CC.example.[[:space:]]*300[[:space:]]*IN[[:space:]]*A[[:space:]]*192.0.2.10' "dig got the sinkhole address"
check 'flags: qr aa;' "authoritative, no recursion"
check '"rrname":"www.Mega-D-CC.example"' "the query was logged with its case"
check '"family":"megad"' "the event names the family"
check 'HTTP 200, 1 byte(s) of body' "the HTTP check-in was answered by the megad-gate rule"
check '"event_type":"http"' "the check-in was logged"
check '"bot_id":"00c0ffee00b0715d"' "with the bot id from the request body"
check '"written": ' "stats.json was written"
check '"events_http": 1' "and counted on the listener"
echo "$((9 - fail)) passed, $fail failed"
[ $fail -eq 0 ]
