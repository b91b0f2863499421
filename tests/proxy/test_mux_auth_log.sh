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
exit 0
