#!/usr/bin/env bash
# Authentication and secrets on real topologies (issue 6, point 3), for the
# gaps the other suites leave:
#   already covered elsewhere (not repeated here):
#     tests/integration/test_auth.c      library: separate sentinel and data
#                                        credentials, wrong/missing password =
#                                        SENTINEL_ERR_AUTH, message without it
#     tests/integration/test_watch.c     test_subscribe_denied_polling_converges
#     tests/proxy/test_sentinels.sh acl-no-subscribe
#                                        proxy: denial seen, counted, polling
#                                        converges after a manual failover
#     tests/proxy/test_basic.sh          passwords absent from the log and
#                                        /metrics of a proxy whose AUTH FAILS
#     php-ext/tests/003_ini_refused.phpt php --ri shows "(set)"
#   checked here:
#     phase "passwords" (sentinels with requirepass, data nodes with a
#       password and a distinct data ACL user):
#       proxy with the right passwords (flags for one, env for another):
#       ready, forwards, follows a manual failover; neither password in its
#       debug log nor /metrics; wrong sentinel password: no readiness, an
#       authentication message, the wrong password not echoed;
#       sentinel-resolve: right passwords -> exit 0, wrong -> exit 15 and
#       stderr without the password; PHP: Sentinel\resolve with the passwords,
#       wrong password -> Sentinel\Exception without the password; php --ri
#       with both INI passwords set shows neither.
#     phase "acl" (sentinel ACL user limited/limitedpass without SUBSCRIBE):
#       the proxy logs the denial once per sentinel and never again (across
#       a failover and several poll rounds), counts it, converges by
#       polling; "limitedpass" in neither log nor /metrics; sentinel-resolve
#       works with the limited user.
# Ends with "auth-check: N passed, N failed"; exit 1 if any failed.
#
# Environment: BUILD_DIR (default ./build); SENTINEL_PHP_EXT (a built
# sentinel.so; without it the extension is built into the scratch dir, and
# without php-cli + phpredis the PHP checks are skipped and said so).
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
TOPOLOGY_BIN=$BUILD/tests/harness/sentinel-topology
PROXY_BIN=$BUILD/libsentinel/tools/sentinel-proxy
RESOLVE_BIN=$BUILD/libsentinel/tools/sentinel-resolve
SP=sentpw-Q7xK2  # sentinel requirepass
DP=datapw-M3zR8  # data-node requirepass
AU=soakdata      # data ACL user, distinct from the sentinel one
AP=aclpw-W9vT4
LP=limitedpass   # the harness' limited sentinel user

for b in "$TOPOLOGY_BIN" "$PROXY_BIN" "$RESOLVE_BIN"; do
    [ -x "$b" ] || { echo "auth-check: $b not built (BUILD_DIR=$BUILD)" >&2; exit 2; }
done

# ---- outer: one topology per phase, sum the results ------------------------------
if [ "${1:-}" != --phase ]; then
    WORK=$(mktemp -d /tmp/auth-check.XXXXXX)
    trap 'rm -rf "$WORK"' EXIT
    export AUTH_CHECK_EXT=${SENTINEL_PHP_EXT:-}
    if [ -z "$AUTH_CHECK_EXT" ] && command -v php >/dev/null && command -v phpize >/dev/null; then
        if (export SN_ROOT=$ROOT; . "$ROOT/tests/php/common.sh"; sn_build_ext "$WORK/ext"); then
            AUTH_CHECK_EXT=$WORK/ext/modules/sentinel.so
        fi
    fi
    timeout 300 "$TOPOLOGY_BIN" run --sentinel-password "$SP" --data-password "$DP" \
        --data-acl-user "$AU" --data-acl-password "$AP" -- bash "$0" --phase passwords |
        tee "$WORK/out"
    timeout 300 "$TOPOLOGY_BIN" run --acl-no-subscribe -- bash "$0" --phase acl | tee -a "$WORK/out"
    p=$(grep -c '^PASS' "$WORK/out")
    f=$(grep -c '^FAIL' "$WORK/out")
    # a phase that died before its last line counts as a failure
    [ "$(grep -c '^phase done' "$WORK/out")" = 2 ] || { f=$((f + 1)); echo "FAIL  a phase did not finish"; }
    echo "auth-check: $p passed, $f failed"
    [ "$f" = 0 ]
    exit
fi

# ---- inner: under `sentinel-topology run` -------------------------------------------
PHASE=$2
WORK=$(mktemp -d /tmp/auth-phase.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    [ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
check() { # name ok(0/1) [detail]
    if [ "$2" = 0 ]; then echo "PASS  $PHASE: $1"; else echo "FAIL  $PHASE: $1 ${3:-}"; KEEP=1; fi
}
ctl() { timeout 60 "$TOPOLOGY_BIN" ctl "$@"; }
no_secret() { # file...: none of the passwords in any of them
    ! grep -qF -e "$SP" -e "$DP" -e "$AP" -e "$LP" "$@"
}
http() { # port path
    timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1; printf 'GET %s HTTP/1.0\r\n\r\n' '$2' >&3; cat <&3"
}
# start_proxy NAME [args]: NAME_PID NAME_PORT NAME_ADMIN, log in $WORK/NAME.log;
# returns 1 if not ready within the bound.
start_proxy() {
    local name=$1 log=$WORK/$1.log
    shift
    : >"$log" # before the child opens it: a reused NAME shows no stale "ready"
    "$PROXY_BIN" --listen 127.0.0.1:0 --admin 127.0.0.1:0 --log-level debug \
        --sentinel "$SENTINEL_TEST_SENTINELS" --master "$SENTINEL_TEST_MASTER_NAME" "$@" 2>"$log" &
    printf -v "${name}_PID" '%s' "$!"
    PIDS+=("$!")
    for _ in $(seq 1 100); do
        grep -q "ready: master" "$log" && break
        kill -0 "$!" 2>/dev/null || break
        sleep 0.05
    done
    printf -v "${name}_PORT" '%s' "$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\)$/\1/p' "$log" | head -n1)"
    printf -v "${name}_ADMIN" '%s' "$(sed -n 's/.*admin endpoint on [0-9.]*:\([0-9]*\)$/\1/p' "$log" | head -n1)"
    grep -q "ready: master" "$log"
}
rcli() { local port=$1; shift; timeout 10 redis-cli --no-auth-warning -p "$port" "$@" 2>&1; }
wait_until() { # seconds cmd...
    for _ in $(seq 1 $(($1 * 10))); do "${@:2}" && return 0; sleep 0.1; done
    return 1
}
forwards_to() { [ "$(rcli "$1" -a "$DP" CONFIG GET port | tail -n1)" = "$2" ]; }
php_run() { # code, with the extension; stdout+stderr
    timeout 30 php -d "extension=$AUTH_CHECK_EXT" -d display_errors=stderr "$@" 2>&1
}
HAVE_PHP=0
[ -n "${AUTH_CHECK_EXT:-}" ] && [ -f "$AUTH_CHECK_EXT" ] && command -v php >/dev/null && HAVE_PHP=1

S=$SENTINEL_TEST_SENTINELS
M=$SENTINEL_TEST_MASTER_NAME

case $PHASE in
passwords)
    # -- proxy, passwords as flags --
    start_proxy A --sentinel-password "$SP" --data-user "$AU" --data-password "$AP"
    check "proxy ready with sentinel requirepass and a data ACL user" $? "$(tail -n3 "$WORK/A.log")"
    [ "$(rcli "$A_PORT" -a "$DP" SET auth:k v)" = OK ]
    check "client AUTHs itself through the proxy and writes" $?
    [ "$(rcli "$A_PORT" GET auth:k)" != v ]
    check "an unauthenticated client is refused by the node" $?
    # -- proxy, passwords from the environment --
    SENTINEL_PASSWORD=$SP REDIS_PASSWORD=$DP start_proxy B
    check "proxy ready with SENTINEL_PASSWORD / REDIS_PASSWORD from the environment" $?
    # no password on the command line of B; A's is visible (documented: prefer env)
    ! tr '\0' ' ' <"/proc/$B_PID/cmdline" | grep -qF -e "$SP" -e "$DP"
    check "env passwords not in /proc/PID/cmdline" $?
    # -- manual failover followed with authentication everywhere --
    OLD=$SENTINEL_TEST_MASTER_PORT
    ctl failover >/dev/null
    NEW=$(ctl wait-switch "$OLD" 30000)
    wait_until 15 forwards_to "$A_PORT" "$NEW" && wait_until 15 forwards_to "$B_PORT" "$NEW"
    check "both proxies follow a manual failover to $NEW" $?
    # -- wrong sentinel password --
    # It listens (and holds clients) but is not ready and refuses clearly.
    start_proxy W --sentinel-password "wrongpw-Z1" --data-password "$DP" --resolve-timeout 1000 \
        --pause-timeout 500
    http "$W_ADMIN" /ready | head -n1 | grep -q 503 &&
        rcli "$W_PORT" PING | grep -q "MASTERDOWN.*AUTH"
    check "wrong sentinel password: /ready 503, clients get -MASTERDOWN naming AUTH" $?
    grep -qiE "auth" "$WORK/W.log"
    check "the wrong password is reported as an authentication failure" $? "$(tail -n2 "$WORK/W.log")"
    ! grep -qF "wrongpw-Z1" "$WORK/W.log"
    check "the wrong password is not echoed in the log" $?
    for n in A B W; do
        port=${n}_ADMIN
        [ -n "${!port}" ] && http "${!port}" /metrics >"$WORK/$n.metrics"
        port=${n}_PORT
        rcli "${!port}" PING >>"$WORK/$n.clients" 2>&1
    done
    kill -USR1 "$A_PID" "$B_PID" 2>/dev/null
    sleep 0.5
    [ -s "$WORK/A.metrics" ] && no_secret "$WORK"/*.log "$WORK"/*.metrics "$WORK"/*.clients &&
        ! grep -qF "wrongpw-Z1" "$WORK"/*.metrics "$WORK"/*.clients
    check "no password in any proxy log (debug), /metrics or client error" $?
    # -- sentinel-resolve --
    out=$(timeout 20 "$RESOLVE_BIN" -s "$S" -m "$M" --sentinel-password "$SP" --data-user "$AU" \
        --data-password "$AP" 2>&1)
    check "sentinel-resolve with the passwords: $out" $?
    out=$(SENTINEL_PASSWORD=wrongpw-Z2 REDIS_PASSWORD=$DP timeout 20 "$RESOLVE_BIN" -s "$S" -m "$M" 2>&1)
    rc=$?
    [ $rc = 15 ] && ! echo "$out" | grep -qF -e wrongpw-Z2 -e "$DP"
    check "sentinel-resolve, wrong sentinel password: exit 15, password not echoed" $? "(exit $rc: $out)"
    out=$(timeout 20 "$RESOLVE_BIN" -s "$S" -m "$M" --sentinel-password "$SP" --data-password wrongpw-Z3 2>&1)
    rc=$?
    [ $rc = 15 ] && ! echo "$out" | grep -qF -e wrongpw-Z3 -e "$SP"
    check "sentinel-resolve, wrong data password: exit 15, password not echoed" $? "(exit $rc: $out)"
    # -- PHP --
    if [ $HAVE_PHP = 1 ]; then
        out=$(php_run -r '
            $o = ["sentinels" => getenv("SENTINEL_TEST_SENTINELS"), "sentinel_password" => $argv[1],
                  "data_user" => $argv[2], "data_password" => $argv[3]];
            $m = Sentinel\resolve(getenv("SENTINEL_TEST_MASTER_NAME"), $o);
            echo "ok ", $m["port"], "\n";
            foreach (["sentinel_password" => "wrongpw-Z4", "data_password" => "wrongpw-Z5"] as $k => $bad) {
                // no cache of any kind: a warm shared cache would answer
                // without asking (its key is sentinels + name, not credentials)
                $o2 = $o; $o2[$k] = $bad; $o2["shared_cache"] = false; $o2["no_cache"] = true;
                try { Sentinel\resolve(getenv("SENTINEL_TEST_MASTER_NAME"), $o2); echo "no exception\n"; }
                catch (Sentinel\Exception $e) { echo "exc ", $e->getCode(), " ", $e->getMessage(), "\n", $e, "\n"; }
            }
            print_r(Sentinel\stats());
        ' -- "$SP" "$AU" "$AP")
        echo "$out" | grep -q "^ok [0-9]"
        check "PHP Sentinel\\resolve with sentinel password and data ACL user" $? "$out"
        [ "$(echo "$out" | grep -c '^exc ')" = 2 ]
        check "PHP wrong sentinel / data password: Sentinel\\Exception" $? "$out"
        ! echo "$out" | grep -qF -e wrongpw-Z4 -e wrongpw-Z5 -e "$SP" -e "$AP"
        check "PHP exception messages, traces and stats carry no password" $?
        out=$(timeout 20 php -d "extension=$AUTH_CHECK_EXT" -d "sentinel.sentinel_password=$SP" \
            -d "sentinel.data_password=$DP" -d "sentinel.sentinels=$S" --ri sentinel 2>&1)
        echo "$out" | grep -q "(set)" && ! echo "$out" | grep -qF -e "$SP" -e "$DP"
        check "php --ri shows (set), never the passwords" $?
    else
        echo "SKIP  passwords: PHP checks (no php-cli/phpredis or extension)"
    fi
    ;;
acl)
    OLD=$SENTINEL_TEST_MASTER_PORT
    start_proxy P --sentinel-user limited --sentinel-password "$LP" --poll-interval 500
    check "proxy ready with the limited sentinel user" $?
    wait_until 10 grep -q "denied SUBSCRIBE" "$WORK/P.log"
    check "SUBSCRIBE denial logged" $?
    ctl failover >/dev/null
    NEW=$(ctl wait-switch "$OLD" 30000)
    wait_until 20 forwards_to "$P_PORT" "$NEW"
    check "polling converges on the new master $NEW" $?
    sleep 4 # several poll rounds and link re-checks after the failover
    nsent=$(echo "$S" | tr ',' '\n' | wc -l)
    nden=$(grep -c "denied SUBSCRIBE" "$WORK/P.log")
    ndist=$(grep "denied SUBSCRIBE" "$WORK/P.log" | sed 's/.*sentinel \([^ ]*\) denied.*/\1/' | sort -u | wc -l)
    [ "$nden" -ge 1 ] && [ "$nden" = "$ndist" ] && [ "$nden" -le "$nsent" ]
    check "denial said once per sentinel, never repeated ($nden lines, $ndist sentinels of $nsent)" $?
    http "$P_ADMIN" /metrics >"$WORK/P.metrics"
    [ "$(awk '$1 == "sentinel_proxy_subscribe_denied_total" { print $2 }' "$WORK/P.metrics")" = "$nden" ]
    check "subscribe_denied_total equals the logged denials" $?
    no_secret "$WORK/P.log" "$WORK/P.metrics"
    check "limited user's password in neither log nor /metrics" $?
    out=$(timeout 20 "$RESOLVE_BIN" -s "$S" -m "$M" --sentinel-user limited --sentinel-password "$LP" 2>&1)
    [ "$out" = "127.0.0.1 $NEW" ]
    check "sentinel-resolve with the limited user: $out" $?
    out=$(timeout 20 "$RESOLVE_BIN" -s "$S" -m "$M" --sentinel-user limited --sentinel-password "$LP" \
        --watch --duration 2 2>&1)
    ! echo "$out" | grep -qF "$LP"
    check "sentinel-resolve --watch with the limited user: no password in its output" $? "$out"
    ;;
*)
    echo "FAIL  unknown phase $PHASE"
    exit 1
    ;;
esac
echo "phase done: $PHASE"
