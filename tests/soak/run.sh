#!/usr/bin/env bash
# Soak: write load through sentinel-proxy and through the PHP extension while
# the master fails over again and again (issue 6, point 2).
#
#   tests/soak/run.sh [--minutes M | --seconds S] [--interval S] [--keep]
#
# Default 10 minutes with a fault every 30 s; CI runs --seconds 60, where the
# interval shrinks so that at least three faults happen. Faults alternate
#   kill    SIGKILL the master, wait for the switch, restart the node (it
#           comes back as a replica), wait until both replicas are in sync
#   freeze  SIGSTOP the master ~5 s, wait for the switch, SIGCONT, demote it,
#           wait until in sync
#   manual  SENTINEL FAILOVER, wait for the switch, wait until in sync
#
# Assertions (each one a line in the summary, exit 1 if any fails):
#   - no acknowledged write missing from the final master, per path. A write
#     the broken master acknowledged after the sync point taken just before a
#     kill/freeze (its replicas confirmed every earlier write with WAIT:
#     tests/proxy/faults.sh, the failover step shared with the proxy tests)
#     until 5 ms after the fault command returned is excused and counted as
#     "at crash": Redis replicates asynchronously, so a crashed master can
#     take its last writes with it. Nothing is excused for a manual failover.
#   - each path wrote again after every fault
#   - proxy fds at the end <= fds after warm-up + FD_SLACK
#   - proxy VmRSS: the last samples <= the warm-up maximum + RSS_SLACK_KB
#   - PHP writer (one long-running process) fds likewise
#
# Warm-up ends when the first kill, freeze and manual failover have each been
# recovered from (or after the first fault when the run is too short for
# that). Every loop is bounded in count and time; the topology (run under
# `sentinel-topology run`), the proxy and the writers are cleaned up on exit.
#
# Environment: BUILD_DIR (default ./build) holding sentinel-proxy,
# sentinel-topology, proxy-client and the shared clients (tests/clients:
# fo-writer, fo-tool); SENTINEL_PHP_EXT (a built
# sentinel.so; otherwise the extension is built into the scratch dir);
# FD_SLACK (4), RSS_SLACK_KB (256).
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build}
TOPOLOGY_BIN=$BUILD/tests/harness/sentinel-topology
PROXY_BIN=$BUILD/libsentinel/tools/sentinel-proxy
FO_WRITER=$BUILD/tests/clients/fo-writer
FO_TOOL=$BUILD/tests/clients/fo-tool
PROXY_CLIENT=$BUILD/tests/proxy/proxy-client
FD_SLACK=${FD_SLACK:-4}
RSS_SLACK_KB=${RSS_SLACK_KB:-256}

usage() {
    echo "usage: $0 [--minutes M | --seconds S] [--interval S] [--keep]" >&2
    exit 2
}

# Options are parsed before and again after the re-exec under the topology.
DURATION=600
INTERVAL=
KEEP=${SOAK_KEEP:-}
ARGS=("$@")
while [ $# -gt 0 ]; do
    case $1 in
    --minutes) [ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]] || usage; DURATION=$(($2 * 60)); shift 2 ;;
    --seconds) [ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]] || usage; DURATION=$2; shift 2 ;;
    --interval) [ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]] || usage; INTERVAL=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) usage ;;
    esac
done
[ "$DURATION" -ge 30 ] && [ "$DURATION" -le 3600 ] || { echo "soak: duration must be 30..3600 s" >&2; exit 2; }
if [ -z "$INTERVAL" ]; then
    # 30 s by hand; short runs: at least three faults with ~15 s of settling.
    INTERVAL=30
    [ "$DURATION" -lt 150 ] && INTERVAL=$(((DURATION - 12) / 3))
fi
[ "$INTERVAL" -ge 10 ] || { echo "soak: fault interval must be >= 10 s" >&2; exit 2; }

for b in "$TOPOLOGY_BIN" "$PROXY_BIN" "$FO_WRITER" "$FO_TOOL" "$PROXY_CLIENT"; do
    [ -x "$b" ] || { echo "soak: $b not built (BUILD_DIR=$BUILD)" >&2; exit 2; }
done

# Run under the harness: it starts 1 master, 2 replicas, 3 sentinels and
# removes them whatever happens to this script.
if [ -z "${SENTINEL_TEST_DIR:-}" ]; then
    exec "$TOPOLOGY_BIN" run --down-after 1000 --info-period 1000 -- bash "$0" "${ARGS[@]}"
fi

WORK=$(mktemp -d /tmp/soak.XXXXXX)
PIDS=()
passed=0
failed=0
RESULTS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    sleep 0.2
    for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    "$TOPOLOGY_BIN" ctl thaw-all >/dev/null 2>&1
    if [ -n "$KEEP" ] || [ "$failed" -gt 0 ]; then
        echo "soak: files kept in $WORK" >&2
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '[soak %4ds] %s\n' "$SECONDS" "$*"; }
ctl() { timeout 60 "$TOPOLOGY_BIN" ctl "$@"; }
check() { # name ok(0/1) detail
    if [ "$2" = 0 ]; then
        passed=$((passed + 1)); RESULTS+=("PASS  $1: $3")
    else
        failed=$((failed + 1)); RESULTS+=("FAIL  $1: $3")
    fi
}
die() { echo "soak: $*" >&2; failed=$((failed + 1)); echo "soak: $passed passed, $failed failed"; exit 1; }

fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# ---- the PHP extension ---------------------------------------------------------
HAVE_PHP=0
if command -v php >/dev/null 2>&1 && php -r 'exit(class_exists("Redis") ? 0 : 1);' 2>/dev/null; then
    EXT=${SENTINEL_PHP_EXT:-}
    if [ -z "$EXT" ] || [ ! -f "$EXT" ]; then
        log "building the PHP extension into $WORK/ext"
        # shellcheck source=../php/common.sh
        (export SN_ROOT=$ROOT; . "$ROOT/tests/php/common.sh"; sn_build_ext "$WORK/ext") ||
            die "PHP extension build failed"
        EXT=$WORK/ext/modules/sentinel.so
    fi
    HAVE_PHP=1
else
    log "php-cli with phpredis not found: PHP path not run"
fi

# ---- the proxy -----------------------------------------------------------------
"$PROXY_BIN" --listen 127.0.0.1:0 --admin 127.0.0.1:0 \
    --sentinel "$SENTINEL_TEST_SENTINELS" --master "$SENTINEL_TEST_MASTER_NAME" \
    2>"$WORK/proxy.log" &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
for _ in $(seq 1 200); do
    grep -q "ready: master" "$WORK/proxy.log" && break
    kill -0 "$PROXY_PID" 2>/dev/null || break
    sleep 0.05
done
grep -q "ready: master" "$WORK/proxy.log" || { cat "$WORK/proxy.log" >&2; die "proxy did not start"; }
PROXY_PORT=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\)$/\1/p' "$WORK/proxy.log" | head -n1)
ADMIN_PORT=$(sed -n 's/.*admin endpoint on [0-9.]*:\([0-9]*\)$/\1/p' "$WORK/proxy.log" | head -n1)
log "proxy pid $PROXY_PID on 127.0.0.1:$PROXY_PORT; topology master $SENTINEL_TEST_MASTER_PORT;" \
    "${DURATION}s, a fault every ${INTERVAL}s"

# ---- the writers (bounded: time, count, stop file) -----------------------------
STOP=$WORK/stop
MAXS=$((DURATION + 120))
"$FO_WRITER" --mode fixed --host 127.0.0.1 --port "$PROXY_PORT" --port-unknown \
    --log "$WORK/proxy-writer.log" --prefix soakproxy --path proxy --interval-us 1000 \
    --max-count $((MAXS * 1000)) --max-seconds "$MAXS" --stop-file "$STOP" \
    2>"$WORK/proxy-writer.stderr" &
PIDS+=("$!")
PHP_PID=
if [ $HAVE_PHP = 1 ]; then
    # As in the failover suite: the CLI's default sentinel.watch=auto is off,
    # which would leave a manual failover to the 60 s cache TTL.
    php -d "extension=$EXT" -d sentinel.watch=on -d "sentinel.shared_cache_dir=$WORK" \
        "$ROOT/tests/clients/writer.php" --mode ext \
        --bindings "$ROOT/bindings/php/src" --sentinels "$SENTINEL_TEST_SENTINELS" \
        --master "$SENTINEL_TEST_MASTER_NAME" --log "$WORK/php-writer.log" --prefix soakphp \
        --path php --interval-us 2000 --max-count $((MAXS * 500)) --max-seconds "$MAXS" \
        --stop-file "$STOP" 2>"$WORK/php-writer.stderr" &
    PHP_PID=$!
    PIDS+=("$PHP_PID")
fi

# ---- resource sampler: "second proxy_fds proxy_rss_kb php_fds" every 2 s --------
(
    for _ in $(seq 1 $((DURATION / 2 + 120))); do
        [ -e "$STOP" ] && break
        kill -0 "$PROXY_PID" 2>/dev/null || break
        echo "$SECONDS $(fd_count "$PROXY_PID") $(rss_kb "$PROXY_PID") ${PHP_PID:+$(fd_count "$PHP_PID")}"
        sleep 2
    done
) >"$WORK/samples" &
PIDS+=("$!")

# ---- faults --------------------------------------------------------------------
# faults file: "kind start_us end_us old_port new_port": for kill and freeze
# start_us is the sync point (tests/proxy/faults.sh), for manual the moment
# before the command and end_us the moment the sentinels had switched.
: >"$WORK/faults"
export PROXY_CLIENT TOPOLOGY_BIN
. "$ROOT/tests/proxy/faults.sh"
fault() { # kind: one fault and the recovery from it; 0 on success
    local kind=$1 old idx t0 t1 new
    old=$(ctl master-port) || return 1
    idx=$(ctl master-index) || return 1
    t0=$("$FO_TOOL" now)
    # a frozen master stays frozen 3 s past the switch (failover_scenario)
    new=$(failover_scenario "$kind" "$WORK/fault.last" 3 2>>"$WORK/faults.log") || return 1
    t1=$("$FO_TOOL" now)
    if [ -s "$WORK/fault.last" ]; then
        read -r _ _ _ t0 t1 <"$WORK/fault.last"
    fi
    case $kind in
    kill) ctl restart-node "$idx" || return 1 ;;
    freeze) ctl demote-old-masters >/dev/null || return 1 ;;
    esac
    echo "$kind $t0 $t1 $old $new" >>"$WORK/faults"
    ctl wait-synced 30000 || return 1
    log "$kind: master $old -> $new, replicas in sync"
}

KINDS=(kill freeze manual)
START=$SECONDS
WARM_AT=
nfault=0
fault_errors=0
sleep 8 # writers connected, first samples taken
while [ $((SECONDS - START)) -le $((DURATION - 12)) ] && [ $nfault -lt 1000 ]; do
    kind=${KINDS[$((nfault % 3))]}
    fs=$SECONDS
    if ! fault "$kind"; then
        fault_errors=$((fault_errors + 1))
        log "$kind: FAULT OR RECOVERY FAILED"
        [ $fault_errors -ge 3 ] && break
    fi
    nfault=$((nfault + 1))
    acks_p=$(grep -c '^A' "$WORK/proxy-writer.log" 2>/dev/null)
    acks_h=$([ -n "$PHP_PID" ] && grep -c '^A' "$WORK/php-writer.log" 2>/dev/null || echo -)
    log "progress: $nfault faults, acks proxy=$acks_p php=$acks_h," \
        "proxy fds=$(fd_count "$PROXY_PID") rss=$(rss_kb "$PROXY_PID")kB"
    if [ -z "$WARM_AT" ] && { [ $nfault -ge 3 ] || [ $((DURATION / INTERVAL)) -lt 6 ]; }; then
        WARM_AT=$SECONDS
    fi
    next=$((fs + INTERVAL))
    while [ $SECONDS -lt $next ] && [ $((SECONDS - START)) -le $((DURATION - 12)) ]; do
        sleep 1
    done
done
while [ $((SECONDS - START)) -lt "$DURATION" ]; do sleep 1; done

# Final samples while the writers still run, then stop them (bounded wait).
# The minimum of three reads: a ROLE probe or sentinel poll may hold an extra
# fd for a moment; a leak does not go away.
END_FDS=$(for _ in 1 2 3; do fd_count "$PROXY_PID"; sleep 0.5; done | sort -n | head -n1)
END_PHP_FDS=${PHP_PID:+$(fd_count "$PHP_PID")}
touch "$STOP"
for pid in "${PIDS[@]}"; do
    [ "$pid" = "$PROXY_PID" ] && continue
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
done
timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$ADMIN_PORT; printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3; cat <&3" \
    >"$WORK/metrics" 2>/dev/null
kill -0 "$PROXY_PID" 2>/dev/null
check "proxy alive at the end" $? "pid $PROXY_PID"
check "faults injected and recovered" "$([ $fault_errors = 0 ] && [ $nfault -ge 3 ]; echo $?)" \
    "$nfault faults ($(awk '{ n[$1]++ } END { for (k in n) printf "%s=%d ", k, n[k] }' "$WORK/faults")), $fault_errors failed"

# ---- acknowledged writes on the final master -------------------------------------
FINAL=$(ctl master-port) || die "no final master"
logs=("$WORK/proxy-writer.log")
[ -n "$PHP_PID" ] && logs+=("$WORK/php-writer.log")
"$FO_TOOL" verify "$FINAL" "${logs[@]}" >"$WORK/verify.txt" || die "verify on $FINAL failed"

# classify LOG: "acked errors missing at_crash lost not_recovered"
classify() {
    awk -v faults="$WORK/faults" '
        BEGIN { while ((getline l < faults) > 0) { split(l, f, " "); n++; kind[n] = f[1]; t0[n] = f[2]; t1[n] = f[3]; old[n] = f[4] } }
        FILENAME ~ /\.missing$/ { if ($1 == "M") miss[$2] = 1; next }
        $1 == "A" { acked++; at[$4] = $2; port[$4] = $3
                    for (i = 1; i <= n; i++) if ($2 > t1[i] && !(i in after)) after[i] = 1
                    next }
        $1 == "E" { errors++ }
        END {
            for (s in miss) {
                missing++; ok = 0
                for (i = 1; i <= n; i++)
                    if ((kind[i] == "kill" || kind[i] == "freeze") && at[s] >= t0[i] &&
                        at[s] <= t1[i] + 5000 && (port[s] == 0 || port[s] == old[i])) ok = 1
                if (ok) crash++; else lost++
            }
            for (i = 1; i <= n; i++) if (!(i in after)) norec++
            printf "%d %d %d %d %d %d\n", acked, errors, missing, crash, lost, norec
        }' "$1.missing" "$1"
}

declare -A FIG
for path in proxy php; do
    [ "$path" = php ] && [ -z "$PHP_PID" ] && continue
    read -r acked errors missing crash lost norec < <(classify "$WORK/$path-writer.log")
    FIG[$path]="acked=$acked errors=$errors missing=$missing at_crash=$crash lost=$lost"
    check "$path: writes acknowledged" "$([ "${acked:-0}" -gt 0 ]; echo $?)" "$acked"
    check "$path: zero acknowledged writes lost" "$([ "${lost:-1}" = 0 ]; echo $?)" \
        "lost=$lost (missing=$missing, of which at crash=$crash)"
    check "$path: wrote again after every fault" "$([ "${norec:-1}" = 0 ]; echo $?)" \
        "$norec faults without a later ack"
done

# ---- fds and RSS ------------------------------------------------------------------
[ -n "$WARM_AT" ] || WARM_AT=$((START + 8))
read -r warm_fds warm_rss warm_php_fds < <(awk -v w="$WARM_AT" '$1 <= w { f = $2; p = $4; if ($3 > r) r = $3 } END { print f + 0, r + 0, p + 0 }' "$WORK/samples")
last_rss=$(awk -v w="$WARM_AT" '$1 > w { a[++n] = $3 } END { m = 0; for (i = (n > 3 ? n - 2 : 1); i <= n; i++) if (a[i] > m) m = a[i]; print m }' "$WORK/samples")
nsamples=$(wc -l <"$WORK/samples")
check "proxy: no fd leak" "$([ "$END_FDS" -le $((warm_fds + FD_SLACK)) ]; echo $?)" \
    "after warm-up $warm_fds, at the end $END_FDS (slack $FD_SLACK)"
check "proxy: RSS flat after warm-up" "$([ "$last_rss" -gt 0 ] && [ "$last_rss" -le $((warm_rss + RSS_SLACK_KB)) ]; echo $?)" \
    "warm-up max ${warm_rss} kB, last samples max ${last_rss} kB (slack $RSS_SLACK_KB kB)"
if [ -n "$PHP_PID" ]; then
    check "php writer: no fd leak" "$([ "${END_PHP_FDS:-999}" -le $((warm_php_fds + FD_SLACK)) ]; echo $?)" \
        "after warm-up $warm_php_fds, at the end ${END_PHP_FDS:-?} (slack $FD_SLACK)"
fi

# ---- summary ------------------------------------------------------------------------
echo
echo "soak summary (${DURATION}s, fault every ${INTERVAL}s, final master $FINAL, warm-up until ${WARM_AT}s)"
printf '  %-8s %s\n' faults "$nfault: $(tr '\n' ';' <"$WORK/faults" | sed 's/ [0-9]\{8,\} [0-9]\{8,\}//g')"
for path in proxy php; do
    [ -n "${FIG[$path]:-}" ] && printf '  %-8s %s\n' "$path" "${FIG[$path]}"
done
printf '  %-8s %s\n' samples "$nsamples (second fds rss_kb php_fds): $(awk 'NR == 1 || NR % 5 == 0 { printf "%s/%s/%s/%s ", $1, $2, $3, $4 }' "$WORK/samples")"
printf '  %-8s %s\n' metrics "$(grep -E '^sentinel_proxy_(switches|connections_total|failovers|clients_dropped|held)' "$WORK/metrics" 2>/dev/null | tr '\n' ' ')"
for r in "${RESULTS[@]}"; do echo "  $r"; done
echo "soak: $passed passed, $failed failed"
[ "$failed" = 0 ]
