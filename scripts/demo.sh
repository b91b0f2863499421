#!/usr/bin/env bash
# The main job on an embedded default: build, start a local Sentinel
# topology (1 master, 2 replicas, 3 sentinels on free loopback ports), and
# show sentinel-resolve following a manual failover and a killed master,
# with sentinel-proxy in front when it is built. Everything is cleaned up on
# exit. BUILD_DIR overrides the build directory (./build).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD_DIR:-$ROOT/build}"

if [ "${1:-}" != "--inside" ]; then
    if [ ! -x "$BUILD/libsentinel/tools/sentinel-resolve" ] ||
       [ ! -x "$BUILD/libsentinel/tools/sentinel-proxy" ] ||
       [ ! -x "$BUILD/tests/proxy/proxy-client" ] ||
       [ ! -x "$BUILD/tests/harness/sentinel-topology" ]; then
        echo "demo: building in $BUILD ..."
        cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
        cmake --build "$BUILD" -j"$(nproc)" >/dev/null
    fi
    echo "demo: starting a topology (1 master, 2 replicas, 3 sentinels) ..."
    exec "$BUILD/tests/harness/sentinel-topology" run -- "$0" --inside
fi

RESOLVE="$BUILD/libsentinel/tools/sentinel-resolve"
PROXY="$BUILD/libsentinel/tools/sentinel-proxy"
CLIENT="$BUILD/tests/proxy/proxy-client"
CTL() { "$SENTINEL_TOPOLOGY_CTL" ctl --dir "$SENTINEL_TEST_DIR" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
free_port() { # a loopback port nothing listens on
    local p
    for _ in $(seq 1 50); do
        p=$(( 20000 + RANDOM % 20000 ))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
    return 1
}

say "sentinels: $SENTINEL_TEST_SENTINELS, master name: $SENTINEL_TEST_MASTER_NAME"
say "sentinel-resolve --sentinel ${SENTINEL_TEST_SENTINELS%%,*} --master $SENTINEL_TEST_MASTER_NAME"
"$RESOLVE" --sentinel "${SENTINEL_TEST_SENTINELS%%,*}" --master "$SENTINEL_TEST_MASTER_NAME"
"$RESOLVE" --sentinel "$SENTINEL_TEST_SENTINELS" --master "$SENTINEL_TEST_MASTER_NAME" --format json

say "watching (sentinel-resolve --watch): events go to stderr, each new master to stdout"
"$RESOLVE" --sentinel "$SENTINEL_TEST_SENTINELS" --master "$SENTINEL_TEST_MASTER_NAME" \
    --watch --duration 120 > >(sed -u 's/^/    watch| /') 2>&1 &
PIDS+=($!)
sleep 1

PROXY_PORT="$(free_port)"
say "sentinel-proxy on 127.0.0.1:$PROXY_PORT, and a write loop through it (unique keys, 1 per ms)"
"$PROXY" --listen "127.0.0.1:$PROXY_PORT" --sentinel "$SENTINEL_TEST_SENTINELS" \
    --master "$SENTINEL_TEST_MASTER_NAME" --log-level warning \
    > >(sed -u 's/^/    proxy| /') 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
    "$CLIENT" ping --port "$PROXY_PORT" >/dev/null 2>&1 && break
    sleep 0.1
done
"$CLIENT" writeloop --port "$PROXY_PORT" --seconds 40 --count 2000000 --prefix demo \
    > "$SENTINEL_TEST_DIR/writeloop.out" 2>&1 &
WRITER=$!
PIDS+=($WRITER)
sleep 2

old="$(CTL master-port)"
say "manual failover: SENTINEL FAILOVER $SENTINEL_TEST_MASTER_NAME (master is :$old)"
CTL failover
new="$(CTL wait-switch "$old" 30000)"
sleep 1
echo "sentinels switched to :$new"
CTL wait-synced 30000 >/dev/null

say "kill the master (:$new) with SIGKILL"
CTL kill-master >/dev/null
newer="$(CTL wait-switch "$new" 30000)"
sleep 1
echo "sentinels switched to :$newer"
say "sentinel-resolve now says:"
"$RESOLVE" --sentinel "$SENTINEL_TEST_SENTINELS" --master "$SENTINEL_TEST_MASTER_NAME"

say "the write loop through sentinel-proxy (it checks every acknowledged key on the final master):"
wait "$WRITER" 2>/dev/null
tr ' ' '\n' < "$SENTINEL_TEST_DIR/writeloop.out" |
    grep -E '^(acked|errors|longest_gap_ms|final_master|lost|lost_acked_by_demoted)=' | sed 's/^/    /'

say "an unknown master name is a clear error with its own exit code:"
set +e
"$RESOLVE" --sentinel "$SENTINEL_TEST_SENTINELS" --master no-such-master --timeout 1000
echo "exit status $?"
set -e
say "done; the topology is being stopped"
