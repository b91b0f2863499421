#!/usr/bin/env bash
# sentinel-resolve over a real TLS-only topology (label "tls").
#
# Starts, on free loopback ports in a fresh directory: a master and a
# replica (redis-server, port 0, tls-port, tls-replication yes, client
# certificates required) and two sentinels (redis-sentinel, port 0,
# tls-port, tls-replication yes so they reach the data nodes over TLS,
# client certificates optional), plus stand-alone servers with an expired
# certificate, a certificate from another CA, and a plaintext port.
# Certificates are made here with the openssl CLI. Everything is killed and
# removed on exit, whatever happens (servers also die with the script:
# setpriv --pdeathsig).
#
# Every sentinel-resolve run is bounded by `timeout` (a hang fails the case
# with status 124); no case asserts a duration.
#
#   test_tls.sh PATH/TO/sentinel-resolve PATH/TO/tls_follow
set -uo pipefail
RESOLVE="$(realpath "${1:?usage: test_tls.sh PATH/TO/sentinel-resolve PATH/TO/tls_follow}")"
FOLLOW="$(realpath "${2:?usage: test_tls.sh PATH/TO/sentinel-resolve PATH/TO/tls_follow}")"
REDIS_SERVER="${REDIS_SERVER:-redis-server}"
REDIS_SENTINEL="${REDIS_SENTINEL:-redis-sentinel}"
REDIS_CLI="${REDIS_CLI:-redis-cli}"
M=mymaster
pass=0 fail=0
PIDS=()

# shellcheck source=tls_env.sh
. "$(dirname "$0")/tls_env.sh"
tls_env sentinel-tls

die() { echo "FATAL: $*"; exit 1; }

# ---- certificates ---------------------------------------------------------
cd "$DIR" || die "no $DIR"
mkcert() { # name ca days san [cn]
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=${5:-$1}" \
        -keyout "$1.key" -out "$1.csr" >/dev/null 2>&1 || die "csr $1"
    printf 'subjectAltName=%s\n' "$4" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial \
        -days "$3" -extfile "$1.ext" -out "$1.crt" >/dev/null 2>&1 || die "sign $1"
}
for ca in ca otherca; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
        -subj "/CN=test $ca" -keyout $ca.key -out $ca.crt >/dev/null 2>&1 || die "ca $ca"
done
mkcert server ca 30 "DNS:localhost,IP:127.0.0.1"
mkcert client ca 30 "DNS:client"
mkcert expired ca -1 "DNS:localhost,IP:127.0.0.1"
mkcert foreign otherca 30 "DNS:localhost,IP:127.0.0.1"
mkdir cadir && cp ca.crt cadir/ && openssl rehash cadir >/dev/null 2>&1 || die "rehash"

# ---- processes ------------------------------------------------------------
read -r P_M P_R P_S1 P_S2 P_EXP P_FOR P_PLAIN < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(7)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])
for s in ss: s.close()')

tls_conf() { # cert auth-clients
    printf 'port 0\nbind 127.0.0.1\ntls-cert-file %s/%s.crt\ntls-key-file %s/%s.key\n' \
        "$DIR" "$1" "$DIR" "$1"
    printf 'tls-ca-cert-file %s/ca.crt\ntls-auth-clients %s\ntls-replication yes\n' "$DIR" "$2"
}
# setpriv --pdeathsig: a server dies with this script even when it is
# killed outright (a ctest timeout) and the EXIT trap never runs.
DEATHSIG=()
setpriv --pdeathsig KILL true 2>/dev/null && DEATHSIG=(setpriv --pdeathsig KILL)
start() { # name binary conf
    "${DEATHSIG[@]}" "$2" "$3" >"$DIR/$1.out" 2>&1 &
    PIDS+=($!)
    eval "PID_$1=$!"
}
node_conf() { # name tls-port cert [replicaof-port]
    mkdir -p "$DIR/$1"
    { tls_conf "$3" yes
      printf 'tls-port %s\ndir %s/%s\nlogfile %s/%s.log\nsave ""\nappendonly no\n' \
          "$2" "$DIR" "$1" "$DIR" "$1"
      [ -n "${4:-}" ] && printf 'replicaof 127.0.0.1 %s\n' "$4"
    } > "$DIR/$1.conf"
}
node_conf master "$P_M" server
node_conf replica "$P_R" server "$P_M"
node_conf expired "$P_EXP" expired
node_conf foreign "$P_FOR" foreign
start master "$REDIS_SERVER" "$DIR/master.conf"
start replica "$REDIS_SERVER" "$DIR/replica.conf"
start expired "$REDIS_SERVER" "$DIR/expired.conf"
start foreign "$REDIS_SERVER" "$DIR/foreign.conf"
mkdir -p "$DIR/plain"
printf 'port %s\nbind 127.0.0.1\ndir %s/plain\nsave ""\n' "$P_PLAIN" "$DIR" > "$DIR/plain.conf"
start plain "$REDIS_SERVER" "$DIR/plain.conf"
for i in 1 2; do
    eval "port=\$P_S$i"
    mkdir -p "$DIR/s$i"
    { tls_conf server optional
      printf 'tls-port %s\ndir %s/s%s\nlogfile %s/s%s.log\n' "$port" "$DIR" "$i" "$DIR" "$i"
      printf 'sentinel monitor %s 127.0.0.1 %s 1\n' "$M" "$P_M"
      printf 'sentinel down-after-milliseconds %s 2000\n' "$M"
      printf 'sentinel failover-timeout %s 10000\n' "$M"
    } > "$DIR/s$i.conf"
    start "s$i" "$REDIS_SENTINEL" "$DIR/s$i.conf"
done

CLI() { # port args...
    local p="$1"; shift
    timeout 5 "$REDIS_CLI" --tls --cacert "$DIR/ca.crt" --cert "$DIR/client.crt" \
        --key "$DIR/client.key" -h 127.0.0.1 -p "$p" "$@" 2>/dev/null
}
# Ready: the replica in sync, both sentinels listing it as a healthy replica.
ready=0
for _ in $(seq 1 ${TLS_READY_TRIES:-150}); do
    if CLI "$P_R" info replication | grep -q 'master_link_status:up' &&
       [ "$(CLI "$P_S1" sentinel replicas "$M" | grep -A1 -x flags | grep -cx slave)" = 1 ] &&
       [ "$(CLI "$P_S2" sentinel replicas "$M" | grep -A1 -x flags | grep -cx slave)" = 1 ]; then
        ready=1; break
    fi
    sleep 0.2
done
[ "$ready" = 1 ] || { tail -n 5 "$DIR"/*.log; die "TLS topology did not come up in 30 s"; }
# The plaintext server is up when it answers PING.
for _ in $(seq 1 50); do
    timeout 2 "$REDIS_CLI" -p "$P_PLAIN" ping >/dev/null 2>&1 && break; sleep 0.1
done
echo "topology: master $P_M, replica $P_R, sentinels $P_S1 $P_S2 (TLS); plaintext $P_PLAIN"

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
check "sentinels over TLS, nodes plaintext: unreachable (20), says TLS port" 20 \
    "master 127.0.0.1:$P_M.*a TLS port\\?" -- \
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
# client without a word (no sentinel reachable, 13, with a hint); a
# plaintext port waits for the end of a line that never comes (the
# handshake times out within the connect timeout, 17) -- or, should the
# ClientHello hold a newline, answers an error that OpenSSL cannot read as
# a record (23).
check "plaintext to a TLS port: 13, says TLS port" 13 "a TLS port\\? turn TLS on" -- \
    -s "$SENTS" -m "$M" --timeout 2000
check "TLS to a plaintext port: 17 or 23, in the handshake" "17 23" "TLS handshake" -- \
    -s "127.0.0.1:$P_PLAIN" -m "$M" "${MTLS[@]}" --timeout 2000
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
# connect timeout covers the handshake, so the error comes, no hang.
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
