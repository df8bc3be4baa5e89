#!/bin/sh
# scripts/demo.sh -- start the sinkhole with the example config, ask it one
# question with dig as a bot's resolver would, check in over HTTP as the bot
# then does, show the answers, the logged events and the counters, then stop
# it. `make demo` runs it.
set -eu
BIN=${1:-build/sinkhole}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CONF="$ROOT/etc/sinkhole.ini"
PORT=15353
HTTP_PORT=8080

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

echo "== the bot connects to that address and checks in (HTTP POST to its gate):"
echo "\$ curl -d id=00c0ffee00b0715d http://127.0.0.1:$HTTP_PORT/gate.php"
curl -s -m 5 -o /dev/null -w 'HTTP %{http_code}, %{size_download} byte(s) of body\n' \
    -H 'Host: www.mega-d-cc.example' -A 'Mozilla/4.0' -d id=00c0ffee00b0715d \
    "http://127.0.0.1:$HTTP_PORT/gate.php"

kill -TERM $PID
wait $PID
trap - EXIT INT TERM

DATA="$ROOT/data"
echo "== what the sinkhole logged (the query and the check-in, as JSON lines):"
"$BIN" export "$DATA" --format jsonl -q --kind dns | tail -n 1
"$BIN" export "$DATA" --format jsonl -q --kind http | tail -n 1
echo "== its counters (data/stats.json):"
cat "$DATA/stats.json"
