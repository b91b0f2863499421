#!/usr/bin/env bash
# sentinel_connect_master_conn() over a real TLS-only topology (label "tls"):
# a verified TLS connection to the master from C, SET/GET through
# sentinel_conn_command_argv(), and the faults: a wrong CA, a wrong host
# name (SENTINEL_ERR_TLS), plaintext to a TLS port (unreachable, with the
# hint), all within the total timeout (every run is bounded by `timeout`, a
# hang fails with 124), and a lying sentinel naming the replica
# (SENTINEL_ERR_NOT_MASTER).
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
# does: the documented class is "master unreachable" (retried: it may be
# mid-failover) with the hint, not SENTINEL_ERR_TLS (docs/failure-model.md).
run "plaintext to the TLS master port: unreachable, says TLS port" -- fail "$SENTS" \
    "${TLSARGS[@]}" SENTINEL_ERR_MASTER_UNREACHABLE "a TLS port? turn TLS on" data-plain 1

# A lying sentinel (plaintext, a few lines of Python) names the replica; the
# data nodes are reached over TLS and the replica answers ROLE slave.
P_LIAR="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
timeout 60 python3 - "$P_LIAR" "$P_R" > "$DIR/liar.out" 2>&1 <<'PY' &
import socket, sys, threading
port, replica = int(sys.argv[1]), sys.argv[2]
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(16)
addr = b"*2\r\n$9\r\n127.0.0.1\r\n$%d\r\n%s\r\n" % (len(replica), replica.encode())
def serve(c):
    buf = b""
    with c:
        for _ in range(1000):
            d = c.recv(4096)
            if not d:
                return
            buf += d
            while b"get-master-addr-by-name" in buf or b"sentinels" in buf:
                if b"get-master-addr-by-name" in buf:
                    c.sendall(addr); buf = buf[buf.index(b"get-master-addr-by-name") + 23:]
                else:
                    c.sendall(b"*0\r\n"); buf = buf[buf.index(b"sentinels") + 9:]
print("listening", flush=True)
for _ in range(1000):
    c, _a = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
PIDS+=($!)
for _ in $(seq 1 50); do grep -q listening "$DIR/liar.out" && break; sleep 0.1; done
run "a lying sentinel names the replica: SENTINEL_ERR_NOT_MASTER" -- \
    liar "127.0.0.1:$P_LIAR" "${TLSARGS[@]}"

echo "sentinel_connect_master_conn over TLS: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
