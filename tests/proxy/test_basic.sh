# Basic forwarding, TCP and unix socket, stats, config validation, limits,
# graceful stop.
SCRIPT_ARGS=("$@")
. "$(dirname "$0")/lib.sh"
run_in_topology

# ---- command line and config validation (exit 2, clear message) ----------
"$PROXY_BIN" --help | grep -q -- "--sentinel HOST:PORT" || fail "--help"
"$PROXY_BIN" --version | grep -q "sentinel-proxy" || fail "--version"
expect_config_error() { # pattern args...
    local pat=$1 out rc
    shift
    out=$("$PROXY_BIN" "$@" 2>&1)
    rc=$?
    [ $rc -eq 2 ] || fail "exit $rc (want 2) for: $* ($out)"
    echo "$out" | grep -q -- "$pat" || fail "message '$out' lacks '$pat'"
}
S="--sentinel $SENTINEL_TEST_SENTINELS --master $SENTINEL_TEST_MASTER_NAME"
expect_config_error "max-clients" $S --max-clients abc
expect_config_error "out of range" $S --max-clients 0
expect_config_error "out of range" $S --buffer-size 99999999999
expect_config_error "unknown option" $S --no-such-option 1
expect_config_error "master" --sentinel 127.0.0.1:1
expect_config_error "sentinel" --master x
expect_config_error "bad address" $S --listen nonsense
expect_config_error "needs a value" $S --listen
printf 'master %s\nsentinel %s\npause-timeout 12x\n' "$SENTINEL_TEST_MASTER_NAME" \
    "$SENTINEL_TEST_SENTINELS" >"$WORK/bad.conf"
expect_config_error "bad.conf:3" --config "$WORK/bad.conf"
head -c 5000 /dev/zero | tr '\0' 'a' | sed 's/^/master /' >"$WORK/long.conf"
expect_config_error "longer than" --config "$WORK/long.conf"
ok "config validation"

# ---- a config file, a unix socket and forwarding ---------------------------
cat >"$WORK/good.conf" <<CONF
# comment
master $SENTINEL_TEST_MASTER_NAME
sentinel $SENTINEL_TEST_SENTINELS
unix $WORK/proxy.sock
buffer-size 16384
CONF
start_proxy P --config "$WORK/good.conf"
[ -n "$P_PORT" ] && [ -n "$P_ADMIN" ] || fail "ports not logged"
[ "$(rcli "$P_PORT" SET basic:k hello)" = OK ] || fail "SET through the proxy"
[ "$(rcli "$P_PORT" GET basic:k)" = hello ] || fail "GET through the proxy"
[ "$(timeout 10 redis-cli -s "$WORK/proxy.sock" GET basic:k)" = hello ] || fail "unix socket"
[ "$(rcli "$P_PORT" CONFIG GET port | tail -n1)" = "$SENTINEL_TEST_MASTER_PORT" ] ||
    fail "not forwarded to the master"
# a larger value both ways (several buffers' worth)
head -c 300000 /dev/urandom | base64 -w0 >"$WORK/big"
timeout 10 redis-cli -p "$P_PORT" -x SET basic:big <"$WORK/big" >/dev/null
[ "$(rcli "$P_PORT" GET basic:big)" = "$(cat "$WORK/big")" ] || fail "large value corrupted"
redis-benchmark -p "$P_PORT" -c 20 -n 20000 -t set,get -P 4 -q >/dev/null || fail "benchmark"
ok "forwarding"

# ---- stats ------------------------------------------------------------------
[ "$(metric "$P_ADMIN" master_up)" = 1 ] || fail "master_up"
[ "$(metric "$P_ADMIN" connections_total)" -ge 5 ] || fail "connections_total"
[ "$(metric "$P_ADMIN" client_bytes_received_total)" -gt 300000 ] || fail "bytes"
http "$P_ADMIN" /metrics | grep -q "sentinel_proxy_master{host=\"127.0.0.1\",port=\"$SENTINEL_TEST_MASTER_PORT\"" ||
    fail "master metric"
http "$P_ADMIN" /ready | head -n1 | grep -q 200 || fail "/ready"
http "$P_ADMIN" /nope | head -n1 | grep -q 404 || fail "404"
kill -USR1 "$P_PID"
wait_until 5 grep -q "stats: master=" "$P_LOG" || fail "SIGUSR1 stats line"
grep -E "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z sentinel-proxy\[[0-9]+\]: (info|debug|warning|error): " \
    "$P_LOG" >/dev/null || fail "log format"
ok "stats"

# ---- max-clients -------------------------------------------------------------
start_proxy M --max-clients 2
"$PROXY_CLIENT" idle --port "$M_PORT" --count 2 --seconds 3 >"$WORK/idle.out" &
IDLE=$!
wait_until 5 grep -q opened=2 "$WORK/idle.out" || fail "idle clients"
rcli "$M_PORT" PING | grep -q "max number of clients" || fail "max-clients not enforced"
wait $IDLE
wait_until 5 pong "$M_PORT" || fail "slots not freed"
ok "max-clients"

# ---- passwords never in logs or stats ------------------------------------------
start_proxy S --data-password sekrit-data-pw --sentinel-password sekrit-sent-pw --resolve-timeout 300 --pause-timeout 300
http "$S_ADMIN" /metrics >"$WORK/s.metrics"
rcli "$S_PORT" PING >/dev/null
grep -q sekrit "$S_LOG" "$WORK/s.metrics" && fail "a password leaked into logs or stats"
ok "no secrets in logs"

# ---- graceful stop -------------------------------------------------------------
stop_proxy "$P_PID" || fail "SIGTERM exit status $?"
[ -e "$WORK/proxy.sock" ] && fail "unix socket left behind"
grep -q "stopped" "$P_LOG" || fail "no stop message"
ok "graceful stop"
exit 0
