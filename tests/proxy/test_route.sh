# Several masters in one process (issue 10): one sentinel-proxy serves the
# topology's master (mymaster) and two more masters ("second" and "third",
# each on a Redis of its own, monitored by the same sentinels) each on its
# own listener (--route LISTEN=NAME), each route on a thread of its own
# (the default; --route-threads no is run by test_route_conns.sh). Asserts:
#  - bad route input is refused with exit 2 and a message saying why; a
#    route whose name no sentinel knows is refused at runtime with
#    -MASTERDOWN naming the master, while the other routes serve;
#  - one subscription per sentinel for both masters (CLIENT LIST);
#  - a SENTINEL FAILOVER of mymaster while write loops run through all three
#    routes (multiplexed and on connections of their own): 0 acknowledged
#    writes lost on any; every write of a route was acknowledged by that
#    route's master only (read back directly on it); the other two masters'
#    clients saw no error and never reconnected, and their routes never
#    paused (never left the up state), counted no failover and dropped
#    nobody (admin metrics, labelled by master);
#  - readiness per master: /ready/NAME is 200 for each master served, 503
#    for the route whose master nobody knows, 404 for a name no route
#    serves, while /ready (every master) is 503 because of that one route.
SCRIPT_ARGS=("$@")
. "$(dirname "$0")/lib.sh"
run_in_topology

M1=$SENTINEL_TEST_MASTER_NAME
OLD=$SENTINEL_TEST_MASTER_PORT
M2=second
M3=third
another_master "$M2"
P2=$PORT
another_master "$M3"
P3=$PORT

# ---- bad input: exit 2 and a message that says why ------------------------
refused() { # what pattern args...
    local what=$1 pattern=$2 out rc
    shift 2
    out=$(timeout 10 "$PROXY_BIN" --sentinel "$SENTINEL_TEST_SENTINELS" "$@" 2>&1)
    rc=$?
    [ "$rc" = 2 ] || fail "$what: exit status $rc, want 2 ($out)"
    echo "$out" | grep -q -- "$pattern" || fail "$what: message does not say '$pattern': $out"
    ok "$what refused: $(echo "$out" | head -n1)"
}
PA=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
refused "a route without '='" "expected LISTEN=NAME" --route "127.0.0.1:$PA"
refused "a route without a name" "master name" --route "127.0.0.1:$PA="
refused "two routes on one address" "already the listener" \
    --route "127.0.0.1:$PA=$M1" --route "127.0.0.1:$PA=$M2"
refused "two routes for one master" "already has a route" \
    --route "127.0.0.1:0=$M1" --route "127.0.0.1:0=$M1"
refused "a route on --listen's address" "already --listen" \
    --master "$M1" --listen "127.0.0.1:$PA" --route "127.0.0.1:$PA=$M2"
refused "a route for --master" "also --master" \
    --master "$M1" --listen 127.0.0.1:0 --route "127.0.0.1:0=$M1"
refused "a route in watch mode" "watch mode has no listeners" \
    --watch --shared-cache auto --route "127.0.0.1:0=$M1"
refused "a bad route address" "route:" --route "127.0.0.1:99999=$M1"

# ---- one process, four routes (one names a master nobody knows) ----------
LOG=$WORK/R.log
"$PROXY_BIN" --route 127.0.0.1:0="$M1" --route 127.0.0.1:0="$M2" --route 127.0.0.1:0="$M3" \
    --route 127.0.0.1:0=nosuch \
    --admin 127.0.0.1:0 --resolve-timeout 1000 --pause-timeout 1000 --log-level debug \
    --sentinel "$SENTINEL_TEST_SENTINELS" 2>"$LOG" &
R_PID=$!
PROXY_PIDS+=("$R_PID")
wait_until 20 grep -q "ready: 4 masters in one process (a thread each)" "$LOG" ||
    fail "router did not start: $(tail -5 "$LOG")"
R1=$(route_port "$LOG" "$M1")
R2=$(route_port "$LOG" "$M2")
R4=$(route_port "$LOG" "$M3")
R3=$(route_port "$LOG" nosuch)
ADMIN=$(sed -n 's/.*admin endpoint on [0-9.]*:\([0-9]*\)$/\1/p' "$LOG" | head -n1)
[ -n "$R1" ] && [ -n "$R2" ] && [ -n "$R3" ] && [ -n "$R4" ] && [ -n "$ADMIN" ] ||
    fail "ports: $M1=$R1 $M2=$R2 $M3=$R4 nosuch=$R3 admin=$ADMIN"
[ "$(rcli "$R1" CONFIG GET port | tail -n1)" = "$OLD" ] || fail "route $M1 does not reach $OLD"
[ "$(rcli "$R2" CONFIG GET port | tail -n1)" = "$P2" ] || fail "route $M2 does not reach $P2"
[ "$(rcli "$R4" CONFIG GET port | tail -n1)" = "$P3" ] || fail "route $M3 does not reach $P3"
ok "$M1 on :$R1 -> $OLD, $M2 on :$R2 -> $P2, $M3 on :$R4 -> $P3"
OUT=$(timeout 10 redis-cli -p "$R3" PING 2>&1)
echo "$OUT" | grep -q "MASTERDOWN" && echo "$OUT" | grep -q "nosuch" ||
    fail "unknown master: want -MASTERDOWN naming it, got: $OUT"
ok "a route to an unknown master: $OUT"
pong "$R1" && pong "$R2" && pong "$R4" || fail "the other routes stopped serving"
status() { http "$ADMIN" "$1" | head -n1 | awk '{ print $2 }'; }
for m in "$M1" "$M2" "$M3"; do
    [ "$(status "/ready/$m")" = 200 ] || fail "/ready/$m: $(status "/ready/$m"), want 200"
done
[ "$(status /ready/nosuch)" = 503 ] || fail "/ready/nosuch: $(status /ready/nosuch), want 503"
[ "$(status /ready/other)" = 404 ] || fail "/ready/other: $(status /ready/other), want 404"
[ "$(status /ready)" = 503 ] || fail "/ready with one master unknown: $(status /ready), want 503"
ok "readiness per master: /ready/NAME 200 for the three served, 503 for nosuch, 404 for a name not served"

subscribers() { rcli "$1" CLIENT LIST | grep -c " sub=[1-9]"; }
one_subscriber() { [ "$(subscribers "$1")" = 1 ]; }
for sp in $(echo "$SENTINEL_TEST_SENTINEL_PORTS" | tr ',' ' '); do
    wait_until 5 one_subscriber "$sp" ||
        fail "sentinel $sp: $(subscribers "$sp") subscriptions for 4 masters, want 1"
done
ok "one subscription per sentinel for 4 masters"

# ---- a failover of one master while writing to all three -------------------
labelled() { # name master: a labelled figure
    http "$ADMIN" /metrics | awk -v n="sentinel_proxy_$1{master=\"$2\"}" '$1 == n { print $2 }'
}
run_loop() { # name port prefix [--mux]
    local name=$1 port=$2 prefix=$3
    shift 3
    "$PROXY_CLIENT" writeloop "$@" --port "$port" --seconds 10 --count 5000000 \
        --prefix "$prefix" >"$WORK/$name.out" 2>&1 &
    printf -v "PID_$name" '%s' "$!"
}
run_loop a_own "$R1" route-a
run_loop a_mux "$R1" route-a-mux --mux
run_loop b_own "$R2" route-b
run_loop b_mux "$R2" route-b-mux --mux
run_loop c_own "$R4" route-c
run_loop c_mux "$R4" route-c-mux --mux
sleep 2
ctl failover || fail "SENTINEL FAILOVER of $M1"
NEW=$(ctl wait-switch "$OLD" 30000) || fail "sentinels did not switch $M1"
LOOPS="a_own a_mux b_own b_mux c_own c_mux"
for n in $LOOPS; do
    pid_var=PID_$n
    wait "${!pid_var}"
    printf -v "RC_$n" '%s' "$?"
done
NOW=$(ctl master-port) || fail "no master now"
for n in $LOOPS; do
    S=$(cat "$WORK/$n.out")
    rc_var=RC_$n
    echo "$n: $S"
    [ "${!rc_var}" = 0 ] || fail "$n: writeloop exit ${!rc_var}"
    [ "$(field lost "$S")" = 0 ] || fail "$n: acknowledged writes lost"
    [ "$(field acked "$S")" -gt 100 ] || fail "$n: too few writes acknowledged"
    acked=$(field acked "$S")
    case $n in
    a_*)
        [ "$(field final_master "$S")" = "$NOW" ] || fail "$n: ends on $(field final_master "$S"), want $NOW"
        [ -z "$(field "acked_by_$P2" "$S")" ] || fail "$n: $M1's writes acknowledged by $M2 ($P2)"
        [ -z "$(field "acked_by_$P3" "$S")" ] || fail "$n: $M1's writes acknowledged by $M3 ($P3)"
        ;;
    b_* | c_*)
        other=$M2 port=$P2
        case $n in c_*) other=$M3 port=$P3 ;; esac
        [ "$(field final_master "$S")" = "$port" ] || fail "$n: ends on $(field final_master "$S"), want $port"
        [ "$(field "acked_by_$port" "$S")" = "$acked" ] || fail "$n: not every write went to $port"
        [ "$(field errors "$S")" = 0 ] || fail "$n: $other's client saw errors during $M1's failover"
        [ "$(field reconnects "$S")" = 1 ] || fail "$n: $other's client was disconnected"
        ;;
    esac
done
ok "failover of $M1 ($OLD -> $NOW): 0 lost on any route, $M2's and $M3's clients never saw an error or a close"
# What each route's master holds is that route's writes only.
[ "$(rcli "$P2" --scan --pattern 'route-a*' | wc -l)" = 0 ] || fail "$M1's keys on $M2"
[ "$(rcli "$P3" --scan --pattern 'route-a*' | wc -l)" = 0 ] || fail "$M1's keys on $M3"
[ "$(rcli "$NOW" --scan --pattern 'route-[bc]*' | wc -l)" = 0 ] || fail "$M2's or $M3's keys on $M1"
[ "$(rcli "$P2" --scan --pattern 'route-c*' | wc -l)" = 0 ] || fail "$M3's keys on $M2"
[ "$(rcli "$P3" --scan --pattern 'route-b*' | wc -l)" = 0 ] || fail "$M2's keys on $M3"
ok "no key of one route on another route's master"
[ "$(labelled failovers_started_total "$M1")" -ge 1 ] || fail "$M1 counted no failover"
[ "$(labelled master_switches_total "$M1")" -ge 1 ] || fail "$M1 counted no switch"
for m in "$M2" "$M3"; do
    [ "$(labelled failovers_started_total "$m")" = 0 ] || fail "$m counted a failover"
    [ "$(labelled master_switches_total "$m")" = 0 ] || fail "$m counted a switch"
    [ "$(labelled clients_dropped_on_switch_total "$m")" = 0 ] || fail "$m dropped clients"
    [ "$(labelled master_up "$m")" = 1 ] || fail "$m not up"
    ! grep "\[$m\] master up -> " "$LOG" || fail "$m's route left the up state (paused)"
done
ok "metrics labelled by master: the failover is $M1's alone, $M2 and $M3 never paused"
kill -USR1 "$R_PID"
for m in "$M1" "$M2" "$M3"; do
    wait_until 5 grep -q "\[$m\] stats: master=" "$LOG" || fail "SIGUSR1: no stats line for $m"
done
stop_proxy "$R_PID" || fail "SIGTERM exit status"
ok "every route stopped on one SIGTERM"
exit 0
