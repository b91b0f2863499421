#!/usr/bin/env bash
# Sentinel traffic per path in steady state, one path at a time (concurrent
# paths cannot be told apart: Sentinel 7.0 has no per-client or per-command
# counters), on a fresh topology:
#
#   sentinel-topology run -- bash lib/steady.sh
#
# For the background, the sentinels' counters (total_connections_received,
# total_commands_processed, summed over all sentinels) are read twice
# FO_STEADY_MS apart with nothing running. Then for each path: start it
# (and its proxy), let it warm up, read the counters, let it write for
# FO_STEADY_MS, read them again, stop it. The path's share is its delta less
# the background delta; the rest background is measured before and after
# and averaged. Results: $FO_RAW/steady/<path>.txt and rest.txt (analyze.php).
set -u
. "$(dirname "$0")/common.sh"

OUT=$FO_RAW/steady
rm -rf "$OUT"
mkdir -p "$OUT"
WRITER_PIDS=()
trap 'fo_cleanup' EXIT
trap 'exit 130' INT TERM

stats() { "$FO_CLIENTS/fo-tool" sentinel-stats "$SENTINEL_TEST_SENTINELS"; }

# window FILE: "T0 CONNS0 CMDS0 UP0 T1 CONNS1 CMDS1 UP1" over FO_STEADY_MS.
window() {
    local a b t0 t1
    t0=$(fo_now); a=$(stats)
    fo_progress "steady: $1" "$FO_STEADY_MS" "$OUT"
    t1=$(fo_now); b=$(stats)
    echo "$t0 $a $t1 $b" >"$2"
}

window "rest" "$OUT/rest-before.txt"
for p in ${FO_PATHS//,/ }; do
    HAPROXY_PORT= PROXY_PORT=
    case $p in
    haproxy) fo_start_haproxy "$OUT" || { echo "haproxy did not start" >"$OUT/$p.skipped"; continue; } ;;
    sentinel-proxy) fo_start_proxy "$OUT" "$SENTINEL_TEST_MASTER_NAME" ||
        { echo "sentinel-proxy did not become ready" >"$OUT/$p.skipped"; fo_cleanup; continue; } ;;
    esac
    fo_start_writer "$p" "$OUT" "$SENTINEL_TEST_MASTER_NAME" "$FO_MAX_S" || { fo_cleanup; continue; }
    # Warm-up: connections, subscriptions, first resolution (bounded 5 s).
    for i in $(seq 1 50); do
        [ "$(fo_acks "$OUT/$p.log")" -ge 200 ] && break
        sleep 0.1
    done
    window "$p" "$OUT/$p.txt"
    touch "$OUT/stop"
    fo_wait_writers 5
    fo_cleanup
    rm -f "$OUT/stop"
done
window "rest" "$OUT/rest-after.txt"
exit 0
