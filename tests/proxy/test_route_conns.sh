# Connections a sentinel-proxy with several masters holds on each sentinel
# (issues 10 and 11): 3 masters (the topology's, and two Redis of their own
# monitored by the same 3 sentinels), one sentinel-proxy with 3 --route.
# The routes' followers are one group: one subscription per sentinel, plus
# ONE polling link shared by the 3 masters, on the sentinel they poll (the
# first of --sentinel while it answers). Asserts, from each sentinel's
# CLIENT LIST (the entries whose address is one of the proxy's sockets,
# taken from ss), exactly 2/1/1 connections, and the same after a few poll
# intervals (the links are kept, not reopened); each route still forwards
# to its own master. Before the shared polling link: 4/1/1.
SCRIPT_ARGS=("$@")
. "$(dirname "$0")/lib.sh"
run_in_topology

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

M1=$SENTINEL_TEST_MASTER_NAME
declare -A MPORT=([$M1]=$SENTINEL_TEST_MASTER_PORT)
for name in second third; do
    p=$(free_port)
    redis-server --port "$p" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$WORK" --logfile "$WORK/$name.redis.log" &
    PROXY_PIDS+=("$!") # killed on exit with the proxies
    wait_until 10 rcli "$p" PING >/dev/null || fail "$name master did not start"
    for sp in $(echo "$SENTINEL_TEST_SENTINEL_PORTS" | tr ',' ' '); do
        [ "$(rcli "$sp" SENTINEL MONITOR "$name" 127.0.0.1 "$p" 2)" = OK ] ||
            fail "sentinel $sp would not monitor $name"
    done
    MPORT[$name]=$p
done

LOG=$WORK/R.log
"$PROXY_BIN" --route 127.0.0.1:0="$M1" --route 127.0.0.1:0=second --route 127.0.0.1:0=third \
    --log-level debug --sentinel "$SENTINEL_TEST_SENTINELS" 2>"$LOG" &
R_PID=$!
PROXY_PIDS+=("$R_PID")
wait_until 20 grep -q "ready: 3 masters" "$LOG" || fail "router did not start: $(tail -5 "$LOG")"
port_of() { sed -n "s/.*\[$1\] listening on [0-9.]*:\([0-9]*\)$/\1/p" "$LOG" | head -n1; }
for name in "$M1" second third; do
    rp=$(port_of "$name")
    [ -n "$rp" ] || fail "no listener logged for $name"
    wait_until 10 forwards_to "$rp" "${MPORT[$name]}" ||
        fail "route $name on :$rp does not reach its master :${MPORT[$name]}"
done
ok "3 routes, each to its own master"

# proxy_conns SENTINEL_PORT: the proxy's connections in the sentinel's CLIENT LIST.
proxy_conns() {
    local sp=$1 ports n=0 addr
    ports=$(ss -Htnp state established "( dport = :$sp )" 2>/dev/null |
        grep "pid=$R_PID," | awk '{ n = split($3, a, ":"); print a[n] }')
    for addr in $(rcli "$sp" CLIENT LIST | sed -n 's/.* addr=\([0-9.:]*\) .*/\1/p'); do
        for p in $ports; do
            [ "$addr" = "127.0.0.1:$p" ] && n=$((n + 1))
        done
    done
    echo "$n"
}

read -r -a SPORTS <<<"$(echo "$SENTINEL_TEST_SENTINEL_PORTS" | tr ',' ' ')"
WANT=(2 1 1)
counts() { local i out=""; for i in 0 1 2; do out+="$(proxy_conns "${SPORTS[$i]}") "; done; echo "$out"; }
expected() { [ "$(counts)" = "${WANT[*]} " ]; }
# Every route polled at least once and every subscription is up.
wait_until 10 expected || fail "connections per sentinel: $(counts)(want ${WANT[*]})"
ok "connections per sentinel after start: $(counts)"
sleep 3 # three poll intervals of every route: links kept, not multiplied
expected || fail "connections per sentinel after 3 s: $(counts)(want ${WANT[*]})"
ok "connections per sentinel after 3 poll intervals: $(counts)(3 masters, 3 sentinels)"
kill -0 "$R_PID" || fail "the proxy died"
