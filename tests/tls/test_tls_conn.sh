#!/usr/bin/env bash
# sentinel_connect_master_conn() over a real TLS-only topology (label "tls"):
# a verified TLS connection to the master from C, SET/GET through
# sentinel_conn_command_argv(), and the faults: a wrong CA, a wrong host
# name (SENTINEL_ERR_TLS), plaintext to a TLS port (unreachable, with the
# hint), all within the total timeout (every run is bounded by `timeout`, a
# hang fails with 124), a lying sentinel naming the replica
# (SENTINEL_ERR_NOT_MASTER), and close_notify on sentinel_conn_free().
#
#   test_tls_conn.sh PATH/TO/tls_conn
set -uo pipefail
CONN="$(realpath "${1:?usage: test_tls_conn.sh PATH/TO/tls_conn}")"
. "$(dirname "$0")/topology.sh"

SENTS="127.0.0.1:$P_S1,127.0.0.1:$P_S2"
TLSARGS=("$DIR/ca.crt" "$DIR/client.crt" "$DIR/client.key")

run() { # name -- args...
    local name="$1" out status
    shift 2
    out="$(timeout 20 "$CONN" "$@" 2>&1)"; status=$?
    if [ "$status" = 0 ]; then
        pass=$((pass + 1)); echo "ok   $name"
    else
        fail=$((fail + 1)); echo "FAIL $name (exit $status)"
    fi
    printf '%s\n' "$out" | sed 's/^/     | /'
}

run "TLS connection: SET/GET, facts, timeouts, close" -- ok "$SENTS" "${TLSARGS[@]}" "$P_M"
run "wrong CA for the data nodes: SENTINEL_ERR_TLS" -- fail "$SENTS" "${TLSARGS[@]}" \
    SENTINEL_ERR_TLS "certificate verify failed" data-ca "$DIR/otherca.crt"
run "wrong host name: SENTINEL_ERR_TLS, hostname mismatch" -- fail "$SENTS" "${TLSARGS[@]}" \
    SENTINEL_ERR_TLS "hostname mismatch" data-sni wrong.example
# A TLS port resets a plaintext client without a word, as a dying server
# does; asked with a TLS hello, it answers TLS: SENTINEL_ERR_TLS, not a
# retryable "unreachable" (docs/failure-model.md).
run "plaintext to the TLS master port: SENTINEL_ERR_TLS, the port answered TLS" -- fail "$SENTS" \
    "${TLSARGS[@]}" SENTINEL_ERR_TLS "a TLS port: it reset the plaintext command" data-plain 1

# Fakes in a few lines of Python: a plaintext sentinel that names any port
# ("sentinel ANNOUNCE"), and a TLS data node that answers ROLE master and
# PING and prints, per connection, how the client closed it: "close_notify"
# or "ragged" ("node CERT KEY"). Each prints its port first.
cat > "$DIR/fake.py" <<'PY'
import socket, ssl, sys, threading
mode = sys.argv[1]
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(16)
srv.settimeout(60) # bounded: a minute without a client ends it
print(srv.getsockname()[1], flush=True)
if mode == "node":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
else:
    p = sys.argv[2].encode()
    addr = b"*2\r\n$9\r\n127.0.0.1\r\n$%d\r\n%s\r\n" % (len(p), p)
ANSWERS = {b"get-master-addr-by-name": None, b"sentinels": b"*0\r\n",
           b"ROLE": b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n", b"PING": b"+PONG\r\n"}
def serve(c):
    buf = b""
    try:
        if mode == "node":
            c = ctx.wrap_socket(c, server_side=True, suppress_ragged_eofs=False)
        for _ in range(1000):
            d = c.recv(4096)
            if not d:
                print("close_notify" if mode == "node" else "closed", flush=True)
                return
            buf += d
            for word, answer in ANSWERS.items():
                while word in buf:
                    c.sendall(addr if answer is None else answer)
                    buf = buf[buf.index(word) + len(word):]
    except (ssl.SSLError, OSError):
        print("ragged", flush=True)
    finally:
        c.close()
for _ in range(1000):
    try:
        c, _a = srv.accept()
    except OSError:
        break
    c.settimeout(60)
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
fake() { # name args...: starts it, sets FAKE_PORT
    local name="$1"; shift
    # Python itself in PIDS (no wrapper whose death would orphan it), and
    # it dies with this script (topology.sh's DEATHSIG).
    "${DEATHSIG[@]}" python3 "$DIR/fake.py" "$@" > "$DIR/$name.out" 2>&1 &
    PIDS+=($!)
    FAKE_PORT=""
    for _ in $(seq 1 50); do
        FAKE_PORT="$(head -n 1 "$DIR/$name.out")"; [ -n "$FAKE_PORT" ] && break; sleep 0.1
    done
}

# A lying sentinel names the replica; the replica, over TLS, answers ROLE slave.
fake liar sentinel "$P_R"
run "a lying sentinel names the replica: SENTINEL_ERR_NOT_MASTER" -- \
    liar "127.0.0.1:$FAKE_PORT" "${TLSARGS[@]}"

# sentinel_conn_free() ends TLS with close_notify (the ROLE check of the
# resolution before it closes without one: only the last connection counts).
fake node node "$DIR/server.crt" "$DIR/server.key"
fake named sentinel "$FAKE_PORT"
run "TLS connection to a fake node: PING, then freed" -- close "127.0.0.1:$FAKE_PORT" "${TLSARGS[@]}"
for _ in $(seq 1 50); do [ "$(wc -l < "$DIR/node.out")" -ge 3 ] && break; sleep 0.1; done
if [ "$(tail -n 1 "$DIR/node.out")" = close_notify ]; then
    pass=$((pass + 1)); echo "ok   sentinel_conn_free() sent close_notify"
else
    fail=$((fail + 1)); echo "FAIL sentinel_conn_free() sent no close_notify"
    sed 's/^/     | /' "$DIR/node.out"
fi

echo "sentinel_connect_master_conn over TLS: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
