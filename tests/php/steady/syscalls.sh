#!/bin/sh
# Steady state costs no system call per request (issue 14, speed): with a
# follower of the worker's own (sentinel.watch=on) and the shared cache, a
# resolve() + epoch() that finds nothing new asks the kernel nothing; the
# readiness thread (php-ext/sentinel_ready.c) watches the follower's
# sockets. Counts poll/ppoll/getpid under strace for 0 and for N calls after
# the same warm-up: the difference must stay below N/20 (before: about
# 3 per call, one poll() per drive of the follower and one getpid()).
# Skips (exit 0, "skipped:" line) without strace.
#
#   tests/php/steady/syscalls.sh [N]     (SN_EXT_SO: a built sentinel.so)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common.sh"

n=${1:-4000}
if ! command -v strace >/dev/null 2>&1; then
    echo "skipped: no strace"
    exit 0
fi
sn_in_topology "$0" "$n"

# ---- inside the topology ---------------------------------------------------
out=$(mktemp /tmp/sentinel-syscalls.XXXXXX)
trap 'rm -f "$out"' EXIT
count() {
    strace -f -qq -c -e trace=poll,ppoll,getpid -o "$out" \
        php -n -d "extension=$SN_EXT_SO" -d "sentinel.shared_cache_dir=$SENTINEL_TEST_DIR" \
        -d sentinel.watch=on "$here/resolve_loop.php" "$1" >&2
    awk '$NF == "total" { print $4; found = 1 } END { if (!found) print 0 }' "$out"
}
base=$(count 0)
loop=$(count "$n")
diff=$((loop - base))
limit=$((n / 20))
echo "poll/ppoll/getpid calls: $base with 0 calls, $loop with $n resolve()+epoch() pairs (difference $diff, limit $limit)"
if [ "$diff" -ge "$limit" ]; then
    echo "FAIL: steady-state calls make system calls"
    exit 1
fi
echo "steady-syscalls: 1 passed, 0 failed"
