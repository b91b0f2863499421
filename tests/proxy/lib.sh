# Helpers for the proxy tests: sourced by every test_*.sh.
#
# A test script re-executes itself under `sentinel-topology run` (which
# starts 1 master, 2 replicas and 3 sentinels and exports their ports), so
# every topology process is cleaned up by the harness even when the test
# fails. Proxies started here are killed by pid on exit. Every wait is
# bounded.

set -u
# shellcheck source=started.sh
. "$(dirname "${BASH_SOURCE[0]}")/started.sh"

: "${PROXY_BIN:?PROXY_BIN must point to sentinel-proxy}"
: "${PROXY_CLIENT:?PROXY_CLIENT must point to proxy-client}"
: "${TOPOLOGY_BIN:?TOPOLOGY_BIN must point to sentinel-topology}"

# run_in_topology [topology options]: call first; re-executes the script.
run_in_topology() {
    if [ -z "${SENTINEL_TEST_DIR:-}" ]; then
        exec "$TOPOLOGY_BIN" run "$@" -- bash "$0" "${SCRIPT_ARGS[@]}"
    fi
}

WORK=$(mktemp -d /tmp/proxy-test.XXXXXX)
PROXY_PIDS=()

cleanup() {
    local pid
    for pid in "${PROXY_PIDS[@]}"; do
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ -n "${KEEP_LOGS:-}" ] || [ "${TEST_FAILED:-0}" = 1 ]; then
        echo "logs kept in $WORK" >&2
        for f in "$WORK"/*.log; do
            [ -f "$f" ] || continue
            echo "---- $f (last 40 lines)" >&2
            tail -n 40 "$f" >&2
        done
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    TEST_FAILED=1
    exit 1
}

ok() {
    echo "ok: $*"
}

ctl() {
    "$TOPOLOGY_BIN" ctl "$@"
}

# start_proxy NAME [extra args]: sets NAME_PID, NAME_PORT, NAME_ADMIN and
# NAME_LOG. Waits (bounded) for the proxy to say it is ready.
start_proxy() {
    local name=$1 log i line pid
    shift
    log=$WORK/$name.log
    : >"$log" # before the child opens it: a reused NAME shows no stale "ready"
    "$PROXY_BIN" --listen 127.0.0.1:0 --admin 127.0.0.1:0 \
        --sentinel "$SENTINEL_TEST_SENTINELS" --master "$SENTINEL_TEST_MASTER_NAME" \
        --log-level debug "$@" 2>"$log" &
    pid=$!
    PROXY_PIDS+=("$pid")
    for i in $(seq 1 200); do
        if grep -q "ready: master" "$log" 2>/dev/null; then
            break
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            cat "$log" >&2
            fail "proxy $name exited during start"
        fi
        sleep 0.05
    done
    grep -q "ready: master" "$log" || fail "proxy $name did not start"
    proxy_started "$name" "$pid" "$log"
}

stop_proxy() { # pid: SIGTERM, then wait (bounded); returns its status
    local pid=$1 i rc
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$pid" 2>/dev/null && { kill -9 "$pid"; fail "proxy $pid ignored SIGTERM"; }
    wait "$pid"
    rc=$?
    return $rc
}

# http ADMINPORT PATH: the whole response, headers included.
http() {
    local port=$1 path=$2
    exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
    printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$path" >&3
    timeout 5 cat <&3
    exec 3<&-
}

# metric ADMINPORT NAME: the value of an unlabelled metric.
metric() {
    http "$1" /metrics | awk -v n="sentinel_proxy_$2" '$1 == n { print $2 }'
}

# wait_until SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_until() {
    local secs=$1 i
    shift
    for i in $(seq 1 $((secs * 10))); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

rcli() { # port args...: redis-cli with a bounded run time
    local port=$1
    shift
    timeout 10 redis-cli -p "$port" "$@"
}

# field KEY LINE: value of key=value in a summary line
field() {
    echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# pong PORT: the proxy on PORT answers PING with PONG.
pong() {
    [ "$(timeout 5 redis-cli -p "$1" PING 2>/dev/null)" = PONG ]
}

# forwards_to PORT NODEPORT: the proxy on PORT forwards to NODEPORT.
forwards_to() {
    [ "$(timeout 5 redis-cli -p "$1" CONFIG GET port 2>/dev/null | tail -n1)" = "$2" ]
}

# route_port LOG NAME: the port route NAME of a several-master proxy logged
# in LOG that it listens on.
route_port() {
    sed -n "s/.*\[$2\] listening on [0-9.]*:\([0-9]*\)$/\1/p" "$1" | head -n1
}

# another_master NAME [redis-server args...]: one more master, a Redis of
# its own on a free port ($PORT on return), monitored by the topology's
# sentinels as NAME (tests of several masters in one process). Killed on
# exit with the proxies.
another_master() {
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$WORK" --logfile "$WORK/$1.redis.log" "${@:2}" &
    PROXY_PIDS+=("$!")
    wait_until 10 rcli "$PORT" PING >/dev/null || fail "$1's master did not start"
    for sp in $(echo "$SENTINEL_TEST_SENTINEL_PORTS" | tr ',' ' '); do
        [ "$(rcli "$sp" SENTINEL MONITOR "$1" 127.0.0.1 "$PORT" 2)" = OK ] ||
            fail "sentinel $sp would not monitor $1"
    done
}
