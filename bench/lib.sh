# shellcheck shell=bash
# bench/lib.sh -- shell functions shared by the benchmark scripts.
#
# Sourced by bench/<name>/run.sh, which sets (before calling any of them):
#   BENCH_TAG   the benchmark's name, e.g. dns: log lines read "[bench/dns] ..."
#   BUILD       the build dir (for require_tools' message)
#   SRV_CPU     the CPU the servers are pinned to
#   MAX_LIFE    seconds no server started here may outlive
#   QUIET_WAIT  seconds wait_quiet waits at most, QUIET_STEP the length of
#               one measurement in it (QUIET_WAIT / QUIET_STEP of them)
#   PATIENCE    seconds after which wait_quiet no longer waits
#   OUT         where publish_results copies the results
# bench_tmp sets TMP, the temp dir every server's output and result goes to.

CLK_TCK=$(getconf CLK_TCK)
# shellcheck disable=SC2034 # PORT is filled and read by the scripts
declare -A ROOT PORT # server -> PID of its `timeout` wrapper, port

log() { printf '[bench/%s] %s\n' "$BENCH_TAG" "$*" >&2; }

# require_tools TOOL...: exit unless each bench tool is built.
require_tools() {
    local tool
    for tool in "$@"; do
        if [ ! -x "$tool" ]; then
            echo "bench/$BENCH_TAG: $tool missing: cmake --build $BUILD --target bench-tools" >&2
            exit 1
        fi
    done
}

# require_cmds CMD...: exit unless each command is installed.
require_cmds() {
    local cmd
    for cmd in "$@"; do
        command -v "$cmd" >/dev/null || {
            echo "bench/$BENCH_TAG: $cmd not found (scripts/deps.sh bench)" >&2
            exit 1
        }
    done
}

# Make TMP; on exit, stop every server and remove TMP (BENCH_KEEP=1 keeps
# it).
bench_tmp() {
    TMP=$(mktemp -d "/tmp/sk-bench-$BENCH_TAG.XXXXXX")
    trap cleanup EXIT
    trap 'exit 130' INT TERM
}

cleanup() {
    local s
    for s in "${!ROOT[@]}"; do
        stop_server "$s" || true
    done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "bench/$BENCH_TAG: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}

# free_ports N [udp]: N free TCP ports on 127.0.0.1, all different; with
# udp, ports free for both UDP and TCP.
free_ports() {
    python3 - "$1" "${2:-}" <<'PYEOF'
import socket, sys
want, udp = int(sys.argv[1]), sys.argv[2] == "udp"
held, out = [], []
while len(out) < want:
    if udp:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        p = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", p))
            out.append(p)
        except OSError:
            pass
        held += [u, t]
    else:
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        out.append(t.getsockname()[1])
        held.append(t)
print(" ".join(map(str, out)))
PYEOF
}

# ---- processes ----

# PIDs of $1 and all its descendants.
proc_tree() {
    ps -e -o pid=,ppid= | awk -v r="$1" '
        { parent[$1] = $2 }
        END {
            for (p in parent) {
                q = p
                while (q != r && q in parent && q > 1) q = parent[q]
                if (q == r) print p
            }
        }'
}

# pids_ticks PID...: "utime stime", in clock ticks, of the processes (all
# threads).
pids_ticks() {
    local u=0 k=0 p s
    for p in "$@"; do
        s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        s=${s##*) } # after "(comm) ", field 3 (state) comes first
        # shellcheck disable=SC2086
        set -- $s
        u=$((u + ${12}))
        k=$((k + ${13}))
    done
    echo "$u $k"
}

# pids_rss_kb PID...: resident memory of the processes, in KiB.
pids_rss_kb() {
    local kb=0 p v
    for p in "$@"; do
        v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || true)
        kb=$((kb + ${v:-0}))
    done
    echo "$kb"
}

# Whether PID $1 runs (a zombie, exited but not yet reaped, does not).
alive() {
    local st
    st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    st=${st##*) }
    [ "${st%% *}" != Z ]
}

# Start server $1 with the rest as its command line, pinned to SRV_CPU,
# bounded by MAX_LIFE; its output is appended to TMP/NAME.out.
start_server() {
    local name=$1
    shift
    timeout -s TERM -k 10 "$MAX_LIFE" taskset -c "$SRV_CPU" "$@" \
        >>"$TMP/$name.out" 2>&1 </dev/null &
    ROOT[$name]=$!
}

stop_server() {
    local name=$1 root=${ROOT[$1]:-} i
    [ -n "$root" ] || return 0
    # The wrapper passes TERM on to the server (and its process group).
    kill -TERM "$root" 2>/dev/null || true
    for i in $(seq 1 300); do
        alive "$root" || break
        sleep 0.1
    done
    if alive "$root"; then
        log "$name did not stop in 30 s, killing"
        # shellcheck disable=SC2046 # one PID per word
        kill -KILL $(proc_tree "$root") 2>/dev/null || true
    fi
    wait "$root" 2>/dev/null || true
    unset "ROOT[$name]"
}

# ---- the machine ----

# Busy clock ticks of all CPUs together since boot (steal included: time
# the hypervisor gave to someone else is time we did not get).
sys_busy_ticks() {
    awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# wait_quiet [NOTE]: wait, at most QUIET_WAIT seconds, until the machine
# takes less than 10 % of a CPU over QUIET_STEP seconds. The machine is
# shared: a build or a fuzzer elsewhere would skew every number. NOTE is
# added to the "machine busy" line after "of a CPU".
wait_quiet() {
    local note=${1:-} i a b busy=0
    [ "$SECONDS" -lt "$PATIENCE" ] || return 0
    for i in $(seq 1 $((QUIET_WAIT / QUIET_STEP))); do
        a=$(sys_busy_ticks)
        sleep "$QUIET_STEP"
        b=$(sys_busy_ticks)
        busy=$(((b - a) * 100 / (QUIET_STEP * CLK_TCK)))
        [ "$busy" -le 10 ] && return 0
        [ "$i" = 1 ] && log "machine busy (${busy}% of a CPU$note), waiting up to ${QUIET_WAIT} s"
    done
    log "machine still busy (${busy}% of a CPU); measuring anyway"
}

# "N CPUs, MODEL, kernel RELEASE" for the report.
machine_desc() {
    echo "$(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)"
}

# ---- results ----

# kv KEY FILE: the value of KEY in a key=value line.
kv() { tr ' ' '\n' <"$2" | sed -n "s/^$1=//p" | head -1; }

# publish_results: run `report`, print it and copy it with the raw results
# in TMP/res to OUT/TAG-results.md and OUT/TAG-raw.
publish_results() {
    report | tee "$TMP/res/results.md"
    mkdir -p "$OUT"
    cp "$TMP/res/results.md" "$OUT/$BENCH_TAG-results.md"
    rm -rf "$OUT/$BENCH_TAG-raw"
    cp -r "$TMP/res" "$OUT/$BENCH_TAG-raw"
    log "results in $OUT/$BENCH_TAG-results.md"
}
