#!/bin/sh
# The shared cache across Unix users with Debian's real php-fpm: root runs a
# CLI script first (as `bin/magento` or cron do), then FPM workers running as
# nobody serve requests whose script turns every warning into an exception.
#   1. default settings: root's file (0600) is not theirs; every request still
#      answers (quiet fallback, one line per worker in the FPM log, "unavailable"
#      in stats()) -- before the fix each worker's first request threw;
#   2. sentinel.shared_cache_group + mode 0660: the workers share root's file.
# Root only (the workers must be another user): otherwise prints "skipped".
#
#   tests/php/fpm_shared_cache_users.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

if [ "$(id -u)" != 0 ]; then
    echo "fpm-shared-cache-users: skipped (needs root to run workers as nobody)"
    exit 0
fi
sn_in_topology "$0"

# ---- inside the topology ---------------------------------------------------
workers=2
dir=$(mktemp -d /tmp/sentinel-fpm-users.XXXXXX)
trap 'sn_fpm_stop; rm -rf "$dir"' EXIT INT TERM
chmod 755 "$dir"
mkdir -m 1777 "$dir/shm"
cp "$here/fpm/strict_app.php" "$dir/app.php"
master_port=$("$SENTINEL_TOPOLOGY_CTL" ctl --dir "$SENTINEL_TEST_DIR" master-port)

# $1: extra INI lines. Root resolves first (creating the file), then FPM starts.
start() {
    cat > "$dir/php.ini" <<INI
extension=$SN_EXT_SO
sentinel.sentinels=$SENTINEL_TEST_SENTINELS
sentinel.master_name=$SENTINEL_TEST_MASTER_NAME
sentinel.shared_cache=1
sentinel.shared_cache_dir=$dir/shm
sentinel.watch=off
$1
INI
    rm -f "$dir"/shm/* "$dir/fpm.log" "$dir/fpm.sock"
    php -n -c "$dir/php.ini" -r 'Sentinel\resolve();'
    cat > "$dir/fpm.conf" <<CONF
[global]
pid = $dir/fpm.pid
error_log = $dir/fpm.log
daemonize = no

[users]
user = nobody
group = nogroup
listen = $dir/fpm.sock
listen.owner = root
listen.mode = 0666
pm = static
pm.max_children = $workers
catch_workers_output = yes
CONF
    sn_fpm_start "$dir/php.ini" "$dir/fpm.conf" "$dir/fpm.sock" "$dir/fpm.out" || {
        cat "$dir/fpm.log" >&2 2>/dev/null || true
        exit 1
    }
}

# $1: what shared_cache_mode must start with in every answer.
check() {
    php -r '
        require $argv[1];
        [$_, $_, $addr, $script, $port, $want, $workers] = $argv;
        $pids = [];
        for ($i = 0; $i < 8 * $workers; $i++) {
            [$status, $body] = fcgi_get($addr, $script);
            $r = json_decode(trim($body), true);
            if ($status !== 0 || !is_array($r) || isset($r["error"]) || $r["port"] !== (int)$port
                || !str_starts_with($r["mode"], $want)) {
                fwrite(STDERR, "request $i: status $status: $body\n");
                exit(1);
            }
            $pids[$r["pid"]] = true;
        }
        echo "   ", 8 * $workers, " requests answered by ", count($pids), " workers, shared cache: $want...\n";
    ' "$here/fcgi_client.php" "unix://$dir/fpm.sock" "$dir/app.php" "$master_port" "$1" "$workers"
}

status=0
echo "== root created the cache file with the default settings; FPM workers run as nobody"
start ""
check "unavailable: " || status=1
lines=$(grep -c 'sentinel: shared cache unavailable' "$dir/fpm.log" || true)
echo "   $lines line(s) in the FPM log (one per worker at most)"
[ "$lines" -ge 1 ] && [ "$lines" -le $workers ] || { status=1; cat "$dir/fpm.log" >&2; }
if grep -q 'Warning' "$dir/fpm.log"; then status=1; cat "$dir/fpm.log" >&2; fi
sn_fpm_stop

echo "== sentinel.shared_cache_group=nogroup, mode 0660: one file for root and the workers"
start "sentinel.shared_cache_group=nogroup
sentinel.shared_cache_mode=0660"
ls -l "$dir"/shm/ | sed -n '2p' | awk '{ print "   " $1, $3 ":" $4 }'
check "shared: " || status=1
sn_fpm_stop

[ $status -eq 0 ] && echo "fpm-shared-cache-users: 1 passed, 0 failed" || echo "fpm-shared-cache-users: 0 passed, 1 failed"
exit $status
