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
# test's outcome and "N passed, N failed, N skipped"; exits non-zero on a failure.
#
# Environment: as tests/php/run.sh (BUILD_DIR, SENTINEL_TOPOLOGY, SN_EXT_BUILD, SN_CFLAGS).
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
ext=${SN_EXT_BUILD:-$(mktemp -d /tmp/sentinel-ext.XXXXXX)}
log=$(mktemp /tmp/sentinel-upstream.XXXXXX)
trap 'rm -f "$log"' EXIT

echo "== upstream code in $up"
for d in Cm_Cache_Backend_Redis credis php-redis-session-abstract zf1; do
    c=$(git -C "$up/$d" rev-parse HEAD 2>/dev/null || echo unknown)
    t=$(git -C "$up/$d" describe --tags 2>/dev/null || echo -)
    echo "   $d $c ($t)"
done
[ -f "$up/magento2/SOURCE.txt" ] && sed 's/^/   /' "$up/magento2/SOURCE.txt"

if [ ! -f "$ext/modules/sentinel.so" ]; then
    echo "== building php-ext in $ext"
    sn_build_ext "$ext"
fi

echo "== running tests/php/bindings against the upstream classes, under sentinel-topology"
export SN_UPSTREAM_DIR="$up"
set +e
NO_INTERACTION=1 REPORT_EXIT_STATUS=1 "$topology" run -- sh -c '
    rt=$1; so=$2; shift 2
    exec php "$rt" -P -q --show-diff -d "extension=$so" \
        -d "sentinel.shared_cache_dir=$SENTINEL_TEST_DIR" "$@"
' run-tests "$run_tests" "$ext/modules/sentinel.so" "$here/../bindings" >"$log" 2>&1
status=$?
set -e
sed -n '/^Running selected tests/,$p' "$log" | sed 's/\x1b\[[0-9;]*m//g' | sed -n '1,400p'
passed=$(sed -n 's/^Tests passed *: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
failed=$(sed -n 's/^Tests failed *: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
skipped=$(sed -n 's/^Tests skipped *: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
borked=$(sed -n 's/^Tests borked *: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
if [ -z "$passed" ]; then
    echo "run-tests.php produced no summary (exit $status):" >&2
    tail -n 40 "$log" >&2
    exit 1
fi
failed=$(( ${failed:-0} + ${borked:-0} ))
[ -z "${SN_EXT_BUILD:-}" ] && [ $status -eq 0 ] && [ "$failed" -eq 0 ] && rm -rf "$ext"
echo "upstream: $passed passed, $failed failed, ${skipped:-0} skipped"
[ $status -eq 0 ] && [ "$failed" -eq 0 ]
