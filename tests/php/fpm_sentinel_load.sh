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

sn_in_topology "$0" "$requests" "$workers"

# ---- inside the topology ---------------------------------------------------
dir=$(mktemp -d /tmp/sentinel-fpm.XXXXXX)
trap 'sn_fpm_stop; rm -rf "$dir"' EXIT INT TERM

sn_fpm_config "$dir" load "$workers" auto
cp "$here/fpm/app.php" "$dir/app.php"

# The key the script reads.
php -r '$r = new Redis(); $r->connect("127.0.0.1", (int)$argv[1]); $r->set("fpm-load-key", "hello");' \
    "$("$SENTINEL_TOPOLOGY_CTL" ctl --dir "$SENTINEL_TEST_DIR" master-port)"

sn_fpm_start "$dir/php.ini" "$dir/fpm.conf" "$dir/fpm.sock" "$dir/fpm.out" || {
    cat "$dir/fpm.log" >&2 2>/dev/null || true
    exit 1
}
echo "== php-fpm $($fpm_bin -v | head -n 1 | cut -d' ' -f2) with $workers workers on $dir/fpm.sock"
status=0
php "$here/fpm_load.php" "unix://$dir/fpm.sock" "$dir/app.php" "$workers" "$requests" || status=$?
if [ $status -ne 0 ]; then
    echo "---- fpm log" >&2
    tail -n 30 "$dir/fpm.log" >&2 2>/dev/null || true
fi
exit $status
