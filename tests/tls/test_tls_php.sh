#!/usr/bin/env bash
# PHP over a real TLS-only topology (label "tls"): the sentinel extension and
# the Magento bindings (tests/tls/tls_php_writer.php) through TLS-only
# sentinels to a TLS-only master.
#
# 1. TLS faults from PHP, each through the cache backend's constructor: an
#    expired server certificate, one from another CA, another CA given to
#    the client, a wrong host name, a server that speaks only TLS 1.1 (below
#    the library's TLS 1.2 minimum), plaintext to a TLS port, TLS to a
#    plaintext port, a frozen server. Each must give its fixed error
#    (Sentinel\Exception::TLS, TLS to a plaintext port included; TIMEOUT
#    for a handshake that never ends), never a hang (every PHP run is
#    bounded by `timeout`).
# 2. Failovers with PHP writing: one cache save + one session write per
#    iteration, from a reused backend/handler pair and from a per-request
#    pair at the same time; a manual SENTINEL FAILOVER, SIGKILL of the new
#    master, then (the killed node restarted as a replica) SIGSTOP of the
#    master until the sentinels promoted the replica, then SIGCONT. Every acknowledged write must be on the final
#    master.
#
# Topology (fresh directory, free loopback ports, certificates made here by
# the openssl CLI, everything killed and removed on exit; servers also die
# with this script through setpriv --pdeathsig): a master and a replica
# (port 0, tls-port, tls-replication yes, client certificates required),
# three sentinels (tls-port, quorum 2), and stand-alone servers with an
# expired certificate, a certificate from another CA, TLS 1.1 only, and
# plaintext only.
#
#   test_tls_php.sh BUILD_DIR
#
# The extension: $SN_EXT_SO, else built (cached) in ${SN_EXT_BUILD:-BUILD_DIR/php-ext}.
# Exits 77 (skipped) without php, phpize, php-redis >= 5.3 (TLS),
# a TLS-capable redis-server, or an extension built without TLS.
set -uo pipefail
BUILD="$(realpath "${1:?usage: test_tls_php.sh BUILD_DIR}")"
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
M=tlsphp
pass=0 fail=0
PIDS=()

skip() { echo "SKIP: $*"; exit 77; }
for bin in php openssl redis-server redis-sentinel redis-cli python3 timeout; do
    command -v "$bin" >/dev/null 2>&1 || skip "$bin not installed"
done
php -r 'exit(extension_loaded("redis") && version_compare((string)phpversion("redis"), "5.3.0", ">=") ? 0 : 1);' ||
    skip "php-redis missing or without TLS (< 5.3)"
libs="$(ldd "$(command -v redis-server)" 2>/dev/null)" # (grep -q on a pipe: SIGPIPE under pipefail)
[[ "$libs" == *libssl* ]] || skip "redis-server built without TLS"
if [ -n "${SN_EXT_SO:-}" ]; then
    EXT="$SN_EXT_SO"
else
    command -v phpize >/dev/null 2>&1 || skip "phpize (php-dev) not installed"
    # shellcheck source=../php/common.sh
    EXT="$(. "$ROOT/tests/php/common.sh"; SN_ROOT="$ROOT" sn_build_ext_cached "${SN_EXT_BUILD:-$BUILD/php-ext}")" ||
        { echo "FATAL: extension build failed"; exit 1; }
fi
PHP=(php -d "extension=$EXT" -d sentinel.shared_cache=0)
info="$("${PHP[@]}" --ri sentinel 2>&1)"
[[ "$info" == *"TLS => available"* ]] || skip "extension built without TLS"

# shellcheck source=tls_env.sh
. "$(dirname "$0")/tls_env.sh"
tls_env sentinel-tlsphp
die() { echo "FATAL: $*"; tail -n 5 "$DIR"/*.log 2>/dev/null; exit 1; }
ok() { pass=$((pass + 1)); echo "ok   $*"; }
nok() { fail=$((fail + 1)); echo "FAIL $*"; }

# ---- certificates: ca signs server, client and expired; otherca signs foreign
cd "$DIR" || die "no $DIR"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
for ca in ca otherca; do
    openssl req -x509 "${ec[@]}" -days 30 -subj "/CN=php $ca" -keyout $ca.key -out $ca.crt \
        >/dev/null 2>&1 || die "ca $ca"
done
while read -r name signer days san; do
    openssl req "${ec[@]}" -subj "/CN=$name" -keyout "$name.key" -out "$name.csr" >/dev/null 2>&1 &&
        printf 'subjectAltName=%s\n' "$san" > "$name.ext" &&
        openssl x509 -req -in "$name.csr" -CA "$signer.crt" -CAkey "$signer.key" -CAcreateserial \
            -days "$days" -extfile "$name.ext" -out "$name.crt" >/dev/null 2>&1 || die "certificate $name"
done <<'EOF'
server ca 30 DNS:localhost,IP:127.0.0.1
client ca 30 DNS:client
expired ca -1 DNS:localhost,IP:127.0.0.1
foreign otherca 30 DNS:localhost,IP:127.0.0.1
EOF

# ---- processes ---------------------------------------------------------------
read -r P_M P_R P_S1 P_S2 P_S3 P_EXP P_FOR P_OLD P_PLAIN < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(9)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])
for s in ss: s.close()')
DEATHSIG=()
setpriv --pdeathsig KILL true 2>/dev/null && DEATHSIG=(setpriv --pdeathsig KILL)
# conf NAME PORT CERT AUTH-CLIENTS [extra config lines...]: a TLS-only server's configuration
conf() {
    local name=$1 port=$2 cert=$3 auth=$4
    shift 4
    mkdir -p "$DIR/$name"
    printf '%s\n' "port 0" "bind 127.0.0.1" "tls-port $port" "tls-cert-file $DIR/$cert.crt" \
        "tls-key-file $DIR/$cert.key" "tls-ca-cert-file $DIR/ca.crt" "tls-auth-clients $auth" \
        "tls-replication yes" "dir $DIR/$name" "logfile $DIR/$name.log" "$@" > "$DIR/$name.conf"
}
launch() { # NAME BINARY: starts it on NAME.conf, PID in PID_NAME
    "${DEATHSIG[@]}" "$2" "$DIR/$1.conf" >"$DIR/$1.out" 2>&1 &
    PIDS+=($!)
    eval "PID_$1=$!"
}
NODE=('save ""' "appendonly no" "repl-diskless-sync-delay 0")
conf master "$P_M" server yes "${NODE[@]}"
conf replica "$P_R" server yes "${NODE[@]}" "replicaof 127.0.0.1 $P_M"
conf expired "$P_EXP" expired no "${NODE[@]}"
conf foreign "$P_FOR" foreign no "${NODE[@]}"
conf old "$P_OLD" server no "${NODE[@]}" 'tls-protocols "TLSv1.1"'
mkdir -p "$DIR/plain"
printf '%s\n' "port $P_PLAIN" "bind 127.0.0.1" "dir $DIR/plain" 'save ""' > "$DIR/plain.conf"
for n in master replica expired foreign old plain; do launch "$n" redis-server; done
i=0
for port in "$P_S1" "$P_S2" "$P_S3"; do
    i=$((i + 1))
    conf "s$i" "$port" server optional "sentinel monitor $M 127.0.0.1 $P_M 2" \
        "sentinel down-after-milliseconds $M 2000" "sentinel failover-timeout $M 10000"
    launch "s$i" redis-sentinel
done

CLI() { # PORT ARGS...
    local p="$1"; shift
    timeout 5 redis-cli --tls --cacert "$DIR/ca.crt" --cert "$DIR/client.crt" \
        --key "$DIR/client.key" -h 127.0.0.1 -p "$p" "$@" 2>/dev/null
}
master_port() { CLI "$P_S1" sentinel get-master-addr-by-name "$M" | sed -n 2p; }
master_is() { [ "$(master_port)" = "$1" ]; }
# healthy PORT: every sentinel lists PORT as a replica flagged just "slave", and it is in sync
healthy() {
    local s
    [[ "$(CLI "$1" info replication)" == *master_link_status:up* ]] || return 1
    for s in "$P_S1" "$P_S2" "$P_S3"; do
        CLI "$s" sentinel replicas "$M" | awk -v want="127.0.0.1:$1" '
            prev == "name" { name = $0 }
            prev == "flags" && name == want && $0 == "slave" { found = 1 }
            { prev = $0 }
            END { exit !found }' || return 1
        [ "$(CLI "$s" sentinel master "$M" | grep -A1 -x num-other-sentinels | tail -n 1)" = 2 ] || return 1
    done
}
wait_for() { # SECONDS COMMAND...: bounded poll, 5 tries a second
    local n=$(($1 * 5)); shift
    for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.2; done
    return 1
}
wait_for 40 healthy "$P_R" || die "TLS topology did not come up in 40 s"
echo "topology: master $P_M, replica $P_R, sentinels $P_S1 $P_S2 $P_S3 (TLS only)"
SENTS="tls://127.0.0.1:$P_S1,tls://127.0.0.1:$P_S2,tls://127.0.0.1:$P_S3"
WRITER="$HERE/tls_php_writer.php"

# ---- 1. TLS faults from PHP ---------------------------------------------------
fault() { # NAME PATTERN SENTINELS KIND
    local out status
    out="$(timeout 30 "${PHP[@]}" -d sentinel.watch=0 "$WRITER" fault "$3" "$M" "$DIR" "$4" 2>&1)"
    status=$?
    if [ "$status" = 124 ]; then nok "$1: hung (killed after 30 s)"; return; fi
    # the first line, matched without a pipe (head closing it early is a SIGPIPE under pipefail)
    if [[ "${out%%$'\n'*}" =~ $2 ]]; then
        ok "$1 (${out##*$'\n'})"
    else
        nok "$1: want /$2/"; printf '%s\n' "$out" | sed 's/^/     | /'
    fi
}
fault "mutual TLS through the bindings" "^ok $P_M\$" "$SENTS" good
fault "expired certificate: Sentinel\\Exception TLS" \
    "^Sentinel.Exception TLS: .*certificate has expired" "tls://127.0.0.1:$P_EXP" expired
fault "certificate from another CA: Sentinel\\Exception TLS" \
    "^Sentinel.Exception TLS: .*certificate verify failed" "tls://127.0.0.1:$P_FOR" foreign
fault "client trusts another CA: Sentinel\\Exception TLS" \
    "^Sentinel.Exception TLS: .*certificate verify failed" "$SENTS" other-ca
fault "wrong host name: Sentinel\\Exception TLS" \
    "^Sentinel.Exception TLS: .*hostname mismatch" "$SENTS" wrong-name
fault "protocol version below the TLS 1.2 minimum: Sentinel\\Exception TLS" \
    "^Sentinel.Exception TLS: .*(protocol version|unsupported protocol|no protocols)" \
    "tls://127.0.0.1:$P_OLD" old-protocol
fault "plaintext to a TLS port: Sentinel\\Exception TLS, the port answered TLS" \
    "^Sentinel.Exception TLS: .*a TLS port: it reset the plaintext command" "127.0.0.1:$P_S1" plaintext
# A plaintext server waits for a line end the ClientHello does not hold; half
# way through the connect timeout the library asks it a plaintext PING, and
# its answer makes it the TLS error (two runs: the hello varies).
for run in 1 2; do
    fault "TLS to a plaintext port (run $run): Sentinel\\Exception TLS, a plaintext port" \
        "^Sentinel.Exception TLS: .*a plaintext port: it answered a plaintext PING and not the TLS hello; turn TLS off for the sentinels" \
        "tls://127.0.0.1:$P_PLAIN" plaintext-port
done
kill -STOP "$PID_expired"
fault "frozen TLS server: TIMEOUT, no hang" \
    "^Sentinel.Exception TIMEOUT: " "tls://127.0.0.1:$P_EXP" frozen
kill -CONT "$PID_expired"

# ---- 2. failovers with PHP writing over TLS ----------------------------------
STOP="$DIR/stop"
for mode in reused per-request; do
    "${PHP[@]}" -d sentinel.watch=1 "$WRITER" write "$SENTS" "$M" "$DIR" "$DIR/$mode.acks" "$mode" 240 "$STOP" \
        >"$DIR/$mode.out" 2>&1 &
    PIDS+=($!)
    eval "WRITER_${mode//-/_}=$!"
done
# mark: remember how far each ack log is; acks_on PORT: both writers
# acknowledged a cache save on PORT since the last mark
declare -A MARK=([reused]=0 [per-request]=0)
mark() {
    local mode
    for mode in reused per-request; do MARK[$mode]=$(wc -l < "$DIR/$mode.acks" 2>/dev/null || echo 0); done
}
acks_on() {
    local mode
    for mode in reused per-request; do
        awk -v skip="${MARK[$mode]}" -v port="$1" 'NR > skip && $1 == "c" && $4 == port { found = 1 }
            END { exit !found }' "$DIR/$mode.acks" 2>/dev/null || return 1
    done
}
wait_for 30 acks_on "$P_M" || die "the PHP writers acknowledged nothing on $P_M in 30 s"

echo "-- manual failover (SENTINEL FAILOVER)"
mark
CLI "$P_S1" sentinel failover "$M" | grep -q OK || echo "note: SENTINEL FAILOVER did not say OK"
if wait_for 30 master_is "$P_R" && wait_for 30 acks_on "$P_R"; then
    ok "the PHP writers follow the manual failover to $P_R over TLS"
else
    nok "manual failover: master $(master_port), writers did not reach $P_R"
fi
wait_for 40 healthy "$P_M" || nok "the old master $P_M did not come back as an in-sync replica in 40 s"

echo "-- kill the new master (SIGKILL)"
mark
kill -KILL "$PID_replica"
{ wait "$PID_replica"; } 2>/dev/null
if wait_for 40 acks_on "$P_M"; then
    ok "the PHP writers follow the kill back to $P_M over TLS"
else
    nok "kill: master $(master_port), writers did not reach $P_M"
fi

echo "-- freeze the master (SIGSTOP until the replica is promoted, then SIGCONT), the killed node back as its replica"
launch replica redis-server
wait_for 60 healthy "$P_R" || nok "the killed node $P_R did not come back as an in-sync replica in 60 s"
mark
kill -STOP "$PID_master"
# Thawed once the sentinels promoted the replica: an operation that was in
# flight on the frozen master (upstream's session handler has no read
# timeout) completes when it thaws, and the fence re-applies it there.
wait_for 40 master_is "$P_R" || nok "freeze: no failover to $P_R in 40 s (master $(master_port))"
sleep 1
kill -CONT "$PID_master"
if wait_for 40 acks_on "$P_R"; then
    ok "the PHP writers follow the freeze to $P_R over TLS"
else
    nok "freeze: master $(master_port), writers did not reach $P_R"
fi
# The last acknowledged writes replicated before the writers stop and the check reads.
wait_for 60 healthy "$P_M" || nok "the thawed master $P_M did not come back as an in-sync replica in 60 s"
touch "$STOP"
wait "$WRITER_reused" "$WRITER_per_request"

# Sentinel may fail over on its own when the machine is overloaded (down-after
# 2 s): say so, as a write acknowledged just before such a failover can be
# lost to asynchronous replication, which no client prevents.
switches=$(grep -c '+switch-master' "$DIR/s1.log" 2>/dev/null)
[ "${switches:-0}" -le 3 ] || echo "note: $switches failovers seen by sentinel 1, 3 caused by this test (load: $(cut -d' ' -f1-3 /proc/loadavg))"
for mode in reused per-request; do
    out="$(timeout 30 "${PHP[@]}" -d sentinel.watch=0 "$WRITER" check "$SENTS" "$M" "$DIR" "$DIR/$mode.acks" 2>&1)"
    echo "figure: $mode objects: $out; $(tail -n 1 "$DIR/$mode.acks" | awk '{print $3 " errors in " $2 " iterations"}')"
    if grep -Eq "^acked [1-9][0-9]*/[1-9][0-9]* lost 0/0 ports .*\b$P_M\b.* final $P_R\$" <<<"$out" &&
       grep -Eq "ports .*\b$P_R\b" <<<"$out"; then
        ok "$mode objects: 0 acknowledged cache saves and session writes lost across manual, kill and freeze over TLS"
    else
        nok "$mode objects: $out"; sed 's/^/     | /' "$DIR/$mode.out" | tail -n 5
    fi
done

echo "PHP over TLS: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
