# Failover scenarios through the proxy (DESIGN.md "Failover scenarios"):
#   kill | freeze | manual | sentinel-loss | restart
# Two write loops of unique keys run through the proxy (reconnecting on
# errors, bounded by count and time): one multiplexed over the shared master
# connection (SET + INFO), one on a master connection of its own (SET +
# CONFIG GET pins it). After the fault and the recovery every acknowledged
# key of both must exist on the final master, and the proxy must be
# forwarding to the node the sentinels elected.
SCRIPT_ARGS=("$@")
SCENARIO=${1:?scenario}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faults.sh"
run_in_topology

OLD=$SENTINEL_TEST_MASTER_PORT
start_proxy P
# A write the master acknowledged after the replicas last confirmed (the
# sync point, faults.sh) and before a kill or freeze may never reach a
# replica (asynchronous replication, DESIGN.md "What nothing lost means"):
# the write loops count those apart (lost_at_fault). Everything acknowledged
# before the sync point or after the fault, and anything in a manual
# failover, must survive.
FAULT=$WORK/fault.ms
"$PROXY_CLIENT" writeloop --port "$P_PORT" --seconds 12 --count 5000000 \
    --fault-file "$FAULT" --prefix "$SCENARIO" >"$WORK/writeloop.out" 2>&1 &
WL=$!
"$PROXY_CLIENT" writeloop --mux --port "$P_PORT" --seconds 12 --count 5000000 \
    --fault-file "$FAULT" --prefix "$SCENARIO-mux" >"$WORK/writeloop-mux.out" 2>&1 &
WLM=$!
sleep 2

NEW=$OLD
case $SCENARIO in
kill | freeze | manual | sentinel-loss)
    NEW=$(failover_scenario "$SCENARIO" "$FAULT") || fail "$SCENARIO: fault or switch failed"
    ;;
restart)
    # The proxy goes away and comes back on the same port while the
    # clients keep reconnecting.
    stop_proxy "$P_PID" || fail "SIGTERM exit status"
    sleep 0.5
    start_proxy Q --listen "127.0.0.1:$P_PORT"
    ;;
*)
    fail "unknown scenario $SCENARIO"
    ;;
esac
wait $WL
RC=$?
wait $WLM
RCM=$?
# Sentinel may fail over more than once (a loaded machine); what matters is
# that the proxy ends on the master the sentinels name now.
NOW=$(ctl master-port) || fail "no master now"
[ "$SCENARIO" = restart ] || [ "$NOW" != "$OLD" ] || fail "master is still $OLD"
for kind in own mux; do
    if [ $kind = own ]; then
        SUMMARY=$(cat "$WORK/writeloop.out") rc=$RC
    else
        SUMMARY=$(cat "$WORK/writeloop-mux.out") rc=$RCM
    fi
    echo "$SCENARIO ($kind connection): $SUMMARY"
    [ "$(field final_master "$SUMMARY")" = "$NOW" ] ||
        fail "$kind: proxy forwards to $(field final_master "$SUMMARY"), sentinels name $NOW (first switch: $NEW)"
    [ "$(field lost "$SUMMARY")" = 0 ] || fail "$kind: acknowledged writes lost"
    [ "$(field acked "$SUMMARY")" -gt 100 ] || fail "$kind: too few writes acknowledged"
    [ $rc -eq 0 ] || fail "$kind: writeloop exit $rc"
done
[ "$(metric "$P_ADMIN" multiplexed_commands_total)" -gt 100 ] ||
    [ "$SCENARIO" = restart ] || fail "the mux write loop was not multiplexed"
if [ "$SCENARIO" != restart ]; then
    [ "$(metric "$P_ADMIN" master_switches_total)" -ge 1 ] || fail "no switch counted"
    [ "$(metric "$P_ADMIN" master_up)" = 1 ] || fail "master not up after the switch"
fi
if [ "$SCENARIO" = manual ] || [ "$SCENARIO" = sentinel-loss ]; then
    [ "$(metric "$P_ADMIN" failovers_started_total)" -ge 1 ] || fail "failover start not seen"
fi
if [ "$SCENARIO" = sentinel-loss ]; then
    links_two() { [ "$(metric "$P_ADMIN" sentinel_links_up)" = 2 ]; }
    wait_until 10 links_two || fail "want 2 sentinel links, have $(metric "$P_ADMIN" sentinel_links_up)"
fi
if [ "$SCENARIO" = restart ]; then
    [ "$(field reconnects "$SUMMARY")" -ge 2 ] || fail "clients did not reconnect"
fi
ok "$SCENARIO: no acknowledged write lost, proxy on the elected master"
exit 0
