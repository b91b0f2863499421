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
# SN_EXT_BUILD (the extension's build dir, default $BUILD_DIR/php-ext, reused
# while the php-ext and libsentinel sources are unchanged), SN_CFLAGS.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

root=$(sn_root)
run_tests=$(sn_run_tests_php)
log=$(mktemp /tmp/sentinel-phpt.XXXXXX)
trap 'rm -f "$log"' EXIT

# One build per source state, shared with tests/php/upstream/run.sh when both
# are given the same SN_EXT_BUILD (default $BUILD_DIR/php-ext).
so=$(sn_build_ext_cached "${SN_EXT_BUILD:-${BUILD_DIR:-/tmp/build-php}/php-ext}")
ext=$(dirname "$(dirname "$so")")
echo "== built $so"
# The tests as they are now (the cached build may hold an older copy); run
# from the build dir so run-tests.php leaves nothing in the source tree.
rm -rf "$ext/tests"
cp -R "$root/php-ext/tests" "$ext/tests"

echo "== running phpt tests (php-ext/tests, tests/php/bindings) under sentinel-topology"
set +e
sn_run_phpt "$so" "$log" "$@" "$ext/tests" "$here/bindings"
status=$?
set -e

# Each test's outcome (with diffs of failures) and the summary.
sn_phpt_summary "$log" || exit 1
passed=$sn_passed
failed=$sn_failed
skipped=$sn_skipped
# The registry key builder alone (C, no PHP): no password in a key.
echo "== tests/php/key/run.sh"
if sh "$here/key/run.sh"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
fi
# Remembered settings leave no password in freed memory (no topology).
echo "== tests/php/secrets/run.sh"
if SN_EXT_SO="$so" sh "$here/secrets/run.sh"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
fi
# Steady state: no system call per resolve() (the readiness thread).
echo "== tests/php/steady/syscalls.sh"
if SN_EXT_SO="$so" sh "$here/steady/syscalls.sh"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
fi

# Real php-fpm workers under load: sentinel traffic must stay bounded.
if [ "${SN_SKIP_FPM:-}" != 1 ] && [ "$*" = "" ]; then
    echo "== tests/php/fpm_sentinel_load.sh"
    if SN_EXT_SO="$so" sh "$here/fpm_sentinel_load.sh"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
fi
# The shared cache across Unix users: root's CLI first, FPM workers as nobody.
if [ "${SN_SKIP_FPM:-}" != 1 ] && [ "$*" = "" ]; then
    echo "== tests/php/fpm_shared_cache_users.sh"
    if SN_EXT_SO="$so" sh "$here/fpm_shared_cache_users.sh"; then
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
    if SN_EXT_SO="$so" sh "$here/fpm_host_follower.sh" 8; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
fi
# A manual failover through the shared-memory path (host mode): 0 lost.
if [ "${SN_SKIP_FPM:-}" != 1 ] && [ "$*" = "" ] && [ -x "$build/libsentinel/tools/sentinel-proxy" ]; then
    echo "== tests/php/host_follower_failover.sh"
    if SN_EXT_SO="$so" sh "$here/host_follower_failover.sh"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
fi
# sentinel-proxy --watch keeps the shared cache current: a PHP worker's
# first request after a switch already uses the new master (proxy test).
if [ "$*" = "" ] && [ -x "$build/libsentinel/tools/sentinel-proxy" ]; then
    echo "== proxy_php-watch (sentinel-proxy --watch feeding PHP workers)"
    if SENTINEL_PHP_EXT="$so" \
        ctest --test-dir "$build" -R '^proxy_php-watch$' --output-on-failure; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
fi

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
