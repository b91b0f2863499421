# The master closing the proxy's connections is not a failover (issue 11):
# Redis closes them on its idle `timeout`, on CLIENT KILL, after QUIT. The
# proxy then has the follower ask the master for ROLE again
# (sentinel_follow_verify) WITHOUT holding anyone: while the master answers
# ROLE master, the proxy never leaves "up" and new clients are served at
# once. (Had it used sentinel_follow_recheck, every such close would hold
# new clients and log "master up -> suspect".) A master that is really gone
# is test_mux_faults.sh's "preamble" section.
SCRIPT_ARGS=("$@")
. "$(dirname "$0")/lib.sh"
run_in_topology

M=$SENTINEL_TEST_MASTER_PORT
start_proxy P
role_calls() {
    rcli "$M" INFO commandstats | tr -d '\r' |
        sed -n 's/^cmdstat_role:calls=\([0-9]*\),.*/\1/p'
}
[ "$(rcli "$P_PORT" SET check:k v)" = OK ] || fail "forwarding"

for round in 1 2 3; do
    # A multiplexed client and a pinned one, both idle on their master
    # connections.
    exec {mux}<>"/dev/tcp/127.0.0.1/$P_PORT" || fail "connect"
    exec {own}<>"/dev/tcp/127.0.0.1/$P_PORT" || fail "connect"
    printf '*1\r\n$4\r\nPING\r\n' >&"$mux"
    printf '*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$4\r\nport\r\n' >&"$own"
    read -r -t 5 line <&"$mux" || fail "no PING reply"
    [ "${line%$'\r'}" = +PONG ] || fail "PING: $line"
    read -r -t 5 line <&"$own" || fail "no CONFIG reply"
    before=$(role_calls)
    before=${before:-0}
    # The master closes every normal client connection (the proxy's).
    rcli "$M" CLIENT KILL TYPE normal >/dev/null || fail "CLIENT KILL"
    checked() { [ "$(role_calls)" -gt "$before" ]; }
    wait_until 10 checked || fail "round $round: the master was not asked for ROLE again"
    exec {mux}>&- {own}>&-
    [ "$(rcli "$P_PORT" SET "check:$round" v)" = OK ] || fail "round $round: not forwarding"
    [ "$(metric "$P_ADMIN" master_up)" = 1 ] || fail "round $round: master_up"
    sleep 0.2 # the next round's closes are checked again (once per tick)
done
grep -q "master up -> suspect" "$P_LOG" && fail "a harmless close held clients (suspect)"
grep -q "master up -> paused" "$P_LOG" && fail "a harmless close paused the proxy"
ok "closes by the master: ROLE asked again, never held or paused"
exit 0
