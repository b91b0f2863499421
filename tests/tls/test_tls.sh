#!/usr/bin/env bash
# sentinel-resolve over a real TLS-only topology (label "tls").
#
# Starts the TLS-only topology of topology.sh (a master, a replica, two
# sentinels, all TLS-only; servers with an expired certificate, one from
# another CA, and a plaintext port; certificates made with openssl).
#
# Every sentinel-resolve run is bounded by `timeout` (a hang fails the case
# with status 124); no case asserts a duration.
#
#   test_tls.sh PATH/TO/sentinel-resolve PATH/TO/tls_follow
set -uo pipefail
RESOLVE="$(realpath "${1:?usage: test_tls.sh PATH/TO/sentinel-resolve PATH/TO/tls_follow}")"
FOLLOW="$(realpath "${2:?usage: test_tls.sh PATH/TO/sentinel-resolve PATH/TO/tls_follow}")"
. "$(dirname "$0")/topology.sh"

# ---- cases -----------------------------------------------------------------
SENTS="127.0.0.1:$P_S1,127.0.0.1:$P_S2"
MTLS=(--tls --cacert "$DIR/ca.crt" --cert "$DIR/client.crt" --key "$DIR/client.key")
ERR="$DIR/stderr"

check() { # name "expected-status ..." [stderr-pattern] -- args...
    local name="$1" want="$2" pat="" out status
    shift 2
    if [ "$1" != "--" ]; then pat="$1"; shift; fi
    shift
    out="$(timeout 20 "$RESOLVE" "$@" 2>"$ERR")"; status=$?
    LAST_OUT="$out"
    if [[ " $want " != *" $status "* ]]; then
        fail=$((fail + 1)); echo "FAIL $name: exit $status, want $want"
        sed 's/^/     | /' "$ERR"; return
    fi
    if [ -n "$pat" ] && ! grep -Eq -- "$pat" "$ERR"; then
        fail=$((fail + 1)); echo "FAIL $name: stderr does not match /$pat/"
        sed 's/^/     | /' "$ERR"; return
    fi
    pass=$((pass + 1)); echo "ok   $name (exit $status)"
}
expect_out() { # name pattern
    if printf '%s' "$LAST_OUT" | grep -Eq -- "$2"; then
        pass=$((pass + 1)); echo "ok   $1"
    else
        fail=$((fail + 1)); echo "FAIL $1: output '$LAST_OUT' does not match /$2/"
    fi
}

check "mutual TLS to sentinels and nodes" 0 -- -s "$SENTS" -m "$M" "${MTLS[@]}"
expect_out "  the verified master over TLS" "^127\.0\.0\.1 $P_M$"
check "CA directory instead of a CA file" 0 -- -s "$SENTS" -m "$M" --tls \
    --cacertdir "$DIR/cadir" --cert "$DIR/client.crt" --key "$DIR/client.key"
expect_out "  the verified master" "^127\.0\.0\.1 $P_M$"
check "SNI localhost verifies against the DNS name" 0 -- -s "$SENTS" -m "$M" "${MTLS[@]}" \
    --sni localhost
check "TLS 1.3 minimum" 0 -- -s "$SENTS" -m "$M" "${MTLS[@]}" --tls-min-version 1.3
check "sentinels over TLS, nodes plaintext: 23, the master's port answered TLS" 23 \
    "master 127.0.0.1:$P_M.*a TLS port: .*answered a TLS hello" -- \
    -s "$SENTS" -m "$M" --sentinel-tls --sentinel-cacert "$DIR/ca.crt" --tries 1
check "no client certificate, nodes require one: 23" 23 \
    "master 127.0.0.1:$P_M.*certificate required" -- \
    -s "$SENTS" -m "$M" --tls --cacert "$DIR/ca.crt"
check "no client certificate, ROLE check off: sentinels need none" 0 -- \
    -s "$SENTS" -m "$M" --tls --cacert "$DIR/ca.crt" --no-verify
check "wrong CA: 23, unknown CA" 23 "certificate verify failed: (unable to get local issuer|self-signed)" -- \
    -s "$SENTS" -m "$M" --tls --cacert "$DIR/otherca.crt" --cert "$DIR/client.crt" \
    --key "$DIR/client.key"
check "wrong host name: 23, hostname mismatch" 23 "hostname mismatch" -- \
    -s "$SENTS" -m "$M" "${MTLS[@]}" --sni wrong.example
check "wrong host name on the sentinels only" 23 "hostname mismatch" -- \
    -s "$SENTS" -m "$M" "${MTLS[@]}" --sentinel-sni wrong.example
check "--insecure accepts the wrong name" 0 -- \
    -s "$SENTS" -m "$M" "${MTLS[@]}" --sni wrong.example --insecure
check "expired certificate: 23, expired" 23 "certificate has expired" -- \
    -s "127.0.0.1:$P_EXP" -m "$M" "${MTLS[@]}"
check "certificate from another CA: 23" 23 "certificate verify failed" -- \
    -s "127.0.0.1:$P_FOR" -m "$M" "${MTLS[@]}"
# Documented codes (docs/failure-model.md): a TLS port resets a plaintext
# client without a word, as a dying server does; the library then asks the
# port with a TLS hello, and a TLS record back makes it SENTINEL_ERR_TLS (23)
# -- a dying server keeps its retryable code with a hint (next case). TLS
# to a plaintext port: see the cases after the PING check below.
check "plaintext to a TLS port: 23, the port answered a TLS hello" 23 \
    "a TLS port: it reset the plaintext command and answered a TLS hello" -- \
    -s "$SENTS" -m "$M" --timeout 2000
# A server that closes every connection before answering (as a dying one
# does) is not taken for a TLS port: no sentinel reachable (13), the hint.
# fake_server NAME MODE ARG: a Python server on a free port (in
# $DIR/NAME.port, pid in FAKE_PID, a log of what it did in $DIR/NAME.log);
# it stops after 30 s. MODE answer: read what a client sends, write ARG
# (maybe nothing), close. MODE slow: a relay to the TLS port ARG that holds
# back the server's first answer for 1.3 s, and closes any connection that
# does not start with a TLS record (as a TLS server rejects "PING").
fake_server() {
    python3 - "$DIR/$1" "$2" "$3" <<'PY' &
import socket, sys, threading, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(16); s.settimeout(30)
log = open(sys.argv[1] + ".log", "a", buffering=1)
open(sys.argv[1] + ".port", "w").write(str(s.getsockname()[1]))
mode, arg = sys.argv[2], sys.argv[3]
def pump(a, b, delay):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            if delay:
                time.sleep(delay); delay = 0
            b.sendall(d)
    except OSError:
        pass
    for x in (a, b):
        try: x.shutdown(socket.SHUT_RDWR)
        except OSError: pass
def serve(c):
    c.settimeout(10)
    try:
        first = c.recv(65536)
    except OSError:
        first = b""
    if mode == "answer" or first[:1] != b"\x16":
        log.write("closed %r\n" % first[:4])
        try:
            if first and arg: c.sendall(arg.encode())
        except OSError:
            pass
        c.close(); return
    log.write("tls\n")
    u = socket.create_connection(("127.0.0.1", int(arg)), timeout=10)
    u.sendall(first)
    threading.Thread(target=pump, args=(c, u, 0), daemon=True).start()
    pump(u, c, 1.3)
end = time.time() + 30
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        break
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
    FAKE_PID=$!
    for _ in $(seq 1 50); do [ -s "$DIR/$1.port" ] && break; sleep 0.1; done
}
fake_server closer answer ""
CLOSER_PID=$FAKE_PID
CLOSER_PORT_FILE="$DIR/closer.port"
check "a server that closes before any reply: 13, not taken for TLS" 13 \
    "before any reply: a TLS port\\? turn TLS on" -- \
    -s "127.0.0.1:$(cat "$CLOSER_PORT_FILE")" -m "$M" --timeout 2000
kill "$CLOSER_PID" 2>/dev/null; wait "$CLOSER_PID" 2>/dev/null
# Why a probe is needed at all: a plaintext command to a TLS port gets no
# byte back, only a reset (OpenSSL sends no alert when the first record is
# not TLS). Should Redis ever answer with a TLS record (an alert, 0x15 0x03
# ...), this fails: the first reply then says TLS by itself.
for port in "$P_S1" "$P_M"; do
    got=$(timeout 10 python3 - "$port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"*1\r\n$4\r\nPING\r\n")
try:
    data = s.recv(64)
    print("bytes " + data.hex() if data else "closed")
except ConnectionResetError:
    print("reset")
except socket.timeout:
    print("no answer")
PY
)
    if [ "$got" = reset ] || [ "$got" = closed ]; then
        pass=$((pass + 1)); echo "ok   plaintext PING to TLS port $port: $got, no byte to tell it from a dying server"
    else
        fail=$((fail + 1)); echo "FAIL plaintext PING to TLS port $port: '$got' (a TLS record? classify it as SENTINEL_ERR_TLS)"
    fi
done
# TLS to a plaintext port: Redis reads the ClientHello as an inline command
# and waits for a line end, so the handshake gets no byte back, as from a
# frozen TLS server. Half-way through the connect timeout the library asks
# the port with a plaintext PING: a RESP answer is SENTINEL_ERR_TLS (23).
# Several runs, as the hello's random bytes vary.
# Plaintext sentinels: a redis-sentinel on a plaintext port, monitoring
# the plaintext server as its master (for the data node cases).
P_PSENT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$DIR/psent"
printf 'port %s\nbind 127.0.0.1\ndir %s/psent\nsentinel monitor plain 127.0.0.1 %s 1\n' \
    "$P_PSENT" "$DIR" "$P_PLAIN" > "$DIR/psent.conf"
start psent "$REDIS_SENTINEL" "$DIR/psent.conf"
for _ in $(seq 1 50); do
    timeout 2 "$REDIS_CLI" -p "$P_PSENT" sentinel get-master-addr-by-name plain 2>/dev/null |
        grep -qx "$P_PLAIN" && break
    sleep 0.1
done
PLAIN_ANSWER="a plaintext port: it answered (a plaintext PING and not the TLS hello|the TLS hello with a plaintext reply); turn TLS off for the"
for i in 1 2 3 4; do
    check "TLS to a plaintext sentinel (run $i): 23, turn TLS off for the sentinels" 23 \
        "127.0.0.1:$P_PSENT: $PLAIN_ANSWER sentinels" -- \
        -s "127.0.0.1:$P_PSENT" -m plain "${MTLS[@]}" --timeout 2000
    check "TLS to a plaintext data node (run $i): 23, turn TLS off for the data nodes" 23 \
        "$PLAIN_ANSWER data nodes" -- \
        -s "127.0.0.1:$P_PSENT" -m plain "${MTLS[@]}" --sentinel-no-tls --timeout 2000 --tries 1
    check "TLS to a plaintext redis-server named as a sentinel (run $i): 23" 23 \
        "$PLAIN_ANSWER sentinels" -- \
        -s "127.0.0.1:$P_PLAIN" -m "$M" "${MTLS[@]}" --timeout 2000
done
check "the plaintext sentinel and data node without TLS: resolved (0)" 0 -- \
    -s "127.0.0.1:$P_PSENT" -m plain
# The follower's ROLE probe is non-blocking and only times out: its
# errstr says the TLS hello had no answer.
if out="$(timeout 30 "$FOLLOW" silent "127.0.0.1:$P_PSENT" "$DIR/ca.crt" "$DIR/client.crt" \
        "$DIR/client.key" plain 20)"; then
    pass=$((pass + 1)); echo "ok   the follower, TLS to a plaintext data node: $out"
else
    fail=$((fail + 1)); echo "FAIL the follower, TLS to a plaintext data node"
    printf '%s\n' "$out" | sed 's/^/     | /'
fi
# The watcher's own poll (a follower with its own links) to a plaintext
# sentinel: its handshake times out too, and says why with the same hint.
if out="$(timeout 30 "$FOLLOW" silent-sentinels "127.0.0.1:$P_PSENT" "$DIR/ca.crt" \
        "$DIR/client.crt" "$DIR/client.key" plain 20)"; then
    pass=$((pass + 1)); echo "ok   the watcher's poll, TLS to a plaintext sentinel: $out"
else
    fail=$((fail + 1)); echo "FAIL the watcher's poll, TLS to a plaintext sentinel"
    printf '%s\n' "$out" | sed 's/^/     | /'
fi
# A server that answers the hello itself with a RESP error (a newline in
# the hello's random bytes; Redis 7 looks for it with strchr(), which stops
# at the hello's first zero byte, so a fake shows that path): the same code,
# and the text says so.
fake_server errer answer $'-ERR unknown command\r\n'
ERRER_PID=$FAKE_PID
ERRER_PORT_FILE="$DIR/errer.port"
check "a plaintext \"-ERR\" answer to the TLS hello: 23, a plaintext port" 23 \
    "a plaintext port: it answered the TLS hello with a plaintext reply; turn TLS off for the sentinels" -- \
    -s "127.0.0.1:$(cat "$ERRER_PORT_FILE")" -m "$M" "${MTLS[@]}" --timeout 2000
kill "$ERRER_PID" 2>/dev/null; wait "$ERRER_PID" 2>/dev/null
# A slow TLS server is not taken for a plaintext port: a relay in front of
# a TLS sentinel holds back its first answer for 1.3 s of a 2 s connect
# timeout (fake_server slow). The half-way probe (at 1 s) is closed, the
# handshake resumes and completes.
fake_server slow slow "$P_S1"
SLOW_PID=$FAKE_PID
SLOW_PORT_FILE="$DIR/slow.port"
check "a slow TLS sentinel (first answer after 1.3 s of 2 s): resolved (0)" 0 -- \
    -s "127.0.0.1:$(cat "$SLOW_PORT_FILE")" -m "$M" "${MTLS[@]}" --connect-timeout 2000 \
    --timeout 10000 --tries 1
if grep -q "^closed b'PING'" "$DIR/slow.log"; then
    pass=$((pass + 1)); echo "ok     the slow sentinel was asked a plaintext PING half-way, and went on"
else
    fail=$((fail + 1)); echo "FAIL   the slow sentinel saw no PING probe"; sed 's/^/     | /' "$DIR/slow.log"
fi
kill "$SLOW_PID" 2>/dev/null; wait "$SLOW_PID" 2>/dev/null
check "missing CA file: 23 before connecting" 23 "cannot load CA" -- \
    -s "$SENTS" -m "$M" --tls --cacert "$DIR/no-such.crt"
check "certificate without key: invalid argument (11)" 11 -- \
    -s "$SENTS" -m "$M" --tls --cacert "$DIR/ca.crt" --cert "$DIR/client.crt"
check "key that does not match the certificate: 23" 23 "key" -- \
    -s "$SENTS" -m "$M" --tls --cacert "$DIR/ca.crt" --cert "$DIR/client.crt" \
    --key "$DIR/server.key"
check "bad --tls-min-version: usage (2)" 2 -- -s "$SENTS" -m "$M" --tls --tls-min-version 1.1
check "--help documents the TLS flags" 0 -- --help
expect_out "  --help lists --sentinel-cacert" "--sentinel-cacert"

if out="$(timeout 20 "$FOLLOW" setters "$SENTS" "$DIR/ca.crt")"; then
    pass=$((pass + 1)); echo "ok   TLS setters: errors and codes"
else
    fail=$((fail + 1)); echo "FAIL TLS setters"; printf '%s\n' "$out" | sed 's/^/     | /'
fi

if out="$(timeout 20 "$FOLLOW" discover "127.0.0.1:$P_S1" "$DIR/ca.crt" "$DIR/client.crt" \
        "$DIR/client.key" "$P_M")"; then
    pass=$((pass + 1)); echo "ok   one seed: resolved and discovered the other sentinel over TLS"
else
    fail=$((fail + 1)); echo "FAIL discovery over TLS"; printf '%s\n' "$out" | sed 's/^/     | /'
fi

# A sentinel that accepts TCP and never answers the handshake (frozen): the
# connect timeout covers the handshake, so the error comes, no hang. It
# answers the plaintext PING of the half-way probe no more than the hello:
# still the timeout (17), not taken for a plaintext port.
kill -STOP "$PID_expired"
check "frozen TLS server: timed out (17)" 17 "timed out" -- \
    -s "127.0.0.1:$P_EXP" -m "$M" "${MTLS[@]}" --timeout 1000
kill -CONT "$PID_expired"

# A figure, not an assertion: CPU an idle TLS watcher uses in 3 s (a link
# that polled for the wrong events would spin).
TIMEFORMAT='%U %S'
cpu="$( { time "$RESOLVE" -s "$SENTS" -m "$M" "${MTLS[@]}" --watch --duration 3 \
        >/dev/null 2>&1; } 2>&1 )"
echo "figure: idle TLS watcher, 3 s wall: user/sys CPU s $cpu"

# ---- a manual failover followed over TLS ---------------------------------
# The watcher lists first the sentinel that does not run the failover: it
# learns of the switch a second or two late and, meanwhile, names the old
# master, which answers ROLE master until Sentinel demotes it. --watch must
# print the master the switch named (ROLE-checked), not ask again.
"$RESOLVE" -s "127.0.0.1:$P_S2,127.0.0.1:$P_S1" -m "$M" "${MTLS[@]}" --watch --duration 40 \
    >"$DIR/watch.out" 2>"$DIR/watch.err" &
WATCH=$!
PIDS+=("$WATCH")
# The follower: watcher, poller and ROLE probes all on non-blocking TLS links.
"$FOLLOW" follow "$SENTS" "$DIR/ca.crt" "$DIR/client.crt" "$DIR/client.key" "$P_M" 60 \
    >"$DIR/follow.out" 2>&1 &
FOLLOWER=$!
PIDS+=("$FOLLOWER")
for _ in $(seq 1 100); do grep -q FOLLOWING "$DIR/follow.out" && break; sleep 0.1; done
if grep -qx "FOLLOWING $P_M" "$DIR/follow.out"; then
    pass=$((pass + 1)); echo "ok   the follower follows $P_M over TLS"
else
    fail=$((fail + 1)); echo "FAIL the follower does not follow over TLS"
    sed 's/^/     | /' "$DIR/follow.out"
fi
sleep 1 # let the watcher subscribe (it prints the master it resolved first)
CLI "$P_S1" sentinel failover "$M" | grep -q OK || echo "note: SENTINEL FAILOVER did not say OK"
switched=0
for _ in $(seq 1 150); do
    out="$(timeout 10 "$RESOLVE" -s "$SENTS" -m "$M" "${MTLS[@]}" 2>/dev/null)"
    if [ "$out" = "127.0.0.1 $P_R" ]; then switched=1; break; fi
    sleep 0.2
done
if [ "$switched" = 1 ]; then
    pass=$((pass + 1)); echo "ok   resolve after a manual failover names the new master $P_R"
else
    fail=$((fail + 1)); echo "FAIL resolve after the failover: '$out', want 127.0.0.1 $P_R"
fi
for _ in $(seq 1 100); do
    grep -q "^127.0.0.1 $P_R$" "$DIR/watch.out" && break; sleep 0.1
done
if grep -q "^127.0.0.1 $P_R$" "$DIR/watch.out" && grep -q "switched" "$DIR/watch.err"; then
    pass=$((pass + 1)); echo "ok   the TLS watcher saw the switch and printed $P_R"
else
    fail=$((fail + 1)); echo "FAIL the TLS watcher did not report the switch"
    sed 's/^/     | /' "$DIR/watch.out" "$DIR/watch.err"
fi
kill "$WATCH" 2>/dev/null; wait "$WATCH" 2>/dev/null
wait "$FOLLOWER"; fstatus=$?
if [ "$fstatus" = 0 ] && grep -qx "SWITCHED $P_R epoch-moved" "$DIR/follow.out"; then
    pass=$((pass + 1)); echo "ok   the follower switched to $P_R over TLS, epoch moved"
else
    fail=$((fail + 1)); echo "FAIL the follower over TLS (exit $fstatus)"
    sed 's/^/     | /' "$DIR/follow.out"
fi

echo "sentinel-resolve over TLS: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
