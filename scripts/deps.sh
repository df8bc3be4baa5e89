#!/bin/sh
# scripts/deps.sh -- install the Debian 12 packages sinkhole builds and tests with.
#
# Idempotent: asks dpkg what is missing and installs only that. Run as root
# (or with sudo available). `make` calls it with the build set; `make test`
# and .ci/run call it with the test set.
#
#   scripts/deps.sh build    compiler, CMake and the libraries the binary links
#   scripts/deps.sh demo     build + the clients the demo talks to the sinkhole with
#   scripts/deps.sh test     build + the real DNS clients and peer servers tests use
#   scripts/deps.sh bench    test + load generators and peers for bench/
set -eu

BUILD="build-essential cmake pkg-config libinih-dev libssl-dev libzstd-dev libcjson-dev libpcre2-dev libsqlite3-dev"
TEST="libcmocka-dev clang clang-format libclang-rt-14-dev dnsutils knot-dnsutils nsd unbound python3 iproute2 procps sqlite3 zstd curl openssl"
DEMO="dnsutils curl"
BENCH="dnsperf knot wrk nginx"

case "${1:-build}" in
build) want="$BUILD" ;;
demo) want="$BUILD $DEMO" ;;
test) want="$BUILD $TEST" ;;
bench) want="$BUILD $TEST $BENCH" ;;
*)
    echo "usage: $0 build|demo|test|bench" >&2
    exit 2
    ;;
esac

missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        echo "deps: missing packages:$missing" >&2
        echo "deps: run as root: apt-get install -y$missing" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# The nsd and knot packages start their daemons on port 53; tests and
# benchmarks run their own instances on high ports, so keep the packaged
# services from starting (policy-rc.d) and stop them if they did.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    cleanup_policy=1
fi
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
if [ "${cleanup_policy:-0}" = 1 ]; then
    $SUDO rm -f /usr/sbin/policy-rc.d
fi
