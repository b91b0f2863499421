# Shared by the tests/php scripts: locate tools, build the extension in a
# scratch copy. Source it; it defines functions only.

# The repository root ($SN_ROOT, else two levels above the running script,
# which lives in tests/php/ or benchmarks/php/).
sn_root() {
    if [ -n "${SN_ROOT:-}" ]; then
        echo "$SN_ROOT"
    else
        (cd "$(dirname "$0")/../.." && pwd)
    fi
}

# The sentinel-topology binary: $SENTINEL_TOPOLOGY, or built with CMake into
# $BUILD_DIR (default /tmp/build-php) when missing.
sn_topology_bin() {
    root=$(sn_root)
    if [ -n "${SENTINEL_TOPOLOGY:-}" ] && [ -x "$SENTINEL_TOPOLOGY" ]; then
        echo "$SENTINEL_TOPOLOGY"
        return 0
    fi
    build=${BUILD_DIR:-/tmp/build-php}
    if [ ! -x "$build/tests/harness/sentinel-topology" ]; then
        echo "== building the harness with CMake into $build" >&2
        cmake -S "$root" -B "$build" -DSENTINEL_BUILD_BENCHMARKS=OFF >"$build.cmake.log" 2>&1 &&
            cmake --build "$build" -j2 --target sentinel-topology >>"$build.cmake.log" 2>&1 || {
            tail -n 30 "$build.cmake.log" >&2
            return 1
        }
    fi
    echo "$build/tests/harness/sentinel-topology"
}

# Builds php-ext in a scratch copy DIR with the current libsentinel sources
# (synced into DIR/lib). Fails on a compiler warning in the extension's own
# files (PHP's and the library's headers are checked by their owners).
sn_build_ext() {
    dir=$1
    root=$(sn_root)
    rm -rf "$dir"
    mkdir -p "$dir"
    cp -R "$root/php-ext/." "$dir/"
    rm -rf "$dir/lib"
    sh "$root/php-ext/scripts/sync-lib.sh" copy "$dir" >/dev/null
    (
        cd "$dir" &&
            phpize >phpize.log 2>&1 &&
            ./configure --with-sentinel=bundled CFLAGS="${SN_CFLAGS:--O2 -g -Wall -Wextra}" \
                >configure.log 2>&1 &&
            make -j2 >make.log 2>&1
    ) || {
        echo "extension build failed in $dir:" >&2
        tail -n 40 "$dir/configure.log" "$dir/make.log" 2>/dev/null >&2
        return 1
    }
    if grep -E "^$dir/sentinel[a-z_]*\.[ch]:[0-9]+:[0-9]+: warning" "$dir/make.log" >&2; then
        echo "extension build has warnings (see above)" >&2
        return 1
    fi
    [ -f "$dir/modules/sentinel.so" ]
}

# run-tests.php from php-dev.
sn_run_tests_php() {
    for f in /usr/lib/php/*/build/run-tests.php; do
        [ -f "$f" ] && { echo "$f"; return 0; }
    done
    echo "run-tests.php not found (install php-dev)" >&2
    return 1
}
