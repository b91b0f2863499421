#!/bin/sh
# Debian's real php-fpm with several workers on a unix socket, a FastCGI
# client sending a bounded number of requests (default 2000) to a script
# that resolves the master through the extension and GETs a key; asserts
# that the sentinels' new connections and commands stay bounded (they do
# not grow with requests). Everything it starts is stopped on exit.
#
#   tests/php/fpm_sentinel_load.sh [REQUESTS] [WORKERS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

requests=${1:-2000}
workers=${2:-4}

if [ "${SN_FPM_INNER:-}" != 1 ]; then
    topology=$(sn_topology_bin)
    so=${SN_EXT_SO:-}
    if [ -z "$so" ]; then
        ext=$(mktemp -d /tmp/sentinel-ext.XXXXXX)
        echo "== building php-ext in $ext"
        sn_build_ext "$ext"
        so=$ext/modules/sentinel.so
    fi
    SN_FPM_INNER=1 SN_EXT_SO=$so exec "$topology" run -- sh "$0" "$requests" "$workers"
fi

# ---- inside the topology ---------------------------------------------------
fpm_bin=${PHP_FPM:-$(command -v php-fpm8.2 || echo /usr/sbin/php-fpm8.2)}
dir=$(mktemp -d /tmp/sentinel-fpm.XXXXXX)
fpm_pid=
cleanup() {
    if [ -n "$fpm_pid" ]; then
        kill "$fpm_pid" 2>/dev/null || true
        # php-fpm stops its workers on SIGTERM; wait a bounded time.
        i=0
        while kill -0 "$fpm_pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$fpm_pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

extdir=$(php-config --extension-dir)
cat > "$dir/php.ini" <<INI
extension=$extdir/igbinary.so
extension=$extdir/redis.so
extension=$SN_EXT_SO
sentinel.sentinels=$SENTINEL_TEST_SENTINELS
sentinel.master_name=$SENTINEL_TEST_MASTER_NAME
sentinel.shared_cache=1
sentinel.shared_cache_dir=$dir/shm
sentinel.watch=auto
INI
cat > "$dir/fpm.conf" <<CONF
[global]
pid = $dir/fpm.pid
error_log = $dir/fpm.log
daemonize = no

[load]
listen = $dir/fpm.sock
pm = static
pm.max_children = $workers
catch_workers_output = yes
CONF
[ "$(id -u)" = 0 ] && printf 'user = nobody\ngroup = nogroup\nlisten.owner = root\nlisten.mode = 0666\n' >> "$dir/fpm.conf"
chmod 755 "$dir"
# The workers (nobody when run as root) create the shared cache file here.
mkdir -p "$dir/shm"
chmod 1777 "$dir/shm"
cp "$here/fpm/app.php" "$dir/app.php"

# The key the script reads.
php -r '$r = new Redis(); $r->connect("127.0.0.1", (int)$argv[1]); $r->set("fpm-load-key", "hello");' \
    "$("$SENTINEL_TOPOLOGY_CTL" ctl --dir "$SENTINEL_TEST_DIR" master-port)"

"$fpm_bin" -n -c "$dir/php.ini" -y "$dir/fpm.conf" -F -R >"$dir/fpm.out" 2>&1 &
fpm_pid=$!
i=0
while [ ! -S "$dir/fpm.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ ! -S "$dir/fpm.sock" ]; then
    echo "php-fpm did not start:" >&2
    cat "$dir/fpm.out" "$dir/fpm.log" >&2 2>/dev/null || true
    exit 1
fi
echo "== php-fpm $($fpm_bin -v | head -n 1 | cut -d' ' -f2) with $workers workers on $dir/fpm.sock"
status=0
php "$here/fpm_load.php" "unix://$dir/fpm.sock" "$dir/app.php" "$workers" "$requests" || status=$?
if [ $status -ne 0 ]; then
    echo "---- fpm log" >&2
    tail -n 30 "$dir/fpm.log" >&2 2>/dev/null || true
fi
exit $status
