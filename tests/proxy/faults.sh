# The failover step of every proxy failover harness: tests/proxy/test_failover.sh,
# tests/soak/run.sh and benchmarks/proxy/run.sh source this file and run
# their faults with failover_scenario, so one place knows how to break the
# master, how each scenario recovers, and which acknowledged writes that may
# cost. The harnesses differ only in what they drive through the proxy and
# what they check afterwards.
#
# Redis replicates asynchronously: a master killed or frozen between
# answering a client and feeding its replicas takes that write with it, and
# no proxy can prevent it (DESIGN.md "What nothing lost means"). Which writes
# are those is measured, not guessed: just before the fault,
# `proxy-client syncpoint` SETs a marker on the master and WAITs until every
# connected replica has it. Every write the master acknowledged before that
# moment is on every replica, so only writes acknowledged from the sync
# point to the end of the fault command may be excused (the window is the
# replication lag of this run plus the fault command, a few ms, where it
# used to be a fixed second before the fault).
#
# benchmarks/failover (every client path at once, sentinel-proxy among them)
# takes the same sync point before its kills and freezes (lib/common.sh,
# fo_sync_fault) and its analysis (lib/analyze.php, fo_lost_at_crash) excuses
# the same window: from the sync point to 5 ms after the fault command.
#
# Needs PROXY_CLIENT (proxy-client) and TOPOLOGY_BIN (sentinel-topology), and
# runs inside `sentinel-topology run`.

# inject_fault KIND OUT: KIND is kill, freeze or manual. For kill and freeze,
# OUT gets one line "SYNC_MS END_MS OLD_PORT SYNC_US END_US": the sync point
# and the end of the fault command on the wall clock (ms, what
# `proxy-client writeloop --fault-file OUT` reads) and on CLOCK_MONOTONIC
# (us, the clock of fo-writer's ack log), and the master that was broken.
# A manual failover loses nothing, so OUT is removed: nothing is excused.
# Returns non-zero when the replicas did not confirm or the command failed.
inject_fault() {
    local kind=$1 out=$2 old sync end
    rm -f "$out"
    old=$("$TOPOLOGY_BIN" ctl master-port) || return 1
    case $kind in
    kill | freeze)
        sync=$("$PROXY_CLIENT" syncpoint --port "$old" --seconds 10) || return 1
        "$TOPOLOGY_BIN" ctl "$kind-master" >/dev/null || return 1
        end=$("$PROXY_CLIENT" now) || return 1
        set -- $sync $end
        # $1 sync ms, $2 sync us, $3 replicas, $4 their lag, $5 end ms, $6 end us
        echo "$1 $5 $old $2 $6" >"$out"
        echo "fault: $kind of $old; $3 replicas confirmed the writes before it in $4 ms;" \
            "excused window $(($5 - $1)) ms" >&2
        ;;
    manual)
        "$TOPOLOGY_BIN" ctl failover >/dev/null || return 1
        ;;
    *)
        return 2
        ;;
    esac
}

# failover_scenario KIND OUT [HOLD_S]: one failover of the current master,
# up to the sentinels naming a new one, whose port it prints. KIND:
#   kill | freeze | manual   inject_fault KIND OUT (the sync point above);
#                            a frozen master stays frozen until the
#                            sentinels have switched, then HOLD_S seconds
#                            more (default 1: it wakes as a stale master
#                            while clients write), then thaws
#   sentinel-loss            the first sentinel (the one clients prefer)
#                            dies, and a second later another one fails
#                            over (SENTINEL FAILOVER): OUT is removed
# Returns non-zero when the fault failed or no switch came within 30 s (a
# frozen master is thawed either way).
failover_scenario() {
    local kind=$1 out=$2 hold=${3:-1} old new
    old=$("$TOPOLOGY_BIN" ctl master-port) || return 1
    case $kind in
    kill | freeze | manual)
        if ! inject_fault "$kind" "$out"; then
            # it may have failed after the freeze (taking the fault's end):
            # the master must not stay frozen
            [ "$kind" != freeze ] || "$TOPOLOGY_BIN" ctl thaw-all >/dev/null
            return 1
        fi
        ;;
    sentinel-loss)
        rm -f "$out"
        "$TOPOLOGY_BIN" ctl kill-sentinel 0 >/dev/null || return 1
        sleep 1
        "$TOPOLOGY_BIN" ctl failover >/dev/null || return 1
        ;;
    *)
        return 2
        ;;
    esac
    new=$("$TOPOLOGY_BIN" ctl wait-switch "$old" 30000)
    local rc=$?
    if [ "$kind" = freeze ]; then
        [ $rc -ne 0 ] || sleep "$hold"
        "$TOPOLOGY_BIN" ctl thaw-all >/dev/null || return 1
    fi
    [ $rc -eq 0 ] || return 1
    echo "$new"
}
