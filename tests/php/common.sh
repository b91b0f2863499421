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

# Run the calling script again inside a fresh sentinel-topology, with the
# extension built (or $SN_EXT_SO) exported as SN_EXT_SO; returns only when
# already inside (SN_FPM_INNER=1). Usage: sn_in_topology "$0" "$@"
sn_in_topology() {
    [ "${SN_FPM_INNER:-}" = 1 ] && return 0
    script=$1
    shift
    topology=$(sn_topology_bin)
    so=${SN_EXT_SO:-}
    if [ -z "$so" ]; then
        ext=$(mktemp -d /tmp/sentinel-ext.XXXXXX)
        echo "== building php-ext in $ext"
        sn_build_ext "$ext"
        so=$ext/modules/sentinel.so
    fi
    SN_FPM_INNER=1 SN_EXT_SO=$so exec "$topology" run -- sh "$script" "$@"
}

# php-fpm in the foreground, in the background of this shell: sn_fpm_start
# INI CONF SOCK LOG sets sn_fpm_pid and waits (10 s at most) for SOCK;
# sn_fpm_stop stops it (SIGTERM, then SIGKILL after 5 s).
sn_fpm_start() {
    fpm_bin=${PHP_FPM:-$(command -v php-fpm8.2 || echo /usr/sbin/php-fpm8.2)}
    "$fpm_bin" -n -c "$1" -y "$2" -F -R >"$4" 2>&1 &
    sn_fpm_pid=$!
    i=0
    while [ ! -S "$3" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    if [ ! -S "$3" ]; then
        echo "php-fpm did not start:" >&2
        cat "$4" >&2 2>/dev/null || true
        return 1
    fi
}
sn_fpm_stop() {
    [ -n "${sn_fpm_pid:-}" ] || return 0
    kill "$sn_fpm_pid" 2>/dev/null || true
    i=0
    while kill -0 "$sn_fpm_pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$sn_fpm_pid" 2>/dev/null || true
    wait "$sn_fpm_pid" 2>/dev/null || true
    sn_fpm_pid=
}

# sn_fpm_config DIR POOL WORKERS WATCH: DIR/php.ini (phpredis, the extension
# in $SN_EXT_SO, the topology's sentinels, the shared cache in DIR/shm,
# sentinel.watch=WATCH) and DIR/fpm.conf (a static pool POOL of WORKERS on
# DIR/fpm.sock; the workers run as nobody when we are root).
sn_fpm_config() {
    extdir=$(php-config --extension-dir)
    cat > "$1/php.ini" <<INI
extension=$extdir/igbinary.so
extension=$extdir/redis.so
extension=$SN_EXT_SO
sentinel.sentinels=$SENTINEL_TEST_SENTINELS
sentinel.master_name=$SENTINEL_TEST_MASTER_NAME
sentinel.shared_cache=1
sentinel.shared_cache_dir=$1/shm
sentinel.watch=$4
INI
    cat > "$1/fpm.conf" <<CONF
[global]
pid = $1/fpm.pid
error_log = $1/fpm.log
daemonize = no

[$2]
listen = $1/fpm.sock
pm = static
pm.max_children = $3
catch_workers_output = yes
CONF
    [ "$(id -u)" = 0 ] && printf 'user = nobody\ngroup = nogroup\nlisten.owner = root\nlisten.mode = 0666\n' >> "$1/fpm.conf"
    chmod 755 "$1"
    # The workers (nobody when run as root) create the shared cache file here.
    mkdir -p "$1/shm"
    chmod 1777 "$1/shm"
}

# sn_host_follower_start DIR [RUNAS...]: $SN_PROXY_BIN --watch (run through
# RUNAS, e.g. setpriv) keeping DIR/shm current for the topology's master;
# sets sn_proxy_pid, waits (10 s at most) for it to be ready and for its
# first heartbeat.
sn_host_follower_start() {
    hf_dir=$1
    shift
    "$@" "$SN_PROXY_BIN" --watch --sentinel "$SENTINEL_TEST_SENTINELS" \
        --master "$SENTINEL_TEST_MASTER_NAME" --shared-cache "$hf_dir/shm" 2>"$hf_dir/proxy.log" &
    sn_proxy_pid=$!
    i=0
    while ! grep -q "ready: master" "$hf_dir/proxy.log" 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    sleep 1.2 # its first heartbeat
}

# The extension built once per source state: sn_build_ext into DIR unless
# DIR already holds a build of the same php-ext and libsentinel sources (a
# checksum in DIR/.sn-sources, SN_CFLAGS included). Echoes the path of sentinel.so. Lets the
# scripts that need the extension (tests/php/run.sh, tests/php/upstream/run.sh)
# share one build: give them the same DIR (SN_EXT_BUILD).
sn_build_ext_cached() {
    dir=$1
    root=$(sn_root)
    sum=$({ cat "$root"/php-ext/*.c "$root"/php-ext/*.h "$root"/php-ext/config.m4 \
        "$root"/php-ext/scripts/sync-lib.sh "$root"/libsentinel/src/*.c "$root"/libsentinel/src/*.h \
        "$root"/libsentinel/include/sentinel/*.h 2>/dev/null; echo "CFLAGS=${SN_CFLAGS:-}"; } |
        md5sum | cut -d' ' -f1)
    if [ -f "$dir/modules/sentinel.so" ] && [ "$(cat "$dir/.sn-sources" 2>/dev/null)" = "$sum" ]; then
        echo "== reusing the extension built in $dir (same sources)" >&2
    else
        echo "== building php-ext in $dir" >&2
        sn_build_ext "$dir" >&2 || return 1
        echo "$sum" >"$dir/.sn-sources"
    fi
    echo "$dir/modules/sentinel.so"
}

# Prints each test's outcome and run-tests.php's summary from LOG and sets
# sn_passed, sn_failed (failed + borked + leaked) and sn_skipped; returns 1
# when LOG holds no summary (run-tests.php did not run).
sn_phpt_summary() {
    sed -n '/^Running selected tests/,$p' "$1" | sed 's/\x1b\[[0-9;]*m//g' | sed -n '1,400p'
    sn_passed=$(sed -n 's/^Tests passed *: *\([0-9]*\).*/\1/p' "$1" | tail -n 1)
    sn_failed=0
    for what in failed borked leaked; do
        n=$(sed -n "s/^Tests $what *: *\([0-9]*\).*/\1/p" "$1" | tail -n 1)
        sn_failed=$((sn_failed + ${n:-0}))
    done
    sn_skipped=$(sed -n 's/^Tests skipped *: *\([0-9]*\).*/\1/p' "$1" | tail -n 1)
    sn_skipped=${sn_skipped:-0}
    if [ -z "$sn_passed" ]; then
        echo "run-tests.php produced no summary:" >&2
        tail -n 40 "$1" >&2
        return 1
    fi
}

# Runs run-tests.php on ARGS (tests, directories) with sentinel.so SO under a
# fresh sentinel-topology, output in LOG; returns run-tests.php's status.
# Usage: sn_run_phpt SO LOG ARGS...
sn_run_phpt() {
    so=$1 log=$2
    shift 2
    NO_INTERACTION=1 REPORT_EXIT_STATUS=1 "$(sn_topology_bin)" run -- sh -c '
        rt=$1; so=$2; shift 2
        exec php "$rt" -P -q --show-diff -d "extension=$so" \
            -d "sentinel.shared_cache_dir=$SENTINEL_TEST_DIR" "$@"
    ' run-tests "$(sn_run_tests_php)" "$so" "$@" >"$log" 2>&1
}
