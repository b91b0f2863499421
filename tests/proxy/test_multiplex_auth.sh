# Multiplexing with AUTH and SELECT, as Magento's Redis clients connect
# (AUTH, SELECT n, then commands): every (AUTH, database) a client is
# accepted into gets a shared master connection of its own; Redis checks
# each client's AUTH and SELECT itself, so a wrong password or database
# gets Redis' error and changes nothing; a client pinned after AUTH and
# SELECT (MULTI) keeps its credentials and database on its own connection.
SCRIPT_ARGS=("$@")
. "$(dirname "$0")/lib.sh"
run_in_topology --data-password mux-pw

M=$SENTINEL_TEST_MASTER_PORT
start_proxy P --data-password mux-pw
pc() { timeout 10 redis-cli --no-auth-warning -p "$P_PORT" "$@" 2>&1; }
mc() { timeout 10 redis-cli --no-auth-warning -a mux-pw -p "$M" "$@" 2>&1; }

mux0=$(metric "$P_ADMIN" multiplexed_commands_total)
pin0=$(metric "$P_ADMIN" pinned_clients_total)

# Without AUTH: Redis' own refusal.
got=$(pc GET k)
[[ "$got" == NOAUTH* ]] || fail "no AUTH: '$got'"
# AUTH, then commands: multiplexed, in the right state.
[ "$(pc -a mux-pw SET auth:k v0)" = OK ] || fail "SET after AUTH"
[ "$(pc -a mux-pw GET auth:k)" = v0 ] || fail "GET after AUTH"
# A wrong password: Redis' error, and the client stays unauthenticated.
got=$(printf 'AUTH wrong\nGET auth:k\n' | pc | tr '\n' ' ')
[[ "$got" == WRONGPASS*NOAUTH* ]] || fail "wrong password: '$got'"
# AUTH + SELECT 2, as Magento connects: lands in db 2 only.
[ "$(pc -a mux-pw -n 2 SET auth:db2 two)" = OK ] || fail "SET in db 2"
[ "$(mc -n 2 GET auth:db2)" = two ] || fail "the SET did not land in db 2"
[ "$(mc -n 0 EXISTS auth:db2)" = 0 ] || fail "the SET went to db 0 too"
[ "$(pc -a mux-pw -n 2 GET auth:db2)" = two ] || fail "GET in db 2"
# A database that does not exist: Redis' error; the client stays in db 2.
got=$(printf 'AUTH mux-pw\nSELECT 2\nSELECT 999\nGET auth:db2\n' | pc | tr '\n' ' ')
[[ "$got" == "OK OK ERR"*" two " ]] || fail "SELECT 999: '$got'"
mux1=$(metric "$P_ADMIN" multiplexed_commands_total)
[ "$(metric "$P_ADMIN" pinned_clients_total)" = "$pin0" ] || fail "AUTH/SELECT pinned a client"
[ $((mux1 - mux0)) -ge 20 ] || fail "AUTH/SELECT clients were not multiplexed ($((mux1 - mux0)))"
conns=$(metric "$P_ADMIN" shared_connects_total)
[ "$conns" -ge 3 ] && [ "$conns" -le 6 ] ||
    fail "shared connections: $conns (want one per AUTH x db used)"
ok "AUTH and SELECT multiplexed: $((mux1 - mux0)) commands, $conns shared connections"

# Pinned after AUTH + SELECT: MULTI needs its own connection, which must be
# authenticated and in db 2 (the proxy replays both, checks the +OKs).
got=$(printf 'AUTH mux-pw\nSELECT 2\nMULTI\nINCR auth:ctr\nGET auth:db2\nEXEC\n' | pc | tr '\n' ' ')
[ "$got" = "OK OK OK QUEUED QUEUED 1 two " ] || fail "MULTI after AUTH + SELECT 2: '$got'"
[ "$(mc -n 2 GET auth:ctr)" = 1 ] || fail "INCR in MULTI did not land in db 2"
[ "$(metric "$P_ADMIN" pinned_clients_total)" = $((pin0 + 1)) ] || fail "MULTI did not pin"
ok "pinned after AUTH + SELECT: its own connection has both"

# Clients that shut their side down right after sending AUTH, SELECT and a
# SET in one write: the SET still runs, in db 4, and the proxy ends every
# one of them.
OUT=$("$PROXY_CLIENT" halfclose --port "$P_PORT" --password mux-pw --count 3 --seconds 20 \
    --prefix auth:gone) || fail "half-closing clients: $OUT"
[ "$(mc -n 4 MGET auth:gone:0 auth:gone:1 auth:gone:2 | tr -d '\n')" = vvv ] ||
    fail "the SETs of half-closing clients did not run in db 4"
ok "clients closing right after AUTH + SELECT + SET: the SET ran in db 4 ($OUT)"

# Many clients in different databases at once, through the shared
# connections: each sees only its database.
for db in 0 1 2 3; do
    redis-benchmark -p "$P_PORT" -a mux-pw --dbnum "$db" -c 10 -n 2000 -t set -r 100 \
        >/dev/null 2>&1 || fail "redis-benchmark in db $db"
done
for db in 1 3; do
    n=$(mc -n "$db" DBSIZE)
    [ "$n" -ge 1 ] || fail "db $db empty after redis-benchmark --dbnum $db"
done
[ "$(mc -n 2 GET auth:db2)" = two ] || fail "db 2 damaged"
[ "$(metric "$P_ADMIN" upstream_errors_total)" = 0 ] || fail "upstream errors"
no_connections() { [ "$(metric "$P_ADMIN" connections)" = 0 ]; }
wait_until 10 no_connections || fail "connections not released"
[ "$(metric "$P_ADMIN" buffer_bytes)" = 0 ] || fail "buffers not freed"
ok "four databases at once, each in its own"
exit 0
