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
#
# Every pattern must match its file exactly once: all of them are checked
# in the scratch copy before anything is built, and the run stops (exit 2,
# naming the mutation and the count) when one matches 0 or several times,
# as it does when the code it breaks moved or was duplicated.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
REF=${1:-HEAD}
SRC=/tmp/sn-mut-$(git -C "$ROOT" rev-parse --short "$REF") || exit 2
B=$SRC/build
TESTS=(unit_test_resolve unit_test_master_conn unit_test_replies unit_test_follow unit_test_watch unit_test_shared_cache
       unit_test_secrets_wiped unit_test_flight_key
       it_test_bad_sentinels it_test_resolve proxy_mux_internals)
# The build target of a ctest test (the same name but for the proxy's).
targets() { local t; for t in "$@"; do [ "$t" = proxy_mux_internals ] && t=proxy_test_mux_internals; echo "$t"; done; }
MODE=check # check: only count every pattern; run: break, build, test

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
    local name=$1 file=$2 from=$3 to=$4 keep n
    shift 4
    n=$(python3 -c 'import sys; print(open(sys.argv[1]).read().count(sys.argv[2]))' \
        "$SRC/$file" "$from") || n=error
    if [ "$n" != 1 ]; then
        echo "MUTATION PATTERN BROKEN: \"$name\": its pattern matches $file $n times" \
             "(must be exactly 1); fix tests/mutations.sh" >&2
        exit 2
    fi
    [ "$MODE" = check ] && return
    keep=$(mktemp) && cp "$SRC/$file" "$keep"
    python3 - "$SRC/$file" "$from" "$to" <<'PY' || exit 2
import sys
p, a, b = sys.argv[1:]
s = open(p).read()
open(p, 'w').write(s.replace(a, b, 1))
PY
    echo "== $name"
    if ! cmake --build "$B" -j2 --target $(targets "$@") >/dev/null 2>&1; then
        echo "  BUILD FAILED: the mutated code does not compile (fix the mutation)"
        survived=1
    elif run "$@"; then
        echo "  SURVIVED"
        survived=1
    fi
    cp "$keep" "$SRC/$file" && touch "$SRC/$file" && rm -f "$keep"
}

# Not indented: several patterns span lines and must match the code as it is.
all_mutations() {
mutate "ROLE check when resolving" libsentinel/src/resolve.c \
    "            if (sn_check_role(c, &hp, deadline, &role, e) == 0) {
                if (role == SN_ROLE_MASTER) {" "            if (sn_check_role(c, &hp, deadline, &role, e) == 0) {
                if (1) {" unit_test_resolve it_test_bad_sentinels
mutate "ROLE check on the connection handed out (sn_connect_verified)" libsentinel/src/resolve.c \
    "            if (role == SN_ROLE_MASTER) {
                sn_err_clear(&s->err);" "            if (1) {
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
            break;" "            code = resolve_bounded(s, deadline, SENTINEL_RESOLVE_NO_CACHE, out);
            return code;" unit_test_shared_cache
mutate "failover epoch moves when a failover starts" libsentinel/src/follow.c \
    "    f->epoch++;
    f->counted = 1;" "    f->counted = 1;" unit_test_follow
mutate "failover epoch moves when the master changes unannounced" libsentinel/src/follow.c \
    "    if (changed && f->have_master && !f->counted) {
        f->epoch++;" "    if (changed && f->have_master && !f->counted) {" unit_test_follow
mutate "write pause while a failover is under way" libsentinel/src/follow.c \
    "f->state == SENTINEL_FOLLOW_FOLLOWING && f->epoch == epoch" "f->epoch == epoch" unit_test_follow
mutate "formatted commands (AUTH) wiped before they are freed" libsentinel/src/link.c \
    "    explicit_bzero(cmd, (size_t)len);
    free(cmd);" "    (void)len;
    free(cmd);" unit_test_secrets_wiped
mutate "single-flight key without memory: no sharing, not a shorter key" libsentinel/src/handle.c \
    "        free(s->flight_key);
        s->flight_key = NULL;
        return;" "        return;" unit_test_flight_key
mutate "sentinel-proxy pauses writes when its follower pauses" libsentinel/src/proxy/master.c \
    "            set_state(p, PX_MASTER_PAUSED, t->reason ? t->reason : \"failover\");
" "" proxy_mux_internals
}

rm -rf "$SRC" && mkdir -p "$SRC" || exit 2
git -C "$ROOT" archive "$REF" | tar -x -C "$SRC" || exit 2
all_mutations # MODE=check: exits 2 on a pattern that is not there exactly once
MODE=run
cmake -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSENTINEL_BUILD_BENCHMARKS=OFF >/dev/null &&
    cmake --build "$B" -j2 --target $(targets "${TESTS[@]}") >/dev/null 2>&1 || { echo "build failed"; exit 2; }
cd "$B" || exit 2
survived=0

echo "== unmutated ($REF)"
run "${TESTS[@]}" || { echo "the unmutated tests fail"; exit 1; }

all_mutations
[ $survived = 0 ] && echo "no mutation survived" || echo "A MUTATION SURVIVED"
exit $survived
