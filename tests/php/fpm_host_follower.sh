#!/bin/sh
# One follower per host: php-fpm workers (or CLI processes) with
# sentinel.watch=auto hold their own sentinel connections only while no host
# follower beats in the shared cache. Counts the clients on every sentinel
# (CLIENT LIST, less the sentinels' links to each other) with WORKERS busy
# workers, in three phases:
#
#   1. no publisher:            each worker follows by itself (>= WORKERS)
#   2. sentinel-proxy --watch:  workers close their followers; the whole
#                               host holds <= 4 connections per sentinel
#   3. publisher stopped:       after its heartbeat goes stale (3 s) the
#                               workers follow by themselves again
#
# and asserts those three facts. Prints the counts (the figures in
# php-ext/README.md come from this script).
#
#   tests/php/fpm_host_follower.sh [WORKERS] [fpm|cli|fpm+cli]
#
# fpm+cli: WORKERS php-fpm workers and, at the same time, CLI_PROCS (default
# 8) CLI processes (issue 11's target: 64 FPM workers and 8 CLI processes
# hold <= 4 connections per sentinel in total).
#
# Environment: BUILD_DIR (for sentinel-proxy and sentinel-topology), SN_EXT_SO,
# CLI_PROCS.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

workers=${1:-8}
kind=${2:-fpm}
cli_procs=${CLI_PROCS:-8}
case $kind in fpm | cli | fpm+cli) ;; *) echo "fpm_host_follower: kind fpm, cli or fpm+cli" >&2; exit 2 ;; esac
build=${BUILD_DIR:-/tmp/build-php}
proxy_bin=$build/libsentinel/tools/sentinel-proxy
[ -x "$proxy_bin" ] || { echo "fpm_host_follower: $proxy_bin is not built" >&2; exit 1; }
export SN_PROXY_BIN=$proxy_bin

sn_in_topology "$0" "$workers" "$kind"

# ---- inside the topology ---------------------------------------------------
dir=$(mktemp -d /tmp/sentinel-hf.XXXXXX)
proxy_pid=
cli_pids=
cleanup() {
    sn_fpm_stop
    if [ -n "$proxy_pid" ]; then kill "$proxy_pid" 2>/dev/null || true; fi
    for p in $cli_pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

sn_fpm_config "$dir" hf "$workers" on
# As root, php-fpm, the CLI and the publisher all run as nobody, so they
# share the 0600 cache file.
as_nobody=
[ "$(id -u)" = 0 ] && as_nobody="setpriv --reuid=nobody --regid=nogroup --clear-groups"
cp "$here/fpm/follow_app.php" "$dir/app.php"
chmod 644 "$dir/app.php" "$dir/php.ini"

# Clients of every sentinel that are not other sentinels (nor this query).
count_clients() {
    total=0
    per=
    for p in $(echo "$SENTINEL_TEST_SENTINEL_PORTS" | tr ',' ' '); do
        n=$(redis-cli -p "$p" CLIENT LIST | grep -v 'name=sentinel-' | grep -vc 'cmd=client|list' || true)
        per="$per $n"
        total=$((total + n))
    done
    echo "$total:$per"
}
max_per_sentinel() {
    echo "$1" | cut -d: -f2 | tr ' ' '\n' | sort -n | tail -n 1
}

# WORKERS concurrent requests (each holds its worker 50 ms), ROUNDS times:
# every worker serves several requests, so its follower (driven only by
# requests) connects and subscribes.
drive_fpm() {
    rounds=$1
    r=0
    while [ $r -lt "$rounds" ]; do
        php -r '
            require $argv[1];
            $n = (int)$argv[3];
            $pids = [];
            for ($i = 0; $i < $n; $i++) {
                $pid = pcntl_fork();
                if ($pid === 0) {
                    try { [$st, $body] = fcgi_get($argv[2], $argv[4], "hold=50"); echo $body; }
                    catch (Throwable $e) { echo "error: ", $e->getMessage(), "\n"; }
                    exit(0);
                }
                $pids[] = $pid;
            }
            foreach ($pids as $p) { pcntl_waitpid($p, $s); }
        ' "$here/fcgi_client.php" "unix://$dir/fpm.sock" "$workers" "$dir/app.php" >> "$dir/answers" 2>&1
        sleep 0.05
        r=$((r + 1))
    done
}

# CLI processes (COUNT): each resolves every 20 ms for the given seconds
# or until $dir/cli.stop exists.
start_cli() {
    secs=$1
    count=$2
    rm -f "$dir/cli.stop"
    cli_pids=
    i=0
    while [ $i -lt "$count" ]; do
        $as_nobody php -n -c "$dir/php.ini" -r '
            $end = microtime(true) + (float)$argv[1];
            while (microtime(true) < $end && !is_file($argv[2])) {
                $m = Sentinel\resolve();
                usleep(20000);
            }
            echo json_encode(["mode" => Sentinel\stats()["follow_mode"]]), "\n";
        ' "$secs" "$dir/cli.stop" >> "$dir/answers" 2>&1 &
        cli_pids="$cli_pids $!"
        i=$((i + 1))
    done
}
wait_cli() {
    for p in $cli_pids; do wait "$p" || true; done
    cli_pids=
}

# One phase: load, count while the workers are alive, report.
phase() {
    : > "$dir/answers"
    if [ "$kind" = cli ]; then
        start_cli 4 "$workers"
        sleep 3
        c=$(count_clients)
        wait_cli
    elif [ "$kind" = fpm+cli ]; then
        # The CLI processes run until the count is taken, so both are counted.
        start_cli 120 "$cli_procs"
        sleep 3
        drive_fpm 12
        sleep 0.3
        c=$(count_clients)
        touch "$dir/cli.stop"
        wait_cli
    else
        drive_fpm 12
        sleep 0.3
        c=$(count_clients)
    fi
    modes=$(grep -o '"mode":"[a-z]*"' "$dir/answers" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
    echo "$c|$modes"
}

fail=0
base=$(count_clients)
extra=
[ "$kind" = fpm+cli ] && extra=" + $cli_procs cli"
echo "== $workers $kind workers$extra; sentinel clients at rest: ${base#*:}"
[ "$kind" != cli ] && { sn_fpm_start "$dir/php.ini" "$dir/fpm.conf" "$dir/fpm.sock" "$dir/fpm.out" ||
    { cat "$dir/fpm.log" >&2 2>/dev/null; exit 1; }; }

# 1. No publisher: every worker follows by itself.
# Each worker follows by itself: at least one connection per worker.
expect_own_followers() {
    r=$(phase)
    c=${r%%|*}
    echo "$1 clients per sentinel:${c#*:} (total ${c%%:*}); modes ${r#*|}"
    if [ "${c%%:*}" -lt "$workers" ]; then
        echo "FAIL: $1 $workers workers hold only ${c%%:*} sentinel connections" >&2
        fail=1
    fi
}
expect_own_followers "no publisher:  "

# 2. The host follower: sentinel-proxy --watch publishing into the same directory.
sn_host_follower_start "$dir" $as_nobody
proxy_pid=$sn_proxy_pid
r=$(phase)
c=${r%%|*}
max=$(max_per_sentinel "$c")
echo "with publisher: clients per sentinel:${c#*:} (total ${c%%:*}, max $max); modes ${r#*|}"
if [ "$max" -gt 4 ]; then
    echo "FAIL: with the host follower a sentinel holds $max connections (want <= 4)" >&2
    fail=1
fi
if ! echo "${r#*|}" | grep -q '"mode":"host"' || echo "${r#*|}" | grep -q '"mode":"worker"'; then
    echo "FAIL: with the host follower the workers did not all say mode host: ${r#*|}" >&2
    fail=1
fi

# 3. The publisher stops: its heartbeat goes stale, workers follow again.
kill "$proxy_pid" 2>/dev/null || true
wait "$proxy_pid" 2>/dev/null || true
proxy_pid=
sleep 3.5
expect_own_followers "publisher gone:"
[ $fail = 0 ] && echo "host-follower: 1 passed, 0 failed" || echo "host-follower: 0 passed, 1 failed"
exit $fail
