#!/usr/bin/env bash
# bench/run.sh -- run every benchmark; `make bench` calls it.
#
# usage: bench/run.sh BUILD_DIR [NAME...]
#
# Each benchmark is a folder under bench/ (dns first, then the others in
# name order): if it has a run.sh, that is run with BUILD_DIR; otherwise a
# run_<folder> function below runs its tools (bench/CMakeLists.txt builds
# bench/<folder>/<file>.c as BUILD_DIR/bench/bench_<folder>_<file>). A folder
# with neither is skipped. With NAMEs, only those benchmarks run.
#
# Results are printed and copied to bench/out/ (BENCHMARKS.md says what each
# benchmark measures and records the numbers). A failing benchmark is
# reported and the others still run; the exit status is 1 if any failed.
set -euo pipefail

BUILD=${1:?usage: bench/run.sh BUILD_DIR [NAME...]}
shift
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${BENCH_OUT:-$HERE/out}
mkdir -p "$OUT"

# The benchmarks, in the order they run.
ALL=dns
for d in "$HERE"/*/; do
    d=$(basename "$d")
    [ "$d" = dns ] || [ "$d" = out ] || ALL="$ALL $d"
done
WANT=${*:-$ALL}

# A benchmark without a run.sh of its own.
run_seized() {
    local tool=$BUILD/bench/bench_seized_seized_mem
    [ -x "$tool" ] || {
        echo "bench/seized: $tool missing" >&2
        return 1
    }
    # 1,000,000 names: memory per name (goal <= 64 bytes) and load time
    # (goal < 2 s), bounded in time like every run here.
    timeout 600 "$tool" 1000000 | tee "$OUT/seized-results.txt"
}

failed=""
for name in $WANT; do
    [ -d "$HERE/$name" ] || continue
    echo "== bench/$name ==" >&2
    rc=0
    if [ -x "$HERE/$name/run.sh" ]; then
        "$HERE/$name/run.sh" "$BUILD" || rc=$?
    elif declare -F "run_$name" >/dev/null; then
        "run_$name" || rc=$?
    else
        echo "bench/$name: no run.sh and no runner here, skipped" >&2
        continue
    fi
    [ "$rc" = 0 ] || failed="$failed $name"
done

if [ -n "$failed" ]; then
    echo "bench: failed:$failed" >&2
    exit 1
fi
