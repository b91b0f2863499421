# sentinel-proxy without OpenSSL (issues 10 and 12, idle RSS): a plaintext
# proxy maps no libssl/libcrypto pages while serving, neither shared objects
# in /proc/PID/maps nor OpenSSL linked statically into its executable; a
# configuration that asks for TLS (here a TLS listener, which needs no TLS
# topology) re-execs sentinel-proxy-tls in the same process, and that
# listener answers a TLS client.
SCRIPT_ARGS=("$@")
. "$(dirname "$0")/lib.sh"
run_in_topology

# openssl_in PID: names what of OpenSSL the process has mapped, if anything.
openssl_in() {
    local pid=$1 exe
    grep -E 'lib(ssl|crypto)[.-]' "/proc/$pid/maps" | awk '{ print $6 }' | sort -u
    exe=$(readlink "/proc/$pid/exe") || return
    # A static link carries OpenSSL's own strings (its error texts, the
    # provider names) whether stripped or not.
    grep -a -q -F 'OpenSSL' "/proc/$pid/exe" && echo "$exe (OpenSSL linked in)"
}

# ---- plaintext: nothing of OpenSSL while serving -------------------------
start_proxy P
pong "$P_PORT" || fail "plaintext proxy does not answer PING"
rcli "$P_PORT" SET no-openssl yes >/dev/null
[ "$(rcli "$P_PORT" GET no-openssl)" = yes ] || fail "plaintext proxy does not forward"
found=$(openssl_in "$P_PID")
[ -z "$found" ] || fail "the plaintext proxy maps OpenSSL: $found"
ok "plaintext proxy serves with no libssl/libcrypto mapped"
stop_proxy "$P_PID" || fail "plaintext proxy exit status $?"

# ---- TLS asked for: the same process becomes sentinel-proxy-tls ----------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$WORK/listen.key" -out "$WORK/listen.crt" 2>"$WORK/openssl.log" ||
    fail "openssl could not make a certificate"
start_proxy T --tls-listen-cert "$WORK/listen.crt" --tls-listen-key "$WORK/listen.key"
exe=$(readlink "/proc/$T_PID/exe")
[ "$(basename "$exe")" = sentinel-proxy-tls ] ||
    fail "a TLS configuration runs $exe, not sentinel-proxy-tls"
[ "$(timeout 10 redis-cli --tls --cacert "$WORK/listen.crt" -h 127.0.0.1 -p "$T_PORT" PING \
    2>&1)" = PONG ] || fail "the TLS listener does not answer PING over TLS"
[ "$(timeout 10 redis-cli --tls --cacert "$WORK/listen.crt" -h 127.0.0.1 -p "$T_PORT" \
    GET no-openssl 2>&1)" = yes ] || fail "the TLS listener does not forward"
ok "a TLS listener re-execs sentinel-proxy-tls (pid $T_PID kept) and answers over TLS"
stop_proxy "$T_PID" || fail "TLS proxy exit status $?"
echo "PASS"
