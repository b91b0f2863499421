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
# test's outcome and "N passed, N failed, N skipped", then runs
# loss_table.sh (reused and per-request objects x manual, kill, freeze,
# sentinel-loss, each in a fresh topology); exits non-zero on a failure.
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
sn_topology_bin >/dev/null
sn_run_tests_php >/dev/null
log=$(mktemp /tmp/sentinel-upstream.XXXXXX)
trap 'rm -f "$log"' EXIT

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
sn_run_phpt "$so" "$log" "$here/../bindings"
status=$?
set -e
sn_phpt_summary "$log" || exit 1
echo "upstream: $sn_passed passed, $sn_failed failed, $sn_skipped skipped"
# The loss table, each cell in a fresh topology (tests/php/upstream/loss_table.sh).
loss=0
SN_EXT_SO=$so sh "$here/loss_table.sh" "$up" || loss=1
[ $status -eq 0 ] && [ "$sn_failed" -eq 0 ] && [ $loss -eq 0 ]
