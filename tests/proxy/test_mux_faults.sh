# Multiplexing under faults, against real Redis (issue 10; the same
# defects are pinned down one by one in test_mux_internals.c):
#
#   preamble  (defect 1) 90 clients connected, the master killed (inside
#             down-after: no failover), each client sends AUTH with a
#             1000-byte password while the proxy holds them, the master
#             comes back: every client gets Redis' own AUTH error and the
#             proxy lives (a82e9c5 overflowed the shared connection's buffer
#             and aborted).
#   refused   (defect 3) a client in db 3 as an ACL user; its shared
#             connection is killed and the user may no longer SELECT: the
#             reconnect's SELECT 3 is refused, and the client's next SET
#             must not run in db 0 (a82e9c5 ran it there and said +OK).
#
# Arguments: the sections to run (default: both).
SCRIPT_ARGS=("$@")
. "$(dirname "$0")/lib.sh"
run_in_topology --down-after 60000

M=$SENTINEL_TEST_MASTER_PORT

# resp ARGS...: one RESP command on stdout.
resp() {
    local a
    printf '*%d\r\n' "$#"
    for a in "$@"; do
        printf '$%d\r\n%s\r\n' "${#a}" "$a"
    done
}

# reply FD: one line of reply (CR stripped) within 10 s, or "EOF".
reply() {
    local line
    if IFS= read -r -t 10 -u "$1" line; then
        printf '%s' "${line%$'\r'}"
    else
        printf 'EOF'
    fi
}

start_proxy P --pause-timeout 30000
SECTIONS=" ${SCRIPT_ARGS[*]:-preamble refused} "

# ---- preamble: AUTH queued while the master is down --------------------------
if [[ $SECTIONS == *" preamble "* ]]; then
N=90
FDS=()
for i in $(seq 1 $N); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$P_PORT" || fail "connect $i"
    FDS+=("$fd")
    resp PING >&"$fd"
done
for fd in "${FDS[@]}"; do
    [ "$(reply "$fd")" = "+PONG" ] || fail "PING through the proxy"
done
idx=$(ctl master-index) || fail "master-index"
ctl kill-master >/dev/null || fail "kill-master"
suspect() { grep -q "master up -> suspect" "$P_LOG"; }
# Make the proxy notice: a command on a fresh connection.
exec {probe}<>"/dev/tcp/127.0.0.1/$P_PORT"
resp PING >&"$probe"
wait_until 20 suspect || fail "the proxy did not notice the master going away"
exec {probe}>&-
PW=$(printf 'p%.0s' $(seq 1 1000))
for fd in "${FDS[@]}"; do
    resp AUTH "$PW" >&"$fd"
done
sleep 0.5 # the proxy reads them while it holds them
ctl restart-node "$idx" >/dev/null || fail "restart-node $idx"
want="-ERR AUTH <password> called without any password configured"
n=0
for fd in "${FDS[@]}"; do
    r=$(reply "$fd")
    [ "${r:0:${#want}}" = "$want" ] || fail "client $n: AUTH answered '${r:0:80}'"
    n=$((n + 1))
    exec {fd}>&-
done
kill -0 "$P_PID" 2>/dev/null || fail "the proxy died"
pong "$P_PORT" || fail "proxy unusable afterwards"
ok "preamble: $N clients' AUTH queued without a master, each answered by Redis"
fi

# ---- refused: the reconnect's SELECT is refused -------------------------------
if [[ $SECTIONS == *" refused "* ]]; then
wait_until 20 pong "$M" || fail "master not back"
rcli "$M" ACL SETUSER tuser on '>tpw' '~*' '&*' '+@all' >/dev/null || fail "ACL SETUSER"
rcli "$M" -n 0 DEL after >/dev/null
rcli "$M" -n 3 DEL after >/dev/null
exec {c}<>"/dev/tcp/127.0.0.1/$P_PORT" || fail "connect"
resp AUTH tuser tpw >&"$c"
[ "$(reply "$c")" = "+OK" ] || fail "AUTH tuser"
resp SELECT 3 >&"$c"
[ "$(reply "$c")" = "+OK" ] || fail "SELECT 3"
resp SET before 1 >&"$c"
[ "$(reply "$c")" = "+OK" ] || fail "SET before"
[ "$(rcli "$M" -n 3 EXISTS before)" = 1 ] || fail "SET before did not land in db 3"
# The user loses SELECT, and the proxy's connection in db 3 is closed.
rcli "$M" ACL SETUSER tuser -select >/dev/null || fail "ACL SETUSER -select"
rcli "$M" CLIENT KILL USER tuser >/dev/null
resp SET after 1 >&"$c"
r=$(reply "$c")
[ "$r" != "+OK" ] || fail "SET after a refused SELECT 3 answered +OK"
[ "$(rcli "$M" -n 0 EXISTS after)" = 0 ] || fail "SET ran in db 0"
[ "$(rcli "$M" -n 3 EXISTS after)" = 0 ] || fail "SET ran although the SELECT was refused"
exec {c}>&-
rcli "$M" ACL DELUSER tuser >/dev/null
pong "$P_PORT" || fail "proxy unusable afterwards"
ok "refused: the client was ended ('$r'), nothing ran in db 0"
fi
