#!/usr/bin/env bash
# The CI gate of the failover benchmark must be able to fail: feed report.php
# small synthetic runs (no topology, under a second) and check its verdicts.
#
#   benchmarks/failover/selftest.sh      prints "N passed, N failed"
#
#   1. a clean manual failover                              -> exit 0
#   2. ours-c loses a write acked after the promotion       -> exit 1
#   3. ours-c stops writing before the end (no recovery)    -> exit 1
#   4. kill: ours-c loses the write the old master acked
#      after the sync point, right before it died
#      (asynchronous replication)                           -> exit 0, noted
#   5. a required scenario did not complete                 -> exit 3
#   6. ours-c's writer left no log                          -> exit 3
#   7. kill: ours-c loses a write the old master acked
#      before the sync point (its replicas had confirmed it) -> exit 1
#   8. kill: the same loss as 4, but no sync point was taken -> exit 1
#   9. kill: sentinel-proxy (node unknown) loses a write
#      acked inside the window                              -> exit 0, noted
#  10. kill: sentinel-proxy loses one acked before the sync
#      point                                                -> exit 1
#  11. freeze: ours-c loses a write the thawed old master
#      acked (after the window)                             -> exit 1
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/fo-selftest.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
passed=0
failed=0

# make_run DIR SCENARIO VARIANT: one scenario with a naive, an ours-c and a
# sentinel-proxy log (behind a proxy: node 0, unknown). Times in us: for a
# kill or freeze the sync point at 9.99 s, the fault at 10 s, its command
# back at 10.001 s (writes acked from 9.99 s to 10.006 s may be excused);
# promotion at 10.2 s, thaw (freeze) at 11 s, stop at 14 s; the old master
# is port 1000, the new 2000; one write per ms.
make_run() {
    local raw=$1 scen=$2 variant=$3 d=$1/$2
    mkdir -p "$d"
    : >"$raw/skipped.txt"
    printf 'profile=selftest\n' >"$raw/env.txt"
    cat >"$d/meta" <<EOF
scenario=$scen
old_port=1000
paths=naive,ours-c,sentinel-proxy
synced_before_fault=yes
new_port=2000
stop_t=14000000
final_port=2000
verified=yes
EOF
    echo 10000000 >"$d/fault.t"
    if [ "$scen" = kill ] || [ "$scen" = freeze ]; then
        [ "$variant" = nosync ] || echo 9990000 >"$d/sync.t"
        echo 10001000 >"$d/fault-end.t"
    fi
    [ "$scen" = freeze ] && echo 11000000 >"$d/thaw.t"
    {
        echo "R 9000000 1000 master"
        echo "R 9000000 2000 slave"
        if [ "$scen" = kill ]; then echo "R 10002000 1000 down"; fi
        if [ "$scen" = freeze ]; then echo "R 10002000 1000 unresponsive"; fi
        echo "R 10200000 2000 down"
        echo "R 10205000 2000 master"
        echo "V 11200000 3000 +switch-master mymaster 127.0.0.1 1000 127.0.0.1 2000"
    } >"$d/observer.log"
    awk -v scen="$scen" -v variant="$variant" -v dir="$d" 'BEGIN {
        for (p = 0; p < 3; p++) {
            path = p == 2 ? "sentinel-proxy" : p ? "ours-c" : "naive"
            f = dir "/" path ".log"
            print "# path=" path > f
            print "# prefix=fo:" scen ":" path > f
            print "S 8000000" > f
            seq = 0
            for (t = 8000000; t < 14000000; t += 1000) {
                port = (t < 10200000) ? 1000 : 2000
                if (path == "naive") port = 1000
                if (scen == "kill" && port == 1000 && t > 10001000) continue
                if (path != "naive" && t >= 10000000 && t < 10210000) continue  # paused
                if (path == "ours-c" && variant == "stops" && t > 12000000) continue
                # freeze-late: the thawed old master answers one write that
                # waited for it.
                if (path == "ours-c" && variant == "freeze-late" && t == 11001000) port = 1000
                print "A " t " " (path == "sentinel-proxy" ? 0 : port) " " seq > f
                seq++
            }
            print "X 14000000 " seq " " seq " 0" > f
        }
    }'
    : >"$d/naive.log.missing"
    : >"$d/ours-c.log.missing"
    : >"$d/sentinel-proxy.log.missing"
    # naive wrote to the old master after the promotion: all of it lost
    awk '$1 == "A" && $2 > 10200000 { print "M " $4 }' "$d/naive.log" >"$d/naive.log.missing"
    case $variant in
    loses) awk '$1 == "A" && $2 > 10300000 { print "M " $4; exit }' "$d/ours-c.log" >"$d/ours-c.log.missing" ;;
    nolog) rm -f "$d/ours-c.log" "$d/ours-c.log.missing" ;;
    crash | nosync) # the last write before the fault
        awk '$1 == "A" && $2 <= 10001000 { s = $4 } END { print "M " s }' "$d/ours-c.log" \
            >"$d/ours-c.log.missing" ;;
    early) # 20 ms before the fault, 10 ms before the sync point
        awk '$1 == "A" && $2 == 9980000 { print "M " $4 }' "$d/ours-c.log" >"$d/ours-c.log.missing" ;;
    proxy-crash)
        awk '$1 == "A" && $2 <= 10001000 { s = $4 } END { print "M " s }' "$d/sentinel-proxy.log" \
            >"$d/sentinel-proxy.log.missing" ;;
    proxy-early)
        awk '$1 == "A" && $2 == 9980000 { print "M " $4 }' "$d/sentinel-proxy.log" \
            >"$d/sentinel-proxy.log.missing" ;;
    freeze-late)
        awk '$1 == "A" && $2 == 11001000 { print "M " $4 }' "$d/ours-c.log" >"$d/ours-c.log.missing" ;;
    esac
}

# expect NAME STATUS RUNS PATTERN: RUNS is "scenario:variant ..."; the report
# is asked for kill, manual and the other scenarios of RUNS.
expect() {
    local name=$1 want=$2 runs=$3 pattern=$4 raw=$WORK/$1/raw out status r
    local scens=kill,manual
    for r in $runs; do
        make_run "$raw" "${r%%:*}" "${r#*:}"
        case ,$scens, in *",${r%%:*},"*) ;; *) scens+=",${r%%:*}" ;; esac
    done
    out=$(php "$HERE/report.php" --raw "$raw" --out "$WORK/$name" --scenarios "$scens" 2>&1)
    status=$?
    if [ "$status" -eq "$want" ] && { [ -z "$pattern" ] || grep -q -- "$pattern" <<<"$out"; }; then
        echo "ok: $name (exit $status)"
        passed=$((passed + 1))
    else
        echo "FAILED: $name: exit $status, wanted $want${pattern:+ and '$pattern'}"
        sed -n '/### Correctness/,/^Columns/p' <<<"$out"
        failed=$((failed + 1))
    fi
}
expect clean 0 "kill:clean manual:clean" "PASS: our paths (ours-c, sentinel-proxy)"
expect loses-after-promotion 1 "kill:clean manual:loses" "FAIL: manual / ours-c: lost 1"
expect never-recovers 1 "kill:clean manual:stops" "FAIL: manual / ours-c: never recovered"
expect crash-loss-is-not-a-failure 0 "kill:crash manual:clean" "kill / ours-c: 1 write(s) acknowledged"
expect incomplete 3 "kill:clean" "INCOMPLETE: manual"
expect writer-left-no-log 3 "kill:clean manual:nolog" "INCOMPLETE: manual / ours-c: the writer left no log"
expect loss-before-sync-point-fails 1 "kill:early manual:clean" "FAIL: kill / ours-c: lost 1"
expect no-sync-point-excuses-nothing 1 "kill:nosync manual:clean" "FAIL: kill / ours-c: lost 1"
expect proxy-crash-loss-is-not-a-failure 0 "kill:proxy-crash manual:clean" \
    "kill / sentinel-proxy: 1 write(s) acknowledged"
expect proxy-loss-before-sync-point-fails 1 "kill:proxy-early manual:clean" \
    "FAIL: kill / sentinel-proxy: lost 1"
expect freeze-loss-after-thaw-fails 1 "freeze:freeze-late kill:clean manual:clean" \
    "FAIL: freeze / ours-c: lost 1"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
