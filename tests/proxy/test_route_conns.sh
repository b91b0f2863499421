# Connections a sentinel-proxy with several masters holds on each sentinel
# (issues 10 and 11): 3 masters (the topology's, and two Redis of their own
# monitored by the same 3 sentinels), one sentinel-proxy with 3 --route.
# The routes' followers are one group: one subscription per sentinel, plus
# ONE polling link shared by the 3 masters, on the sentinel they poll (the
# first of --sentinel while it answers). Asserts, from each sentinel's
# CLIENT LIST (the entries whose address is one of the proxy's sockets,
# taken from ss), exactly 2/1/1 connections (the 2 where the polling link
# is) and one subscription on each, and the same after a few poll intervals
# (the links are kept, not multiplied); each route forwards to its own
# master. Before the shared polling link: 4/1/1. Run with the routes on
# threads of their own (route-threads yes, the default) and on one.
SCRIPT_ARGS=("$@")
. "$(dirname "$0")/lib.sh"
run_in_topology

M1=$SENTINEL_TEST_MASTER_NAME
declare -A MPORT=([$M1]=$SENTINEL_TEST_MASTER_PORT)
for name in second third; do
    another_master "$name"
    MPORT[$name]=$PORT
done

check_routes() {
LOG=$WORK/R-$THREADS.log
"$PROXY_BIN" --route 127.0.0.1:0="$M1" --route 127.0.0.1:0=second --route 127.0.0.1:0=third \
    --route-threads "$THREADS" --log-level debug --sentinel "$SENTINEL_TEST_SENTINELS" 2>"$LOG" &
R_PID=$!
PROXY_PIDS+=("$R_PID")
wait_until 20 grep -q "ready: 3 masters" "$LOG" || fail "router did not start: $(tail -5 "$LOG")"
for name in "$M1" second third; do
    rp=$(route_port "$LOG" "$name")
    [ -n "$rp" ] || fail "no listener logged for $name"
    wait_until 10 forwards_to "$rp" "${MPORT[$name]}" ||
        fail "route $name on :$rp does not reach its master :${MPORT[$name]}"
done
ok "3 routes (route-threads $THREADS), each to its own master"

# proxy_conns SENTINEL_PORT: "TOTAL SUBSCRIPTIONS", the proxy's connections
# in the sentinel's CLIENT LIST and how many of them are subscribed.
proxy_conns() {
    local sp=$1 ports
    ports=$(ss -Htnp state established "( dport = :$sp )" 2>/dev/null |
        grep "pid=$R_PID," | awk '{ n = split($3, a, ":"); print a[n] }')
    rcli "$sp" CLIENT LIST | awk -v ports="$ports" '
        BEGIN { n = split(ports, p, /[ \n]+/); for (i = 1; i <= n; i++) mine["127.0.0.1:" p[i]] = 1 }
        {
            addr = ""; sb = 0
            for (i = 1; i <= NF; i++) {
                if ($i ~ /^addr=/) addr = substr($i, 6)
                if ($i ~ /^sub=/) sb = substr($i, 5) + 0
            }
            if (addr in mine) { c++; if (sb > 0) s++ }
        }
        END { print c + 0, s + 0 }'
}

read -r -a SPORTS <<<"$(echo "$SENTINEL_TEST_SENTINEL_PORTS" | tr ',' ' ')"
# "n1 n2 n3 / s1 s2 s3": connections and subscriptions per sentinel.
counts() {
    local i c n="" s=""
    for i in 0 1 2; do
        c=($(proxy_conns "${SPORTS[$i]}"))
        n+="${c[0]} " s+="${c[1]} "
    done
    echo "${n}/ ${s% }"
}
# Exactly: one subscription on every sentinel, and one polling link for the
# 3 masters on the sentinel they poll (the first while it answers; a late
# reply under load may move it, so any one of them): 2 / 1 / 1 in some
# order. Before the shared polling link: 4 / 1 / 1 (a poller per master).
expected() {
    local c
    c=$(counts)
    [ "${c#*/ }" = "1 1 1" ] || return 1
    case "${c%/*}" in
        "2 1 1 " | "1 2 1 " | "1 1 2 ") return 0 ;;
    esac
    return 1
}
deadline=$((SECONDS + 15)) # bounded in time, whatever each look costs
until expected; do
    [ "$SECONDS" -lt "$deadline" ] ||
        fail "connections / subscriptions per sentinel: $(counts) (want 2 1 1 / 1 1 1)"
    sleep 0.2
done
ok "connections / subscriptions per sentinel after start: $(counts)"
sleep 3 # three poll intervals of every route: links kept, not multiplied
expected || fail "connections / subscriptions per sentinel after 3 s: $(counts) (want 2 1 1 / 1 1 1)"
ok "connections / subscriptions per sentinel after 3 poll intervals: $(counts) (3 masters, 3 sentinels)"
kill -0 "$R_PID" || fail "the proxy died"
stop_proxy "$R_PID" || fail "route-threads $THREADS: SIGTERM exit status"
}

# Routes on threads of their own (the default) and all on one thread: the
# sentinel links are the router's either way.
for THREADS in yes no; do
    check_routes
done
