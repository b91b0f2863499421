# Watch mode with several masters in one process (issue 11: one follower
# per host for the cache, page-cache and session masters): --master
# repeated with --watch keeps one cache file per master current; a failover
# of one master changes its file only; the combinations that would mix two
# masters' addresses in one file are refused; one admin endpoint labels each
# master's figures; one subscription per sentinel serves both masters.
# (Without --watch a later --master overrides an earlier one, as any flag.)
SCRIPT_ARGS=("$@")
. "$(dirname "$0")/lib.sh"
run_in_topology
: "${SHM_WATCH:?SHM_WATCH must point to shm-watch}"

M1=$SENTINEL_TEST_MASTER_NAME
OLD=$SENTINEL_TEST_MASTER_PORT
M2=second
another_master "$M2"
P2=$PORT

# ---- refused: they would mix masters in one file or one port --------------
refused() { # what args...: exit status 2 and a message naming --master
    local what=$1 out rc
    shift
    out=$(timeout 10 "$PROXY_BIN" --sentinel "$SENTINEL_TEST_SENTINELS" \
        --master "$M1" --master "$M2" "$@" 2>&1)
    rc=$?
    [ "$rc" = 2 ] || fail "$what: exit status $rc, want 2 ($out)"
    echo "$out" | grep -q -- "--master" || fail "$what: message does not say why: $out"
    ok "$what refused: $(echo "$out" | head -n1)"
}
refused "several masters in one cache file" --watch --shared-cache "$WORK/one.shm"

# ---- one process, one file per master ------------------------------------
DIR=$WORK/cache
mkdir -p "$DIR"
"$PROXY_BIN" --watch --shared-cache "$DIR" --shared-cache-ttl 5000 --log-level debug \
    --admin 127.0.0.1:0 \
    --sentinel "$SENTINEL_TEST_SENTINELS" --master "$M1" --master "$M2" 2>"$WORK/W.log" &
W_PID=$!
PROXY_PIDS+=("$W_PID")
files() { ls "$DIR"/*.shm 2>/dev/null | wc -l; }
two_files() { [ "$(files)" = 2 ]; }
wait_until 10 two_files || fail "want 2 cache files in $DIR, have $(files)"
F1= F2=
for f in "$DIR"/*.shm; do
    wait_until 5 "$SHM_WATCH" "$f" >/dev/null || fail "no entry in $f"
    read -r _ port flags < <("$SHM_WATCH" "$f")
    case "$port" in
    "$OLD") F1=$f ;;
    "$P2") F2=$f ;;
    *) fail "$f names port $port, want $OLD or $P2" ;;
    esac
done
[ -n "$F1" ] && [ -n "$F2" ] || fail "one file per master: got ${F1:-none} / ${F2:-none}"
ok "one process keeps $M1 ($OLD) and $M2 ($P2) in two files"

# ---- one admin endpoint, figures labelled by master ------------------------
ADMIN=$(sed -n 's/.*admin endpoint on [0-9.]*:\([0-9]*\)$/\1/p' "$WORK/W.log" | head -n1)
[ -n "$ADMIN" ] || fail "no admin endpoint in the log"
http "$ADMIN" /metrics >"$WORK/metrics.txt"
for m in "$M1" "$M2"; do
    grep -q "^sentinel_proxy_master_up{master=\"$m\"} 1" "$WORK/metrics.txt" ||
        fail "no master_up{master=\"$m\"} 1: $(grep master_up "$WORK/metrics.txt")"
done
grep -q "^sentinel_proxy_master{host=\"127.0.0.1\",port=\"$P2\",state=\"up\",master=\"$M2\"} 1" \
    "$WORK/metrics.txt" || fail "master metric of $M2: $(grep '^sentinel_proxy_master{' "$WORK/metrics.txt")"
ok "one admin endpoint: each figure labelled by master"

# ---- one subscription per sentinel for both masters -------------------------
subscribers() { rcli "$1" CLIENT LIST | grep -c " sub=[1-9]"; }
one_subscriber() { [ "$(subscribers "$1")" = 1 ]; }
for sp in $(echo "$SENTINEL_TEST_SENTINEL_PORTS" | tr ',' ' '); do
    wait_until 5 one_subscriber "$sp" ||
        fail "sentinel $sp: $(subscribers "$sp") subscribed clients for 2 masters, want 1"
done
ok "one subscription per sentinel for $M1 and $M2"

# ---- a failover of one master changes its file only ----------------------
"$SHM_WATCH" "$F1" "$OLD" 30 >"$WORK/seen.out" &
READER=$!
sleep 0.2
ctl failover || fail "SENTINEL FAILOVER"
wait $READER || fail "the $M1 file never named a new master: $(cat "$WORK/seen.out")"
NEW=$(ctl wait-switch "$OLD" 30000) || fail "sentinels did not switch"
read -r _ port flags < <("$SHM_WATCH" "$F1")
[ "$port" = "$NEW" ] && [ "$flags" = 0 ] || fail "$M1 file: $port $flags, want $NEW 0"
read -r _ port flags < <("$SHM_WATCH" "$F2")
[ "$port" = "$P2" ] && [ "$flags" = 0 ] || fail "$M2 file changed: $port $flags, want $P2 0"
ok "failover of $M1 moved its file to $NEW; $M2 still $P2, never flagged"

stop_proxy "$W_PID" || fail "SIGTERM exit status"
ok "both publishers stopped on one SIGTERM"
exit 0
