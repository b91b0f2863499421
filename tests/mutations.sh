#!/usr/bin/env bash
# The mutation runs of tests/MUTATIONS.md: each behaviour is broken on
# purpose, one at a time, in a scratch copy of a commit (never in the
# tree), and the tests named for it must fail.
#
#   tests/mutations.sh [REF]        (default HEAD; scratch dir /tmp/sn-mut-REF)
#
# Prints, per mutation, PASSED or FAILED for each named ctest test and the
# cmocka tests that failed. Exit 1 when a mutation survived (every named
# test passed) or the unmutated tests fail. Builds only the named targets.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REF=${1:-HEAD}
SRC=/tmp/sn-mut-$(git -C "$ROOT" rev-parse --short "$REF") || exit 2
B=$SRC/build
TESTS=(unit_test_resolve unit_test_master_conn unit_test_replies unit_test_follow unit_test_watch unit_test_shared_cache
       it_test_bad_sentinels it_test_resolve)
rm -rf "$SRC" && mkdir -p "$SRC" || exit 2
git -C "$ROOT" archive "$REF" | tar -x -C "$SRC" || exit 2
cmake -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSENTINEL_BUILD_BENCHMARKS=OFF >/dev/null &&
    cmake --build "$B" -j2 --target "${TESTS[@]}" >/dev/null 2>&1 || { echo "build failed"; exit 2; }
cd "$B" || exit 2
survived=0

run() { # tests...: 0 when all passed
    local t out rc=0
    for t in "$@"; do
        out=$(ctest -R "^$t\$" --timeout 300 --output-on-failure 2>&1)
        if echo "$out" | grep -q "100% tests passed"; then
            echo "  $t: PASSED"
        else
            echo "  $t: FAILED"
            echo "$out" | grep -E '^\[  FAILED  \] [a-z]' | sort -u | sed 's/^/    /'
            rc=1
        fi
    done
    return $rc
}

mutate() { # name file from to tests...
    local name=$1 file=$2 from=$3 to=$4 keep
    shift 4
    keep=$(mktemp) && cp "$SRC/$file" "$keep"
    python3 - "$SRC/$file" "$from" "$to" <<'PY' || { echo "== $name: pattern not found"; survived=1; return; }
import sys
p, a, b = sys.argv[1:]
s = open(p).read()
assert s.count(a) == 1
open(p, 'w').write(s.replace(a, b))
PY
    echo "== $name"
    if ! cmake --build "$B" -j2 --target "$@" >/dev/null 2>&1; then
        echo "  build failed"
        survived=1
    elif run "$@"; then
        echo "  SURVIVED"
        survived=1
    fi
    cp "$keep" "$SRC/$file" && touch "$SRC/$file" && rm -f "$keep"
}

echo "== unmutated ($REF)"
run "${TESTS[@]}" || { echo "the unmutated tests fail"; exit 1; }

mutate "ROLE check when resolving" libsentinel/src/resolve.c \
    "if (role == SN_ROLE_MASTER) {
                    snprintf(out->host" "if (1) {
                    snprintf(out->host" unit_test_resolve it_test_bad_sentinels
mutate "ROLE check on the connection handed out (sn_connect_verified)" libsentinel/src/resolve.c \
    "if (role == SN_ROLE_MASTER) {
                sn_err_clear(&s->err);" "if (1) {
                sn_err_clear(&s->err);" it_test_bad_sentinels unit_test_master_conn
mutate "sentinel reorder" libsentinel/src/resolve.c \
    "    if (i == 0)
        return;
    hp = c->sentinels[i];" "    if (1)
        return;
    hp = c->sentinels[i];" unit_test_resolve it_test_resolve
mutate "single flight" libsentinel/src/cache.c \
    "if (!f->busy) {" "if (1) {" unit_test_resolve it_test_resolve
mutate "event classification" libsentinel/src/replies.c \
    "        ev->type = SENTINEL_EVENT_FAILOVER_ABORTED;" \
    "        ev->type = SENTINEL_EVENT_FAILOVER_STARTED;" unit_test_replies unit_test_follow unit_test_watch
mutate "single-flight key without the sentinel password" libsentinel/src/resolve.c \
    "    if (c->sentinel_cred.password)
        MIX(c->sentinel_cred.password, strlen(c->sentinel_cred.password) + 1);" "" unit_test_resolve
mutate "cache TTL" libsentinel/src/cache.c \
    "if (!c->valid || sn_now_ms() >= c->expires_ms)" "if (!c->valid)" unit_test_resolve
mutate "cache TTL, one ms late" libsentinel/src/cache.c \
    "sn_now_ms() >= c->expires_ms" "sn_now_ms() > c->expires_ms" unit_test_resolve
mutate "shared cache: ask instead of waiting for the refresher" libsentinel/src/shared_cache.c \
    "            waited = 1;
            break;" "            code = resolve_bounded(s, deadline, out);
            return code;" unit_test_shared_cache
[ $survived = 0 ] && echo "no mutation survived" || echo "A MUTATION SURVIVED"
exit $survived
