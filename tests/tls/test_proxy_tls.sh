#!/usr/bin/env bash
# sentinel-proxy over a real TLS-only topology (label "tls"; topology.sh):
# TLS to the master (plaintext clients on loopback reach a TLS-only Redis),
# plain and multiplexed, a manual failover and a kill while writing through
# the proxy with 0 acknowledged writes lost, TLS faults (wrong CA, wrong
# host name, plaintext to a TLS port) each a clear error within the
# deadline, bad TLS settings refused at start, and the TLS listener
# (termination, with and without client certificates).
#
# Every client run is bounded by `timeout` (a hang fails the case with
# status 124); no case asserts a duration.
#
#   test_proxy_tls.sh PATH/TO/sentinel-proxy PATH/TO/proxy-client
set -uo pipefail
PROXY="$(realpath "${1:?usage: test_proxy_tls.sh PATH/TO/sentinel-proxy PATH/TO/proxy-client}")"
PCLIENT="$(realpath "${2:?usage: test_proxy_tls.sh PATH/TO/sentinel-proxy PATH/TO/proxy-client}")"
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/topology.sh"

# shellcheck source=proxy_lib.sh
. "$HERE/proxy_lib.sh"
PLAIN_CLI() { timeout 10 "$REDIS_CLI" -h 127.0.0.1 "$@" 2>&1; }

# The other data node, and a node's pid: a busy machine may see a failover
# the test did not ask for.
other_node() { if [ "$1" = "$P_M" ]; then echo "$P_R"; else echo "$P_M"; fi; }
pid_of() { if [ "$1" = "$P_M" ]; then echo "$PID_master"; else echo "$PID_replica"; fi; }

# ---- forwarding to the TLS-only master ------------------------------------
BIG="$DIR/big.bin"
head -c 3000000 /dev/urandom | base64 -w0 > "$BIG"
for mode in no yes; do
    start_proxy P --multiplex "$mode" "${MTLS[@]}" || continue
    label="multiplex $mode"
    expect "$label: PING through the proxy" "$(PLAIN_CLI -p "$P_PORT" ping)" "^PONG$" "$P_LOG"
    PLAIN_CLI -p "$P_PORT" set "k-$mode" "v-$mode" >/dev/null
    expect "$label: GET through the proxy" "$(PLAIN_CLI -p "$P_PORT" get "k-$mode")" "^v-$mode$"
    expect "$label: the TLS-only master has it" "$(CLI "$(master_now)" get "k-$mode")" "^v-$mode$"
    # A value of many TLS records: bytes OpenSSL holds decrypted must be
    # drained although epoll does not wake for them.
    PLAIN_CLI -p "$P_PORT" -x set "big-$mode" < "$BIG" >/dev/null
    got=$(PLAIN_CLI -p "$P_PORT" get "big-$mode" | md5sum)
    want=$( { cat "$BIG"; echo; } | md5sum)
    expect "$label: a 4 MB value round trip" "$got" "^${want%% *}"
    stop_proxy "$P_PID"
    # One TLS record (a 10 KB reply) read in 4 KB parts: the rest waits
    # inside OpenSSL, where epoll cannot see it (fails without the loop's
    # pending dispatch: the client never gets the end of its reply).
    start_proxy P --multiplex "$mode" --buffer-size 4096 "${MTLS[@]}" || continue
    head -c 7500 /dev/urandom | base64 -w0 > "$DIR/mid.bin"
    PLAIN_CLI -p "$P_PORT" -x set "mid-$mode" < "$DIR/mid.bin" >/dev/null
    got=$(PLAIN_CLI -p "$P_PORT" get "mid-$mode" | md5sum)
    mid=$( { cat "$DIR/mid.bin"; echo; } | md5sum)
    expect "$label: a 10 KB reply read in 4 KB parts" "$got" "^${mid%% *}"
    # Many clients and pipelined commands at once.
    out=$(timeout 60 redis-benchmark -h 127.0.0.1 -p "$P_PORT" -n 20000 -c 20 -P 16 -t set,get \
        -q 2>&1)
    expect "$label: redis-benchmark SET/GET pipelined, 20 clients" "$out" "GET: [0-9.]+ requests"
    n=$(CLI "$(master_now)" dbsize)
    expect "$label: the writes are on the master" "$n" "^[0-9]+$"
    stop_proxy "$P_PID"
done

# ---- TLS from clients (termination) ----------------------------------------
LISTEN=(--tls-listen-cert "$DIR/server.crt" --tls-listen-key "$DIR/server.key")
TLS_CLI() { # port [client certificate: yes] -- args...
    local p=$1 certs=()
    shift
    if [ "$1" = yes ]; then certs=(--cert "$DIR/client.crt" --key "$DIR/client.key"); fi
    shift 2
    timeout 10 "$REDIS_CLI" --tls --cacert "$DIR/ca.crt" "${certs[@]}" -h 127.0.0.1 -p "$p" \
        "$@" 2>&1
}
for mode in no yes; do
    start_proxy T --multiplex "$mode" "${MTLS[@]}" "${LISTEN[@]}" || continue
    label="TLS listener, multiplex $mode"
    expect "$label: PING over TLS both ways" "$(TLS_CLI "$T_PORT" no -- ping)" "^PONG$" "$T_LOG"
    TLS_CLI "$T_PORT" no -- -x set "tbig-$mode" < "$BIG" >/dev/null
    got=$(TLS_CLI "$T_PORT" no -- get "tbig-$mode" | md5sum)
    expect "$label: a 4 MB value round trip" "$got" "^${want%% *}"
    out=$(timeout 60 redis-benchmark --tls --cacert "$DIR/ca.crt" -h 127.0.0.1 -p "$T_PORT" \
        -n 10000 -c 10 -P 16 -t set,get -q 2>&1)
    expect "$label: redis-benchmark over TLS, pipelined" "$out" "GET: [0-9.]+ requests"
    out=$(PLAIN_CLI -p "$T_PORT" ping)
    if [ "$out" != PONG ] && grep -q "TLS handshake failed" "$T_LOG"; then
        ok "$label: a plaintext client is closed, the proxy logs it"
    else
        bad "$label: plaintext client got '$out'" "$T_LOG"
    fi
    stop_proxy "$T_PID"
done
if start_proxy V "${MTLS[@]}" "${LISTEN[@]}" --tls-listen-cacert "$DIR/ca.crt"; then
    expect "client certificates required: with one, PONG" "$(TLS_CLI "$V_PORT" yes -- ping)" \
        "^PONG$" "$V_LOG"
    out=$(TLS_CLI "$V_PORT" no -- ping)
    if [ "$out" != PONG ] && grep -q "TLS handshake failed.*certificate" "$V_LOG"; then
        ok "client certificates required: without one, refused and logged"
    else
        bad "client certificates required: without one got '$out'" "$V_LOG"
    fi
    stop_proxy "$V_PID"
fi

# ---- TLS faults: a clear error within the deadline, never a hang ----------
# Every client below is bounded by `timeout 10`; pause-timeout is 3 s.
FAST=(--pause-timeout 3000 --resolve-timeout 2000)
# Wrong CA for the data nodes (the sentinels' is right): the ROLE check
# fails, so no master is ever verified; clients get -MASTERDOWN naming why.
if start_proxy W "${FAST[@]}" --tls --cacert "$DIR/otherca.crt" --cert "$DIR/client.crt" \
        --key "$DIR/client.key" --sentinel-cacert "$DIR/ca.crt"; then
    expect "wrong CA: -MASTERDOWN says certificate verify failed" \
        "$(PLAIN_CLI -p "$W_PORT" ping)" "MASTERDOWN.*certificate verify failed" "$W_LOG"
    expect "wrong CA: the proxy logs it" "$(grep -c 'certificate verify failed' "$W_LOG")" "^[1-9]"
    stop_proxy "$W_PID"
fi
# Wrong host name for the data nodes.
if start_proxy H "${FAST[@]}" "${MTLS[@]}" --sni wrong.example --sentinel-sni localhost; then
    expect "wrong host name: -MASTERDOWN says hostname mismatch" \
        "$(PLAIN_CLI -p "$H_PORT" ping)" "MASTERDOWN.*hostname mismatch" "$H_LOG"
    stop_proxy "$H_PID"
fi
# --insecure: no verification anywhere, the proxy's own master connections
# included.
if start_proxy I "${MTLS[@]}" --cacert "$DIR/otherca.crt" --insecure \
        --sentinel-cacert "$DIR/ca.crt"; then
    expect "--insecure: a master certificate of an unknown CA is accepted" \
        "$(PLAIN_CLI -p "$I_PORT" ping)" "^PONG$" "$I_LOG"
    stop_proxy "$I_PID"
fi
# Plaintext to TLS ports: the sentinels reset us; the error says TLS.
if start_proxy N "${FAST[@]}"; then
    # (The follower reports the sentinels that reset it as not answering.)
    expect "plaintext to TLS sentinels: -MASTERDOWN, no sentinel answered" \
        "$(PLAIN_CLI -p "$N_PORT" ping)" "MASTERDOWN.*no sentinel answered" "$N_LOG"
    stop_proxy "$N_PID"
fi
# Sentinels over TLS, nodes in plaintext: the ROLE check meets a TLS port.
if start_proxy D "${FAST[@]}" --sentinel-tls --sentinel-cacert "$DIR/ca.crt"; then
    expect "plaintext to the TLS master: -MASTERDOWN, reset by the master" \
        "$(PLAIN_CLI -p "$D_PORT" ping)" "MASTERDOWN.*127.0.0.1:[0-9]+: .*reset" "$D_LOG"
    stop_proxy "$D_PID"
fi
# The proxy's own master connections: the master switches to a certificate
# of another CA while the proxy forwards to it (the follower verified it
# before): a new connection's handshake fails, the client gets -ERR (its
# own connection) or is closed (multiplexed), and the proxy logs why.
cat "$DIR/ca.crt" "$DIR/otherca.crt" > "$DIR/both.crt"
for mode in no yes; do
    start_proxy C --multiplex "$mode" "${MTLS[@]}" || continue
    expect "multiplex $mode: PING before the certificate change" \
        "$(PLAIN_CLI -p "$C_PORT" ping)" "^PONG$" "$C_LOG"
    stop_proxy "$C_PID"
    start_proxy C --multiplex "$mode" "${MTLS[@]}" || continue
    CUR=$(master_now)
    CLI "$CUR" config set tls-cert-file "$DIR/foreign.crt" tls-key-file "$DIR/foreign.key" \
        >/dev/null
    out=$(PLAIN_CLI -p "$C_PORT" ping)
    # (redis-cli must trust the foreign certificate to put the right one back.)
    timeout 5 "$REDIS_CLI" --tls --cacert "$DIR/both.crt" --cert "$DIR/client.crt" \
        --key "$DIR/client.key" -h 127.0.0.1 -p "$CUR" config set \
        tls-cert-file "$DIR/server.crt" tls-key-file "$DIR/server.key" >/dev/null
    if [ "$mode" = no ]; then
        expect "multiplex no: a master certificate from another CA: -ERR names it" "$out" \
            "ERR sentinel-proxy: master 127.0.0.1:$CUR: .*certificate verify failed" "$C_LOG"
    else
        expect "multiplex yes: a master certificate from another CA: closed, not hung" "$out" \
            "closed|reset|ERR|MASTERDOWN" "$C_LOG"
    fi
    expect "multiplex $mode: the proxy logs the master's certificate" \
        "$(grep -c "127.0.0.1:$CUR: TLS handshake: certificate verify failed" "$C_LOG")" "^[1-9]"
    stop_proxy "$C_PID"
done
# A master that accepts TCP but never answers the handshake (frozen for
# less than down-after): the connect deadline covers the handshake.
if start_proxy F --multiplex no "${MTLS[@]}" --connect-timeout 200; then
    FROZEN=$(pid_of "$(master_now)")
    kill -STOP "$FROZEN"
    PLAIN_CLI -p "$F_PORT" ping > "$DIR/frozen.out" &
    FPING=$!
    # The answer must come while the master is still frozen: wait for it
    # (1.8 s at most: under down-after, so Sentinel does not fail over), then
    # thaw. A busy machine may start redis-cli late; a fixed sleep raced it.
    for _ in $(seq 1 18); do kill -0 "$FPING" 2>/dev/null || break; sleep 0.1; done
    kill -CONT "$FROZEN"
    wait "$FPING"
    out=$(cat "$DIR/frozen.out")
    expect "frozen master: the handshake times out, -ERR says so and that no byte came back" "$out" \
        "ERR sentinel-proxy: master .*TLS handshake timed out \(no answer to the TLS hello" "$F_LOG"
    stop_proxy "$F_PID"
fi

# ---- bad TLS settings: refused at start, with the reason -------------------
start_fails() { # name pattern args...
    local name=$1 pat=$2 out status
    shift 2
    out=$(timeout 20 "$PROXY" --listen 127.0.0.1:0 --sentinel "$SENTS" --master "$M" \
        --resolve-timeout 500 "$@" 2>&1 </dev/null); status=$?
    if [ "$status" != 0 ] && [ "$status" != 124 ] && printf '%s' "$out" | grep -Eq -- "$pat"; then
        ok "$name (exit $status)"
    else
        bad "$name: exit $status, output '$out', want /$pat/"
    fi
}
start_fails "missing CA file" "cannot load CA" --tls --cacert "$DIR/no-such.crt"
start_fails "certificate without its key" "go together" --tls --cacert "$DIR/ca.crt" \
    --cert "$DIR/client.crt"
start_fails "key that does not match the certificate" "cannot use key" --tls \
    --cacert "$DIR/ca.crt" --cert "$DIR/client.crt" --key "$DIR/server.key"
start_fails "bad --tls-min-version" "tls-min-version: expected 1.2 or 1.3" --tls \
    --tls-min-version 1.1
start_fails "listener certificate without a key" "tls-listen-cert and tls-listen-key" \
    --tls-listen-cert "$DIR/server.crt"
start_fails "listener client CA without a certificate" "tls-listen-cacert needs" \
    --tls-listen-cacert "$DIR/ca.crt"
start_fails "unreadable listener certificate" "TLS listener: cannot load certificate" \
    --tls-listen-cert "$DIR/no-such.crt" --tls-listen-key "$DIR/server.key"
printf 'tls maybe\n' > "$DIR/bad.conf"
start_fails "config file: tls maybe" "bad.conf:1: tls: expected yes or no" \
    --config "$DIR/bad.conf"
printf 'tls yes\ncacert %s/no-such.crt\n' "$DIR" > "$DIR/bad2.conf"
start_fails "config file: missing CA file" "cannot load CA" --config "$DIR/bad2.conf"
out=$("$PROXY" --help)
expect "--help documents the TLS flags" "$out" "--sentinel-cacert"
expect "--help documents the TLS listener" "$out" "--tls-listen-cacert"

# ---- failovers while writing through the proxy over TLS --------------------
# Two write loops of unique keys (proxy-client writeloop --tls-nodes): one
# on a master connection of its own (CONFIG GET pins it), one multiplexed
# (INFO). Every acknowledged key must be on the final master; a write
# acknowledged right at the kill may die with the master (asynchronous
# replication) and is counted apart (lost_at_fault), not failed.
wait_master() { # port: the sentinels name it (30 s at most)
    for _ in $(seq 1 150); do [ "$(master_now)" = "$1" ] && return 0; sleep 0.2; done
    return 1
}
healthy() { # replica-port: in sync, and a plain replica to both sentinels (60 s at most)
    for _ in $(seq 1 300); do
        if CLI "$1" info replication | grep -q 'master_link_status:up' &&
           [ "$(CLI "$P_S1" sentinel replicas "$M" | grep -A1 -x flags | grep -cx slave)" = 1 ] &&
           [ "$(CLI "$P_S2" sentinel replicas "$M" | grep -A1 -x flags | grep -cx slave)" = 1 ]; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}
writeloops() { # prefix: start both loops (WL, WLM)
    rm -f "$DIR/fault.ms"
    "$PCLIENT" writeloop --tls-nodes --port "$P_PORT" --seconds 12 --count 5000000 \
        --fault-file "$DIR/fault.ms" --prefix "$1" >"$DIR/$1.out" 2>&1 &
    WL=$!
    "$PCLIENT" writeloop --tls-nodes --mux --port "$P_PORT" --seconds 12 --count 5000000 \
        --fault-file "$DIR/fault.ms" --prefix "$1-mux" >"$DIR/$1-mux.out" 2>&1 &
    WLM=$!
    PIDS+=("$WL" "$WLM")
}
check_loops() { # scenario
    local rc rcm
    wait "$WL"; rc=$?
    wait "$WLM"; rcm=$?
    for kind in own mux; do
        local f="$DIR/$1.out" r=$rc
        [ $kind = mux ] && f="$DIR/$1-mux.out" r=$rcm
        echo "     $1 ($kind): $(cat "$f")"
        if [ "$r" = 0 ] && grep -q ' lost=0 ' "$f"; then
            ok "$1 over TLS ($kind connection): 0 acknowledged writes lost"
        else
            bad "$1 over TLS ($kind connection): exit $r" "$P_LOG"
        fi
    done
}
if start_proxy P "${MTLS[@]}"; then
    OLD=$(master_now)
    NEW=$(other_node "$OLD")
    healthy "$NEW" || bad "the replica $NEW is not in sync before the manual failover"
    writeloops manual
    sleep 2
    CLI "$P_S1" sentinel failover "$M" | grep -q OK || echo "note: SENTINEL FAILOVER did not say OK"
    wait_master "$NEW" || bad "manual: the sentinels did not switch to $NEW"
    check_loops manual
    if healthy "$OLD"; then
        writeloops kill
        sleep 2
        # The sync point (tests/proxy/faults.sh does it in plaintext with
        # proxy-client syncpoint): every write the master acknowledged
        # before T0 is on the replica once WAIT confirms the marker; only a
        # loss acknowledged by $NEW after T0 is excused (lost_at_fault).
        T0=$(date +%s%3N)
        CLI "$NEW" set sentinel-proxy-tls:sync "$T0" >/dev/null
        [ "$(CLI "$NEW" wait 1 5000)" = 1 ] || echo "note: the replica did not confirm the sync point"
        kill -KILL "$(pid_of "$NEW")"
        echo "$T0 $(date +%s%3N) $NEW" > "$DIR/fault.ms"
        wait_master "$OLD" || bad "kill: the sentinels did not switch back to $OLD"
        check_loops kill
    else
        bad "the old master $OLD did not come back as a healthy replica"
    fi
    stop_proxy "$P_PID"
fi

echo "sentinel-proxy over TLS: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
