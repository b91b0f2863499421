#!/usr/bin/env bash
# A TLS-only topology for 030_tls.phpt (.bash: tests/*.sh are run-tests artifacts): a master (redis-server, port 0,
# tls-port, client certificates required) and a sentinel (redis-sentinel,
# port 0, tls-port, tls-replication yes, client certificates optional)
# on free loopback ports, with certificates made here by the openssl CLI:
# ca (signs server and client), otherca (a CA nobody uses).
#
# Prints "READY DIR MASTER_PORT SENTINEL_PORT" (or "FAILED reason") on
# stdout, then holds the topology until its stdin closes (the test ends,
# however it ends) or 300 s pass, and kills and removes everything. The
# servers also die with this script (setpriv --pdeathsig).
set -uo pipefail
M=tlsmaster
PIDS=()
DIR="$(mktemp -d "${TMPDIR:-/tmp}/sentinel-phptls.XXXXXX")" || { echo "FAILED mktemp"; exit 1; }
cleanup() {
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
fail() { echo "FAILED $*"; tail -n 5 "$DIR"/*.log 2>/dev/null >&2; exit 1; }

cd "$DIR" || fail "no $DIR"
mkcert() { # name ca san
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$1" \
        -keyout "$1.key" -out "$1.csr" >/dev/null 2>&1 || fail "csr $1"
    printf 'subjectAltName=%s\n' "$3" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial \
        -days 30 -extfile "$1.ext" -out "$1.crt" >/dev/null 2>&1 || fail "sign $1"
}
for ca in ca otherca; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
        -subj "/CN=test $ca" -keyout $ca.key -out $ca.crt >/dev/null 2>&1 || fail "ca $ca"
done
mkcert server ca "DNS:localhost,IP:127.0.0.1"
mkcert client ca "DNS:client"
chmod 644 ./*.key ./*.crt

read -r P_M P_S < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])
for s in ss: s.close()') || fail "no free ports"

tls_conf() { # auth-clients tls-port name
    printf 'port 0\nbind 127.0.0.1\ntls-port %s\n' "$2"
    printf 'tls-cert-file %s/server.crt\ntls-key-file %s/server.key\n' "$DIR" "$DIR"
    printf 'tls-ca-cert-file %s/ca.crt\ntls-auth-clients %s\ntls-replication yes\n' "$DIR" "$1"
    printf 'dir %s\nlogfile %s/%s.log\n' "$DIR" "$DIR" "$3"
}
{ tls_conf yes "$P_M" master; printf 'save ""\nappendonly no\n'; } > master.conf
{ tls_conf optional "$P_S" sentinel
  printf 'sentinel monitor %s 127.0.0.1 %s 1\n' "$M" "$P_M"
  printf 'sentinel down-after-milliseconds %s 5000\n' "$M"
} > sentinel.conf
DEATHSIG=()
setpriv --pdeathsig KILL true 2>/dev/null && DEATHSIG=(setpriv --pdeathsig KILL)
"${DEATHSIG[@]}" redis-server "$DIR/master.conf" >/dev/null 2>&1 &
PIDS+=($!)
"${DEATHSIG[@]}" redis-sentinel "$DIR/sentinel.conf" >/dev/null 2>&1 &
PIDS+=($!)

CLI() { # port args...
    local p="$1"; shift
    timeout 5 redis-cli --tls --cacert "$DIR/ca.crt" --cert "$DIR/client.crt" \
        --key "$DIR/client.key" -h 127.0.0.1 -p "$p" "$@" 2>/dev/null
}
ready=0
for _ in $(seq 1 150); do
    if [ "$(CLI "$P_M" ping)" = PONG ] &&
       CLI "$P_S" sentinel get-master-addr-by-name "$M" | grep -qx "$P_M"; then
        ready=1; break
    fi
    sleep 0.2
done
[ "$ready" = 1 ] || fail "the TLS topology did not come up in 30 s"
echo "READY $DIR $P_M $P_S"
read -r -t 300 _ || true
