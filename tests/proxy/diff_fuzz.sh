# Differential, stateful fuzzing of sentinel-proxy's multiplexing (issue
# 10): diff-fuzz (diff_fuzz.c) runs many concurrent clients through a
# proxy in front of a real topology (1 master, 2 replicas, 3 sentinels,
# requirepass and an ACL user, down-after 10 s so that a master restarted
# quickly is not failed over) while it injects faults, and checks every
# reply against what Redis itself would have answered that client. Then
# this script checks the proxy: still alive, no client connection left
# (metric and sockets), fds and RSS back near their baseline, and, for an
# ASan/UBSan build, no sanitizer report in its log.
#
# Default (ctest, label proxy; in CI under ASan/UBSan and in the release
# build): two runs of 25 s with every fault (kill and oom included), seed 1
# and a random seed (printed; rerun with --seed S). By hand:
#   diff_fuzz.sh [--minutes N | --seconds N] [--seed S] [--proxy PATH]
#                [--clients N] [--faults LIST] [--runs N] [--no-password]
#                [--keep-going] [--connect-timeout MS] [--tls]
# The proxy and diff-fuzz die with this script (PR_SET_PDEATHSIG through
# setpriv), the topology with sentinel-topology: nothing outlives a run,
# even one ctest kills at its timeout.
# --connect-timeout MS: the proxy's (default 250 ms); with --clients 200 on
# a loaded 2-core machine a master connect can take longer, and the
# fuzzer counts the proxy's "-ERR ... connect timed out" as a failure.
# --tls: the same clients, model and faults against the TLS-only topology
# of tests/tls/topology.sh (a master and a replica, two sentinels, quorum
# 1, with requirepass, the ACL user and down-after 10 s added through its
# TLS_NODE_CONF / TLS_SENTINEL_CONF), the proxy originating TLS to the
# sentinels and the master (sentinel-proxy-tls, or sentinel-proxy-dyn
# for oom) while its clients talk plaintext; diff-fuzz's own connections
# to the nodes speak TLS, and its `ctl` is diff_fuzz_tls_ctl.sh.
# --no-password: the data nodes have no requirepass (clients need no AUTH;
# the shared connection of (no AUTH, db 0) then has no preamble).
# --proxy takes e.g. an ASan build's sentinel-proxy (default $PROXY_BIN, or
# with the oom fault $PROXY_DYN_BIN, the same proxy linked dynamically).
# The oom fault (in the default list) preloads $OOM_SHIM (liboom_shim.so,
# oom_shim.h) into the proxy alone, with its control file in $WORK, which
# diff-fuzz arms for its out-of-memory windows; the proxy must then be
# dynamically linked (sentinel-proxy-dyn, or any sanitizer build).
SCRIPT_ARGS=("$@")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
PW=fuzz-pw
ACL_USER=fzacl
ACL_PW=fuzz-acl-pw
NOPW=0 TLS=0 TLS_ARGS=() TLS_CONNECT_TIMEOUT=()
for a in "$@"; do
    [ "$a" = --no-password ] && NOPW=1
    [ "$a" = --tls ] && TLS=1
done
[ "$NOPW" = 1 ] && PW=
if [ "$TLS" = 1 ]; then
    # (sourced: the topology lives as long as this shell)
    [ -n "$PW" ] && export REDISCLI_AUTH=$PW
    # (as sentinel-topology's nodes: no dump.rdb a restarted node would
    # load, no 5 s delay before a replica's sync)
    TLS_NODE_CONF="user $ACL_USER on >$ACL_PW ~* &* +@all
repl-diskless-load swapdb
repl-diskless-sync-delay 0${PW:+
requirepass $PW
masterauth $PW}"
    TLS_SENTINEL_CONF="sentinel down-after-milliseconds mymaster 10000${PW:+
sentinel auth-pass mymaster $PW}"
    # shellcheck source=../tls/topology.sh
    . "$HERE/../tls/topology.sh"
    disown -a # (the nodes the faults kill are not reported as "Killed" jobs)
    tls_fuzz_cleanup() {
        local f
        for f in "$DIR"/fuzz-node.*; do
            [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
        done
        tls_env_cleanup
    }
    trap 'cleanup; tls_fuzz_cleanup' EXIT
    for s in "$P_S1" "$P_S2"; do CLI "$s" sentinel debug info-period 1000 >/dev/null; done
    export SENTINEL_TEST_SENTINELS="127.0.0.1:$P_S1,127.0.0.1:$P_S2"
    export SENTINEL_TEST_MASTER_NAME=$M SENTINEL_TEST_NODE_PORTS="$P_M,$P_R"
    echo "$PID_master" >"$DIR/fuzz-node.0"
    echo "$PID_replica" >"$DIR/fuzz-node.1"
    export FZ_TLS_STATE=$DIR/fuzz-ctl.state
    printf 'DIR=%q M=%q P_S1=%q P_S2=%q NODES=%q NAMES=%q OWNER=%q\n' "$DIR" "$M" \
        "$P_S1" "$P_S2" "$P_M $P_R" "master replica" "$$" >"$FZ_TLS_STATE"
    [ -n "$PW" ] && printf 'export REDISCLI_AUTH=%q\n' "$PW" >>"$FZ_TLS_STATE"
    TOPOLOGY_BIN=$WORK/tls-ctl # diff-fuzz's --ctl
    printf '#!/bin/sh\nexec bash %q "$@"\n' "$HERE/diff_fuzz_tls_ctl.sh" >"$TOPOLOGY_BIN"
    chmod +x "$TOPOLOGY_BIN"
    TLS_ARGS=(--tls --cacert "$DIR/ca.crt" --cert "$DIR/client.crt" --key "$DIR/client.key")
    # The proxy's connect-timeout bounds the TLS handshake too: 250 ms is
    # too short for one under ASan on this loaded machine (its -ERR would be
    # a false report); a frozen master's still fails it (an accepted error).
    TLS_CONNECT_TIMEOUT=(--connect-timeout 2000)
    echo "TLS topology: master $P_M, replica $P_R, sentinels $P_S1 $P_S2"
elif [ "$NOPW" = 1 ]; then
    run_in_topology --down-after 10000 --info-period 1000 \
        --data-acl-user "$ACL_USER" --data-acl-password "$ACL_PW"
else
    run_in_topology --down-after 10000 --info-period 1000 --data-password "$PW" \
        --data-acl-user "$ACL_USER" --data-acl-password "$ACL_PW"
fi

: "${DIFF_FUZZ:?DIFF_FUZZ must point to diff-fuzz}"
SECONDS_PER_RUN=25
SEEDS=(1 random)
CLIENTS=48
FAULTS=restart,authstorm,statestorm,freeze,failover,kill,clientkill,busy,pause,acl,oom,slow,nonread
PROXY_GIVEN=
PROXY_EXTRA=("${TLS_CONNECT_TIMEOUT[@]}")
KEEP=()
BUFSIZE=2048
PAUSE_MS=3000
while [ $# -gt 0 ]; do
    case $1 in
    --minutes) SECONDS_PER_RUN=$(($2 * 60)); SEEDS=(random); shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --seed) SEEDS=("$2"); shift 2 ;;
    --proxy) PROXY_BIN=$2; PROXY_GIVEN=1; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --faults) FAULTS=$2; shift 2 ;;
    --no-password | --tls) shift ;;
    --keep-going) KEEP=(--keep-going); shift ;;
    --connect-timeout) PROXY_EXTRA=(--connect-timeout "$2"); shift 2 ;;
    --runs) n=$2; SEEDS=(); for _ in $(seq 1 "$n"); do SEEDS+=(random); done; shift 2 ;;
    *) fail "unknown option $1" ;;
    esac
done

# Sanitizer builds: reports go to the proxy's log (stderr), which we grep.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# The oom fault: a dynamically linked proxy with the shim preloaded.
OOM_ARGS=() OOM_ENV=
if [[ ",$FAULTS," == *,oom,* ]]; then
    : "${OOM_SHIM:?OOM_SHIM must point to liboom_shim.so (or leave oom out of --faults)}"
    if [ -z "$PROXY_GIVEN" ]; then
        : "${PROXY_DYN_BIN:?PROXY_DYN_BIN must point to sentinel-proxy-dyn}"
        PROXY_BIN=$PROXY_DYN_BIN
    fi
    ldd "$PROXY_BIN" >/dev/null 2>&1 ||
        fail "the oom fault needs a dynamically linked proxy ($PROXY_BIN is static)"
    OOM_CTL=$WORK/oom.ctl
    OOM_ARGS=(--oom-file "$OOM_CTL")
    # (an ASan proxy: the shim goes in front of libasan and forwards to it)
    OOM_ENV="LD_PRELOAD=$OOM_SHIM OOM_SHIM_FILE=$OOM_CTL ASAN_OPTIONS=$ASAN_OPTIONS:verify_asan_link_order=0"
fi

# The proxy (started by lib.sh) and diff-fuzz get SIGKILL when this shell
# goes, however it goes.
REAL_PROXY=$PROXY_BIN
DIE_WITH_US=()
if setpriv --help 2>&1 | grep -q pdeathsig; then
    DIE_WITH_US=(setpriv --pdeathsig KILL --)
fi
if [ ${#DIE_WITH_US[@]} -gt 0 ] || [ -n "$OOM_ENV" ]; then
    PROXY_BIN=$WORK/sentinel-proxy
    printf '#!/bin/sh\nexec env %s %s "%s" "$@"\n' "$OOM_ENV" "${DIE_WITH_US[*]}" "$REAL_PROXY" >"$PROXY_BIN"
    chmod +x "$PROXY_BIN"
fi

fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# the proxy's sockets to Redis nodes (shared master connections idle for
# up to 30 s before they close)
upstream_count() {
    local pid=$1 ports
    ports=$(echo "$SENTINEL_TEST_NODE_PORTS" | tr ',' ' ')
    ss -Htnp state established 2>/dev/null | grep "pid=$pid," |
        awk -v ports="$ports" 'BEGIN { n = split(ports, p, " "); for (i = 1; i <= n; i++) want[p[i]] = 1 }
            { split($4, a, ":"); if (a[length(a)] in want) c++ } END { print c + 0 }'
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# client sockets of the proxy still open (CLOSE-WAIT included)
client_sockets() {
    ss -Htn state all "( sport = :$1 )" 2>/dev/null | awk '$1 != "LISTEN" && $1 != "TIME-WAIT"' | wc -l
}

# fuzz_run SEED: one proxy, one fuzzer run, the checks.
fuzz_run() {
    local seed=$1 name log fd0 rss0 fd1 rss1 up1 rc args
    name=F$RANDOM
    local pwargs=()
    [ -n "$PW" ] && pwargs=(--data-password "$PW")
    # the shim's control file, off (diff-fuzz arms it), before the proxy maps it
    [ -n "$OOM_ENV" ] && head -c 64 /dev/zero >"$OOM_CTL"
    start_proxy "$name" "${pwargs[@]}" "${PROXY_EXTRA[@]}" "${TLS_ARGS[@]}" --buffer-size "$BUFSIZE" \
        --pause-timeout "$PAUSE_MS" --log-level info
    local pid=${name}_PID port=${name}_PORT admin=${name}_ADMIN
    pid=${!pid} port=${!port} admin=${!admin} log=${name}_LOG
    log=${!log}
    pong_pw() { [ "$(timeout 5 redis-cli --no-auth-warning ${PW:+-a "$PW"} -p "$port" PING 2>/dev/null)" = PONG ]; }
    pong_pw || fail "proxy does not answer PING"
    fd0=$(($(fd_count "$pid") - $(upstream_count "$pid"))) rss0=$(rss_kb "$pid")
    args=(--port "$port" --seed "$seed" --seconds "$SECONDS_PER_RUN" --clients "$CLIENTS"
          --buffer-size "$BUFSIZE" --pause-timeout "$PAUSE_MS" ${PW:+--password "$PW"}
          --acl-user "$ACL_USER" --acl-password "$ACL_PW" --ctl "$TOPOLOGY_BIN")
    [ -n "$FAULTS" ] && args+=(--faults "$FAULTS")
    args+=("${KEEP[@]}" "${OOM_ARGS[@]}" "${TLS_ARGS[@]}")
    echo "diff-fuzz ${args[*]}"
    # (not niced below the proxy: the nodes its faults restart inherit it)
    "${DIE_WITH_US[@]}" "$DIFF_FUZZ" "${args[@]}" | tee "$WORK/fuzz-$seed.out"
    rc=${PIPESTATUS[0]}
    if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$log"; then
        grep -m1 -A30 -E "AddressSanitizer|runtime error:" "$log" >&2
        fail "seed $seed: sanitizer report in the proxy's log"
    fi
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$log" >&2; fail "seed $seed: the proxy died"; }
    # (--keep-going: the proxy's fds, sockets and exit are still checked and
    # reported before the run fails for what diff-fuzz found)
    local found=
    if [ "$rc" != 0 ]; then
        found="seed $seed: diff-fuzz found a defect (exit $rc; rerun with --seed $seed)"
        [ ${#KEEP[@]} -gt 0 ] || fail "$found"
    fi
    no_clients() { [ "$(metric "$admin" connections)" = 0 ] && [ "$(client_sockets "$port")" = 0 ]; }
    wait_until 10 no_clients ||
        fail "seed $seed: client connections left: metric $(metric "$admin" connections), sockets $(client_sockets "$port")"
    [ "$(metric "$admin" buffer_bytes)" = 0 ] || fail "seed $seed: buffers not freed"
    # Shared master connections stay open, idle, for up to 30 s: fds other
    # than those go back to their baseline; of those, at most one per
    # (AUTH, database) the clients used (5 AUTH states x 5 databases:
    # SELECT 99 opens one too).
    up1=$(upstream_count "$pid")
    fd1=$(($(fd_count "$pid") - up1)) rss1=$(rss_kb "$pid")
    [ "$fd1" -le $((fd0 + 2)) ] || fail "seed $seed: fds (other than to Redis) $fd0 -> $fd1"
    [ "$up1" -le 25 ] || { ss -tnp | grep "pid=$pid," >&2; fail "seed $seed: $up1 connections to Redis left"; }
    # (under ASan the quarantine and shadow memory make RSS meaningless)
    if ! ldd "$REAL_PROXY" 2>/dev/null | grep -q libasan; then
        [ "$rss1" -le $((rss0 + 16384)) ] || fail "seed $seed: RSS ${rss0} kB -> ${rss1} kB"
    fi
    pong_pw || fail "seed $seed: the proxy does not answer after the run"
    stop_proxy "$pid"
    rc=$?
    if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$log"; then
        grep -m1 -A30 -E "AddressSanitizer|LeakSanitizer|runtime error:" "$log" >&2
        fail "seed $seed: sanitizer report at the proxy's exit"
    fi
    [ "$rc" = 0 ] || fail "seed $seed: the proxy exited $rc"
    ok "seed $seed: fds $fd0 -> $fd1, RSS ${rss0} -> ${rss1} kB, $(grep -c "warning:" "$log") proxy warnings"
    [ -z "$found" ] || fail "$found"
}

for s in "${SEEDS[@]}"; do
    [ "$s" = random ] && s=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
    echo "==== diff-fuzz seed $s (${SECONDS_PER_RUN} s)"
    fuzz_run "$s"
done
exit 0
