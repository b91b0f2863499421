# Watch mode: no listener, the shared cache is kept current from sentinel
# events, so a reader on the host (a PHP worker) sees the new master as soon
# as it is verified, before the sentinels have all announced +switch-master.
SCRIPT_ARGS=("$@")
. "$(dirname "$0")/lib.sh"
run_in_topology
: "${SHM_WATCH:?SHM_WATCH must point to shm-watch}"

OLD=$SENTINEL_TEST_MASTER_PORT
CACHE=$WORK/cache.shm
start_proxy W --watch --shared-cache "$CACHE" --shared-cache-ttl 5000
grep -q "listening on" "$W_LOG" && fail "watch mode must not listen"
wait_until 5 "$SHM_WATCH" "$CACHE" >/dev/null || fail "no entry written"
read -r host port flags < <("$SHM_WATCH" "$CACHE")
[ "$port" = "$OLD" ] && [ "$flags" = 0 ] || fail "entry $host $port $flags, want master $OLD"
ok "initial entry $host:$port"

"$SHM_WATCH" "$CACHE" "$OLD" 30 >"$WORK/seen.out" &
READER=$!
sleep 0.2
ctl failover || fail "SENTINEL FAILOVER"
wait $READER || fail "the cache never named a new master: $(cat "$WORK/seen.out")"
SEEN=$(cat "$WORK/seen.out")
NEWCACHE=$(field port "$SEEN")
NEW=$(ctl wait-switch "$OLD" 30000) || fail "sentinels did not switch"
[ "$NEWCACHE" = "$NEW" ] || fail "cache names $NEWCACHE, sentinels elected $NEW"
[ "$(field saw_failover_flag "$SEEN")" = 1 ] || fail "failover flag never set: $SEEN"
# Right after wait-switch the cache already names the new master.
read -r host port flags < <("$SHM_WATCH" "$CACHE")
[ "$port" = "$NEW" ] && [ "$flags" = 0 ] || fail "entry $port $flags after the switch"
# The entry outlives its TTL under a running watcher (rewritten every TTL/3).
sleep 6
read -r host port flags < <("$SHM_WATCH" "$CACHE")
[ "$port" = "$NEW" ] || fail "entry not kept current"
stop_proxy "$W_PID" || fail "SIGTERM exit status"
ok "watch mode: cache flagged the failover and named $NEW before the sentinels agreed"
exit 0
