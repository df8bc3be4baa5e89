#!/usr/bin/env bash
# bench/http/run.sh -- the HTTP benchmark: the sinkhole's connection listener
# against nginx.
#
# usage: bench/http/run.sh BUILD_DIR
#
# Everything runs on 127.0.0.1, on free high ports, in one temp dir. Each
# server runs one worker, and the whole server process, all its threads (the
# sinkhole's log writer included), is pinned to CPU 0; the load generator is
# pinned to CPU 1. Every request is answered 200 "ok\n" and logged: nginx
# with its access log on (the combined format, one write per request), the
# sinkhole with its event log on (every request an event, in full).
#
#   trivial   bench_http_trivial, an HTTP server that does nothing but
#             answer: the generators' own ceiling
#   nginx     nginx, one worker (bench/http/nginx.conf.in)
#   sinkhole  sinkhole serve, workers = 1, one [listener.http] with
#             sniff = auto and a rule answering the benchmark path
#
# Load, BENCH_ROUNDS rounds interleaved across the servers, each run
# BENCH_DURATION seconds; the median run (by requests/s) is reported:
#
#   ka      wrk, keep-alive, BENCH_CONNS connections
#   kalean  bench_http_connclose -k: keep-alive, BENCH_CONNS connections,
#           from a generator leaner than wrk (wrk's ceiling is below what
#           one server core can answer)
#   close   wrk with "Connection: close": a new connection per request
#   cclose  bench_http_connclose: a new connection per request, from the
#           leaner generator (wrk itself is the limit there)
#
# For each run: requests/s, latency, the server's CPU-seconds per million
# requests (utime + stime of all its processes and threads, /proc/PID/stat),
# the generator's CPU and how busy each core was (/proc/stat, softirq
# included: on loopback much of the TCP work runs on the sending core). After
# every sinkhole run its stats.json is read (SIGUSR1): each request must have
# become an event and no event may be dropped.
#
# Idle connections: a fresh instance of each server, then bench_http_idle
# holds 1,000, 5,000 and 19,000 connections (from 127.1.x.y, 50 per address)
# in each of BENCH_IDLE_MODES; at each stage the server's memory (VmRSS, and
# Pss and private memory from smaps_rollup) and its open descriptors are
# read, and bytes per connection given by a least-squares line. 19,000
# because a process here may not open more than 20,000 files.
#
# Environment (all optional):
#   BENCH_DURATION=6      seconds per measured run (at most 120)
#   BENCH_WARMUP=2        seconds of keep-alive warm-up per server
#   BENCH_ROUNDS=3        runs of each kind per server (the median is kept,
#                         leaving out runs that lost over 10 % of a CPU to
#                         other work if any run did not)
#   BENCH_CONNS=64        connections of wrk and of connclose -k
#   BENCH_CC_CONNS=32     bench_http_connclose connections in flight
#   BENCH_CC_SOURCES=16   ... spread over this many source addresses
#   BENCH_SERVERS="trivial nginx sinkhole"  also: nginxbuf (nginx with
#                         access_log buffer=64k flush=1s), nolog (the sinkhole
#                         with [log] enabled = no: what the log costs)
#   BENCH_MODES="ka kalean close cclose"   (empty: only the idle test)
#   BENCH_IDLE_STAGES=1000,5000,19000   (empty: no idle test)
#   BENCH_IDLE_MODES="request none partial"   (partial: half a request head)
#   BENCH_QUIET_WAIT=30   seconds to wait for other work on the machine to
#                         end before each run
#   BENCH_OUT=bench/out   where http-results.md and the raw results go
#   BENCH_KEEP=1          keep the temp dir
set -euo pipefail

BUILD=${1:?usage: bench/http/run.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)

DURATION=${BENCH_DURATION:-6}
WARMUP=${BENCH_WARMUP:-2}
ROUNDS=${BENCH_ROUNDS:-3}
CONNS=${BENCH_CONNS:-64}
CC_CONNS=${BENCH_CC_CONNS:-32}
CC_SOURCES=${BENCH_CC_SOURCES:-16}
SERVERS=${BENCH_SERVERS:-trivial nginx sinkhole}
MODES=${BENCH_MODES-ka kalean close cclose}
IDLE_STAGES=${BENCH_IDLE_STAGES-1000,5000,19000}
IDLE_MODES=${BENCH_IDLE_MODES:-request none partial}
QUIET_WAIT=${BENCH_QUIET_WAIT:-30}
OUT=${BENCH_OUT:-$SRC/bench/out}
# bench/CMakeLists.txt builds bench/http/X.c as bench_http_X in BUILD/bench.
CONNCLOSE=$BUILD/bench/bench_http_connclose
TRIVIAL=$BUILD/bench/bench_http_trivial
IDLE=$BUILD/bench/bench_http_idle
SINKHOLE=$BUILD/sinkhole
MAX_LIFE=1800 # no server started here outlives this, whatever happens
PATIENCE=600  # seconds after which runs are no longer waited for
QUIET_STEP=1
SRV_CPU=0
GEN_CPU=1
BENCH_TAG=http
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$HERE/../lib.sh"

if [ "$DURATION" -gt 120 ] || [ "$WARMUP" -gt 60 ] || [ "$ROUNDS" -gt 10 ] || [ "$ROUNDS" -lt 1 ]; then
    echo "bench/http: BENCH_DURATION <= 120, BENCH_WARMUP <= 60, 1 <= BENCH_ROUNDS <= 10" >&2
    exit 2
fi
require_tools "$CONNCLOSE" "$TRIVIAL" "$IDLE"
require_cmds python3 curl taskset timeout
if [ "$(nproc)" -lt 2 ]; then
    echo "bench/http: needs 2 CPUs (server on CPU $SRV_CPU, generator on CPU $GEN_CPU)" >&2
    exit 1
fi
# The idle test holds up to 19,000 connections: the holder and the server
# each need that many descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)

START=$(date -u +%Y-%m-%dT%H:%MZ)
bench_tmp
mkdir -p "$TMP/res"

# ---- processes ----

# The server's own processes: the tree under the `timeout` wrapper, less
# the wrapper itself.
server_pids() {
    proc_tree "$1" | grep -vx "$1" || true
}

# "utime stime", in clock ticks, of the server's processes (all threads).
server_ticks() {
    # shellcheck disable=SC2046 # one PID per word
    pids_ticks $(server_pids "$1")
}

# Memory of the server's processes, in KiB: "rss pss private fds".
server_mem() {
    local p rss=0 pss=0 priv=0 fds=0 v
    for p in $(server_pids "$1"); do
        v=$(pids_rss_kb "$p")
        rss=$((rss + v))
        v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null || true)
        pss=$((pss + ${v:-0}))
        v=$(awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s + 0 }' \
            "/proc/$p/smaps_rollup" 2>/dev/null || true)
        priv=$((priv + ${v:-0}))
        v=$(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
        fds=$((fds + v))
    done
    echo "$rss $pss $priv $fds"
}

# The sinkhole process of server $1 (for signals).
sinkhole_pid() {
    local p
    for p in $(server_pids "$1"); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sinkhole ] && echo "$p" && return 0
    done
    return 1
}

# Wait until server $1 answers 200 "ok" on the benchmark path.
wait_ready() {
    local name=$1 i
    for i in $(seq 1 100); do
        if ! alive "${ROOT[$name]}"; then
            log "$name exited; its output:"
            tail -20 "$TMP/$name.out" >&2
            return 1
        fi
        [ "$(curl -s -m 1 "http://127.0.0.1:${PORT[$name]}/x" 2>/dev/null)" = ok ] && break
        sleep 0.1
    done
    [ "$i" -lt 100 ] || {
        log "$name not answering after 10 s"
        return 1
    }
    # Every thread on the server CPU: print what each one is allowed.
    local p t th=""
    for p in $(server_pids "${ROOT[$name]}"); do
        for t in /proc/"$p"/task/*; do
            th="$th $(cat "$t/comm" 2>/dev/null)@$(awk '/^Cpus_allowed_list:/ { print $2 }' "$t/status" 2>/dev/null)"
        done
    done
    echo "$name:$th" >>"$TMP/res/pinning.txt"
    log "$name ready on port ${PORT[$name]}; threads (name@cpus):$th"
}

start() {
    local s=$1
    case $s in
    trivial) start_server trivial "$TRIVIAL" -p "${PORT[trivial]}" -l "$MAX_LIFE" ;;
    nginx | nginxbuf)
        command -v nginx >/dev/null || {
            log "nginx not installed, skipped (scripts/deps.sh bench)"
            return 1
        }
        start_server "$s" nginx -p "$TMP/$s" -e "$TMP/$s/nginx-error.log" -c "$TMP/$s/nginx.conf"
        ;;
    sinkhole | nolog)
        [ -x "$SINKHOLE" ] || {
            log "$SINKHOLE missing, skipped"
            return 1
        }
        start_server "$s" "$SINKHOLE" serve -c "$TMP/$s.ini"
        ;;
    *)
        log "unknown server $s"
        exit 2
        ;;
    esac
    if ! wait_ready "$s"; then
        stop_server "$s"
        return 1
    fi
}

# ---- the machine ----

# Busy clock ticks since boot: "all cpuS cpuG tasks": all CPUs, the server's
# and the generator's (interrupts and steal included), and all CPUs without
# interrupt time (what processes were charged, plus steal).
busy_ticks() {
    awk -v a="cpu$SRV_CPU" -v b="cpu$GEN_CPU" '
        $1 == "cpu" || $1 == a || $1 == b { v[$1] = $2 + $3 + $4 + $7 + $8 + $9 }
        $1 == "cpu" { t = $2 + $3 + $4 + $9 }
        END { print v["cpu"], v[a], v[b], t }' /proc/stat
}

# ---- results ----

# wrk's output as key=value: requests/s, latency in µs, errors.
parse_wrk() {
    awk '
        function us(v) {
            if (v ~ /us$/) return v + 0
            if (v ~ /ms$/) return (v + 0) * 1000
            if (v ~ /s$/) return (v + 0) * 1e6
            return v + 0
        }
        $1 == "Latency" && avg == "" { avg = us($2); mx = us($4) }
        $1 == "50%" { p50 = us($2) }
        $1 == "90%" { p90 = us($2) }
        $1 == "99%" { p99 = us($2) }
        / requests in / { n = $1 }
        /Socket errors:/ { gsub(/,/, ""); err = $4 + $6 + $8 + $10 }
        /Non-2xx or 3xx responses:/ { bad = $5 }
        /^Requests\/sec:/ { rps = $2 }
        END {
            printf "responses=%d rps=%.0f avg_us=%.1f p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f errors=%d non200=%d\n",
                n, rps, avg, p50, p90, p99, mx, err, bad
        }'
}

# The sinkhole's counters now (SIGUSR1, then stats.json): "requests appended
# dropped events_dropped malformed connections rejected current".
sinkhole_counters() {
    local name=$1 pid dir seq0 i
    pid=$(sinkhole_pid "${ROOT[$name]}") || return 1
    dir=$TMP/$name-data
    seq0=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seq"])' \
        "$dir/stats.json" 2>/dev/null || echo -1)
    kill -USR1 "$pid"
    for i in $(seq 1 50); do
        sleep 0.05
        python3 - "$dir/stats.json" "$seq0" <<'EOF' && return 0
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(1)
if d["seq"] == int(sys.argv[2]):
    sys.exit(1)
l, e = d["listeners"]["http"], d["events"]
print(l["requests"], e["appended"], e["dropped"], l["events_dropped"], l["http_malformed"],
      l["connections_accepted"], l["max_connections_rejected"] + l["per_source_rejected"],
      l["connections_current"])
EOF
    done
    return 1
}

# run_load NAME MODE TAG: one generator run against server NAME; writes
# $TMP/res/NAME.MODE.TAG as one key=value line.
run_load() {
    local name=$1 mode=$2 tag=$3 port=${PORT[$1]} root=${ROOT[$1]}
    local f=$TMP/res/$name.$mode.$tag t0 t1 b0 b1 c0 c1 gen
    local url=http://127.0.0.1:$port/x
    c0=""
    if [ "$name" = sinkhole ]; then
        c0=$(sinkhole_counters "$name") || c0=""
    fi
    t0=$(server_ticks "$root")
    b0=$(busy_ticks)
    # The subshell's `times` gives the CPU of its one child: the generator.
    case $mode in
    ka)
        (
            taskset -c "$GEN_CPU" wrk -t1 -c "$CONNS" -d "${DURATION}s" --latency "$url" >"$f.raw" 2>&1 || true
            times >"$f.times"
        )
        ;;
    close)
        (
            taskset -c "$GEN_CPU" wrk -t1 -c "$CONNS" -d "${DURATION}s" --latency -H 'Connection: close' "$url" >"$f.raw" 2>&1 || true
            times >"$f.times"
        )
        ;;
    cclose)
        (
            taskset -c "$GEN_CPU" "$CONNCLOSE" -p "$port" -c "$CC_CONNS" -S "$CC_SOURCES" -d "$DURATION" >"$f.raw" 2>&1 || true
            times >"$f.times"
        )
        ;;
    kalean)
        (
            taskset -c "$GEN_CPU" "$CONNCLOSE" -p "$port" -c "$CONNS" -k 1000000 -d "$DURATION" >"$f.raw" 2>&1 || true
            times >"$f.times"
        )
        ;;
    esac
    b1=$(busy_ticks)
    t1=$(server_ticks "$root")
    if [ "$mode" = cclose ] || [ "$mode" = kalean ]; then
        grep '^responses=' "$f.raw" >"$f" || echo "responses=0 rps=0" >"$f"
    else
        parse_wrk <"$f.raw" >"$f"
    fi
    # Generator CPU: the second line of `times`, "1m2.5s 0m3.1s".
    gen=$(awk 'NR == 2 {
        n = split($1 " " $2, v, " "); s = 0
        for (i = 1; i <= n; i++) { split(v[i], m, "m"); s += m[1] * 60 + m[2] }
        print s }' "$f.times")
    awk -v t0="$t0" -v t1="$t1" -v hz="$CLK_TCK" -v g="$gen" -v d="$DURATION" \
        -v n="$(kv responses "$f")" -v b0="$b0" -v b1="$b1" 'BEGIN {
        split(b0, x, " "); split(b1, y, " "); split(t0, u, " "); split(t1, v, " ")
        cpu = (v[1] + v[2] - u[1] - u[2]) / hz
        usr = (v[1] - u[1]) / hz
        other = (y[4] - x[4]) / hz - cpu - g
        if (other < 0) other = 0
        printf " srv_cpu_s=%.2f srv_cpu_pct=%.1f srv_user_pct=%.1f srv_cpu_s_per_mreq=%.2f req_per_cpu_s=%.0f gen_cpu_s=%.2f gen_cpu_pct=%.1f core_srv_pct=%.1f core_gen_pct=%.1f other_cpu_pct=%.1f\n",
            cpu, 100 * cpu / d, (cpu > 0 ? 100 * usr / cpu : 0), (n > 0 ? cpu / (n / 1e6) : 0),
            (cpu > 0 ? n / cpu : 0), g, 100 * g / d,
            100 * (y[2] - x[2]) / hz / d, 100 * (y[3] - x[3]) / hz / d, 100 * other / d
    }' >"$f.cpu"
    # One line: the generator's numbers, then the CPU ones.
    printf '%s%s\n' "$(head -1 "$f")" "$(cat "$f.cpu")" >"$f.tmp"
    mv "$f.tmp" "$f"
    if [ -n "$c0" ]; then
        local c1
        c1=$(sinkhole_counters "$name") || c1=""
        if [ -n "$c1" ]; then
            awk -v a="$c0" -v b="$c1" -v n="$(kv responses "$f")" 'BEGIN {
                split(a, x, " "); split(b, y, " ")
                req = y[1] - x[1]; app = y[2] - x[2]; drop = y[3] - x[3] + y[4] - x[4]
                printf " sk_requests=%d sk_events_appended=%d sk_events_dropped=%d sk_malformed=%d sk_rejected=%d sk_all_logged=%s\n",
                    req, app, drop, y[5] - x[5], y[7] - x[7],
                    (drop == 0 && app >= req && req >= n) ? "yes" : "NO"
            }' >"$f.sk"
            printf '%s%s\n' "$(cat "$f")" "$(cat "$f.sk")" >"$f.tmp"
            mv "$f.tmp" "$f"
        else
            echo "$(cat "$f") sk_all_logged=unknown" >"$f.tmp" && mv "$f.tmp" "$f"
        fi
    fi
    log "$name $mode $tag: $(tr ' ' '\n' <"$f" | grep -E '^(rps|avg_us|p99_us|errors|err_connect|err_reset|err_short|err_timeout|non200|srv_cpu_pct|srv_user_pct|srv_cpu_s_per_mreq|gen_cpu_pct|core_srv_pct|core_gen_pct|other_cpu_pct|sk_events_appended|sk_events_dropped|sk_all_logged)=' | tr '\n' ' ')"
}

# pick NAME MODE: copy the median run by requests/s to NAME.MODE. Runs during
# which more than 10 % of a CPU went to other work are left out if any run
# was clean.
pick() {
    local name=$1 mode=$2 f clean=() all=() best
    for f in "$TMP/res/$name.$mode".[0-9]*; do
        [[ $f == *.raw || $f == *.times || $f == *.cpu || $f == *.sk ]] && continue
        all+=("$f")
        awk -v o="$(kv other_cpu_pct "$f")" 'BEGIN { exit !(o <= 10) }' && clean+=("$f")
    done
    [ ${#clean[@]} -gt 0 ] || clean=("${all[@]}")
    best=$(for f in "${clean[@]}"; do echo "$(kv rps "$f") $f"; done | sort -g |
        awk '{ l[NR] = $2 } END { print l[int((NR + 1) / 2)] }')
    cp "$best" "$TMP/res/$name.$mode"
    echo "${#clean[@]}/${#all[@]}" >"$TMP/res/$name.$mode.clean"
}

# ---- configs ----

read -r -a ports < <(free_ports 5)
PORT[trivial]=${ports[0]}
PORT[nginx]=${ports[1]}
PORT[nginxbuf]=${ports[2]}
PORT[sinkhole]=${ports[3]}
PORT[nolog]=${ports[4]}

# nginx: the temp paths of the modules this build has (nginx -V), so that no
# path outside the temp dir is used.
nginx_conf() {
    local name=$1 access=$2 dir=$TMP/$1 paths="" m user=""
    mkdir -p "$dir"
    for m in $(nginx -V 2>&1 | tr ' ' '\n' | sed -n 's/^--http-\([a-z-]*\)-temp-path=.*/\1/p'); do
        paths="$paths    $(echo "$m" | tr - _)_temp_path $dir/tmp-$m;\n"
    done
    [ "$(id -u)" = 0 ] && user="user root;"
    sed -e "/^#/!s|@DIR@|$dir|g" -e "/^#/!s|@PORT@|${PORT[$name]}|g" \
        -e "/^#/!s|@ACCESS@|$access|g" -e "/^#/!s|@USER@|$user|g" \
        -e "/^#/!s|@TEMP_PATHS@|$paths|g" "$HERE/nginx.conf.in" >"$dir/nginx.conf"
}
if command -v nginx >/dev/null; then
    nginx_conf nginx ""
    nginx_conf nginxbuf "buffer=64k flush=1s"
fi

# The sinkhole: one worker, the listener, a rule for the benchmark path
# (anything else gets the default reply, 200 with an empty body). Timeouts
# long enough for the idle test; max_per_source above wrk's connections
# (all from 127.0.0.1), so the per-source accounting runs without refusing.
cat >"$TMP/bench.rules" <<'EOF'
# bench/http: 200 "ok\n" for the benchmark path, like nginx's return 200.
rule bench family=bench
    match proto=http http.path=/x
    reply http status=200 header="Content-Type: text/plain" body="ok\n"
end
EOF
sinkhole_conf() {
    local name=$1
    cat >"$TMP/$name.ini" <<EOF
[server]
node = bench
data_dir = $TMP/$name-data
workers = 1
log_level = notice
[listener.http]
listen = 127.0.0.1:${PORT[$name]}
transport = tcp
sniff = auto
sniff_timeout_ms = 600000
header_timeout_ms = 600000
idle_timeout_ms = 600000
total_timeout_ms = 3600000
max_connections = 100000
max_per_source = 1000
[classify]
rules = $TMP/bench.rules
EOF
    if [ "$name" = nolog ]; then
        printf '[log]\nenabled = no\n' >>"$TMP/$name.ini"
    fi
}
sinkhole_conf sinkhole
sinkhole_conf nolog
if [ -x "$SINKHOLE" ]; then
    "$SINKHOLE" check-config -c "$TMP/sinkhole.ini" >&2
fi

# ---- load ----

log "temp dir $TMP; servers on CPU $SRV_CPU, generators on CPU $GEN_CPU; ${DURATION} s runs, $ROUNDS rounds"
active=()
for s in $SERVERS; do
    start "$s" && active+=("$s")
done
[ ${#active[@]} -gt 0 ] || {
    log "no server started"
    exit 1
}
if ! command -v wrk >/dev/null; then
    log "wrk not installed: only the connclose runs (scripts/deps.sh bench)"
    MODES=$(echo "$MODES" | tr ' ' '\n' | grep -vx 'ka\|close' | tr '\n' ' ')
fi
for s in "${active[@]}"; do
    if [ -n "$MODES" ] && command -v wrk >/dev/null; then
        taskset -c "$GEN_CPU" wrk -t1 -c "$CONNS" -d "${WARMUP}s" "http://127.0.0.1:${PORT[$s]}/x" >/dev/null 2>&1 || true
    fi
done
for r in $(seq 1 "$ROUNDS"); do
    for s in "${active[@]}"; do
        for m in $MODES; do
            wait_quiet ""
            run_load "$s" "$m" "$r"
        done
    done
done
for s in "${active[@]}"; do
    for m in $MODES; do
        pick "$s" "$m"
    done
done

# The sinkhole stops; its final stats.json must show every event written.
SINK_FINAL=""
if [[ " ${active[*]} " == *" sinkhole "* ]]; then
    stop_server sinkhole
    SINK_FINAL=$(python3 - "$TMP/sinkhole-data/stats.json" <<'EOF'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except (OSError, ValueError) as e:
    print("(stats.json unreadable: %s)" % e)
    sys.exit(0)
l, e = d["listeners"]["http"], d["events"]
ok = e["dropped"] == 0 and l["events_dropped"] == 0 and e["write_errors"] == 0 and \
    e["written"] == e["appended"] and e["appended"] >= l["requests"]
print("requests=%d events_appended=%d events_written=%d events_dropped=%d listener_events_dropped=%d "
      "write_errors=%d http_malformed=%d rejected=%d every_request_logged=%s" % (
          l["requests"], e["appended"], e["written"], e["dropped"], l["events_dropped"],
          e["write_errors"], l["http_malformed"],
          l["max_connections_rejected"] + l["per_source_rejected"], "yes" if ok else "NO"))
EOF
    )
    cp "$TMP/sinkhole-data/stats.json" "$TMP/res/sinkhole.stats.json" 2>/dev/null || true
    log "sinkhole after stop: $SINK_FINAL"
fi
for s in "${!ROOT[@]}"; do
    stop_server "$s"
done

# ---- idle connections ----

# The kernel's slab memory, KiB: sockets live there, not in the process.
slab_kb() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }

# run_idle NAME MODE: a fresh server; memory at 0 and at each stage.
declare -A IDLE_OK
run_idle() {
    local name=$1 mode=$2 line st m root
    local f=$TMP/res/$name.idle.$mode
    start "$name" || return 1
    root=${ROOT[$name]}
    sleep 0.5
    read -r -a m < <(server_mem "$root")
    echo "stage=0 open=0 rss_kb=${m[0]} pss_kb=${m[1]} priv_kb=${m[2]} fds=${m[3]} slab_kb=$(slab_kb)" >"$f"
    coproc HOLD { taskset -c "$GEN_CPU" "$IDLE" -p "${PORT[$name]}" -n "$IDLE_STAGES" -m "$mode" -w 1000 -l 300; }
    # shellcheck disable=SC2153 # set by coproc
    local hold_pid=$HOLD_PID hin hout
    # Own copies of the pipes: bash drops HOLD once the holder has exited.
    exec {hin}<&"${HOLD[0]}" {hout}>&"${HOLD[1]}"
    while read -r line <&"$hin"; do
        read -r -a m < <(server_mem "$root")
        st="$line rss_kb=${m[0]} pss_kb=${m[1]} priv_kb=${m[2]} fds=${m[3]} slab_kb=$(slab_kb)"
        if [[ $name == sinkhole ]]; then
            local c
            c=$(sinkhole_counters "$name") && st="$st sk_current=$(echo "$c" | cut -d' ' -f8)"
        fi
        echo "$st" >>"$f"
        echo next >&"$hout" || true
    done
    exec {hin}<&- {hout}>&-
    wait "$hold_pid" && IDLE_OK[$name.$mode]=yes || IDLE_OK[$name.$mode]=no
    stop_server "$name"
    log "$name idle $mode: $(tr '\n' ';' <"$f")"
}

if [ -n "$IDLE_STAGES" ]; then
    last=${IDLE_STAGES##*,}
    if [ "$NOFILE" -lt $((last + 100)) ]; then
        log "open-file limit $NOFILE: the idle test needs $((last + 100)); skipped"
        IDLE_STAGES=""
    fi
fi
idle_servers=()
if [ -n "$IDLE_STAGES" ]; then
    for s in "${active[@]}"; do
        [ "$s" = trivial ] && continue
        for m in $IDLE_MODES; do
            run_idle "$s" "$m" || true
        done
        idle_servers+=("$s")
    done
fi

# ---- report ----

mode_name() {
    case $1 in
    ka) echo "keep-alive (wrk)" ;;
    close) echo "Connection: close (wrk)" ;;
    cclose) echo "new connection (connclose)" ;;
    kalean) echo "keep-alive (connclose -k)" ;;
    esac
}

# Bytes per connection, least squares over the stages, of column $2 (KiB).
idle_fit() {
    awk -v col="$2" '{
        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        x = (v["stage"] == 0 ? 0 : v["open"]); y = v[col] * 1024
        n++; sx += x; sy += y; sxx += x * x; sxy += x * y; syy += y * y
    } END {
        d = n * sxx - sx * sx
        if (n < 2 || d == 0) { print "- -"; exit }
        b = (n * sxy - sx * sy) / d
        r = (n * sxy - sx * sy) / sqrt(d * (n * syy - sy * sy) + 1e-9)
        printf "%.0f %.4f\n", b, r * r
    }' "$1"
}

report() {
    local s m f c
    echo "machine: $(machine_desc), open-file limit $NOFILE"
    echo "date: $START (started; the run took $((SECONDS / 60)) min $((SECONDS % 60)) s)"
    echo "versions: $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), sinkhole $("$SINKHOLE" --version 2>/dev/null | head -1)"
    echo "method: server (all its threads) on CPU $SRV_CPU, generator on CPU $GEN_CPU; ${DURATION} s runs, median of $ROUNDS rounds;"
    echo "  wrk -t1 -c $CONNS; connclose -k with $CONNS connections; connclose -c $CC_CONNS from $CC_SOURCES source addresses;"
    echo "  every request GET /x answered 200 ok and logged; CPU-s / M req: the server's (all threads), of it user: the part in"
    echo "  user space; bound by: the core at 95 % or more (softirq included)"
    echo
    echo "| server | load | requests/s | avg µs | p50 µs | p99 µs | errors | server CPU | CPU-s / M req | of it user | req / CPU-s | gen CPU | CPU $SRV_CPU busy | CPU $GEN_CPU busy | bound by | other CPU | clean runs |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"
    for m in $MODES; do
        for s in "${active[@]}"; do
            f=$TMP/res/$s.$m
            [ -f "$f" ] || continue
            local err
            err=$(awk -v a="$(kv errors "$f")" -v b="$(kv err_connect "$f")" -v c="$(kv err_reset "$f")" \
                -v d="$(kv err_short "$f")" -v e="$(kv err_timeout "$f")" -v g="$(kv non200 "$f")" \
                'BEGIN { print a + b + c + d + e + g }')
            printf '| %s | %s | %s | %s | %s | %s | %s | %s%% | %s | %s | %s | %s%% | %s%% | %s%% | %s | %s%% | %s |\n' \
                "$s" "$(mode_name "$m")" "$(kv rps "$f")" "$(kv avg_us "$f")" "$(kv p50_us "$f")" \
                "$(kv p99_us "$f")" "$err" "$(kv srv_cpu_pct "$f")" "$(kv srv_cpu_s_per_mreq "$f")" \
                "$(awk -v c="$(kv srv_cpu_s_per_mreq "$f")" -v u="$(kv srv_user_pct "$f")" \
                    'BEGIN { printf "%.2f", c * u / 100 }')" \
                "$(kv req_per_cpu_s "$f")" \
                "$(kv gen_cpu_pct "$f")" "$(kv core_srv_pct "$f")" "$(kv core_gen_pct "$f")" \
                "$(awk -v a="$(kv core_srv_pct "$f")" -v b="$(kv core_gen_pct "$f")" 'BEGIN {
                    if (a >= 95 && b >= 95) print "both"
                    else if (a >= 95) print "server"
                    else if (b >= 95) print "generator"
                    else print "neither" }')" \
                "$(kv other_cpu_pct "$f")" "$(cat "$f.clean")"
        done
    done
    echo
    for s in sinkhole nolog nginxbuf; do
        for m in $MODES; do
            if [ ! -f "$TMP/res/$s.$m" ] || [ ! -f "$TMP/res/nginx.$m" ]; then
                continue
            fi
            awk -v s="$s" -v m="$(mode_name "$m")" -v sq="$(kv rps "$TMP/res/$s.$m")" \
                -v nq="$(kv rps "$TMP/res/nginx.$m")" -v sc="$(kv srv_cpu_s_per_mreq "$TMP/res/$s.$m")" \
                -v nc="$(kv srv_cpu_s_per_mreq "$TMP/res/nginx.$m")" \
                -v tq="$( [ -f "$TMP/res/trivial.$m" ] && kv rps "$TMP/res/trivial.$m" || echo 0)" \
                'BEGIN {
                    printf "%s/nginx, %s: requests/s %.2fx, CPU per request %.2fx", s, m,
                        (nq > 0 ? sq / nq : 0), (nc > 0 ? sc / nc : 0)
                    if (tq > 0) printf " (generator ceiling, trivial server: %.0f/s)", tq
                    printf "\n"
                }'
        done
    done
    for m in ka kalean; do
        if [ ! -f "$TMP/res/sinkhole.$m" ] || [ ! -f "$TMP/res/nginx.$m" ]; then
            continue
        fi
        awk -v m="$(mode_name "$m")" -v sq="$(kv rps "$TMP/res/sinkhole.$m")" -v nq="$(kv rps "$TMP/res/nginx.$m")" 'BEGIN {
            printf "goal %s >= 1.5x nginx: %s (%.2fx)\n", m, (sq >= 1.5 * nq ? "met" : "NOT met"), sq / nq }'
    done
    for m in close cclose; do
        if [ ! -f "$TMP/res/sinkhole.$m" ] || [ ! -f "$TMP/res/nginx.$m" ]; then
            continue
        fi
        awk -v m="$(mode_name "$m")" -v sq="$(kv rps "$TMP/res/sinkhole.$m")" -v nq="$(kv rps "$TMP/res/nginx.$m")" 'BEGIN {
            printf "goal %s >= nginx: %s (%.2fx)\n", m, (sq >= nq ? "met" : "NOT met"), sq / nq }'
    done
    echo
    local runs=0 bad=0
    for f in "$TMP/res/sinkhole".*.[0-9]*; do
        [[ $f == *.raw || $f == *.times || $f == *.cpu || $f == *.sk ]] && continue
        [ -f "$f" ] || continue
        runs=$((runs + 1))
        [ "$(kv sk_all_logged "$f")" = yes ] || bad=$((bad + 1))
    done
    if [ "$runs" -gt 0 ]; then
        echo "sinkhole: $runs runs, every request logged and no event dropped in $((runs - bad)) of them$([ "$bad" -gt 0 ] && echo ' (CHECK THE RAW RESULTS)')"
    fi
    [ -n "$SINK_FINAL" ] && echo "sinkhole counters after stop (stats.json): $SINK_FINAL"
    if [ ${#idle_servers[@]} -gt 0 ]; then
        echo
        echo "idle connections (stages $IDLE_STAGES; memory of the server's processes, KiB; bytes per connection from a least-squares line over 0 and the stages):"
        echo
        echo "| server | idle mode | RSS at 0 | $(echo "$IDLE_STAGES" | sed 's/,/ | /g' | sed 's/[0-9][0-9]*/RSS at &/g') | bytes/conn RSS | bytes/conn private | R² (RSS) | kernel slab bytes/conn (both ends) | descriptors at the end | held to the end |"
        echo "|---|---|---:|$(echo "$IDLE_STAGES" | sed 's/[^,]*/---:/g; s/,/|/g')|---:|---:|---:|---:|---:|---|"
        for s in "${idle_servers[@]}"; do
            for m in $IDLE_MODES; do
                f=$TMP/res/$s.idle.$m
                [ -f "$f" ] || continue
                local rss fitr fitp fits
                rss=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^rss_kb=/) { sub(/rss_kb=/, "", $i); printf "%s | ", $i } }' "$f")
                read -r -a fitr < <(idle_fit "$f" rss_kb)
                read -r -a fitp < <(idle_fit "$f" priv_kb)
                read -r -a fits < <(idle_fit "$f" slab_kb)
                printf '| %s | %s | %s%s | %s | %s | %s | %s | %s |\n' "$s" "$m" "$rss" "${fitr[0]}" "${fitp[0]}" \
                    "${fitr[1]}" "${fits[0]}" "$(tail -1 "$f" | tr ' ' '\n' | sed -n 's/^fds=//p')" \
                    "$(tail -1 "$f" | awk -v ok="${IDLE_OK[$s.$m]:-no}" '{
                        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                        printf "%s (open %s, failed %s, closed %s)", ok, v["open"], v["failed"], v["closed"] }')"
            done
        done
        echo
        for m in $IDLE_MODES; do
            f=$TMP/res/sinkhole.idle.$m
            [ -f "$f" ] || continue
            local fr fs
            read -r -a fr < <(idle_fit "$f" rss_kb)
            read -r -a fs < <(idle_fit "$f" slab_kb)
            awk -v m="$m" -v b="${fr[0]}" -v r2="${fr[1]}" -v k="${fs[0]}" \
                -v base="$(head -1 "$f" | tr ' ' '\n' | sed -n 's/^rss_kb=//p')" 'BEGIN {
                printf "sinkhole, idle %s: %d bytes of process memory per connection (goal <= 2048: %s), linear (R² %.4f); 1,000,000 such connections: about %.0f MiB of process memory, plus about %.1f GiB of kernel memory for the server'"'"'s sockets (half the both-ends slab figure)\n",
                    m, b, (b <= 2048 ? "met" : "NOT met"), r2, (base * 1024 + b * 1e6) / 1048576, k / 2 * 1e6 / 1073741824 }'
        done
    fi
}

publish_results
