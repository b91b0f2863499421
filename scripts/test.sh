#!/usr/bin/env bash
# Build everything and run every test suite:
#   1. the release build: cmocka unit tests, integration tests against real
#      redis-server / redis-sentinel processes, proxy tests (ctest, all labels)
#   2. an install check: cmake --install, then build a consumer with
#      pkg-config and with find_package(Sentinel)
#   3. a second build with AddressSanitizer + UndefinedBehaviorSanitizer,
#      running the unit and integration tests again; then a third with
#      ThreadSanitizer, of only what the route-thread tests need, running
#      those (tsan_suite below)
#   4. the PHP extension: phpt tests against real topologies, php-fpm load
#      test, package.xml check, and pecl package + pecl install of the tarball
#   5. the failover benchmark suite, --quick: every path and peer through
#      every scenario; fails only when one of our paths loses an
#      acknowledged write or never recovers, never on timings
#   6. a soak of SOAK_SECONDS (default 60): a failover every ~16 s through the
#      proxy and the PHP extension, zero acknowledged writes lost, no fd or
#      RSS growth; authentication/secrets and proxy limits checks
#   7. every libFuzzer target for FUZZ_SECONDS (default 5) seconds
# Every suite runs even if an earlier one failed; the exit status is
# non-zero if any failed. BUILD_DIR overrides the build directory (./build).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD_DIR:-$ROOT/build}"
JOBS="$(nproc 2>/dev/null || echo 2)"
failed=()
passed=()

step() { printf '\n=== %s ===\n' "$*"; }
run_suite() {
    local name="$1"; shift
    step "$name"
    if "$@"; then passed+=("$name"); else failed+=("$name"); fi
}

build() {
    local dir="$1"; shift
    cmake -S "$ROOT" -B "$dir" "$@" >/dev/null && cmake --build "$dir" -j"$JOBS"
}

step "build (RelWithDebInfo) in $BUILD"
if ! build "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
    echo "test.sh: build failed" >&2
    exit 1
fi

run_suite "ctest (unit, integration, proxy, tls)" \
    bash -c "cd '$BUILD' && ctest --output-on-failure --timeout 600"

run_suite "install check" bash "$ROOT/tests/install/check.sh" "$BUILD"
run_suite "ABI check (abidiff against tests/abi/libsentinel.abi)" \
    bash "$ROOT/tests/abi/check.sh" "$BUILD"

step "build with ASan + UBSan in $BUILD-asan"
if build "$BUILD-asan" -DCMAKE_BUILD_TYPE=Debug -DSENTINEL_SANITIZE=ON \
        -DSENTINEL_BUILD_BENCHMARKS=OFF; then
    run_suite "ctest under sanitizers (unit, integration, proxy, tls)" \
        bash -c "cd '$BUILD-asan' && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
                 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                 ctest --output-on-failure --timeout 600 -L 'unit|integration|proxy|tls'"
else
    failed+=("sanitizer build")
fi

# The route threads (libsentinel/src/proxy/route.c) under ThreadSanitizer:
# the tests that run several masters in one process, each route on a
# thread of its own (proxy_route*, proxy_watch-masters), the router from
# inside (proxy_router), and the name lookups' threads (name_lookup.c:
# proxy_dns-*, unit_test_name_lookup). A race ends the process that ran into it
# (TSAN_OPTIONS: top CMakeLists.txt, passed by tests/proxy) and leaves its
# report in tsan-reports/: the suite fails if ctest fails or any report
# was written, and prints the reports.
TSAN_TESTS='^(proxy_(router|route(-.*)?|dns-.*|watch-masters)|unit_test_name_lookup)$'
tsan_suite() {
    local dir="$1" f
    cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DSENTINEL_SANITIZE_THREAD=ON >/dev/null || return 1
    cmake --build "$dir" -j"$JOBS" --target sentinel-proxy proxy-client \
        sentinel-proxy-dyn gai_gate shm-watch sentinel-topology proxy_test_router \
        unit_test_name_lookup || return 1
    rm -rf "$dir/tsan-reports"
    mkdir -p "$dir/tsan-reports"
    (cd "$dir" && ctest --output-on-failure --timeout 600 -R "$TSAN_TESTS")
    local rc=$?
    for f in "$dir"/tsan-reports/*; do
        [ -e "$f" ] || continue
        echo "test.sh: ThreadSanitizer report $f:" >&2
        cat "$f" >&2
        rc=1
    done
    return "$rc"
}
run_suite "route and lookup threads under TSan (proxy_route*, proxy_router, proxy_dns-*, ...)" \
    tsan_suite "$BUILD-tsan"

if [ -x "$ROOT/tests/php/run.sh" ]; then
    run_suite "PHP extension (run-tests.php, php-fpm load, checkrel)" \
        env BUILD_DIR="$BUILD" "$ROOT/tests/php/run.sh"
    run_suite "PHP extension: pecl package + pecl install" sh "$ROOT/tests/php/pecl_install.sh"
fi

run_suite "failover benchmark --quick (fails only on lost writes / no recovery)" \
    bash "$ROOT/benchmarks/failover/run" --quick --build "$BUILD" --no-build

PHP_EXT_SO="$BUILD/failover-php-ext/modules/sentinel.so"   # built by the suite above
run_suite "soak, CI length (kill/freeze/manual through proxy and PHP, ${SOAK_SECONDS:-60} s)" \
    env BUILD_DIR="$BUILD" SENTINEL_PHP_EXT="$PHP_EXT_SO" \
    bash "$ROOT/tests/soak/run.sh" --seconds "${SOAK_SECONDS:-60}"
run_suite "authentication and secrets (requirepass, data ACL user, ACL without SUBSCRIBE)" \
    env BUILD_DIR="$BUILD" SENTINEL_PHP_EXT="$PHP_EXT_SO" bash "$ROOT/tests/soak/auth_check.sh"
run_suite "proxy limits (loopback, max clients, idle timeout, oversized values)" \
    env BUILD_DIR="$BUILD" bash "$ROOT/tests/soak/limits_check.sh"

if command -v clang >/dev/null 2>&1; then
    run_suite "fuzz (libFuzzer, ${FUZZ_SECONDS:-5} s per target)" \
        bash "$ROOT/tests/fuzz/run.sh" "${FUZZ_SECONDS:-5}"
else
    echo "test.sh: clang not installed, fuzz targets not run" >&2
    failed+=("fuzz (clang missing)")
fi

step "summary"
for s in "${passed[@]+"${passed[@]}"}"; do echo "passed: $s"; done
for s in "${failed[@]+"${failed[@]}"}"; do echo "FAILED: $s"; done
echo "suites: ${#passed[@]} passed, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ]
