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
       [ ! -x "$BUILD/tests/harness/sentinel-topology" ]; then
        echo "demo: building in $BUILD ..."
        cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
        cmake --build "$BUILD" -j"$(nproc)" >/dev/null
    fi
    echo "demo: starting a topology (1 master, 2 replicas, 3 sentinels) ..."
    exec "$BUILD/tests/harness/sentinel-topology" run -- "$0" --inside
fi

RESOLVE="$BUILD/libsentinel/tools/sentinel-resolve"
CTL() { "$SENTINEL_TOPOLOGY_CTL" ctl --dir "$SENTINEL_TEST_DIR" "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
WATCH_PID=""
cleanup() { [ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null; wait 2>/dev/null; true; }
trap cleanup EXIT

say "sentinels: $SENTINEL_TEST_SENTINELS, master name: $SENTINEL_TEST_MASTER_NAME"
say "sentinel-resolve --sentinel ${SENTINEL_TEST_SENTINELS%%,*} --master $SENTINEL_TEST_MASTER_NAME"
"$RESOLVE" --sentinel "${SENTINEL_TEST_SENTINELS%%,*}" --master "$SENTINEL_TEST_MASTER_NAME"
"$RESOLVE" --sentinel "$SENTINEL_TEST_SENTINELS" --master "$SENTINEL_TEST_MASTER_NAME" --format json

say "watching (sentinel-resolve --watch): events go to stderr, each new master to stdout"
"$RESOLVE" --sentinel "$SENTINEL_TEST_SENTINELS" --master "$SENTINEL_TEST_MASTER_NAME" \
    --watch --duration 120 > >(sed -u 's/^/    watch| /') 2>&1 &
WATCH_PID=$!
sleep 1

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

say "an unknown master name is a clear error with its own exit code:"
set +e
"$RESOLVE" --sentinel "$SENTINEL_TEST_SENTINELS" --master no-such-master --timeout 1000
echo "exit status $?"
set -e
say "done; the topology is being stopped"
