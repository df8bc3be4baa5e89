#!/usr/bin/env bash
# bench/dns/run.sh -- the DNS benchmark: the sinkhole against NSD and Knot DNS.
#
# usage: bench/dns/run.sh BUILD_DIR
#
# Everything runs on 127.0.0.1, on free high ports, in one temp dir. Every
# server gets the same 100,000 seized names (NSD and Knot: one zone per name
# with a wildcard below the apex, from one shared zone file) and the same
# query file (exact names, random subdomains, 10% names not seized). Each
# server process, all its threads, is pinned to CPU 1 and the load generator
# to CPU 0, so one server core is measured against one generator core.
#
#   1. echo     a trivial UDP echo: the generator's own ceiling
#   2. closed   bench_dns_gen as fast as its window allows, BENCH_ROUNDS
#               rounds interleaved across the servers; the round with the
#               most queries/s is reported: queries/s, latency, server
#               CPU-s per million queries
#   3. open     the same rate for every server (half the slowest peer's
#               closed-loop rate), BENCH_ROUNDS rounds: latency at equal
#               load, the round with the lowest p99 reported
#
# The machine may be shared: before each run the script waits for other
# work to end, measures how much CPU went elsewhere during the run, and
# repeats a run that was disturbed (see measure and pick below).
#   4. dnsperf  a cross-check of the closed-loop rate with dnsperf
#
# Then the sinkhole is stopped and its data_dir/stats.json read: every query
# must have become an event, and events_dropped must be 0.
#
# Environment (all optional):
#   BENCH_DURATION=15   seconds per measured run (at most 120)
#   BENCH_WARMUP=3      seconds of warm-up per server
#   BENCH_ROUNDS=3      closed- and open-loop rounds per server
#   BENCH_WINDOW=256    queries in flight (closed loop)
#   BENCH_SOCKETS=8     generator sockets, i.e. source ports
#   BENCH_TIMEOUT=0.25  seconds after which a query counts as lost
#   BENCH_NAMES=100000  seized names
#   BENCH_RATE=         open-loop rate (default: derived, see above)
#   BENCH_SERVERS="echo nsd knot sinkhole nolog"   which to run (nolog: the
#                       sinkhole with [log] enabled = no, for the cost of the log)
#   BENCH_OUT=bench/out  where results.md and the raw results are copied
#   BENCH_QUIET_WAIT=60 seconds to wait for other work on the machine to end
#                       before each run (a run that shared the machine
#                       anyway is repeated, up to 3 times in all)
#   BENCH_PATIENCE_MIN=30  minutes after which runs are neither waited for
#                       nor repeated, so a busy machine cannot stretch the
#                       benchmark without bound
#   BENCH_KEEP=1        keep the temp dir
set -euo pipefail

BUILD=${1:?usage: bench/dns/run.sh BUILD_DIR}
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)

DURATION=${BENCH_DURATION:-15}
WARMUP=${BENCH_WARMUP:-3}
ROUNDS=${BENCH_ROUNDS:-3}
WINDOW=${BENCH_WINDOW:-256}
SOCKETS=${BENCH_SOCKETS:-8}
# A query not answered in this many seconds is lost. Short, because a lost
# query holds its window slot until then (on loopback an answer comes in
# microseconds, or in a few milliseconds on a busy machine).
TIMEOUT=${BENCH_TIMEOUT:-0.25}
NAMES=${BENCH_NAMES:-100000}
SERVERS=${BENCH_SERVERS:-echo nsd knot sinkhole nolog}
OUT=${BENCH_OUT:-$SRC/bench/out}
QUIET_WAIT=${BENCH_QUIET_WAIT:-60}
QUIET_STEP=2
PATIENCE=$((${BENCH_PATIENCE_MIN:-30} * 60)) # after this, no more waiting or repeating
# bench/CMakeLists.txt builds bench/dns/X.c as bench_dns_X in BUILD/bench.
GEN=$BUILD/bench/bench_dns_gen
ECHO=$BUILD/bench/bench_dns_echo
SINKHOLE=$BUILD/sinkhole
MAX_LIFE=3600 # no server started here outlives this, whatever happens
BENCH_TAG=dns
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$HERE/../lib.sh"

if [ "$DURATION" -gt 120 ] || [ "$WARMUP" -gt 60 ] || [ "$ROUNDS" -gt 10 ]; then
    echo "bench/dns: BENCH_DURATION <= 120, BENCH_WARMUP <= 60, BENCH_ROUNDS <= 10" >&2
    exit 2
fi
require_tools "$GEN" "$ECHO"
require_cmds python3 dig taskset timeout
if [ "$(nproc)" -lt 2 ]; then
    echo "bench/dns: needs 2 CPUs (server on CPU 1, generator on CPU 0)" >&2
    exit 1
fi
GEN_CPU=0
SRV_CPU=1

bench_tmp

# ---- processes ----

# utime + stime, in clock ticks, of $1 and all its descendants (all threads).
tree_ticks() {
    local t
    # shellcheck disable=SC2046 # one PID per word
    t=$(pids_ticks $(proc_tree "$1"))
    echo $((${t% *} + ${t#* }))
}

# Resident memory of the tree, in MiB.
tree_rss_mb() {
    # shellcheck disable=SC2046 # one PID per word
    echo $(($(pids_rss_kb $(proc_tree "$1")) / 1024))
}

# Pin every thread of every process in the tree to the server CPU. Some
# servers (Knot) set their own worker affinity at start; this overrides it.
pin_tree() {
    local p
    for p in $(proc_tree "$1"); do
        taskset -a -c -p "$SRV_CPU" "$p" >/dev/null 2>&1 || true
    done
}

# Wait until server $1 answers for the first and the last seized name, then
# until its CPU goes quiet (zone loading finished). Fails after 300 s.
wait_ready() {
    local name=$1 port=${PORT[$1]} first last i a b
    first=$(grep -v '^#' "$TMP/names.txt" | head -1)
    last=$(tail -1 "$TMP/names.txt")
    for i in $(seq 1 300); do
        if ! alive "${ROOT[$name]}"; then
            log "$name exited; its output:"
            tail -20 "$TMP/$name.out" >&2
            return 1
        fi
        if [ "$name" = echo ]; then
            dig +time=1 +tries=1 @127.0.0.1 -p "$port" example.com A 2>/dev/null |
                grep -q 'status: NOERROR' && break
        elif dig +short +time=1 +tries=1 @127.0.0.1 -p "$port" "$first" A 2>/dev/null |
            grep -q 192.0.2.10 &&
            dig +short +time=1 +tries=1 @127.0.0.1 -p "$port" "x.$last" AAAA 2>/dev/null |
            grep -q 2001:db8::10; then
            break
        fi
        sleep 1
    done
    [ "$i" -lt 300 ] || {
        log "$name not ready after 300 s"
        return 1
    }
    for i in $(seq 1 120); do
        a=$(tree_ticks "${ROOT[$name]}")
        sleep 1
        b=$(tree_ticks "${ROOT[$name]}")
        # At most 10 % of a CPU: loading is over (some idle servers poll).
        [ $((b - a)) -le $((CLK_TCK / 10)) ] && break
    done
    pin_tree "${ROOT[$name]}"
    log "$name ready on port $port after $i s idle wait, rss $(tree_rss_mb "${ROOT[$name]}") MiB"
}

# ---- results ----

# Run the generator against server $1: run_gen NAME TAG ARGS...; writes
# $TMP/res/NAME.TAG with the generator's line plus the server's CPU.
run_gen() {
    local name=$1 tag=$2 root t0 t1 f
    shift 2
    root=${ROOT[$name]}
    f=$TMP/res/$name.$tag
    local s0 s1
    t0=$(tree_ticks "$root")
    s0=$(sys_busy_ticks)
    taskset -c "$GEN_CPU" "$GEN" -p "${PORT[$name]}" -d "$TMP/queries.txt" -e \
        -c "$SOCKETS" -t "$TIMEOUT" "$@" >"$f"
    s1=$(sys_busy_ticks)
    t1=$(tree_ticks "$root")
    local recv elapsed gen extra
    recv=$(kv received "$f")
    elapsed=$(kv elapsed_s "$f")
    gen=$(kv gen_cpu_total_s "$f")
    # other_cpu_pct: CPU used by anything but the server and the generator
    # during the run, in % of one CPU; above 10 the run is not clean.
    extra=$(awk -v t=$((t1 - t0)) -v all=$((s1 - s0)) -v g="$gen" -v hz="$CLK_TCK" \
        -v n="$recv" -v e="$elapsed" 'BEGIN {
        cpu = t / hz
        other = all / hz - cpu - g
        if (other < 0) other = 0
        printf "srv_cpu_s=%.2f srv_cpu_pct=%.1f srv_cpu_s_per_mq=%.2f other_cpu_pct=%.1f", cpu,
            (e > 0 ? 100 * cpu / e : 0), (n > 0 ? cpu / (n / 1e6) : 0),
            (e > 0 ? 100 * other / e : 0)
    }')
    printf '%s %s\n' "$(cat "$f")" "$extra" >"$f.tmp"
    mv "$f.tmp" "$f"
    log "$name $tag: $(tr ' ' '\n' <"$f" | grep -E '^(qps|avg_us|p99_us|lost|gen_cpu_pct|srv_cpu_pct|srv_cpu_s_per_mq|other_cpu_pct)=' | tr '\n' ' ')"
}

run_dnsperf() {
    local name=$1
    local f=$TMP/res/$name.dnsperf
    taskset -c "$GEN_CPU" dnsperf -s 127.0.0.1 -p "${PORT[$name]}" -d "$TMP/queries.txt" \
        -l "$DURATION" -c "$SOCKETS" -T 1 -q "$WINDOW" -e -t 1 >"$f.raw" 2>&1 || true
    local qps lat lost
    qps=$(awk '/Queries per second:/ { printf "%.0f", $4 }' "$f.raw")
    lat=$(awk '/Average Latency \(s\):/ { printf "%.1f", $4 * 1e6 }' "$f.raw")
    lost=$(awk '/Queries lost:/ { print $3 }' "$f.raw")
    echo "qps=${qps:-0} avg_us=${lat:-0} lost=${lost:-0}" >"$f"
    log "$name dnsperf: $(cat "$f")"
}

# ---- data and configs ----

mkdir -p "$TMP/res" "$TMP/nsd" "$TMP/knot" "$TMP/data"
log "temp dir $TMP; generating $NAMES names and the query file"
python3 "$HERE/mkdata.py" "$TMP" --names "$NAMES"

# Free ports, all chosen at once so they differ.
read -r -a ports < <(free_ports 5 udp)
PORT[echo]=${ports[0]}
PORT[nsd]=${ports[1]}
PORT[knot]=${ports[2]}
PORT[sinkhole]=${ports[3]}
PORT[nolog]=${ports[4]}

cat >"$TMP/nsd/nsd.conf" <<EOF
# NSD: one server process, no rate limiting, everything in the temp dir.
server:
	server-count: 1
	ip-address: 127.0.0.1@${PORT[nsd]}
	port: ${PORT[nsd]}
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "$TMP/nsd"
	database: ""
	zonelistfile: "$TMP/nsd/zone.list"
	pidfile: "$TMP/nsd/nsd.pid"
	xfrdfile: "$TMP/nsd/xfrd.state"
	xfrdir: "$TMP/nsd"
	logfile: "$TMP/nsd/nsd.log"
	verbosity: 0
	rrl-ratelimit: 0
	refuse-any: yes
remote-control:
	control-enable: no
pattern:
	name: seized
	zonefile: "$TMP/zone.template"
include: "$TMP/nsd-zones.conf"
EOF

cat >"$TMP/knot/knot.conf" <<EOF
# Knot DNS: one worker of each kind, no rate limiting (no mod-rrl),
# everything in the temp dir, zone files never written back.
server:
    rundir: "$TMP/knot"
    listen: 127.0.0.1@${PORT[knot]}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
database:
    storage: "$TMP/knot"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "$TMP/knot"
    file: "$TMP/zone.template"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
include: "$TMP/knot-zones.conf"
EOF

cat >"$TMP/sinkhole.ini" <<EOF
[server]
node = bench
data_dir = $TMP/data
workers = 1
[dns]
listen = 127.0.0.1:${PORT[sinkhole]}
answer_a = 192.0.2.10
answer_aaaa = 2001:db8::10
ttl = 300
soa_mname = ns1.sinkhole.example
soa_rname = abuse.sinkhole.example
ns = ns1.sinkhole.example ns2.sinkhole.example
rrl_ratelimit = 0
[seized.bench]
file = $TMP/names.txt
family = bench
EOF
# The same sinkhole with the event log off: what the log costs.
sed -e "s|^listen = .*|listen = 127.0.0.1:${PORT[nolog]}|" \
    -e "s|^data_dir = .*|data_dir = $TMP/data-nolog|" "$TMP/sinkhole.ini" >"$TMP/nolog.ini"
printf '[log]\nenabled = no\n' >>"$TMP/nolog.ini"

# ---- start the servers ----

active=()
for s in $SERVERS; do
    case $s in
    echo) start_server echo "$ECHO" -p "${PORT[echo]}" -l "$MAX_LIFE" ;;
    nsd)
        command -v nsd >/dev/null || { log "nsd not installed, skipped"; continue; }
        start_server nsd nsd -d -c "$TMP/nsd/nsd.conf"
        ;;
    knot)
        command -v knotd >/dev/null || { log "knotd not installed, skipped"; continue; }
        start_server knot knotd -c "$TMP/knot/knot.conf"
        ;;
    sinkhole)
        [ -x "$SINKHOLE" ] || { log "$SINKHOLE missing, skipped"; continue; }
        start_server sinkhole "$SINKHOLE" serve -c "$TMP/sinkhole.ini"
        ;;
    nolog)
        [ -x "$SINKHOLE" ] || { log "$SINKHOLE missing, skipped"; continue; }
        start_server nolog "$SINKHOLE" serve -c "$TMP/nolog.ini"
        ;;
    *)
        log "unknown server $s"
        exit 2
        ;;
    esac
    if wait_ready "$s"; then
        active+=("$s")
    else
        stop_server "$s"
    fi
done
[ ${#active[@]} -gt 0 ] || { log "no server started"; exit 1; }

# ---- closed loop: rounds interleaved across servers ----

for s in "${active[@]}"; do
    taskset -c "$GEN_CPU" "$GEN" -p "${PORT[$s]}" -d "$TMP/queries.txt" -e -c "$SOCKETS" \
        -w "$WINDOW" -l "$WARMUP" >/dev/null
done
# measure NAME KIND ARGS...: one generator run after waiting for a quiet
# machine, done again (up to 3 times in all) while more than 10 % of a CPU
# went to other work during it. Every attempt is kept as NAME.KIND.N.
declare -A ATTEMPTS
measure() {
    local name=$1 kind=$2 try n other
    shift 2
    for try in 1 2 3; do
        n=$((${ATTEMPTS[$name.$kind]:-0} + 1))
        ATTEMPTS[$name.$kind]=$n
        wait_quiet " elsewhere"
        run_gen "$name" "$kind.$n" "$@"
        other=$(kv other_cpu_pct "$TMP/res/$name.$kind.$n")
        awk -v o="$other" 'BEGIN { exit !(o <= 10) }' && return 0
        [ "$SECONDS" -lt "$PATIENCE" ] || return 0
        log "$name $kind: ${other}% of a CPU went elsewhere during the run$([ "$try" -lt 3 ] && echo ', again')"
    done
}

# pick NAME KIND KEY min|max: copy the attempt with the smallest or largest
# KEY to NAME.KIND. Other work on the machine only ever lowers throughput and
# raises latency, so the best attempt is the closest to the truth.
pick() {
    local name=$1 kind=$2 key=$3 how=$4 f best
    best=$(for f in "$TMP/res/$name.$kind".[0-9]*; do
        echo "$(kv "$key" "$f") $f"
    done | sort -g | if [ "$how" = max ]; then tail -1; else head -1; fi | cut -d' ' -f2)
    cp "$best" "$TMP/res/$name.$kind"
}

for _ in $(seq 1 "$ROUNDS"); do
    for s in "${active[@]}"; do
        measure "$s" closed -w "$WINDOW" -l "$DURATION"
    done
done
for s in "${active[@]}"; do
    pick "$s" closed qps max
done

# ---- open loop at one rate for all ----

RATE=${BENCH_RATE:-}
if [ -z "$RATE" ]; then
    RATE=$(for s in "${active[@]}"; do
        [ "$s" = echo ] || kv qps "$TMP/res/$s.closed"
    done | sort -n | head -1)
    RATE=$(awk -v q="${RATE:-100000}" 'BEGIN { r = int(q / 2 / 10000) * 10000; print r < 10000 ? 10000 : r }')
fi
for _ in $(seq 1 "$ROUNDS"); do
    for s in "${active[@]}"; do
        measure "$s" open -w 4096 -Q "$RATE" -l "$DURATION"
    done
done
for s in "${active[@]}"; do
    pick "$s" open p99_us min
done

# ---- dnsperf cross-check ----

if command -v dnsperf >/dev/null; then
    for s in "${active[@]}"; do
        wait_quiet " elsewhere"
        run_dnsperf "$s"
    done
else
    log "dnsperf not installed, cross-check skipped"
fi

# ---- sinkhole: stop it and read its counters ----

declare -A RSS
for s in "${active[@]}"; do
    RSS[$s]=$(tree_rss_mb "${ROOT[$s]}")
done
SINK_STATS=""
if [[ " ${active[*]} " == *" sinkhole "* ]]; then
    stop_server sinkhole
    if [ -f "$TMP/data/stats.json" ]; then
        SINK_STATS=$(python3 - "$TMP/data/stats.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
q, e = d["dns"]["queries"], d["events"]
ok = e["written"] >= q and e["dropped"] == 0 and e["write_errors"] == 0
print("queries=%d responses=%d events_appended=%d events_written=%d events_dropped=%d "
      "write_errors=%d every_query_logged=%s" % (q, d["dns"]["responses"], e["appended"],
      e["written"], e["dropped"], e["write_errors"], "yes" if ok else "NO"))
EOF
        ) || SINK_STATS="(stats.json unreadable)"
        cp "$TMP/data/stats.json" "$TMP/res/sinkhole.stats.json"
    else
        SINK_STATS="(no stats.json written)"
    fi
    log "sinkhole counters: $SINK_STATS"
fi

# ---- report ----

report() {
    local s f o d
    echo "machine: $(machine_desc)"
    echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "method: server (all threads) on CPU $SRV_CPU, generator on CPU $GEN_CPU; $NAMES seized names;"
    echo "  closed loop: window $WINDOW, $SOCKETS sockets, ${DURATION} s, best of $ROUNDS rounds;"
    echo "  open loop: $RATE queries/s for ${DURATION} s, best p99 of $ROUNDS rounds; EDNS0 on every query"
    echo "  runs (disturbed ones repeated):$(for s in "${active[@]}"; do printf ' %s %s+%s' "$s" "${ATTEMPTS[$s.closed]}" "${ATTEMPTS[$s.open]}"; done)"
    echo
    echo "| server | qps | avg µs | p99 µs | lost | server CPU | CPU-s / M queries | queries / CPU-s | gen CPU | other CPU | open-loop avg µs | open-loop p99 µs | dnsperf qps | dnsperf avg µs | RSS MiB |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for s in "${active[@]}"; do
        f=$TMP/res/$s.closed
        o=$TMP/res/$s.open
        d=$TMP/res/$s.dnsperf
        printf '| %s | %s | %s | %s | %s | %s%% | %s | %s | %s%% | %s%% | %s | %s | %s | %s | %s |\n' \
            "$s" "$(kv qps "$f")" "$(kv avg_us "$f")" "$(kv p99_us "$f")" "$(kv lost "$f")" \
            "$(kv srv_cpu_pct "$f")" "$(kv srv_cpu_s_per_mq "$f")" \
            "$(awk -v c="$(kv srv_cpu_s_per_mq "$f")" 'BEGIN { printf "%.0f", (c > 0 ? 1e6 / c : 0) }')" \
            "$(kv gen_cpu_pct "$f")" \
            "$(kv other_cpu_pct "$f")" \
            "$(kv avg_us "$o")" "$(kv p99_us "$o")" \
            "$( [ -f "$d" ] && kv qps "$d" || echo -)" "$( [ -f "$d" ] && kv avg_us "$d" || echo -)" \
            "${RSS[$s]}"
    done
    echo
    if [ -f "$TMP/res/echo.closed" ]; then
        awk -v q="$(kv received "$TMP/res/echo.closed")" -v c="$(kv gen_cpu_s "$TMP/res/echo.closed")" \
            -v e="$(kv qps "$TMP/res/echo.closed")" 'BEGIN {
            if (q > 0 && c > 0)
                printf "generator: %.2f µs of CPU per query (send + receive), so one core drives about %.0f queries/s; the echo reached %.0f\n",
                    1e6 * c / q, q / c, e
        }'
    fi
    for s in "${active[@]}"; do
        echo "rcodes $s: $(tr ' ' '\n' <"$TMP/res/$s.closed" | grep -E '^(noerror|refused|nxdomain|servfail|formerr|notimp|other_rcode|tc|mismatched|late)=' | tr '\n' ' ')"
    done
    if [[ " ${active[*]} " == *" sinkhole "* ]]; then
        echo
        local peer
        for peer in nsd knot; do
            [ -f "$TMP/res/$peer.closed" ] || continue
            awk -v p="$peer" \
                -v sq="$(kv qps "$TMP/res/sinkhole.closed")" -v pq="$(kv qps "$TMP/res/$peer.closed")" \
                -v sc="$(kv srv_cpu_s_per_mq "$TMP/res/sinkhole.closed")" -v pc="$(kv srv_cpu_s_per_mq "$TMP/res/$peer.closed")" \
                -v s9="$(kv p99_us "$TMP/res/sinkhole.open")" -v p9="$(kv p99_us "$TMP/res/$peer.open")" \
                -v sd="$(kv qps "$TMP/res/sinkhole.dnsperf" 2>/dev/null)" -v pd="$(kv qps "$TMP/res/$peer.dnsperf" 2>/dev/null)" \
                'BEGIN {
                    printf "sinkhole/%s: qps %.2fx, CPU per query %.2fx, open-loop p99 %.2fx, dnsperf qps %.2fx\n",
                        p, (pq > 0 ? sq / pq : 0), (pc > 0 ? sc / pc : 0),
                        (p9 > 0 ? s9 / p9 : 0), (pd > 0 ? sd / pd : 0)
                }'
        done
        if [ -f "$TMP/res/nolog.closed" ]; then
            awk -v sq="$(kv qps "$TMP/res/sinkhole.closed")" -v nq="$(kv qps "$TMP/res/nolog.closed")" \
                -v sc="$(kv srv_cpu_s_per_mq "$TMP/res/sinkhole.closed")" -v nc="$(kv srv_cpu_s_per_mq "$TMP/res/nolog.closed")" \
                'BEGIN {
                    printf "sinkhole log on / log off (nolog): qps %.3f, CPU per query %.3f\n",
                        (nq > 0 ? sq / nq : 0), (nc > 0 ? sc / nc : 0)
                }'
        fi
        echo "sinkhole counters (stats.json after stop): $SINK_STATS"
    else
        echo "sinkhole: not run ($SINKHOLE missing or did not start)"
    fi
}

publish_results
