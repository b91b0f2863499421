#!/usr/bin/env bash
# A TLS handshake to the master whose answer is already waiting in the
# proxy's socket when connect-timeout passes is not failed (issue 10/12:
# the TLS differential fuzzer, seed 81763990, saw 17 handshakes time out
# together on a loaded host). Over the real TLS-only topology
# (topology.sh), for a client's own master connection (--multiplex no)
# and the shared one (--multiplex yes):
#   1. N idle clients connect to the proxy (more than the loop's batch of
#      256 events);
#   2. the master is stopped (SIGSTOP); client 0 sends PING, so the proxy
#      connects (the kernel completes the TCP connect) and sends its
#      ClientHello, which waits unread at the master;
#   3. the proxy is stopped; the other clients send PING; the master is
#      continued and answers: its ServerHello sits in the proxy's socket,
#      behind the N client sockets that became readable first;
#   4. past connect-timeout (not twice it) the proxy is continued. Its first
#      turn dispatches 256 client events, not the master's, and then checks
#      the deadlines: the old rule failed the handshake there ("TLS
#      handshake timed out" / "connect timed out").
# Asserts: every client gets PONG, and the proxy logs no timed-out connect.
# Every wait is bounded; nothing asserts a duration (connect-timeout is
# 3000 ms, the proxy is continued about 4 s after client 0's PING, twice
# the timeout is the hard cap).
#
#   test_proxy_tls_deadline.sh PATH/TO/sentinel-proxy
set -uo pipefail
PROXY="$(realpath "${1:?usage: test_proxy_tls_deadline.sh PATH/TO/sentinel-proxy}")"
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/topology.sh"
# shellcheck source=proxy_lib.sh
. "$HERE/proxy_lib.sh"
NCLIENTS=400
CONNECT_MS=3000

# The bytes queued on the established TCP sockets whose local (sport) or
# remote (dport) port is $2 ($1: sport or dport): Recv-Q, one a line.
recvq() { ss -tnH state established "( $1 = :$2 )" 2>/dev/null | awk '{ print $1 }'; }
# wait_recvq sport|dport PORT: until some such socket has unread bytes (10 s).
wait_recvq() {
    for _ in $(seq 1 200); do
        recvq "$1" "$2" | grep -q '^[1-9]' && return 0
        sleep 0.05
    done
    return 1
}

for mode in no yes; do
    start_proxy D "${MTLS[@]}" --multiplex "$mode" --connect-timeout "$CONNECT_MS" || continue
    CTL="$DIR/ctl-$mode"
    mkfifo "$CTL.in" "$CTL.out"
    # The clients, driven by lines on a fifo: "open", "ping0", "pingrest",
    # "read" (prints "pong N err M other K").
    cat > "$DIR/clients.py" <<'PYEOF'
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
for line in sys.stdin:
    cmd = line.strip()
    if cmd == "open":
        # A loaded machine (ASan, CI) may drop a SYN or accept late: each
        # connect is retried until 60 s have passed, and its error printed.
        end = time.monotonic() + 60
        while len(socks) < n:
            try:
                socks.append(socket.create_connection(("127.0.0.1", port), timeout=10))
            except OSError as e:
                print("connect %d: %r" % (len(socks), e), flush=True)
                if time.monotonic() > end:
                    break
                time.sleep(0.1)
    elif cmd == "ping0":
        socks[0].sendall(b"PING\r\n")
    elif cmd == "pingrest":
        for s in socks[1:]:
            s.sendall(b"PING\r\n")
    elif cmd == "read":
        got = {"pong": 0, "err": 0, "other": 0}
        end = time.monotonic() + 30
        for s in socks:
            buf = b""
            while not buf.endswith(b"\r\n") and time.monotonic() < end:
                s.settimeout(max(0.1, end - time.monotonic()))
                try:
                    d = s.recv(256)
                except (socket.timeout, OSError):
                    break
                if not d:
                    break
                buf += d
            if buf == b"+PONG\r\n":
                got["pong"] += 1
            elif buf.startswith(b"-"):
                got["err"] += 1
                first_err = buf
            else:
                got["other"] += 1
        print("pong %d err %d other %d" % (got["pong"], got["err"], got["other"]), flush=True)
        if got["err"]:
            print("first error: %r" % first_err, flush=True)
        break
    print("done " + cmd, flush=True)
PYEOF
    timeout 120 python3 "$DIR/clients.py" "$D_PORT" "$NCLIENTS" < "$CTL.in" > "$CTL.out" 2>&1 &
    py=$!
    exec {cin}>"$CTL.in" {cout}<"$CTL.out"
    step() { # command [seconds]: wait for its "done" (30 s)
        local l
        printf '%s\n' "$1" >&"$cin"
        while IFS= read -r -t "${2:-30}" l <&"$cout"; do
            [ "$l" = "done $1" ] && return 0
            echo "     | $l"
        done
        return 1
    }
    step open 90 || bad "multiplex $mode: $NCLIENTS clients did not connect" "$D_LOG"
    # Accepted by the proxy (its connections_total), before the master stops.
    for _ in $(seq 1 200); do
        [ "$(metric "$D_ADMIN" connections_total)" -ge "$NCLIENTS" ] 2>/dev/null && break
        sleep 0.05
    done
    kill -STOP "$PID_master"
    step ping0
    # The ClientHello waits at the stopped master (its accept queue).
    wait_recvq sport "$P_M" || bad "multiplex $mode: no ClientHello reached the master" "$D_LOG"
    kill -STOP "$D_PID"
    t0=$(date +%s%N)
    step pingrest
    kill -CONT "$PID_master"
    # The master's answer waits in the stopped proxy's socket.
    wait_recvq dport "$P_M" || bad "multiplex $mode: no answer from the master in the proxy's socket" "$D_LOG"
    # Past connect-timeout since the PING (about 1 s more), then continue.
    left=$(( (CONNECT_MS + 1000) * 1000000 - ($(date +%s%N) - t0) ))
    [ "$left" -gt 0 ] && sleep "$(awk -v n="$left" 'BEGIN { printf "%.3f", n / 1e9 }')"
    kill -CONT "$D_PID"
    printf 'read\n' >&"$cin"
    res=""
    while IFS= read -r -t 60 l <&"$cout"; do
        echo "     | $l"
        case "$l" in pong*) res=$l ;; esac
    done
    exec {cin}>&- {cout}<&-
    wait "$py" 2>/dev/null
    rm -f "$CTL.in" "$CTL.out"
    expect "multiplex $mode: all $NCLIENTS clients get PONG through a handshake answered while the proxy was stopped" \
        "$res" "^pong $NCLIENTS err 0 other 0$" "$D_LOG"
    expect "multiplex $mode: the proxy logs no timed-out connect or handshake" \
        "$(grep -cE 'TLS handshake timed out|connect timed out' "$D_LOG")" "^0$" "$D_LOG"
    stop_proxy "$D_PID"
done

echo "test_proxy_tls_deadline: $pass passed, $fail failed"
[ "$fail" = 0 ]
