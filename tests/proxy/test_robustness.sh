# Hostile and heavy clients: slow readers, disconnects mid-command,
# malformed bytes, 1,000 concurrent connections.
SCRIPT_ARGS=("$@")
. "$(dirname "$0")/lib.sh"
run_in_topology

ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"
start_proxy P --max-clients 1500

# A client that does not read: 64 MiB of replies must not end up in the
# proxy (at most one buffer per direction, then backpressure).
OUT=$("$PROXY_CLIENT" slowreader --port "$P_PORT" --count 64 --pid "$P_PID" --rss-limit-kb 16384) ||
    fail "slow reader: $OUT"
ok "slow reader: $OUT"

OUT=$("$PROXY_CLIENT" midcmd --port "$P_PORT" --count 600) || fail "mid-command: $OUT"
ok "disconnects mid-command: $OUT"

OUT=$("$PROXY_CLIENT" garbage --port "$P_PORT" --count 200) || fail "garbage: $OUT"
ok "malformed bytes: $OUT"

OUT=$("$PROXY_CLIENT" conns --port "$P_PORT" --count 1000 --seconds 60 --pid "$P_PID") ||
    fail "1000 connections: $OUT"
ok "1000 connections: $OUT"

kill -0 "$P_PID" || fail "proxy died"
no_connections() { [ "$(metric "$P_ADMIN" connections)" = 0 ]; }
wait_until 10 no_connections ||
    fail "connections not released"
[ "$(metric "$P_ADMIN" buffer_bytes)" = 0 ] || fail "buffers not freed"
[ "$(rcli "$P_PORT" PING)" = PONG ] || fail "proxy unusable afterwards"
ok "proxy healthy, all connections and buffers released"
exit 0
