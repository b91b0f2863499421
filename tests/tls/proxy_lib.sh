# The helpers of the sentinel-proxy TLS tests (sourced after topology.sh
# by test_proxy_tls.sh and test_proxy_tls_conn.sh, which set PROXY): the
# sentinels and client certificate flags, the case counters, starting and
# stopping a proxy, its metrics.
# shellcheck source=../proxy/started.sh
. "$(dirname "${BASH_SOURCE[0]}")/../proxy/started.sh"
SENTS="127.0.0.1:$P_S1,127.0.0.1:$P_S2"
MTLS=(--tls --cacert "$DIR/ca.crt" --cert "$DIR/client.crt" --key "$DIR/client.key")

# The master the sentinels name now: a busy machine may see a failover the
# test did not ask for.
master_now() { CLI "$P_S1" sentinel get-master-addr-by-name "$M" | sed -n 2p; }
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { # name [file to show]
    fail=$((fail + 1)); echo "FAIL $1"
    [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 15 "$2" | sed 's/^/     | /'
    return 0
}
expect() { # name got pattern [log]
    if printf '%s' "$2" | grep -Eq -- "$3"; then ok "$1"; else bad "$1: got '$2', want /$3/" "${4:-}"; fi
}

# start_proxy NAME ARGS...: NAME_PID, NAME_PORT, NAME_ADMIN (its metrics),
# NAME_LOG; the proxy's own TLS flags are in ARGS. Fails the case (returns
# 1) when it does not start.
start_proxy() {
    local name=$1 log="$DIR/proxy-$1.log" pid port
    shift
    # Generous timeouts: a sanitizer build on a busy machine may need them for a
    # handshake (a case that wants a short one passes its own; flags win).
    # The log is emptied here, not only by the child's redirection: a name
    # used again (C below) would otherwise show the last proxy's "ready" and
    # port until the child got as far as opening it.
    : >"$log"
    "${DEATHSIG[@]}" "$PROXY" --listen 127.0.0.1:0 --admin 127.0.0.1:0 --sentinel "$SENTS" \
        --master "$M" --log-level debug --connect-timeout 5000 --command-timeout 5000 "$@" \
        2>"$log" &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 1 200); do
        grep -q "ready: master" "$log" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    proxy_started "$name" "$pid" "$log"
    port=${name}_PORT
    port=${!port}
    [ -n "$port" ] || { bad "proxy $name did not start" "$log"; return 1; }
}
# stop_proxy PID: SIGTERM; the proxy must exit 0 (a sanitizer report, a
# leak at exit or a crash fails the case; the log is in $DIR/proxy-*.log).
stop_proxy() {
    local st
    kill -TERM "$1" 2>/dev/null
    wait "$1" 2>/dev/null; st=$?
    if [ "$st" != 0 ]; then
        bad "proxy $1 exited with status $st on SIGTERM" "$(grep -l "sentinel-proxy\[$1\]" "$DIR"/proxy-*.log | head -n1)"
    fi
}
# metric ADMINPORT NAME: the value of an unlabelled metric.
metric() {
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
    timeout 5 cat <&3 | awk -v n="sentinel_proxy_$2" '$1 == n { print $2 }'
    exec 3<&-
}
