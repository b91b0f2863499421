#!/usr/bin/env bash
# sentinel-proxy over a real TLS-only topology (label "tls"; topology.sh):
# TLS to the master (plaintext clients on loopback reach a TLS-only Redis),
# plain and multiplexed, a manual failover and a kill while writing through
# the proxy with 0 acknowledged writes lost, TLS faults (wrong CA, wrong
# host name, plaintext to a TLS port) each a clear error within the
# deadline, bad TLS settings refused at start, and the TLS listener
# (termination, with and without client certificates).
#
# Every client run is bounded by `timeout` (a hang fails the case with
# status 124); no case asserts a duration.
#
#   test_proxy_tls.sh PATH/TO/sentinel-proxy PATH/TO/proxy-client
set -uo pipefail
PROXY="$(realpath "${1:?usage: test_proxy_tls.sh PATH/TO/sentinel-proxy PATH/TO/proxy-client}")"
PCLIENT="$(realpath "${2:?usage: test_proxy_tls.sh PATH/TO/sentinel-proxy PATH/TO/proxy-client}")"
. "$(dirname "$0")/topology.sh"

SENTS="127.0.0.1:$P_S1,127.0.0.1:$P_S2"
MTLS=(--tls --cacert "$DIR/ca.crt" --cert "$DIR/client.crt" --key "$DIR/client.key")
PLAIN_CLI() { timeout 10 "$REDIS_CLI" -h 127.0.0.1 "$@" 2>&1; }

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { # name [file to show]
    fail=$((fail + 1)); echo "FAIL $1"
    [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 15 "$2" | sed 's/^/     | /'
    return 0
}
expect() { # name got pattern [log]
    if printf '%s' "$2" | grep -Eq -- "$3"; then ok "$1"; else bad "$1: got '$2', want /$3/" "${4:-}"; fi
}

# start_proxy NAME ARGS...: NAME_PID, NAME_PORT, NAME_LOG; the proxy's own
# TLS flags are in ARGS. Fails the case (returns 1) when it does not start.
start_proxy() {
    local name=$1 log="$DIR/proxy-$1.log" pid port
    shift
    "${DEATHSIG[@]}" "$PROXY" --listen 127.0.0.1:0 --sentinel "$SENTS" --master "$M" \
        --log-level debug "$@" 2>"$log" &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 1 200); do
        grep -q "ready: master" "$log" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\)$/\1/p' "$log" | head -n1)
    printf -v "${name}_PID" '%s' "$pid"
    printf -v "${name}_PORT" '%s' "$port"
    printf -v "${name}_LOG" '%s' "$log"
    [ -n "$port" ] || { bad "proxy $name did not start" "$log"; return 1; }
}
stop_proxy() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# ---- forwarding to the TLS-only master ------------------------------------
BIG="$DIR/big.bin"
head -c 3000000 /dev/urandom | base64 -w0 > "$BIG"
for mode in no yes; do
    start_proxy P --multiplex "$mode" "${MTLS[@]}" || continue
    label="multiplex $mode"
    expect "$label: PING through the proxy" "$(PLAIN_CLI -p "$P_PORT" ping)" "^PONG$" "$P_LOG"
    PLAIN_CLI -p "$P_PORT" set "k-$mode" "v-$mode" >/dev/null
    expect "$label: GET through the proxy" "$(PLAIN_CLI -p "$P_PORT" get "k-$mode")" "^v-$mode$"
    expect "$label: the TLS-only master has it" "$(CLI "$P_M" get "k-$mode")" "^v-$mode$"
    # A value of many TLS records: bytes OpenSSL holds decrypted must be
    # drained although epoll does not wake for them.
    PLAIN_CLI -p "$P_PORT" -x set "big-$mode" < "$BIG" >/dev/null
    got=$(PLAIN_CLI -p "$P_PORT" get "big-$mode" | md5sum)
    want=$( { cat "$BIG"; echo; } | md5sum)
    expect "$label: a 4 MB value round trip" "$got" "^${want%% *}"
    # Many clients and pipelined commands at once.
    out=$(timeout 60 redis-benchmark -h 127.0.0.1 -p "$P_PORT" -n 20000 -c 20 -P 16 -t set,get \
        -q 2>&1)
    expect "$label: redis-benchmark SET/GET pipelined, 20 clients" "$out" "GET: [0-9.]+ requests"
    n=$(CLI "$P_M" dbsize)
    expect "$label: the writes are on the master" "$n" "^[0-9]+$"
    stop_proxy "$P_PID"
done
