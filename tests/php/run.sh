#!/bin/sh
# Build the sentinel PHP extension in a scratch copy and run its phpt tests
# (php-ext/tests and tests/php/bindings) against a real topology (1 master,
# 2 replicas, 3 sentinels on loopback) started by sentinel-topology; then the
# php-fpm tests (load; shared cache across Unix users) unless arguments are
# given (e.g. -m) or SN_SKIP_FPM=1; the host-follower FPM test when
# sentinel-proxy is built
# and the release check (checkrel.sh). Prints run-tests.php's summary and a
# closing "N passed, N failed, N skipped" line; exits non-zero on any failure.
#
#   tests/php/run.sh [run-tests.php args...]      e.g. tests/php/run.sh -m (valgrind)
#
# Environment: BUILD_DIR (CMake build, default /tmp/build-php), SENTINEL_TOPOLOGY,
# SN_EXT_BUILD (scratch dir for the extension build), SN_CFLAGS.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

root=$(sn_root)
topology=$(sn_topology_bin)
run_tests=$(sn_run_tests_php)
ext=${SN_EXT_BUILD:-$(mktemp -d /tmp/sentinel-ext.XXXXXX)}
log=$(mktemp /tmp/sentinel-phpt.XXXXXX)
trap 'rm -f "$log"' EXIT

echo "== building php-ext in $ext"
sn_build_ext "$ext"
echo "== built $ext/modules/sentinel.so"

echo "== running phpt tests (php-ext/tests, tests/php/bindings) under sentinel-topology"
export bindings="$here/bindings"
set +e
NO_INTERACTION=1 REPORT_EXIT_STATUS=1 "$topology" run -- sh -c '
    rt=$1; ext=$2; shift 2
    exec php "$rt" -P -q --show-diff \
        -d "extension=$ext/modules/sentinel.so" \
        -d "sentinel.shared_cache_dir=$SENTINEL_TEST_DIR" \
        "$@" "$ext/tests" "$bindings"
' run-tests "$run_tests" "$ext" "$@" >"$log" 2>&1
status=$?
set -e

# Each test's outcome (with diffs of failures) and the summary.
sed -n '/^Running selected tests/,$p' "$log" | sed 's/\x1b\[[0-9;]*m//g' | sed -n '1,400p'
passed=$(sed -n 's/^Tests passed *: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
failed=$(sed -n 's/^Tests failed *: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
skipped=$(sed -n 's/^Tests skipped *: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
borked=$(sed -n 's/^Tests borked *: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
leaked=$(sed -n 's/^Tests leaked *: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
if [ -z "$passed" ]; then
    echo "run-tests.php produced no summary (exit $status):" >&2
    tail -n 40 "$log" >&2
    exit 1
fi
failed=$(( ${failed:-0} + ${borked:-0} + ${leaked:-0} ))

# Real php-fpm workers under load: sentinel traffic must stay bounded.
if [ "${SN_SKIP_FPM:-}" != 1 ] && [ "$*" = "" ]; then
    echo "== tests/php/fpm_sentinel_load.sh"
    if SN_EXT_SO="$ext/modules/sentinel.so" sh "$here/fpm_sentinel_load.sh"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
fi
# The shared cache across Unix users: root's CLI first, FPM workers as nobody.
if [ "${SN_SKIP_FPM:-}" != 1 ] && [ "$*" = "" ]; then
    echo "== tests/php/fpm_shared_cache_users.sh"
    if SN_EXT_SO="$ext/modules/sentinel.so" sh "$here/fpm_shared_cache_users.sh"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
fi
# One follower per host: 8 FPM workers open no sentinel connection while
# sentinel-proxy --watch beats in the shared cache, and follow by
# themselves again when it stops.
build=${BUILD_DIR:-/tmp/build-php}
if [ "${SN_SKIP_FPM:-}" != 1 ] && [ "$*" = "" ] && [ -x "$build/libsentinel/tools/sentinel-proxy" ]; then
    echo "== tests/php/fpm_host_follower.sh 8"
    if SN_EXT_SO="$ext/modules/sentinel.so" sh "$here/fpm_host_follower.sh" 8; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
fi
# A manual failover through the shared-memory path (host mode): 0 lost.
if [ "${SN_SKIP_FPM:-}" != 1 ] && [ "$*" = "" ] && [ -x "$build/libsentinel/tools/sentinel-proxy" ]; then
    echo "== tests/php/host_follower_failover.sh"
    if SN_EXT_SO="$ext/modules/sentinel.so" sh "$here/host_follower_failover.sh"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
fi
# sentinel-proxy --watch keeps the shared cache current: a PHP worker's
# first request after a switch already uses the new master (proxy test).
if [ "$*" = "" ] && [ -x "$build/libsentinel/tools/sentinel-proxy" ]; then
    echo "== proxy_php-watch (sentinel-proxy --watch feeding PHP workers)"
    if SENTINEL_PHP_EXT="$ext/modules/sentinel.so" \
        ctest --test-dir "$build" -R '^proxy_php-watch$' --output-on-failure; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
fi
[ -z "${SN_EXT_BUILD:-}" ] && [ $status -eq 0 ] && [ "$failed" -eq 0 ] && rm -rf "$ext"

# The pecl tarball must be complete and its bundled library current.
echo "== php-ext/scripts/checkrel.sh"
sh "$root/php-ext/scripts/sync-lib.sh" >/dev/null   # lib/ is a build artifact
if sh "$root/php-ext/scripts/checkrel.sh"; then
    passed=$((passed + 1))
else
    echo "checkrel failed: package.xml does not list exactly the files of the extension" >&2
    failed=$((failed + 1))
fi
echo "php-ext: $passed passed, $failed failed, ${skipped:-0} skipped"
[ $status -eq 0 ] && [ "$failed" -eq 0 ]
