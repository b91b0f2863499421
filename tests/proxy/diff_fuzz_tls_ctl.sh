# diff-fuzz's `ctl` for the TLS-only topology of tests/tls/topology.sh
# (diff_fuzz.sh --tls): the subset of `sentinel-topology ctl` its faults use,
# over redis-cli --tls with the topology's certificates. Called as
#   bash diff_fuzz_tls_ctl.sh ctl ACTION [ARGS]   (diff_fuzz.sh's wrapper)
# with FZ_TLS_STATE naming the file diff_fuzz.sh wrote: DIR, M, P_S1, P_S2,
# NODES (the data nodes' ports, index 0 first), NAMES (their config names
# in DIR), OWNER (diff_fuzz.sh's pid) and REDISCLI_AUTH. Node N's pid is in
# DIR/fuzz-node.N. Actions, as sentinel-topology's:
#   master-port | master-index      the master the sentinels name, if it
#                                   answers ROLE master (exit 1 otherwise)
#   kill-node N | freeze-node N | thaw N | thaw-all | restart-node N
#   failover | demote-old-masters | wait-switch OLDPORT [TIMEOUT_MS]
# A restarted node runs under a keeper that kills it once OWNER is gone
# (and dies with its keeper: setpriv --pdeathsig), so nothing outlives the
# run even when diff_fuzz.sh is killed outright.
set -u
[ "${1:-}" = ctl ] && shift
# shellcheck disable=SC1090
. "${FZ_TLS_STATE:?FZ_TLS_STATE must name diff_fuzz.sh --tls state file}"
# shellcheck source=../tls/tls_env.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tls/tls_env.sh"
TLS_CLI_TIMEOUT=2 # (a frozen node: as sentinel-topology's 1 s timeouts, plus the handshake)
read -r -a NODE_PORT <<<"$NODES"
read -r -a NODE_NAME <<<"$NAMES"

node_pid() { cat "$DIR/fuzz-node.$1" 2>/dev/null; }
role() { CLI "$1" role | head -n1; }
# The port every answering sentinel names (empty if they disagree or none answers).
named_master() {
    local s p got=
    for s in "$P_S1" "$P_S2"; do
        p=$(CLI "$s" sentinel get-master-addr-by-name "$M" | sed -n 2p)
        [ -n "$p" ] || continue
        [ -z "$got" ] || [ "$got" = "$p" ] || return 1
        got=$p
    done
    [ -n "$got" ] && echo "$got"
}
master_port() {
    local p
    p=$(named_master) && [ "$(role "$p")" = master ] && echo "$p"
}
index_of() {
    local i
    for i in "${!NODE_PORT[@]}"; do
        [ "${NODE_PORT[$i]}" = "$1" ] && { echo "$i"; return 0; }
    done
    return 1
}
# keep_node N ARGS...: node N's redis-server, killed when OWNER is gone (at
# most 6 hours).
keep_node() {
    local n=$1 pid
    shift
    setpriv --pdeathsig KILL "${REDIS_SERVER:-redis-server}" "$@" &
    pid=$!
    echo "$pid" >"$DIR/fuzz-node.$n"
    for _ in $(seq 1 43200); do
        kill -0 "$OWNER" 2>/dev/null && kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    kill -KILL "$pid" 2>/dev/null
}
# The replica of master port $1 on port $2 is in sync with it.
synced() {
    local info
    info=$(CLI "$2" info replication | tr -d '\r')
    grep -qx "master_port:$1" <<<"$info" && grep -qx "master_link_status:up" <<<"$info"
}
all_synced() {
    local p
    for p in "${NODE_PORT[@]}"; do
        [ "$p" = "$1" ] || synced "$1" "$p" || return 1
    done
}
# Node N again, empty (no persistence configured), as the replica of the
# master the sentinels name, or as the master if that is itself; done once
# the replicas are in sync with it: a failover right after must not promote
# a replica that still holds what the master had before it restarted (its
# data would come back).
restart_node() {
    local n=$1 port=${NODE_PORT[$1]} m rep
    m=$(named_master) || { echo "diff_fuzz_tls_ctl: restart-node $n: the sentinels name no master" >&2; return 1; }
    if [ "$m" = "$port" ]; then rep="no one"; else rep="127.0.0.1 $m"; fi
    keep_node "$n" "$DIR/${NODE_NAME[$n]}.conf" --replicaof "$rep" </dev/null >/dev/null 2>&1 &
    for _ in $(seq 1 200); do
        [ "$(CLI "$port" ping)" = PONG ] && all_synced "$m" && return 0
        sleep 0.1
    done
    echo "diff_fuzz_tls_ctl: restart-node $n: not up, or its replicas not in sync with $m" >&2
    return 1
}
wait_switch() {
    local old=$1 ms=${2:-30000} p
    for _ in $(seq 1 $((ms / 100))); do
        p=$(master_port) && [ "$p" != "$old" ] && { echo "$p"; return 0; }
        sleep 0.1
    done
    return 1
}
demote_old_masters() {
    local m p
    m=$(master_port) || return 1
    for p in "${NODE_PORT[@]}"; do
        [ "$p" != "$m" ] && [ "$(role "$p")" = master ] && CLI "$p" replicaof 127.0.0.1 "$m" >/dev/null
    done
    return 0
}

case ${1:-} in
master-port) master_port ;;
master-index) p=$(master_port) && index_of "$p" ;;
kill-node) kill -KILL "$(node_pid "$2")" ;;
freeze-node) kill -STOP "$(node_pid "$2")" ;;
thaw) kill -CONT "$(node_pid "$2")" ;;
thaw-all) for i in "${!NODE_PORT[@]}"; do kill -CONT "$(node_pid "$i")" 2>/dev/null; done; true ;;
restart-node) restart_node "$2" ;;
failover) [ "$(CLI "$P_S1" sentinel failover "$M")" = OK ] || [ "$(CLI "$P_S2" sentinel failover "$M")" = OK ] ;;
demote-old-masters) demote_old_masters ;;
wait-switch) wait_switch "$2" "${3:-30000}" ;;
*) echo "diff_fuzz_tls_ctl.sh: unknown action ${1:-}" >&2; exit 2 ;;
esac
