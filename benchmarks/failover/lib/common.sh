# Shared by the failover benchmark's scripts (sourced; defines functions).
#
# Everything started here is recorded in FO_PIDS and stopped by fo_cleanup,
# which the scripts install as their EXIT/INT/TERM trap: writers, the
# observer, haproxy and sentinel-proxy never outlive a run, even a failed
# one. Every wait is bounded in tries and time.
#
# Environment (exported by `run`): FO_BIN (fo-observe), FO_CLIENTS (fo-writer,
# fo-tool) and FO_CLIENTS_SRC (writer.php): tests/clients, shared with the
# tests; FO_SRC (this directory), FO_PROXY_BIN, FO_PROXY_CLIENT (the
# sync point), FO_EXT_SO, FO_PATHS, FO_INTERVAL_US,
# FO_RAW; under `sentinel-topology run`: SENTINEL_TEST_*.

FO_PIDS=()

fo_log() { printf '%s\n' "$*" >&2; }

# fo_cleanup: TERM everything we started, then KILL what is left after 3 s.
fo_cleanup() {
    local pid i alive
    [ "${#FO_PIDS[@]}" -eq 0 ] && return 0
    for pid in "${FO_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for i in $(seq 1 30); do
        alive=0
        for pid in "${FO_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive -eq 0 ] && break
        sleep 0.1
    done
    for pid in "${FO_PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    FO_PIDS=()
}

fo_ctl() { "$SENTINEL_TOPOLOGY_CTL" ctl --dir "$SENTINEL_TEST_DIR" "$@"; }
fo_now() { "$FO_CLIENTS/fo-tool" now; }

# fo_sync_fault DIR PORT CTL-COMMAND: a kill or freeze of the master on PORT
# behind a sync point, the mechanism of tests/proxy/faults.sh: just before
# the fault, `proxy-client syncpoint` SETs a marker on that master and WAITs
# until every connected replica has it, so every write it acknowledged
# before then is on every replica. DIR gets sync.t (that moment), fault.t
# (right before the ctl command) and fault-end.t (when it returned), all on
# the writers' clock (CLOCK_MONOTONIC us); lib/analyze.php excuses only
# writes acknowledged from sync.t to 5 ms after fault-end.t. Without a sync
# point (no proxy-client, or the replicas did not confirm in 10 s) there is
# no sync.t and nothing is excused. Returns the ctl command's status.
fo_sync_fault() {
    local dir=$1 port=$2 rc sync
    shift 2
    rm -f "$dir/sync.t" "$dir/fault-end.t"
    if [ -x "${FO_PROXY_CLIENT:-}" ] &&
        sync=$("$FO_PROXY_CLIENT" syncpoint --port "$port" --seconds 10 --prefix fo-sync); then
        set -- $sync "$@" # MS US REPLICAS LAG_MS, then the ctl command
        echo "$2" >"$dir/sync.t"
        printf 'sync_replicas=%s\nsync_lag_ms=%s\n' "$3" "$4" >>"$dir/meta"
        shift 4
    else
        fo_log "  no sync point before the fault: no lost write will be excused"
    fi
    "$FO_CLIENTS/fo-tool" stamp "$dir/fault.t" -- "$SENTINEL_TOPOLOGY_CTL" ctl --dir "$SENTINEL_TEST_DIR" "$@" >/dev/null
    rc=$?
    fo_now >"$dir/fault-end.t"
    return $rc
}

fo_path_enabled() {
    case ",$FO_PATHS," in *",$1,"*) return 0 ;; esac
    return 1
}

# fo_wait_tcp PORT TRIES: until something accepts on 127.0.0.1:PORT (0.05 s apart).
fo_wait_tcp() {
    local i
    for i in $(seq 1 "$2"); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# ---------------------------------------------------------------- haproxy --

# The "UP" servers of bk_redis from the stats listener, e.g. "n0".
fo_haproxy_up() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET /;csv HTTP/1.0\r\n\r\n' >&3 && cat <&3) \
        2>/dev/null | awk -F, '$1 == "bk_redis" && $2 ~ /^n[0-9]+$/ && $18 == "UP" { print $2 }'
}

# fo_start_haproxy DIR: sets HAPROXY_PORT. Waits until exactly one server
# (the master) is UP: the recipe starts with every server UP and needs a
# failed check to mark the replicas down.
fo_start_haproxy() {
    local dir=$1 servers="" i=0 p stats up
    HAPROXY_PORT=$("$FO_CLIENTS/fo-tool" free-port) || return 1
    stats=$("$FO_CLIENTS/fo-tool" free-port) || return 1
    for p in ${SENTINEL_TEST_NODE_PORTS//,/ }; do
        servers+="    server n$i 127.0.0.1:$p check inter 1s fall 3 rise 2"$'\n'
        i=$((i + 1))
    done
    awk -v port="$HAPROXY_PORT" -v sport="$stats" -v servers="$servers" '
        { gsub(/@LISTEN_PORT@/, port); gsub(/@STATS_PORT@/, sport) }
        $0 == "@SERVERS@" { printf "%s", servers; next }
        { print }' "$FO_SRC/haproxy.cfg.in" >"$dir/haproxy.cfg"
    haproxy -db -f "$dir/haproxy.cfg" >"$dir/haproxy.out" 2>&1 &
    FO_PIDS+=($!)
    for i in $(seq 1 100); do
        up=$(fo_haproxy_up "$stats" | wc -l)
        [ "$up" = 1 ] && return 0
        sleep 0.1
    done
    fo_log "haproxy: not exactly one server UP after 10 s (see $dir/haproxy.out)"
    return 1
}

# ---------------------------------------------------------- sentinel-proxy --

# fo_start_proxy DIR NAME [WAIT]: sets PROXY_PORT and PROXY_PID. With WAIT
# (default 1) waits until the proxy says it is ready.
fo_start_proxy() {
    local dir=$1 name=$2 wait=${3:-1} i
    PROXY_PORT=$("$FO_CLIENTS/fo-tool" free-port) || return 1
    "$FO_PROXY_BIN" --listen "127.0.0.1:$PROXY_PORT" --sentinel "$SENTINEL_TEST_SENTINELS" \
        --master "$name" --log-level info >"$dir/sentinel-proxy.out" 2>&1 &
    PROXY_PID=$!
    FO_PIDS+=("$PROXY_PID")
    [ "$wait" = 1 ] || return 0
    for i in $(seq 1 200); do
        grep -q "ready: master" "$dir/sentinel-proxy.out" 2>/dev/null && fo_wait_tcp "$PROXY_PORT" 20 && return 0
        kill -0 "$PROXY_PID" 2>/dev/null || break
        sleep 0.05
    done
    fo_log "sentinel-proxy did not become ready (see $dir/sentinel-proxy.out)"
    return 1
}

# ----------------------------------------------------------------- writers --

# fo_start_writer PATH DIR MASTER_NAME MAX_SECONDS: one writer, its log in
# DIR/PATH.log, its keys fo:<scenario>:<path>:<seq>. Needs HAPROXY_PORT /
# PROXY_PORT for those paths.
fo_start_writer() {
    local path=$1 dir=$2 name=$3 max_s=$4 scen
    scen=$(basename "$dir")
    local common=(--log "$dir/$path.log" --prefix "fo:$scen:$path" --stop-file "$dir/stop"
        --max-seconds "$max_s" --interval-us "$FO_INTERVAL_US"
        --connect-timeout-ms 250 --command-timeout-ms 500)
    case $path in
    naive)
        "$FO_CLIENTS/fo-writer" --mode fixed --port "$SENTINEL_TEST_MASTER_PORT" --path "$path" "${common[@]}" &
        ;;
    ours-c)
        "$FO_CLIENTS/fo-writer" --mode sentinel --sentinels "$SENTINEL_TEST_SENTINELS" --master "$name" \
            --path "$path" "${common[@]}" &
        ;;
    haproxy)
        "$FO_CLIENTS/fo-writer" --mode fixed --port "$HAPROXY_PORT" --port-unknown --path "$path" "${common[@]}" &
        ;;
    sentinel-proxy)
        "$FO_CLIENTS/fo-writer" --mode fixed --port "$PROXY_PORT" --port-unknown --path "$path" "${common[@]}" &
        ;;
    phpredis)
        php "$FO_CLIENTS_SRC/writer.php" --mode phpredis --sentinels "$SENTINEL_TEST_SENTINELS" --master "$name" \
            --path "$path" "${common[@]}" 2>"$dir/$path.stderr" &
        ;;
    php-ext)
        php -d "extension=$FO_EXT_SO" -d sentinel.watch=on -d "sentinel.shared_cache_dir=$SENTINEL_TEST_DIR" \
            "$FO_CLIENTS_SRC/writer.php" --mode ext --bindings "$FO_ROOT/bindings/php/src" \
            --sentinels "$SENTINEL_TEST_SENTINELS" --master "$name" \
            --path "$path" "${common[@]}" 2>"$dir/$path.stderr" &
        ;;
    *)
        fo_log "unknown path $path"
        return 1
        ;;
    esac
    FO_PIDS+=($!)
    WRITER_PIDS+=($!)
}

# Acknowledged writes so far in a writer log.
fo_acks() { local n; n=$(grep -c "^A " "$1" 2>/dev/null); echo "${n:-0}"; }

# fo_progress LABEL MS DIR: sleeps MS milliseconds while printing one
# progress line a second (rewritten in place on a terminal).
fo_progress() {
    local label=$1 ms=$2 dir=$3 line p end left
    end=$(( $(fo_now) + ms * 1000 ))
    while :; do
        line="  $label"
        for p in ${FO_PATHS//,/ }; do
            [ -f "$dir/$p.log" ] && line+="  $p=$(fo_acks "$dir/$p.log")"
        done
        if [ -t 2 ]; then printf '\r%-160s' "$line" >&2; else printf '%s\n' "$line" >&2; fi
        left=$(( (end - $(fo_now)) / 1000 ))
        [ "$left" -le 0 ] && break
        if [ "$left" -ge 1000 ]; then sleep 1; else sleep "0.$(printf '%03d' "$left")"; fi
    done
    [ -t 2 ] && printf '\n' >&2
    return 0
}

# fo_wait_writers SECONDS: the writers saw the stop file; wait for them.
fo_wait_writers() {
    local pid i alive
    for i in $(seq 1 $(($1 * 10))); do
        alive=0
        for pid in "${WRITER_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ $alive -eq 0 ] && break
        sleep 0.1
    done
    for pid in "${WRITER_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    WRITER_PIDS=()
}
