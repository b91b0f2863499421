#!/usr/bin/env bash
# One failover scenario, every enabled path at once, on a fresh topology:
#
#   sentinel-topology run -- bash lib/scenario.sh SCENARIO
#
# Starts the observer and the proxies, starts every writer, waits for the
# warm-up and for the replicas to be in sync, injects the fault once (its
# moment stamped right before the ctl command runs; a kill or freeze behind
# a sync point, fo_sync_fault), waits for Sentinel to
# switch and the new master to answer ROLE master, lets the writers run a
# few more seconds, stops them, and checks every acknowledged key on the
# final master. Results go to $FO_RAW/SCENARIO/ (analyze.php reads them).
set -u
SCEN=${1:?scenario}
. "$(dirname "$0")/common.sh"

OUT=$FO_RAW/$SCEN
rm -rf "$OUT"
mkdir -p "$OUT"
WRITER_PIDS=()
trap 'fo_cleanup' EXIT
trap 'exit 130' INT TERM

OLD=$SENTINEL_TEST_MASTER_PORT
NAME=$SENTINEL_TEST_MASTER_NAME
meta() { printf '%s=%s\n' "$1" "$2" >>"$OUT/meta"; }
# What the driver did when, on the writers' clock (for reading a run's logs).
step() { printf '%s %s\n' "$(fo_now)" "$*" >>"$OUT/steps"; }
meta scenario "$SCEN"
meta old_port "$OLD"
meta node_ports "$SENTINEL_TEST_NODE_PORTS"
meta sentinel_ports "$SENTINEL_TEST_SENTINEL_PORTS"
meta paths "$FO_PATHS"
meta interval_us "$FO_INTERVAL_US"

skip() { # PATH REASON
    printf '%s\n' "$2" >"$OUT/$1.skipped"
    fo_log "  $1: skipped: $2"
}

# ------------------------------------------------------------ unknown-name --
# Every path that takes a master name gets a wrong one; measured: the time to
# the first error, the error, and that nothing hangs.
if [ "$SCEN" = unknown-name ]; then
    WRONG=fo-no-such-master
    meta wrong_name "$WRONG"
    start=$(fo_now)
    meta start_t "$start"
    for p in ${FO_PATHS//,/ }; do
        case $p in
        naive | haproxy)
            skip "$p" "n/a: no master name involved"
            continue
            ;;
        sentinel-proxy)
            fo_start_proxy "$OUT" "$WRONG" 0 || { skip "$p" "could not start"; continue; }
            # When (if) the proxy gives up, on the writers clock.
            pid=$PROXY_PID
            (for i in $(seq 1 $((FO_UNKNOWN_MS / 50 + 100))); do
                kill -0 "$pid" 2>/dev/null || { fo_now >"$OUT/proxy_exit.t"; break; }
                sleep 0.05
            done) &
            FO_PIDS+=($!)
            ;;
        esac
        fo_start_writer "$p" "$OUT" "$WRONG" "$FO_MAX_S" || skip "$p" "writer did not start"
    done
    fo_progress "unknown-name" "$FO_UNKNOWN_MS" "$OUT"
    if fo_path_enabled sentinel-proxy && [ -n "${PROXY_PID:-}" ]; then
        if kill -0 "$PROXY_PID" 2>/dev/null; then
            meta proxy_status running
        else
            wait "$PROXY_PID" 2>/dev/null
            meta proxy_status "exited $?"
            [ -f "$OUT/proxy_exit.t" ] && meta proxy_exit_t "$(cat "$OUT/proxy_exit.t")"
        fi
    fi
    touch "$OUT/stop"
    fo_wait_writers 5
    meta stop_t "$(fo_now)"
    exit 0
fi

# ------------------------------------------------------- the other scenarios --
"$FO_BIN/fo-observe" --nodes "$SENTINEL_TEST_NODE_PORTS" --sentinels "$SENTINEL_TEST_SENTINEL_PORTS" \
    --out "$OUT/observer.log" --stop-file "$OUT/stop" --max-seconds "$FO_MAX_S" &
FO_PIDS+=($!)

if fo_path_enabled haproxy && ! fo_start_haproxy "$OUT"; then
    skip haproxy "haproxy did not start"
fi
if fo_path_enabled sentinel-proxy && ! fo_start_proxy "$OUT" "$NAME"; then
    skip sentinel-proxy "sentinel-proxy did not become ready"
fi
for p in ${FO_PATHS//,/ }; do
    [ -f "$OUT/$p.skipped" ] && continue
    fo_start_writer "$p" "$OUT" "$NAME" "$FO_MAX_S" || skip "$p" "writer did not start"
done
meta writers_started_t "$(fo_now)"

step warm-up
fo_progress "$SCEN: warm-up" "$FO_WARMUP_MS" "$OUT"
step wait-synced
if fo_ctl wait-synced 15000; then meta synced_before_fault yes; else meta synced_before_fault no; fi

step fault
failover=1
case $SCEN in
kill | freeze)
    # Behind a sync point (lib/common.sh): only writes acknowledged after it
    # may be excused when the fault takes them.
    fo_sync_fault "$OUT" "$OLD" "$SCEN-master"
    ;;
manual)
    "$FO_CLIENTS/fo-tool" stamp "$OUT/fault.t" -- "$SENTINEL_TOPOLOGY_CTL" ctl --dir "$SENTINEL_TEST_DIR" failover
    ;;
sentinel-loss)
    # The sentinel every client prefers (the first of the list) dies; a
    # second later a manual failover has to be followed through the others.
    "$FO_CLIENTS/fo-tool" stamp "$OUT/fault.t" -- "$SENTINEL_TOPOLOGY_CTL" ctl --dir "$SENTINEL_TEST_DIR" kill-sentinel 0
    fo_progress "$SCEN: sentinel 0 down" "$FO_SENTLOSS_GAP_MS" "$OUT"
    "$FO_CLIENTS/fo-tool" stamp "$OUT/failover.t" -- "$SENTINEL_TOPOLOGY_CTL" ctl --dir "$SENTINEL_TEST_DIR" failover
    ;;
no-sentinels)
    # All sentinels die, the master stays: writes should go on from what
    # the clients know. Then the master stalls for FO_HICCUP_MS (SIGSTOP,
    # SIGCONT): every client, per-request or persistent, sees a timeout, and
    # those that resolve again must do it with no sentinel to ask.
    failover=0
    "$FO_CLIENTS/fo-tool" stamp "$OUT/fault.t" -- "$SENTINEL_TOPOLOGY_CTL" ctl --dir "$SENTINEL_TEST_DIR" kill-all-sentinels
    fo_progress "$SCEN: sentinels down" "$FO_STALL_AFTER_MS" "$OUT"
    "$FO_CLIENTS/fo-tool" stamp "$OUT/stall.t" -- "$SENTINEL_TOPOLOGY_CTL" ctl --dir "$SENTINEL_TEST_DIR" freeze-node 0
    fo_progress "$SCEN: master stalled" "$FO_HICCUP_MS" "$OUT"
    "$FO_CLIENTS/fo-tool" stamp "$OUT/stall-end.t" -- "$SENTINEL_TOPOLOGY_CTL" ctl --dir "$SENTINEL_TEST_DIR" thaw 0
    ;;
*)
    fo_log "unknown scenario $SCEN"
    exit 2
    ;;
esac
rc=$?
step "fault injected (exit $rc)"
[ $rc -eq 0 ] || fo_log "  fault injection exited $rc"
meta fault_rc "$rc"

NEW=$OLD
if [ $failover = 1 ]; then
    NEW=$(fo_ctl wait-switch "$OLD" "$FO_SWITCH_TIMEOUT_MS") || NEW=
    step "switched to ${NEW:-none}"
    meta switch_verified_t "$(fo_now)"
    if [ "$SCEN" = freeze ]; then
        # Thaw when the freeze has lasted FO_FREEZE_MS (Sentinel has switched
        # by then with down-after 1000 ms).
        fault=$(cat "$OUT/fault.t")
        left=$(( (fault + FO_FREEZE_MS * 1000 - $(fo_now)) / 1000 ))
        [ "$left" -gt 0 ] && fo_progress "$SCEN: frozen" "$left" "$OUT"
        "$FO_CLIENTS/fo-tool" stamp "$OUT/thaw.t" -- "$SENTINEL_TOPOLOGY_CTL" ctl --dir "$SENTINEL_TEST_DIR" thaw-all
    fi
fi
meta new_port "${NEW:-none}"
step settle
fo_progress "$SCEN: settle" "$FO_SETTLE_MS" "$OUT"

touch "$OUT/stop"
step stop
fo_wait_writers 5
meta stop_t "$(fo_now)"
step "writers stopped"

# The final master: the one the sentinels and ROLE agree on (with no
# sentinel left, the only node answering ROLE master).
FINAL=$(fo_ctl master-port 2>/dev/null) || FINAL=${NEW:-$OLD}
meta final_port "$FINAL"
logs=()
for p in ${FO_PATHS//,/ }; do
    [ -f "$OUT/$p.log" ] && logs+=("$OUT/$p.log")
done
step verify
if [ "${#logs[@]}" -gt 0 ]; then
    if "$FO_CLIENTS/fo-tool" verify "$FINAL" "${logs[@]}" >"$OUT/verify.txt"; then
        meta verified yes
    else
        meta verified no
        fo_log "  verification on port $FINAL failed"
    fi
fi
exit 0
