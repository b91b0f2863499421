# A proxy keeps serving its clients while its follower's name lookup of a
# sentinel is stuck (a slow or dead DNS server). The sentinels are given
# by name (localhost:PORT, as a Kubernetes service name would be);
# gai_gate.c (preloaded into sentinel-proxy-dyn) makes the lookup of
# "localhost" block while a gate file exists. Three shapes, by argument:
#   one      a one-master proxy (--listen ... --master NAME): its follower
#            runs on the loop that serves the clients;
#   routes   two masters with --route-threads no: every route and the
#            follower group share one loop;
#   threads  two masters, each route on a thread of its own (the default):
#            the router's thread follows.
# Asserts:
#  - with the gate shut and every sentinel link of the proxy killed
#    (CLIENT KILL on each sentinel), the follower enters the lookup to
#    reconnect; while it is there, the proxy (each route) answers PING and
#    a SET goes through to its master (before the lookups moved off the
#    loop, name_lookup.c, one and routes answered no client until the
#    lookup returned; before route threads stopped sharing the router's
#    lock around the group's work, threads did not either);
#  - once the gate opens, the links come back (a new subscription per
#    sentinel) and the proxy still serves.
# Every client call is bounded by `timeout` (a hang fails the case); no
# duration is asserted.
SCRIPT_ARGS=("$@")
. "$(dirname "$0")/lib.sh"
: "${PROXY_DYN_BIN:?PROXY_DYN_BIN must point to sentinel-proxy-dyn}"
: "${GAI_GATE_SHIM:?GAI_GATE_SHIM must point to libgai_gate.so}"
MODE=${1:?usage: test_proxy_dns.sh one|routes|threads}
run_in_topology

M1=$SENTINEL_TEST_MASTER_NAME
SENTS=$(echo "$SENTINEL_TEST_SENTINEL_PORTS" | tr ',' '\n' | sed 's/^/localhost:/' | paste -sd,)
LOG=$WORK/P.log
GATE=$WORK/gate
gated() {
    GAI_GATE=$GATE LD_PRELOAD=$GAI_GATE_SHIM \
        ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 "$PROXY_DYN_BIN" "$@" \
        --log-level debug --sentinel "$SENTS" 2>"$LOG" &
    P_PID=$!
    PROXY_PIDS+=("$P_PID")
}
case $MODE in
one)
    gated --listen 127.0.0.1:0 --master "$M1"
    wait_until 30 grep -q "ready: master" "$LOG" || fail "proxy did not start: $(tail -5 "$LOG")"
    proxy_started P "$P_PID" "$LOG"
    TARGETS="$M1:$P_PORT:$SENTINEL_TEST_MASTER_PORT"
    ;;
routes | threads)
    another_master second
    P2=$PORT
    if [ "$MODE" = routes ]; then
        gated --route 127.0.0.1:0="$M1" --route 127.0.0.1:0=second --route-threads no
        ready="ready: 2 masters in one process,"
    else
        gated --route 127.0.0.1:0="$M1" --route 127.0.0.1:0=second
        ready="ready: 2 masters in one process (a thread each)"
    fi
    wait_until 30 grep -q "$ready" "$LOG" || fail "router did not start: $(tail -5 "$LOG")"
    RA=$(route_port "$LOG" "$M1")
    RB=$(route_port "$LOG" second)
    [ -n "$RA" ] && [ -n "$RB" ] || fail "ports: $M1=$RA second=$RB"
    TARGETS="$M1:$RA:$SENTINEL_TEST_MASTER_PORT second:$RB:$P2"
    ;;
*) fail "unknown mode $MODE" ;;
esac
for t in $TARGETS; do
    IFS=: read -r name port mport <<<"$t"
    pong "$port" || fail "$name: the proxy does not serve"
done
subs_before=$(grep -c "subscribed to sentinel" "$LOG")

# ---- the follower stuck in a lookup -------------------------------------------
touch "$GATE"
for sp in $(echo "$SENTINEL_TEST_SENTINEL_PORTS" | tr ',' ' '); do
    rcli "$sp" CLIENT KILL TYPE pubsub >/dev/null
    rcli "$sp" CLIENT KILL TYPE normal SKIPME yes >/dev/null
done
wait_until 20 test -e "$GATE.entered" || fail "the proxy never looked a sentinel up again"
ok "$MODE: the proxy's follower is inside a lookup of localhost"
for t in $TARGETS; do
    IFS=: read -r name port mport <<<"$t"
    OUT=$(timeout 10 redis-cli -p "$port" PING 2>&1)
    [ "$OUT" = PONG ] || fail "$name: PING while the follower looks a name up: '$OUT'"
    OUT=$(timeout 10 redis-cli -p "$port" SET "dns-$name" v 2>&1)
    [ "$OUT" = OK ] || fail "$name: SET while the follower looks a name up: '$OUT'"
    [ "$(rcli "$mport" GET "dns-$name")" = v ] || fail "$name's SET not on its master"
done
[ -e "$GATE" ] || fail "the gate opened during the checks (60 s bound): nothing proven"
ok "$MODE: PING and SET answered while the follower's lookup was stuck"

# ---- the lookup returns: the links come back ----------------------------------
rm -f "$GATE"
more_subs() { [ "$(grep -c "subscribed to sentinel" "$LOG")" -gt "$subs_before" ]; }
wait_until 30 more_subs || fail "the sentinel links did not come back: $(tail -5 "$LOG")"
for t in $TARGETS; do
    IFS=: read -r name port mport <<<"$t"
    pong "$port" || fail "$name: the proxy stopped serving after the lookup"
done
kill -0 "$P_PID" || fail "the proxy died"
ok "$MODE: links back after the lookup; the proxy serves"
