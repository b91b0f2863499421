# The TLS-only topology of the tests in tests/tls/ (sourced): a master and
# a replica (redis-server, port 0, tls-port, tls-replication yes, client
# certificates required) and two sentinels (redis-sentinel, port 0,
# tls-port, tls-replication yes so they reach the data nodes over TLS,
# client certificates optional), plus stand-alone servers with an expired
# certificate, a certificate from another CA, and a plaintext port, on free
# loopback ports in a fresh directory $DIR. Certificates are made with the
# openssl CLI: ca, otherca, server (localhost, 127.0.0.1), client, expired,
# foreign, and cadir/ (hashed). Everything is killed and removed on exit,
# whatever happens (servers also die with the script: setpriv --pdeathsig).
#
# Sets: DIR, M, P_M P_R P_S1 P_S2 P_EXP P_FOR P_PLAIN, PID_<name>, PIDS,
# CLI (redis-cli over mutual TLS: CLI PORT ARGS...), die, pass=0 fail=0.
# A caller may add configuration lines (the differential fuzzer's --tls:
# requirepass, an ACL user, a longer down-after): TLS_NODE_CONF to every
# data node's file, TLS_SENTINEL_CONF to every sentinel's (after its own
# lines, so they win); with requirepass, export REDISCLI_AUTH for CLI.
REDIS_SERVER="${REDIS_SERVER:-redis-server}"
REDIS_SENTINEL="${REDIS_SENTINEL:-redis-sentinel}"
REDIS_CLI="${REDIS_CLI:-redis-cli}"
M=mymaster
pass=0 fail=0
PIDS=()

# shellcheck source=tls_env.sh
. "$(dirname "${BASH_SOURCE[0]}")/tls_env.sh"
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
      [ -n "${TLS_NODE_CONF:-}" ] && printf '%s\n' "$TLS_NODE_CONF"
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
      [ -n "${TLS_SENTINEL_CONF:-}" ] && printf '%s\n' "$TLS_SENTINEL_CONF"
    } > "$DIR/s$i.conf"
    start "s$i" "$REDIS_SENTINEL" "$DIR/s$i.conf"
done

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
