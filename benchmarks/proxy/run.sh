#!/bin/bash
# Proxy benchmarks: sentinel-proxy vs the HAProxy role:master recipe vs a
# direct connection, in one run, interleaved; results with ratios go to
# benchmarks/proxy/RESULTS-proxy.md.
#
#   benchmarks/proxy/run.sh [BUILD_DIR]      (default: build)
#
# Parts:
#   throughput  redis-benchmark -c 50 GET and SET, without and with -P 16,
#               and without pipelining with --dbnum 2 (every client SELECTs first),
#               ROUNDS rounds, the four paths (direct, sentinel-proxy
#               multiplexed as by default, sentinel-proxy --multiplex no,
#               HAProxy) interleaved in every round; the median round is
#               reported, with p99 latency
#   memory      VmRSS of an idle proxy, and with 1,000 idle clients
#   failover    kill, freeze and manual failover, each on a fresh topology,
#               through sentinel-proxy (a write loop on its own master
#               connection, and one multiplexed) and through HAProxy: a write loop of
#               unique keys reports the longest gap between acknowledged
#               writes, acknowledged writes missing from the final master,
#               and those of them acknowledged by the demoted master
#
# Needs redis-server, redis-sentinel, redis-benchmark, haproxy (Debian's).
# Several masters in one process: benchmarks/proxy/routes.sh (its own
# section of RESULTS-proxy.md, kept here).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

if [ "${1:-}" != __inner ]; then
    BUILD=$(cd "${1:-$ROOT/build}" && pwd) || exit 2
    export PROXY_BIN=$BUILD/libsentinel/tools/sentinel-proxy
    export PROXY_CLIENT=$BUILD/tests/proxy/proxy-client
    export TOPOLOGY_BIN=$BUILD/tests/harness/sentinel-topology
    for b in "$PROXY_BIN" "$PROXY_CLIENT" "$TOPOLOGY_BIN"; do
        [ -x "$b" ] || { echo "missing $b: build first" >&2; exit 2; }
    done
    for b in redis-server redis-sentinel redis-benchmark haproxy; do
        command -v "$b" >/dev/null || { echo "missing $b" >&2; exit 2; }
    done
    export BENCH_OUT=$(mktemp -d /tmp/proxy-bench.XXXXXX)
    export ROUNDS=${ROUNDS:-5}
    echo "working in $BENCH_OUT" >&2
    "$TOPOLOGY_BIN" run -- bash "$0" __inner throughput || exit 1
    for scen in kill freeze manual; do
        for target in proxy proxy-mux haproxy; do
            "$TOPOLOGY_BIN" run -- bash "$0" __inner failover "$scen" "$target" ||
                echo "$scen $target FAILED" >>"$BENCH_OUT/failover.txt"
        done
    done
    # The several-masters section is routes.sh's: keep it.
    ROUTES_SECTION=$(sed -n '/^<!-- routes:begin -->/,/^<!-- routes:end -->/p' "$HERE/RESULTS-proxy.md")
    bash "$0" __inner report >"$HERE/RESULTS-proxy.md"
    [ -z "$ROUTES_SECTION" ] || printf '\n%s\n' "$ROUTES_SECTION" >>"$HERE/RESULTS-proxy.md"
    cat "$HERE/RESULTS-proxy.md"
    exit 0
fi

# ---------------------------------------------------------------------------
# Inside a topology
# ---------------------------------------------------------------------------
shift
PART=$1
shift
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT

free_port() {
    local p
    for _ in $(seq 1 100); do
        p=$((10000 + RANDOM % 20000)) # below the ephemeral port range
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
    return 1
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

start_proxy() { # [FLAGS...]; sets PROXY_PORT PROXY_PID
    PROXY_PORT=$(free_port)
    "$PROXY_BIN" --listen "127.0.0.1:$PROXY_PORT" --sentinel "$SENTINEL_TEST_SENTINELS" \
        --master "$SENTINEL_TEST_MASTER_NAME" --max-clients 2000 "$@" \
        2>>"$BENCH_OUT/proxy-$PART.log" &
    PROXY_PID=$!
    PIDS+=("$PROXY_PID")
    for _ in $(seq 1 100); do
        [ "$(timeout 2 redis-cli -p "$PROXY_PORT" PING 2>/dev/null)" = PONG ] && return 0
        sleep 0.05
    done
    echo "proxy did not start" >&2
    return 1
}

start_haproxy() { # sets HAPROXY_PORT HAPROXY_PID
    local servers="" i=0 cfg=$BENCH_OUT/haproxy-$PART.cfg
    HAPROXY_PORT=$(free_port)
    for p in $(echo "$SENTINEL_TEST_NODE_PORTS" | tr ', ' '  '); do
        servers+="    server redis$i 127.0.0.1:$p check inter 1s"$'\n'
        i=$((i + 1))
    done
    awk -v port="$HAPROXY_PORT" -v servers="$servers" \
        '{ gsub("@PORT@", port); if ($0 == "@SERVERS@") printf "%s", servers; else print }' \
        "$HERE/haproxy.cfg" >"$cfg"
    haproxy -f "$cfg" -db 2>>"$BENCH_OUT/haproxy-$PART.log" &
    HAPROXY_PID=$!
    PIDS+=("$HAPROXY_PID")
    # HAProxy starts with every server up until its checks say otherwise:
    # wait until 20 fresh connections in a row reach the master.
    local good=0
    for _ in $(seq 1 300); do
        if [ "$(timeout 2 redis-cli -p "$HAPROXY_PORT" ROLE 2>/dev/null | head -n1)" = master ]; then
            good=$((good + 1))
            [ $good -ge 20 ] && return 0
        else
            good=0
            sleep 0.1
        fi
    done
    echo "haproxy did not settle" >&2
    return 1
}

case $PART in
throughput)
    start_proxy --multiplex no || exit 1
    OWN_PORT=$PROXY_PORT
    start_proxy || exit 1
    start_haproxy || exit 1
    DIRECT=$SENTINEL_TEST_MASTER_PORT
    sleep 1
    # Memory first, on fresh processes.
    P_IDLE=$(rss_kb "$PROXY_PID")
    H_IDLE=$(rss_kb "$HAPROXY_PID")
    for t in proxy haproxy; do
        port=$PROXY_PORT pid=$PROXY_PID
        [ $t = haproxy ] && port=$HAPROXY_PORT pid=$HAPROXY_PID
        "$PROXY_CLIENT" idle --port "$port" --count 1000 --seconds 6 >"$BENCH_OUT/idle-$t.out" &
        IDLE=$!
        for _ in $(seq 1 100); do
            grep -q opened= "$BENCH_OUT/idle-$t.out" && break
            sleep 0.1
        done
        sleep 1
        echo "$t $(rss_kb "$pid")" >>"$BENCH_OUT/rss-1000.txt"
        wait $IDLE
    done
    echo "proxy_idle $P_IDLE" >"$BENCH_OUT/rss.txt"
    echo "haproxy_idle $H_IDLE" >>"$BENCH_OUT/rss.txt"
    while read -r t kb; do echo "${t}_1000 $kb" >>"$BENCH_OUT/rss.txt"; done <"$BENCH_OUT/rss-1000.txt"

    # Throughput, interleaved: every round runs every path once.
    : >"$BENCH_OUT/throughput.csv"
    for round in $(seq 1 "$ROUNDS"); do
        for pipe in 1 16 db2; do
            n=100000
            [ $pipe = 16 ] && n=1000000
            depth=$pipe extra=()
            [ $pipe = db2 ] && depth=1 extra=(--dbnum 2) # SELECT 2 first, as Magento's clients
            for t in direct proxy proxy-own haproxy; do
                port=$DIRECT
                [ $t = proxy ] && port=$PROXY_PORT
                [ $t = proxy-own ] && port=$OWN_PORT
                [ $t = haproxy ] && port=$HAPROXY_PORT
                redis-benchmark -p "$port" -c 50 -n $n -P "$depth" "${extra[@]}" -t set,get \
                    -r 100000 --csv 2>/dev/null |
                    awk -F, -v t=$t -v p=$pipe -v r=$round 'NR > 1 {
                        gsub(/"/, ""); print r "," t "," p "," $1 "," $2 "," $7 }' \
                        >>"$BENCH_OUT/throughput.csv"
            done
        done
    done
    ;;
failover)
    SCEN=$1
    TARGET=$2
    MUX=()
    [ "$TARGET" = proxy-mux ] && MUX=(--mux)
    if [ "$TARGET" != haproxy ]; then
        start_proxy || exit 1
        port=$PROXY_PORT
    else
        start_haproxy || exit 1
        port=$HAPROXY_PORT
    fi
    rm -f "$BENCH_OUT/fault.ms"
    "$PROXY_CLIENT" writeloop "${MUX[@]}" --port "$port" --seconds 15 --count 10000000 \
        --fault-file "$BENCH_OUT/fault.ms" \
        --prefix "$SCEN-$TARGET" >"$BENCH_OUT/wl.out" 2>&1 &
    WL=$!
    sleep 3
    # The failover step shared with the proxy tests and the soak (sync
    # point, fault, switch; the write loop excuses only what the sync point
    # says).
    . "$ROOT/tests/proxy/faults.sh"
    if ! failover_scenario "$SCEN" "$BENCH_OUT/fault.ms" 2 >/dev/null; then
        # no failover measured: the caller records this run as FAILED
        echo "$SCEN $TARGET: fault or switch failed" >&2
        wait $WL
        exit 1
    fi
    wait $WL
    echo "$SCEN $TARGET $(cat "$BENCH_OUT/wl.out")" >>"$BENCH_OUT/failover.txt"
    ;;
report)
    bash "$HERE/report.sh" "$BENCH_OUT"
    ;;
esac
