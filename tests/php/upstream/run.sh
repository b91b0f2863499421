#!/bin/sh
# Runs the Magento glue's tests (tests/php/bindings: cache, page cache,
# sessions, the failover loops) against the REAL upstream code instead of the
# stand-ins in tests/php/stubs, under a real topology (sentinel-topology).
#
#   tests/php/upstream/run.sh DIR
#
# DIR holds checkouts of the public repositories (never committed here):
#   DIR/Cm_Cache_Backend_Redis      colinmollenhour/Cm_Cache_Backend_Redis
#   DIR/credis                      colinmollenhour/credis
#   DIR/php-redis-session-abstract  colinmollenhour/php-redis-session-abstract
#   DIR/zf1                         zendframework/zf1 (Zend_Cache; each() is shimmed for PHP 8)
#   DIR/magento2/lib/internal/Magento/Framework/Cache/Backend/Redis.php
#   DIR/magento2/lib/internal/Magento/Framework/Session/SaveHandler/Redis.php
#   DIR/magento2/lib/internal/Magento/Framework/Session/SaveHandler/Redis/Config.php
#                                   from magento/magento2
# Without DIR (or with an incomplete one) it prints one "skipped: no upstream"
# line and exits 0. It prints the upstream commits it ran against, each
# test's outcome, the loss table of the failover loop tests (reused and
# per-request objects x manual, kill, freeze, sentinel-loss) and
# "N passed, N failed, N skipped"; exits non-zero on a failure.
#
# Environment: as tests/php/run.sh (BUILD_DIR, SENTINEL_TOPOLOGY, SN_EXT_BUILD, SN_CFLAGS);
# SN_EXT_SO: an already built sentinel.so (nothing is built then).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
up=${1:-}
required="Cm_Cache_Backend_Redis/Cm/Cache/Backend/Redis.php credis/Client.php credis/Sentinel.php
php-redis-session-abstract/src/Cm/RedisSession/Handler.php zf1/library/Zend/Cache/Backend.php
magento2/lib/internal/Magento/Framework/Cache/Backend/Redis.php
magento2/lib/internal/Magento/Framework/Session/SaveHandler/Redis.php
magento2/lib/internal/Magento/Framework/Session/SaveHandler/Redis/Config.php"
if [ -z "$up" ]; then
    echo "skipped: no upstream (usage: tests/php/upstream/run.sh DIR)"
    exit 0
fi
for f in $required; do
    if [ ! -f "$up/$f" ]; then
        echo "skipped: no upstream ($up/$f missing)"
        exit 0
    fi
done
up=$(cd "$up" && pwd)

. "$here/../common.sh"
SN_ROOT=$(cd "$here/../../.." && pwd)
export SN_ROOT
topology=$(sn_topology_bin)
run_tests=$(sn_run_tests_php)
log=$(mktemp /tmp/sentinel-upstream.XXXXXX)
SN_LOSS_TABLE=$(mktemp /tmp/sentinel-loss.XXXXXX)
export SN_LOSS_TABLE
trap 'rm -f "$log" "$SN_LOSS_TABLE"' EXIT

echo "== upstream code in $up"
for d in Cm_Cache_Backend_Redis credis php-redis-session-abstract zf1; do
    c=$(git -C "$up/$d" rev-parse HEAD 2>/dev/null || echo unknown)
    t=$(git -C "$up/$d" describe --tags 2>/dev/null || echo -)
    echo "   $d $c ($t)"
done
[ -f "$up/magento2/SOURCE.txt" ] && sed 's/^/   /' "$up/magento2/SOURCE.txt"

# The extension: $SN_EXT_SO as given, else one build per source state in
# $SN_EXT_BUILD (default $BUILD_DIR/php-ext), shared with tests/php/run.sh
# when it is given the same SN_EXT_BUILD.
so=${SN_EXT_SO:-}
if [ -z "$so" ]; then
    so=$(sn_build_ext_cached "${SN_EXT_BUILD:-${BUILD_DIR:-/tmp/build-php}/php-ext}")
fi

echo "== running tests/php/bindings against the upstream classes, under sentinel-topology"
export SN_UPSTREAM_DIR="$up"
set +e
NO_INTERACTION=1 REPORT_EXIT_STATUS=1 "$topology" run -- sh -c '
    rt=$1; so=$2; shift 2
    exec php "$rt" -P -q --show-diff -d "extension=$so" \
        -d "sentinel.shared_cache_dir=$SENTINEL_TEST_DIR" "$@"
' run-tests "$run_tests" "$so" "$here/../bindings" >"$log" 2>&1
status=$?
set -e
sn_phpt_summary "$log" || exit 1
# The loss table: what each failover loop test counted (tests/php/bindings/failover_loop.inc).
php -r '
$rows = array_filter(array_map(fn($l) => json_decode($l, true), file($argv[1]) ?: []));
if (!$rows) { exit(0); }
echo "== acknowledged writes lost (cache / session), upstream classes\n";
printf("%-12s %-14s %-18s %-22s %s\n", "objects", "fault", "backend", "acked (cache/session)", "lost (cache/session)");
foreach ($rows as $r) {
    printf("%-12s %-14s %-18s %-22s %s\n", $r["objects"], $r["fault"], $r["backend"],
        $r["cache_acked"] . " / " . $r["session_acked"], $r["cache_lost"] . " / " . $r["session_lost"]);
}
' "$SN_LOSS_TABLE"
echo "upstream: $sn_passed passed, $sn_failed failed, $sn_skipped skipped"
[ $status -eq 0 ] && [ "$sn_failed" -eq 0 ]
