#!/bin/sh
# The loss table of the Magento glue: one cache backend + one session handler
# reused for the whole run, and new ones per request, x a manual failover, a
# killed master, a frozen master (SIGSTOP) and the loss of the preferred
# sentinel followed by a failover. Each cell is one phpt (three of them also
# run in tests/php/bindings; the others live in tests/php/upstream/loss/),
# run here in a FRESH topology each, as benchmarks/failover runs each
# scenario: faults do not pile up on one topology and one shared cache.
# Every save() and session write() that answered true must be on the final
# master.
#
#   tests/php/upstream/loss_table.sh [DIR]
#
# With DIR (laid out as run.sh says) against the real upstream classes,
# else the stand-ins of tests/php/stubs. Prints the table; exits non-zero
# when a cell failed or lost a write. Environment: as run.sh (SN_EXT_SO,
# SN_EXT_BUILD, BUILD_DIR, SENTINEL_TOPOLOGY).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common.sh"
SN_ROOT=$(cd "$here/../../.." && pwd)
export SN_ROOT
if [ -n "${1:-}" ]; then
    SN_UPSTREAM_DIR=$(cd "$1" && pwd)
    export SN_UPSTREAM_DIR
fi
so=${SN_EXT_SO:-}
if [ -z "$so" ]; then
    so=$(sn_build_ext_cached "${SN_EXT_BUILD:-${BUILD_DIR:-/tmp/build-php}/php-ext}")
fi
SN_LOSS_TABLE=$(mktemp /tmp/sentinel-loss.XXXXXX)
export SN_LOSS_TABLE
log=$(mktemp /tmp/sentinel-loss-log.XXXXXX)
trap 'rm -f "$SN_LOSS_TABLE" "$log"' EXIT

b=$here/../bindings
failed=0
for t in "$b/015_reused_failover_manual.phpt" "$here/loss/022_reused_failover_kill.phpt" \
    "$b/016_reused_failover_freeze.phpt" "$here/loss/023_reused_sentinel_loss.phpt" \
    "$here/loss/024_per_request_manual.phpt" "$here/loss/025_per_request_kill.phpt" \
    "$b/020_per_request_freeze.phpt" "$here/loss/026_per_request_sentinel_loss.phpt"; do
    echo "== $(basename "$t") (fresh topology)"
    if sn_run_phpt "$so" "$log" "$t" && sn_phpt_summary "$log" >/dev/null && [ "$sn_failed" -eq 0 ]; then
        echo "   PASS"
    else
        failed=$((failed + 1))
        sed -n '/^Running selected tests/,$p' "$log" | sed 's/\x1b\[[0-9;]*m//g' | sed -n '1,60p'
    fi
done
php -r '
$rows = array_filter(array_map(fn($l) => json_decode($l, true), file($argv[1]) ?: []));
echo "== acknowledged writes lost, ", getenv("SN_UPSTREAM_DIR") ? "upstream classes" : "stand-ins", "\n";
printf("%-12s %-14s %-18s %-24s %s\n", "objects", "fault", "cache backend", "acked (cache / session)", "lost (cache / session)");
foreach ($rows as $r) {
    printf("%-12s %-14s %-18s %-24s %s\n", $r["objects"], $r["fault"], $r["backend"],
        $r["cache_acked"] . " / " . $r["session_acked"], $r["cache_lost"] . " / " . $r["session_lost"]);
}
' "$SN_LOSS_TABLE"
echo "loss table: $((8 - failed)) cells passed, $failed failed"
[ "$failed" -eq 0 ]
