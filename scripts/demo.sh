#!/bin/sh
# scripts/demo.sh -- start the sinkhole with the example config, ask it one
# question with dig, show the answer, the logged event and the counters,
# then stop it. `make demo` runs it.
set -eu
BIN=${1:-build/sinkhole}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONF="$ROOT/etc/sinkhole.ini"
EVDUMP="$(dirname "$BIN")/tests/evdump"
PORT=15353

"$BIN" check-config -c "$CONF"
"$BIN" serve -c "$CONF" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true' EXIT INT TERM

# Wait (bounded) until it answers.
i=0
until dig +time=1 +tries=1 @127.0.0.1 -p $PORT mega-d-cc.example A >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -ge 50 ] || ! kill -0 $PID 2>/dev/null; then
        echo "demo: the sinkhole did not start" >&2
        exit 1
    fi
    sleep 0.1
done

echo
echo "== a bot's resolver asks for a seized C&C name:"
echo "\$ dig @127.0.0.1 -p $PORT www.Mega-D-CC.example A"
dig @127.0.0.1 -p $PORT www.Mega-D-CC.example A +norecurse

kill -TERM $PID
wait $PID
trap - EXIT INT TERM

DATA="$ROOT/data"
echo "== what the sinkhole logged (last event, as JSON):"
if [ -x "$EVDUMP" ]; then
    "$EVDUMP" "$DATA/events" | tail -n 1
fi
echo "== its counters (data/stats.json):"
cat "$DATA/stats.json"
