# Several masters in one process, each route on a thread of its own: a
# route serves its clients while the router's thread is stuck in a name
# lookup. The sentinels are given by name (localhost:PORT, as a
# Kubernetes service name would be); gai_gate.c (preloaded into
# sentinel-proxy-dyn) makes the lookup of "localhost" block while a gate
# file exists, as a slow or dead DNS server does. Asserts:
#  - with the gate shut and every sentinel link of the proxy killed
#    (CLIENT KILL on each sentinel), the router's thread enters the lookup
#    to reconnect; while it is there, both routes answer PING and a SET
#    goes through to each route's own master (before the fix the router
#    held every route's lock around the group's work: no route answered
#    until the lookup returned);
#  - once the gate opens, the links come back (a new subscription per
#    sentinel) and both routes still serve.
# Every client call is bounded by `timeout` (a hang fails the case); no
# duration is asserted.
SCRIPT_ARGS=("$@")
. "$(dirname "$0")/lib.sh"
: "${PROXY_DYN_BIN:?PROXY_DYN_BIN must point to sentinel-proxy-dyn}"
: "${GAI_GATE_SHIM:?GAI_GATE_SHIM must point to libgai_gate.so}"
run_in_topology

M1=$SENTINEL_TEST_MASTER_NAME
another_master second
P2=$PORT
SENTS=$(echo "$SENTINEL_TEST_SENTINEL_PORTS" | tr ',' '\n' | sed 's/^/localhost:/' | paste -sd,)
LOG=$WORK/R.log
GATE=$WORK/gate
GAI_GATE=$GATE LD_PRELOAD=$GAI_GATE_SHIM ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0 \
    "$PROXY_DYN_BIN" --route 127.0.0.1:0="$M1" --route 127.0.0.1:0=second \
    --log-level debug --sentinel "$SENTS" 2>"$LOG" &
R_PID=$!
PROXY_PIDS+=("$R_PID")
wait_until 30 grep -q "ready: 2 masters in one process (a thread each)" "$LOG" ||
    fail "router did not start: $(tail -5 "$LOG")"
RA=$(route_port "$LOG" "$M1")
RB=$(route_port "$LOG" second)
[ -n "$RA" ] && [ -n "$RB" ] || fail "ports: $M1=$RA second=$RB"
pong "$RA" && pong "$RB" || fail "the routes do not serve"
subs_before=$(grep -c "subscribed to sentinel" "$LOG")

# ---- the router's thread stuck in a lookup ----------------------------------
touch "$GATE"
for sp in $(echo "$SENTINEL_TEST_SENTINEL_PORTS" | tr ',' ' '); do
    rcli "$sp" CLIENT KILL TYPE pubsub >/dev/null
    rcli "$sp" CLIENT KILL TYPE normal SKIPME yes >/dev/null
done
wait_until 20 test -e "$GATE.entered" || fail "the router never looked a sentinel up again"
ok "the router's thread is inside a lookup of localhost"
for r in "$M1:$RA" "second:$RB"; do
    name=${r%%:*} port=${r##*:}
    OUT=$(timeout 10 redis-cli -p "$port" PING 2>&1)
    [ "$OUT" = PONG ] || fail "route $name: PING while the router looks a name up: '$OUT'"
    OUT=$(timeout 10 redis-cli -p "$port" SET "dns-$name" v 2>&1)
    [ "$OUT" = OK ] || fail "route $name: SET while the router looks a name up: '$OUT'"
done
[ -e "$GATE" ] || fail "the gate opened during the checks (60 s bound): nothing proven"
[ "$(rcli "$SENTINEL_TEST_MASTER_PORT" GET "dns-$M1")" = v ] || fail "$M1's SET not on its master"
[ "$(rcli "$P2" GET dns-second)" = v ] || fail "second's SET not on its master"
ok "both routes answered PING and SET while the router's thread was stuck"

# ---- the lookup returns: the links come back ----------------------------------
rm -f "$GATE"
more_subs() { [ "$(grep -c "subscribed to sentinel" "$LOG")" -gt "$subs_before" ]; }
wait_until 30 more_subs || fail "the sentinel links did not come back: $(tail -5 "$LOG")"
pong "$RA" && pong "$RB" || fail "the routes stopped serving after the lookup"
kill -0 "$R_PID" || fail "the proxy died"
ok "links back after the lookup; both routes serve"
