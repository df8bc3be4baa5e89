#!/usr/bin/env bash
# bench/evlog/run.sh -- the event log benchmark (BENCHMARKS.md, "Event log").
#
# usage: bench/evlog/run.sh BUILD_DIR
#
# Writes the DNS benchmark's query mix (bench/dns/mkdata.py: 100,000 seized
# names, 500,000 queries of which 10% for names not seized) as events from
# 20,000 distinct resolver addresses through the real writer, with every
# thread pinned to one CPU, then reads them back from the compressed
# segments (bench_evlog_evlog_bench; see its header for what each number
# means). Runs at the default zstd level and at level 3. Then, if the
# daemon is built, counts how often an idle daemon's threads wake up
# (bench/evlog/idle.sh: the log writer should sleep).
#
# Environment (all optional):
#   BENCH_EVLOG_EVENTS=10000000   events per run (at most 100,000,000)
#   BENCH_EVLOG_RESOLVERS=20000   distinct source addresses
#   BENCH_EVLOG_CPU=1             the CPU every thread is pinned to
#   BENCH_EVLOG_LEVELS="1 3"      zstd levels to run
#   BENCH_EVLOG_IDLE_S=10         seconds of the idle count (0: skip it)
#   BENCH_OUT=bench/out           where evlog-results.txt is copied
set -euo pipefail

BUILD=${1:?usage: bench/evlog/run.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
OUT=${BENCH_OUT:-$SRC/bench/out}
EVENTS=${BENCH_EVLOG_EVENTS:-10000000}
RESOLVERS=${BENCH_EVLOG_RESOLVERS:-20000}
CPU=${BENCH_EVLOG_CPU:-1}
LEVELS=${BENCH_EVLOG_LEVELS:-1 3}
IDLE_S=${BENCH_EVLOG_IDLE_S:-10}
TOOL=$BUILD/bench/bench_evlog_evlog_bench
[ -x "$TOOL" ] || {
    echo "bench/evlog: $TOOL missing (cmake --build $BUILD --target bench-tools)" >&2
    exit 1
}
mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/sk-bench-evlog-XXXXXX)
trap 'rm -rf "$TMP"' EXIT

mix=()
if command -v python3 >/dev/null 2>&1; then
    python3 "$SRC/bench/dns/mkdata.py" "$TMP/data" --names 100000 --queries 500000 >/dev/null
    mix=(-q "$TMP/data/queries.txt" -s "$TMP/data/names.txt")
fi

{
    echo "# bench/evlog $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), load $(cut -d' ' -f1-3 /proc/loadavg)"
    for level in $LEVELS; do
        timeout 900 "$TOOL" -n "$EVENTS" -r "$RESOLVERS" -c "$CPU" -l "$level" \
            -d "$TMP/run-$level" "${mix[@]}"
        rm -rf "$TMP/run-$level"
    done
    if [ "$IDLE_S" != 0 ] && [ -x "$BUILD/sinkhole" ]; then
        "$HERE/idle.sh" "$BUILD" "$IDLE_S"
    fi
} | tee "$OUT/evlog-results.txt"
