# Watch mode with a real PHP worker: with `sentinel-proxy --watch` keeping
# the shared cache current, a PHP worker's first request after the first
# sentinel names the new master already gets the new master, from the shared
# cache (source "shared"), without asking a sentinel.
#
# Needs the PHP extension: SENTINEL_PHP_EXT=/path/to/sentinel.so (the PHP
# test runner sets it); without it the test reports itself skipped (77).
SCRIPT_ARGS=("$@")
. "$(dirname "$0")/lib.sh"
if [ -z "${SENTINEL_PHP_EXT:-}" ] || [ ! -f "${SENTINEL_PHP_EXT:-}" ] || ! command -v php >/dev/null; then
    echo "skipped: set SENTINEL_PHP_EXT to the built sentinel.so"
    exit 77
fi
run_in_topology

OLD=$SENTINEL_TEST_MASTER_PORT
start_proxy W --watch --shared-cache "$WORK"
cat >"$WORK/resolve.php" <<'PHP'
<?php
$r = Sentinel\resolve(getenv('SENTINEL_TEST_MASTER_NAME'),
                      ['sentinels' => getenv('SENTINEL_TEST_SENTINELS'), 'shared_cache' => true]);
echo $r['port'], ' ', $r['source'], "\n";
PHP
php_resolve() {
    timeout 20 php -n -d "extension=$SENTINEL_PHP_EXT" -d "sentinel.shared_cache_dir=$WORK" \
        "$WORK/resolve.php"
}
read -r port source < <(php_resolve)
[ "$port" = "$OLD" ] || fail "PHP resolved $port before the failover, want $OLD"

ctl failover || fail "SENTINEL FAILOVER"
S0=${SENTINEL_TEST_SENTINELS%%,*}
first_sentinel_switched() {
    NEW=$(timeout 5 redis-cli -p "${S0##*:}" SENTINEL get-master-addr-by-name \
        "$SENTINEL_TEST_MASTER_NAME" | tail -n1)
    [ -n "$NEW" ] && [ "$NEW" != "$OLD" ]
}
wait_until 30 first_sentinel_switched || fail "no sentinel switched"
read -r port source < <(php_resolve)
[ "$port" = "$NEW" ] || fail "first PHP request after the switch resolved $port ($source), want $NEW"
[ "$source" = shared ] || fail "answer came from $source, not the shared cache"
ok "php: first request after the switch used $NEW from the shared cache"
exit 0
