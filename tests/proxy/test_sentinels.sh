# Sentinel trouble: no-sentinels, unknown-name, acl-no-subscribe.
SCRIPT_ARGS=("$@")
SCENARIO=${1:?scenario}
. "$(dirname "$0")/lib.sh"
if [ "$SCENARIO" = acl-no-subscribe ]; then
    run_in_topology --acl-no-subscribe
else
    run_in_topology
fi

masterdown() { # port: a client is refused with -MASTERDOWN, not hung
    local out
    out=$(timeout 20 redis-cli -p "$1" PING 2>&1)
    echo "$out" | grep -q MASTERDOWN || { echo "got: $out" >&2; return 1; }
}

case $SCENARIO in
no-sentinels)
    start_proxy P
    ctl kill-all-sentinels || fail "kill-all-sentinels"
    sleep 2
    # Keeps forwarding to the last verified master.
    [ "$(rcli "$P_PORT" SET ns:k v)" = OK ] || fail "no forwarding without sentinels"
    [ "$(metric "$P_ADMIN" master_up)" = 1 ] || fail "master_up without sentinels"
    # A proxy that never had an answer refuses clients clearly and in time.
    start_proxy Q --resolve-timeout 500 --pause-timeout 1000
    masterdown "$Q_PORT" || fail "no -MASTERDOWN without sentinels"
    [ "$(metric "$Q_ADMIN" master_up)" = 0 ] || fail "master_up"
    http "$Q_ADMIN" /ready | head -n1 | grep -q 503 || fail "/ready should be 503"
    [ "$(metric "$Q_ADMIN" connections_refused_total)" -ge 1 ] || fail "refusal not counted"
    # Once sentinels are back, it converges.
    ctl restart-all-sentinels || fail "restart-all-sentinels"
    wait_until 30 pong "$Q_PORT" ||
        fail "no recovery after the sentinels came back"
    ok "no-sentinels: served from the last answer, clear error, recovery"
    ;;
unknown-name)
    start_proxy P --master no-such-master --resolve-timeout 1000 --pause-timeout 1000
    grep -q "UNKNOWN_MASTER" "$P_LOG" || fail "log does not say unknown master"
    masterdown "$P_PORT" || fail "no -MASTERDOWN for an unknown name"
    rcli "$P_PORT" PING | grep -q "no-such-master" || fail "error does not name the master"
    kill -0 "$P_PID" || fail "proxy died"
    ok "unknown-name: clear error, no hang"
    ;;
acl-no-subscribe)
    OLD=$SENTINEL_TEST_MASTER_PORT
    start_proxy P --sentinel-user limited --sentinel-password limitedpass --poll-interval 500
    wait_until 10 grep -q "denied SUBSCRIBE" "$P_LOG" || fail "SUBSCRIBE denial not seen"
    [ "$(metric "$P_ADMIN" subscribe_denied_total)" -ge 1 ] || fail "denials not counted"
    [ "$(rcli "$P_PORT" SET acl:k v)" = OK ] || fail "forwarding"
    ctl failover || fail "SENTINEL FAILOVER"
    NEW=$(ctl wait-switch "$OLD" 30000) || fail "no switch"
    wait_until 20 forwards_to "$P_PORT" "$NEW" ||
        fail "polling did not converge on $NEW"
    [ "$(rcli "$P_PORT" SET acl:k2 v)" = OK ] || fail "writes after the switch"
    ok "acl-no-subscribe: polling converged on $NEW"
    ;;
*)
    fail "unknown scenario $SCENARIO"
    ;;
esac
exit 0
