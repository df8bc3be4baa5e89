#!/usr/bin/env bash
# bench/domains/run.sh BUILD_DIR -- names per second of every DGA family,
# streaming in bounded memory, and a year at 50,000 names a day (Conficker
# C's rate, 18.25 M names) from the fastest daily families. Goal: under 10 s.
set -euo pipefail
BUILD=$(cd "${1:?usage: bench/domains/run.sh BUILD_DIR}" && pwd)
OUT=${BENCH_OUT:-$(cd "$(dirname "$0")/.." && pwd)/out}
mkdir -p "$OUT"
tool=$BUILD/bench/bench_domains_gen
[ -x "$tool" ] || {
    echo "bench/domains: $tool missing (cmake --build $BUILD --target bench-tools)" >&2
    exit 1
}
timeout 900 taskset -c 1 "$tool" | tee "$OUT/domains-results.txt"
