# A master that refuses a shared connection's AUTH by quoting it: a Redis
# with AUTH renamed answers "-ERR unknown command 'AUTH', with args
# beginning with: '<password>' ...". The proxy's log line about the refusal
# must not carry the client's password (main logged the reply whole, at
# WARN); the client itself gets Redis' reply, as Redis would answer it.
SCRIPT_ARGS=("$@")
. "$(dirname "$0")/lib.sh"
run_in_topology --replicas 0

another_master authless --rename-command AUTH auth-renamed-by-test
SENTINEL_TEST_MASTER_NAME=authless start_proxy P --multiplex yes
wait_until 10 forwards_to "$P_PORT" "$PORT" || fail "the proxy does not forward to authless"

got=$(printf 'AUTH secretpw123\nGET k\n' | timeout 10 redis-cli --no-auth-warning -p "$P_PORT" 2>&1 |
    tr '\n' ' ')
[[ "$got" == *"unknown command"* ]] || fail "the client did not get the master's refusal: '$got'"
refused() { grep -q "refused its AUTH/SELECT" "$P_LOG"; }
wait_until 10 refused || fail "the proxy did not log the refusal"
grep "refused its AUTH/SELECT" "$P_LOG" | grep -q "its arguments left out" ||
    fail "the refusal's log line: $(grep "refused its AUTH/SELECT" "$P_LOG")"
if grep -q secretpw123 "$P_LOG"; then
    fail "the password is in the proxy log: $(grep secretpw123 "$P_LOG")"
fi
ok "AUTH refused by a master without AUTH: logged, without the password"
grep "refused its AUTH/SELECT" "$P_LOG" | grep -q ": debug: " ||
    fail "no client was bound yet: the refusal is DEBUG: $(grep "refused its AUTH/SELECT" "$P_LOG")"

# The WARN case: a client is bound to the shared connection (the master
# accepted its AUTH) when the master comes back with AUTH renamed, so the
# reconnect's AUTH is refused with the password quoted. The line is at
# "warning" (one client in that state ends) and still cut.
another_master authwarn --user alice on '>warnpw456' '~*' '&*' '+@all'
W_PORT=$PORT
W_PID=${PROXY_PIDS[-1]}
SENTINEL_TEST_MASTER_NAME=authwarn start_proxy Q --multiplex yes
wait_until 10 forwards_to "$Q_PORT" "$W_PORT" || fail "the proxy does not forward to authwarn"
exec 4<>"/dev/tcp/127.0.0.1/$Q_PORT" || fail "no connection to the proxy"
printf '*3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$9\r\nwarnpw456\r\n' >&4 # RESP: inline is pinned
IFS= read -r -t 10 line <&4 || fail "no reply to AUTH"
[ "$line" = $'+OK\r' ] || fail "AUTH through the proxy: '$line'"
# Same port, AUTH renamed: the master restarts before Sentinel could call
# it down, and (no replica) there is nothing to fail over to anyway.
kill -9 "$W_PID"
wait "$W_PID" 2>/dev/null
redis-server --port "$W_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" \
    --logfile "$WORK/authwarn2.redis.log" --rename-command AUTH auth-renamed-by-test \
    --user alice on '>warnpw456' '~*' '&*' '+@all' &
PROXY_PIDS+=("$!")
wait_until 10 rcli "$W_PORT" PING >/dev/null || fail "authwarn did not restart"
trap '' PIPE # a write to a connection the proxy closed is an error, not death
printf '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n' >&4 # the bound client's next command reconnects the group
warned() { grep -q ": warning: .*refused its AUTH/SELECT" "$Q_LOG"; }
wait_until 20 warned || fail "no warning about the refused AUTH: $(grep "refused its AUTH/SELECT" "$Q_LOG")"
exec 4<&-
line=$(grep ": warning: .*refused its AUTH/SELECT" "$Q_LOG" | head -n 1)
[[ "$line" == *"(its arguments left out)"* && "$line" == *"1 clients in that state end"* ]] ||
    fail "the refusal's warning: $line"
if grep -q warnpw456 "$Q_LOG"; then
    fail "the password is in the proxy log: $(grep warnpw456 "$Q_LOG")"
fi
ok "AUTH refused with a client bound: a warning, without the password"
exit 0
