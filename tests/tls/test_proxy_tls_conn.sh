#!/usr/bin/env bash
# sentinel-proxy's TLS listener, connection by connection, over the real
# TLS-only topology (label "tls"; topology.sh):
#   - a client that connects and sends nothing, or half a ClientHello, is
#     closed after --tls-handshake-timeout (pause-timeout is far longer, so
#     only the handshake deadline can close it) and the proxy logs it;
#   - no master connection opens before a client's handshake is done: TCP
#     connects that never start TLS add no client to the master (CLIENT
#     LIST), and a client that completes its handshake gets one;
#   - close_notify: `openssl s_client` sees the proxy's close_notify when
#     its QUIT ends the connection, and when the proxy shuts down;
#   - a client with a certificate of another CA, or none, is refused and
#     logged, and is not counted as a master error (upstream_errors_total
#     stays 0, the master stays verified).
#
# Every client run is bounded by `timeout` or a socket timeout; no case
# asserts a duration (the handshake deadline is 300 ms, the wait for the
# close up to 8 s, pause-timeout 60 s).
#
#   test_proxy_tls_conn.sh PATH/TO/sentinel-proxy
set -uo pipefail
PROXY="$(realpath "${1:?usage: test_proxy_tls_conn.sh PATH/TO/sentinel-proxy}")"
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/topology.sh"

# shellcheck source=proxy_lib.sh
. "$HERE/proxy_lib.sh"
LISTEN=(--tls-listen-cert "$DIR/server.crt" --tls-listen-key "$DIR/server.key")
# pause-timeout far beyond the handshake deadline: only that closes a client.
LONG=(--pause-timeout 60000)

# raw_client PORT HEXBYTES: connect, send the bytes, then wait (at most 8 s)
# for the proxy to close: prints "closed" or "open".
raw_client() {
    timeout 15 python3 - "$1" "$2" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
if sys.argv[2]:
    s.sendall(bytes.fromhex(sys.argv[2]))
s.settimeout(8)
try:
    print("closed" if s.recv(4096) == b"" else "data")
except ConnectionResetError:
    print("closed")
except socket.timeout:
    print("open")
EOF
}
# The master's clients (CLIENT LIST), not counting this query's own.
master_clients() { CLI "$(master_now)" client list | grep -vc "cmd=client"; }

# ---- handshake deadline ---------------------------------------------------
# (HS_FLAG can be emptied to run the other cases against a proxy without
# the flag: HS_FLAG= ... test_proxy_tls_conn.sh.)
read -ra HS_FLAG <<< "${HS_FLAG---tls-handshake-timeout 300}"
if start_proxy T "${LONG[@]}" "${MTLS[@]}" "${LISTEN[@]}" ${HS_FLAG[@]} --multiplex no; then
    expect "silent client: closed after tls-handshake-timeout" "$(raw_client "$T_PORT" "")" \
        "^closed$" "$T_LOG"
    # A TLS record header announcing a 200-byte ClientHello, then only the
    # start of it.
    half="16030100c8010000c40303$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    expect "half a ClientHello: closed after tls-handshake-timeout" \
        "$(raw_client "$T_PORT" "$half")" "^closed$" "$T_LOG"
    expect "the proxy logs the handshake deadline" \
        "$(grep -c 'no TLS handshake in 300 ms' "$T_LOG")" "^[2-9]" "$T_LOG"

    # ---- no master connection before the handshake -------------------------
    before=$(master_clients)
    exec {h1}<>"/dev/tcp/127.0.0.1/$T_PORT"
    exec {h2}<>"/dev/tcp/127.0.0.1/$T_PORT"
    exec {h3}<>"/dev/tcp/127.0.0.1/$T_PORT"
    exec {h4}<>"/dev/tcp/127.0.0.1/$T_PORT"
    # Accepted (the proxy counts them) yet no handshake: the master must not
    # see a connection for any of them.
    for _ in $(seq 1 50); do
        [ "$(metric "$T_ADMIN" connections_total)" -ge 6 ] 2>/dev/null && break
        sleep 0.05
    done
    during=$(master_clients)
    exec {h1}>&- {h2}>&- {h3}>&- {h4}>&-
    if [ -n "$before" ] && [ -n "$during" ] && [ "$during" -lt $((before + 4)) ]; then
        ok "4 TCP connects without a handshake open no master connection ($before -> $during)"
    else
        bad "TCP connects without a handshake: master clients $before -> $during" "$T_LOG"
    fi
    # A client that completes its handshake gets its master connection.
    expect "after the handshake, PING through the proxy" \
        "$(timeout 10 "$REDIS_CLI" --tls --cacert "$DIR/ca.crt" -h 127.0.0.1 -p "$T_PORT" ping 2>&1)" \
        "^PONG$" "$T_LOG"
    stop_proxy "$T_PID"
fi

# ---- close_notify -----------------------------------------------------------
# s_client -msg prints every TLS message, the close_notify alert included.
s_client() { # port: stdin to the server
    timeout 15 openssl s_client -connect "127.0.0.1:$1" -CAfile "$DIR/ca.crt" -ign_eof -msg \
        2>&1
}
for mode in no yes; do
    start_proxy Q "${LONG[@]}" "${MTLS[@]}" "${LISTEN[@]}" --multiplex "$mode" || continue
    out=$(printf 'PING\r\nQUIT\r\n' | s_client "$Q_PORT")
    if printf '%s' "$out" | grep -q "+PONG" && printf '%s' "$out" | grep -qi "<<<.*close.notify"; then
        ok "multiplex $mode: QUIT: s_client gets the proxy's close_notify"
    else
        bad "multiplex $mode: QUIT: no close_notify: $(printf '%s' "$out" | grep -iE 'alert|PONG|OK|error' | tr '\n' ' ')" "$Q_LOG"
    fi
    # Shutdown: a client connected and idle gets close_notify as the proxy goes.
    { printf 'PING\r\n'; sleep 1.5; kill -TERM "$Q_PID"; sleep 3; } | s_client "$Q_PORT" > "$DIR/sd.out"
    wait "$Q_PID" 2>/dev/null; st=$?
    if grep -q "+PONG" "$DIR/sd.out" && grep -qi "<<<.*close.notify" "$DIR/sd.out"; then
        ok "multiplex $mode: proxy shutdown: s_client gets close_notify"
    else
        bad "multiplex $mode: shutdown: no close_notify: $(grep -iE 'alert|PONG|error' "$DIR/sd.out" | tr '\n' ' ')" "$Q_LOG"
    fi
    [ "$st" = 0 ] || bad "proxy exited with status $st on SIGTERM" "$Q_LOG"
done

# ---- a client's bad certificate is not the master's fault --------------------
if start_proxy V "${LONG[@]}" "${MTLS[@]}" "${LISTEN[@]}" --tls-listen-cacert "$DIR/ca.crt" --multiplex no; then
    for i in 1 2 3; do
        timeout 10 "$REDIS_CLI" --tls --cacert "$DIR/ca.crt" --cert "$DIR/foreign.crt" \
            --key "$DIR/foreign.key" -h 127.0.0.1 -p "$V_PORT" ping >/dev/null 2>&1
        timeout 10 "$REDIS_CLI" --tls --cacert "$DIR/ca.crt" -h 127.0.0.1 -p "$V_PORT" ping \
            >/dev/null 2>&1
    done
    expect "bad client certificates: refused and logged" \
        "$(grep -c 'TLS handshake failed' "$V_LOG")" "^([6-9]|[1-9][0-9])$" "$V_LOG"
    expect "bad client certificates: upstream_errors_total stays 0" \
        "$(metric "$V_ADMIN" upstream_errors_total)" "^0$" "$V_LOG"
    if grep -qE "suspect|-> (suspect|paused)" "$V_LOG"; then
        bad "bad client certificates: the master was suspected" "$V_LOG"
    else
        ok "bad client certificates: the master is not suspected"
    fi
    # A client that sends a slow script, ends its side, and resets before
    # the reply: the proxy's write of the master's reply to it fails. That
    # is the client's failure, not the master's.
    drops=$(grep -c "client fd [0-9]* dropped" "$V_LOG")
    timeout 20 python3 - "$V_PORT" "$DIR" <<'PYEOF'
import socket, ssl, struct, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2] + "/ca.crt")
ctx.load_cert_chain(sys.argv[2] + "/client.crt", sys.argv[2] + "/client.key")
raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s = ctx.wrap_socket(raw, server_hostname="localhost")
s.sendall(b"EVAL \"for i=1,60000000 do end return 1\" 0\r\n")
raw.shutdown(socket.SHUT_WR)
time.sleep(0.05)
raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
raw.close()
PYEOF
    # The reply comes once the script ends; the master answers PING after it.
    CLI "$(master_now)" ping >/dev/null
    for _ in $(seq 1 50); do
        [ "$(grep -c "client fd [0-9]* dropped" "$V_LOG")" -gt "$drops" ] && break
        sleep 0.1
    done
    expect "a client reset before its reply: upstream_errors_total stays 0" \
        "$(metric "$V_ADMIN" upstream_errors_total)" "^0$" "$V_LOG"
    expect "bad client certificates: a good client still gets PONG" \
        "$(timeout 10 "$REDIS_CLI" --tls --cacert "$DIR/ca.crt" --cert "$DIR/client.crt" \
            --key "$DIR/client.key" -h 127.0.0.1 -p "$V_PORT" ping 2>&1)" "^PONG$" "$V_LOG"
    stop_proxy "$V_PID"
fi

echo "test_proxy_tls_conn: $pass passed, $fail failed"
[ "$fail" = 0 ]
