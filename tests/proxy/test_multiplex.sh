# Multiplexing: 40 clients' pipelines over the proxy's shared master
# connections must each get exactly their own replies, in order and whole;
# SELECT moves a client to the shared connection of its database (AUTH to
# that of its credentials: test_multiplex_auth.sh); clients that need a
# connection of their own (CLIENT, MULTI, inline or unknown commands,
# BLPOP, a command bigger than the buffer) must be pinned without losing or
# reordering a reply, and keep their connection's state; QUIT gets +OK
# after every reply and nothing after it runs. mux-client does the checking (see
# mux_client.c); it runs directly on the master first (its expectations
# are Redis' own), then through a multiplexing proxy (default buffer, then
# a small one: more commands and replies cut across reads), then through
# a proxy with --multiplex no.
SCRIPT_ARGS=("$@")
. "$(dirname "$0")/lib.sh"
run_in_topology --down-after 5000

: "${MUX_CLIENT:?MUX_CLIENT must point to mux-client}"
M=$SENTINEL_TEST_MASTER_PORT
# The commands depend only on the seed: MUX_SEED=N reproduces a run.
SEED=${MUX_SEED:-1}
MUXARGS=(--clients 40 --rounds 250 --seconds 40 --master-port "$M")

# ---- the client's expectations hold on Redis itself -------------------------
OUT=$("$MUX_CLIENT" run --port "$M" "${MUXARGS[@]}" --seed "$SEED" --prefix direct) ||
    fail "directly on the master: $OUT"
ok "directly on the master: $OUT"

# mux_run NAME PREFIX [extra mux-client args]: run mux-client through the
# proxy NAME; check its verdict and what the proxy counted meanwhile.
mux_run() {
    local name=$1 prefix=$2 port admin log mux0 pin0 err0 mux1 pin1 err1 shared pinexp
    shift 2
    port=${name}_PORT admin=${name}_ADMIN log=${name}_LOG
    port=${!port} admin=${!admin} log=${!log}
    mux0=$(metric "$admin" multiplexed_commands_total)
    pin0=$(metric "$admin" pinned_clients_total)
    err0=$(metric "$admin" upstream_errors_total)
    OUT=$("$MUX_CLIENT" run --port "$port" "${MUXARGS[@]}" --prefix "$prefix" "$@") ||
        fail "$name: mux-client $*: $OUT"
    mux1=$(metric "$admin" multiplexed_commands_total)
    pin1=$(metric "$admin" pinned_clients_total)
    err1=$(metric "$admin" upstream_errors_total)
    shared=$(field shared_commands "$OUT")
    pinexp=$(field pinned_expected "$OUT")
    MUX_DELTA=$((mux1 - mux0)) PIN_DELTA=$((pin1 - pin0))
    echo "$name: $OUT multiplexed_delta=$MUX_DELTA pinned_delta=$PIN_DELTA"
    [ $((err1 - err0)) -eq 0 ] || fail "$name: upstream errors during the run"
    ! grep -q "shared master connection:" "$log" || fail "$name: the shared connection failed"
    no_connections() { [ "$(metric "$admin" connections)" = 0 ]; }
    wait_until 10 no_connections || fail "$name: connections not released"
    [ "$(metric "$admin" buffer_bytes)" = 0 ] || fail "$name: buffers not freed"
    pong "$port" || fail "$name: proxy unusable afterwards"
    SHARED_EXPECTED=$shared PINNED_EXPECTED=$pinexp
}

# ---- multiplexed (the default) ---------------------------------------------
start_proxy P
mux_run P mux --seed "$SEED"
# Every command sent before a client's pinning command went over the
# shared connection, nothing else did; every client that had to be pinned
# was, and no other (a shared client pinned by mistake means its commands
# could not be framed).
[ "$MUX_DELTA" -eq "$SHARED_EXPECTED" ] ||
    fail "multiplexed_commands_total grew by $MUX_DELTA, want $SHARED_EXPECTED"
[ "$SHARED_EXPECTED" -gt 5000 ] || fail "too few shared commands: $SHARED_EXPECTED"
[ "$PIN_DELTA" -eq "$PINNED_EXPECTED" ] ||
    fail "pinned_clients_total grew by $PIN_DELTA, want $PINNED_EXPECTED"
[ "$PINNED_EXPECTED" -ge 7 ] || fail "too few pinned clients: $PINNED_EXPECTED"
ok "multiplexed: replies in order, pinning exact"

# ---- one-shot clients: exactly what Redis answers ----------------------------
# A client that sent neither AUTH nor SELECT gets Redis' own replies,
# errors included, over the shared connection for (no AUTH, db 0).
rcli "$M" DEL cmp:s cmp:none >/dev/null
mux0=$(metric "$P_ADMIN" multiplexed_commands_total)
pin0=$(metric "$P_ADMIN" pinned_clients_total)
[ "$(rcli "$P_PORT" SET cmp:s hello)" = OK ] || fail "SET through the proxy"
[ "$(rcli "$P_PORT" GET cmp:s)" = hello ] || fail "GET through the proxy"
n=2
same() { # args...: the proxy answers as the master does
    local want got
    want=$(rcli "$M" "$@" 2>&1)
    got=$(rcli "$P_PORT" "$@" 2>&1)
    [ "$got" = "$want" ] || fail "'$*': proxy '$got', master '$want'"
    n=$((n + 1))
}
same GET cmp:s
same GET cmp:none
same INCR cmp:s
same HGET cmp:s f
same LRANGE cmp:none 0 -1
same EXISTS cmp:s cmp:none cmp:s
same PING
same ECHO "a b"
same DEL cmp:none
same GETRANGE cmp:s 1 3
same EVAL "return redis.error_reply('boom')" 0
same EVAL "return {1,2,{3,'x'},{}}" 0
same SET cmp:s
[ $(($(metric "$P_ADMIN" multiplexed_commands_total) - mux0)) -eq $n ] ||
    fail "one-shot commands were not all multiplexed"
[ "$(metric "$P_ADMIN" pinned_clients_total)" = "$pin0" ] || fail "a one-shot client was pinned"
id=$(rcli "$P_PORT" CLIENT ID)
[[ "$id" =~ ^[0-9]+$ ]] || fail "CLIENT ID through the proxy: '$id'"
[ "$(metric "$P_ADMIN" pinned_clients_total)" = $((pin0 + 1)) ] || fail "CLIENT ID did not pin"
[ "$(rcli "$P_PORT" CLIENT SETNAME x)" = OK ] || fail "CLIENT SETNAME through the proxy"
session=$(printf 'SELECT 3\nSET cmp:db3 v\nGET cmp:db3\n' | rcli "$P_PORT" | tr '\n' ' ')
[ "$session" = "OK OK v " ] || fail "SELECT 3, SET, GET in one session: '$session'"
[ "$(rcli "$M" -n 3 GET cmp:db3)" = v ] || fail "SET after SELECT 3 not in db 3"
[ "$(rcli "$M" -n 0 EXISTS cmp:db3)" = 0 ] || fail "SET after SELECT 3 went to db 0"
# Pinned after SELECT (MULTI): its own connection is in db 3 too.
session=$(printf 'SELECT 3\nMULTI\nSET cmp:multi3 v\nEXEC\n' | rcli "$P_PORT" | tr '\n' ' ')
[ "$session" = "OK OK QUEUED OK " ] || fail "SELECT 3, MULTI, SET, EXEC: '$session'"
[ "$(rcli "$M" -n 3 GET cmp:multi3)" = v ] || fail "MULTI after SELECT 3 not in db 3"
ok "one-shot clients: Redis' own replies ($n multiplexed), CLIENT pinned, SELECT in its db"

# ---- a small buffer: more commands and replies cut across reads -------------
# 4096 bytes still holds every mux-client command but the big ones (values
# up to 3000 bytes), so pinning stays exact.
start_proxy R --buffer-size 4096
mux_run R small --seed $((SEED + 1))
[ "$MUX_DELTA" -eq "$SHARED_EXPECTED" ] ||
    fail "small buffer: multiplexed_commands_total grew by $MUX_DELTA, want $SHARED_EXPECTED"
[ "$PIN_DELTA" -eq "$PINNED_EXPECTED" ] ||
    fail "small buffer: pinned_clients_total grew by $PIN_DELTA, want $PINNED_EXPECTED"
ok "multiplexed with a 4096-byte buffer"

# ---- multiplexing off: every client forwarded raw ---------------------------
start_proxy N --multiplex no
mux_run N plain --seed $((SEED + 2))
[ "$(metric "$N_ADMIN" multiplexed_commands_total)" = 0 ] || fail "--multiplex no multiplexed"
ok "--multiplex no"

kill -0 "$P_PID" && kill -0 "$R_PID" && kill -0 "$N_PID" || fail "a proxy died"
exit 0
