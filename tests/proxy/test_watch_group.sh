# Watch mode across Unix users (issue 11): sentinel-proxy --watch with
# --shared-cache-group G --shared-cache-mode 0660 creates the cache file
# with group G and mode 0660, so processes of G's members (PHP-FPM workers
# under www-data, root's bin/magento with the same group) read it instead
# of each following the sentinels themselves. Run as root, a process of
# another user (nobody, group G) reads the entry; as another user, only the
# file's group and mode are checked (a user can give a file only its own
# groups). Bad values are refused at start with exit status 2.
SCRIPT_ARGS=("$@")
. "$(dirname "$0")/lib.sh"
run_in_topology
: "${SHM_WATCH:?SHM_WATCH must point to shm-watch}"

if [ "$(id -u)" = 0 ] && getent group nogroup >/dev/null && getent passwd nobody >/dev/null; then
    GROUP=nogroup
    CROSS_USER=1
else
    GROUP=$(id -gn)
    CROSS_USER=0
fi
GID=$(getent group "$GROUP" | cut -d: -f3)

# Refused settings: exit 2 with the reason, nothing started.
"$PROXY_BIN" --watch --shared-cache "$WORK/x.shm" --master "$SENTINEL_TEST_MASTER_NAME" \
    --sentinel "$SENTINEL_TEST_SENTINELS" --shared-cache-mode 0660 \
    >"$WORK/refused1.out" 2>&1
[ $? = 2 ] && grep -q "0660 needs shared-cache-group" "$WORK/refused1.out" ||
    fail "mode 0660 without a group: $(cat "$WORK/refused1.out")"
"$PROXY_BIN" --watch --shared-cache "$WORK/x.shm" --master "$SENTINEL_TEST_MASTER_NAME" \
    --sentinel "$SENTINEL_TEST_SENTINELS" --shared-cache-group no-such-group-sn \
    --shared-cache-mode 0660 >"$WORK/refused2.out" 2>&1
[ $? = 2 ] && grep -q "no such group" "$WORK/refused2.out" ||
    fail "an unknown group: $(cat "$WORK/refused2.out")"
ok "0660 without a group and an unknown group are refused"

# The readers' side: a directory others may traverse, and shm-watch where
# they can run it (the build tree may be closed to them).
chmod 0711 "$WORK"
mkdir -m 0755 "$WORK/cache" "$WORK/bin"
cp "$SHM_WATCH" "$WORK/bin/shm-watch" && chmod 0755 "$WORK/bin/shm-watch"
CACHE=$WORK/cache/cache.shm
start_proxy W --watch --shared-cache "$CACHE" --shared-cache-group "$GROUP" \
    --shared-cache-mode 0660
export SHM_WATCH_GID=$GID # open it as a file shared by the group
wait_until 5 "$WORK/bin/shm-watch" "$CACHE" >/dev/null || fail "no entry written"
unset SHM_WATCH_GID
[ "$(stat -c '%a %g' "$CACHE")" = "660 $GID" ] ||
    fail "cache file is $(stat -c '%a %G' "$CACHE"), want 660 $GROUP"
ok "the cache file has mode 0660 and group $GROUP"

if [ "$CROSS_USER" = 1 ]; then
    read -r host port flags < <(setpriv --reuid=nobody --regid="$GID" --clear-groups \
        env SHM_WATCH_GID="$GID" "$WORK/bin/shm-watch" "$CACHE")
    [ "$port" = "$SENTINEL_TEST_MASTER_PORT" ] && [ "$flags" = 0 ] ||
        fail "user nobody (group $GROUP) read '$host $port $flags', want master $SENTINEL_TEST_MASTER_PORT"
    ok "user nobody, group $GROUP, reads the master from the file the proxy (uid 0) keeps"
    # Without the group the same user is refused (the group is the trust
    # boundary), rather than reading a file it may not.
    setpriv --reuid=nobody --regid=12345 --clear-groups env SHM_WATCH_GID="$GID" \
        "$WORK/bin/shm-watch" "$CACHE" >/dev/null 2>&1 &&
        fail "a user outside the group opened the file"
    ok "a user outside $GROUP cannot open it"
else
    echo "skip: not root, the read by another user is not tried"
fi
stop_proxy "$W_PID" || fail "SIGTERM exit status"
exit 0
