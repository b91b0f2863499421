# The admin endpoint read while every route serves (issue 10): two masters
# in one process, a write loop on each route (own and multiplexed
# connections) and /metrics scraped over and over meanwhile. Asserts every
# scrape answers 200 with both masters' labelled figures, that each
# master's client_bytes_received_total never goes down from one scrape to
# the next, that it grew during the loops, and that the loops lost no
# write. The router's thread reads each route's figures while the route's
# own thread changes them: in the ThreadSanitizer suite (scripts/test.sh)
# this is the test that fails when px_router_snapshots() (route.c) reads a
# route without its lock.
SCRIPT_ARGS=("$@")
. "$(dirname "$0")/lib.sh"
run_in_topology --replicas 0
M1=$SENTINEL_TEST_MASTER_NAME
M2=second
another_master "$M2"

LOG=$WORK/R.log
"$PROXY_BIN" --route 127.0.0.1:0="$M1" --route 127.0.0.1:0="$M2" \
    --admin 127.0.0.1:0 --resolve-timeout 2000 --log-level info \
    --sentinel "$SENTINEL_TEST_SENTINELS" 2>"$LOG" &
R_PID=$!
PROXY_PIDS+=("$R_PID")
wait_until 20 grep -q "ready: 2 masters" "$LOG" || fail "router did not start: $(tail -5 "$LOG")"
R1=$(route_port "$LOG" "$M1")
R2=$(route_port "$LOG" "$M2")
ADMIN=$(sed -n 's/.*admin endpoint on [0-9.]*:\([0-9]*\)$/\1/p' "$LOG" | head -n1)
[ -n "$R1" ] && [ -n "$R2" ] && [ -n "$ADMIN" ] || fail "ports: $M1=$R1 $M2=$R2 admin=$ADMIN"

LOOPS="a_own a_mux b_own b_mux"
loop() { # name port [--mux]
    local name=$1 port=$2
    shift 2
    "$PROXY_CLIENT" writeloop "$@" --port "$port" --seconds 6 --count 5000000 \
        --prefix "admin-$name" >"$WORK/$name.out" 2>&1 &
    printf -v "PID_$name" '%s' "$!"
}
loop a_own "$R1"
loop a_mux "$R1" --mux
loop b_own "$R2"
loop b_mux "$R2" --mux

received() { # metrics master: client_bytes_received_total of master
    echo "$1" | awk -v n="sentinel_proxy_client_bytes_received_total{master=\"$2\"}" \
        '$1 == n { print $2 }'
}
last1=0 last2=0 scrapes=0
for _ in $(seq 1 400); do
    kill -0 "$PID_a_own" 2>/dev/null || kill -0 "$PID_b_own" 2>/dev/null || break
    OUT=$(http "$ADMIN" /metrics)
    echo "$OUT" | head -n1 | grep -q " 200 " || fail "scrape $scrapes: $(echo "$OUT" | head -n1)"
    v1=$(received "$OUT" "$M1")
    v2=$(received "$OUT" "$M2")
    [ -n "$v1" ] && [ -n "$v2" ] || fail "scrape $scrapes: a master's figure missing ($M1=$v1 $M2=$v2)"
    [ "$v1" -ge "$last1" ] && [ "$v2" -ge "$last2" ] ||
        fail "scrape $scrapes: bytes received went down ($M1 $last1 -> $v1, $M2 $last2 -> $v2)"
    last1=$v1 last2=$v2 scrapes=$((scrapes + 1))
    sleep 0.02
done
for n in $LOOPS; do
    pid_var=PID_$n
    wait "${!pid_var}" || fail "$n: writeloop exit $?: $(cat "$WORK/$n.out")"
    S=$(cat "$WORK/$n.out")
    [ "$(field lost "$S")" = 0 ] || fail "$n: acknowledged writes lost: $S"
    [ "$(field acked "$S")" -gt 100 ] || fail "$n: too few writes acknowledged: $S"
done
[ "$scrapes" -ge 5 ] || fail "only $scrapes scrapes while the loops ran"
[ "$last1" -gt 0 ] && [ "$last2" -gt 0 ] || fail "no bytes counted ($M1=$last1 $M2=$last2)"
ok "$scrapes scrapes of /metrics while both routes served: all 200, both masters' figures, never down"
stop_proxy "$R_PID" || fail "router exit status $?"
