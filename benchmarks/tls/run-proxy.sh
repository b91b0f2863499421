#!/bin/bash
# sentinel-proxy with TLS to the master vs HAProxy with "ssl" to the master
# (the usual recipe for plaintext clients of a TLS-only Redis), in one run,
# interleaved; results with ratios go to benchmarks/tls/RESULTS-proxy.md.
#
#   benchmarks/tls/run-proxy.sh [BUILD_DIR]      (default: build; ROUNDS=5)
#
# The TLS-only topology is tests/tls/topology.sh's (master, replica, two
# sentinels, mutual TLS, certificates made with openssl). Paths, each round:
# sentinel-proxy (multiplexed, the default), sentinel-proxy --multiplex no,
# HAProxy (server ... ssl verify required ca-file ... crt ..., role:master
# check over TLS), and redis-benchmark --tls straight to the master as the
# reference. redis-benchmark -c 50 SET and GET without pipelining (the
# target) and with -P 16; the median round is reported, with p99. Memory:
# VmRSS of each proxy idle after start, and after the load. CPU: user +
# system time of each proxy process (all threads) per request, from
# /proc/PID/stat around each redis-benchmark run: less noisy than rates.
#
# Needs redis-server, redis-sentinel, redis-benchmark (with --tls), haproxy.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd) || exit 2
PROXY_BIN=$BUILD/libsentinel/tools/sentinel-proxy
ROUNDS=${ROUNDS:-5}
[ -x "$PROXY_BIN" ] || { echo "missing $PROXY_BIN: build first" >&2; exit 2; }
for b in redis-server redis-sentinel redis-benchmark haproxy openssl; do
    command -v "$b" >/dev/null || { echo "missing $b" >&2; exit 2; }
done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
. "$ROOT/tests/tls/topology.sh"
OUT=$DIR/bench
mkdir -p "$OUT"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
HZ=$(getconf CLK_TCK)
cpu_ticks() { # pid: user + system CPU ticks of the process (every thread); 0 without pid
    if [ -n "$1" ]; then awk '{ print $14 + $15 }' "/proc/$1/stat"; else echo 0; fi
}
rss_kb() { # VmRSS, RssAnon (private: the rest is clean, shared file pages), Pss
    local pss
    pss=$(awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null)
    awk -v p="${pss:-0}" '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } END { print r, a, p }' "/proc/$1/status"
}
ready() { # port: 20 fresh connections in a row reach the master
    local good=0
    for _ in $(seq 1 300); do
        if [ "$(timeout 2 "$REDIS_CLI" -p "$1" ROLE 2>/dev/null | head -n1)" = master ]; then
            good=$((good + 1))
            [ $good -ge 20 ] && return 0
        else
            good=0
            sleep 0.1
        fi
    done
    die "nothing forwards to the master on port $1"
}

MTLS=(--tls --cacert "$DIR/ca.crt" --cert "$DIR/client.crt" --key "$DIR/client.key")
start_proxy() { # var-prefix flags...
    local name=$1 port
    shift
    port=$(free_port)
    "${DEATHSIG[@]}" "$PROXY_BIN" --listen "127.0.0.1:$port" --sentinel "127.0.0.1:$P_S1,127.0.0.1:$P_S2" \
        --master "$M" --max-clients 2000 --connect-timeout 2000 "${MTLS[@]}" "$@" \
        2>>"$OUT/proxy-$name.log" &
    PIDS+=($!)
    printf -v "${name}_PID" '%s' "$!"
    printf -v "${name}_PORT" '%s' "$port"
    ready "$port"
}
start_haproxy() {
    local cfg=$OUT/haproxy.cfg
    HAPROXY_PORT=$(free_port)
    cat "$DIR/client.crt" "$DIR/client.key" > "$DIR/client.pem"
    servers=""
    for p in $P_M $P_R; do
        servers+="    server redis$p 127.0.0.1:$p check check-ssl inter 1s ssl verify required"
        servers+=" ca-file $DIR/ca.crt crt $DIR/client.pem"$'\n'
    done
    awk -v port="$HAPROXY_PORT" -v servers="$servers" \
        '{ gsub("@PORT@", port); if ($0 == "@SERVERS@") printf "%s", servers; else print }' \
        "$HERE/haproxy-tls.cfg" >"$cfg"
    "${DEATHSIG[@]}" haproxy -f "$cfg" -db 2>>"$OUT/haproxy.log" &
    HAPROXY_PID=$!
    PIDS+=("$HAPROXY_PID")
    ready "$HAPROXY_PORT"
}

start_proxy MUX
start_proxy OWN --multiplex no
start_haproxy
sleep 1
echo "proxy_idle $(rss_kb "$MUX_PID")" > "$OUT/rss.txt"
echo "proxy_own_idle $(rss_kb "$OWN_PID")" >> "$OUT/rss.txt"
echo "haproxy_idle $(rss_kb "$HAPROXY_PID")" >> "$OUT/rss.txt"

: > "$OUT/throughput.csv"
for round in $(seq 1 "$ROUNDS"); do
    for pipe in 1 16; do
        n=100000
        [ $pipe = 16 ] && n=400000
        for t in direct proxy proxy-own haproxy; do
            args=(-p "$MUX_PORT")
            [ $t = proxy-own ] && args=(-p "$OWN_PORT")
            [ $t = haproxy ] && args=(-p "$HAPROXY_PORT")
            [ $t = direct ] && args=(-p "$P_M" "${MTLS[@]}")
            pid=
            [ $t = proxy ] && pid=$MUX_PID
            [ $t = proxy-own ] && pid=$OWN_PID
            [ $t = haproxy ] && pid=$HAPROXY_PID
            for test in set get; do
                before=$(cpu_ticks "$pid")
                csv=$(nice -n 10 redis-benchmark -h 127.0.0.1 "${args[@]}" -c 50 -n $n -P $pipe \
                    -t $test -r 100000 --csv 2>/dev/null)
                cpu=$(($(cpu_ticks "$pid") - before))
                printf '%s\n' "$csv" |
                    awk -F, -v t=$t -v p=$pipe -v r=$round -v n=$n -v cpu=$cpu -v hz="$HZ" 'NR > 1 {
                        gsub(/"/, ""); print r "," t "," p "," $1 "," $2 "," $7 "," cpu * 1e6 / hz / n }' \
                        >>"$OUT/throughput.csv"
            done
        done
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
sleep 1
echo "proxy_after $(rss_kb "$MUX_PID")" >> "$OUT/rss.txt"
echo "proxy_own_after $(rss_kb "$OWN_PID")" >> "$OUT/rss.txt"
echo "haproxy_after $(rss_kb "$HAPROXY_PID")" >> "$OUT/rss.txt"

# ---- report ------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
value() { # target pipe test column (5 rps, 6 p99, 7 proxy CPU us per request)
    awk -F, -v t="$1" -v p="$2" -v x="$3" -v c="$4" '$2 == t && $3 == p && $4 == x { print $c }' \
        "$OUT/throughput.csv" | median
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
rss() { awk -v k="$1" '$1 == k { printf "%.2f MiB (anon %.2f, Pss %.2f)", $2 / 1024, $3 / 1024, $4 / 1024 }' "$OUT/rss.txt"; }
{
cat <<EOT
# sentinel-proxy with TLS to the master vs HAProxy with \`ssl\`

Generated by \`benchmarks/tls/run-proxy.sh\` on $(date -u +%Y-%m-%d) ($(nproc) CPUs,
$(uname -r)); load average before / after: $LOAD_BEFORE / $LOAD_AFTER.
redis-server $(redis-server --version | sed -n 's/.*v=\([0-9.]*\).*/\1/p'), $(haproxy -v | head -n1 | awk '{ print "HAProxy " $3 }'), $(openssl version | awk '{ print $1 " " $2 }').
Everything (Redis, sentinels, proxies, load generator) shares this machine, so
absolute numbers are small and noisy: read the ratios. TLS-only topology
(tests/tls/topology.sh: port 0, tls-port, mutual TLS). Clients speak
plaintext to both proxies, which speak TLS 1.3 to the master; the paths are
interleaved in each of $ROUNDS rounds; each cell is the median over the rounds.
"sentinel-proxy" is the default (multiplexed: the clients' commands share
one TLS connection to the master); "own conn." is \`--multiplex no\` (one TLS
connection per client, as HAProxy). "direct" is redis-benchmark --tls to the
master itself.

## Throughput (redis-benchmark -c 50, random keys)

| test | direct TLS rps | sentinel-proxy rps | own conn. rps | HAProxy rps | proxy / HAProxy | own conn. / HAProxy | p99 ms direct / proxy / own / HAProxy | proxy CPU us/request: sentinel-proxy / own / HAProxy |
|---|---:|---:|---:|---:|---:|---:|---|---|
EOT
for pipe in 1 16; do
    for t in SET GET; do
        label="$t"
        [ $pipe = 16 ] && label="$t -P 16"
        printf '| %s | %.0f | %.0f | %.0f | %.0f | **%sx** | %sx | %s / %s / %s / %s | %.2f / %.2f / %.2f |\n' "$label" \
            "$(value direct $pipe $t 5)" "$(value proxy $pipe $t 5)" \
            "$(value proxy-own $pipe $t 5)" "$(value haproxy $pipe $t 5)" \
            "$(ratio "$(value proxy $pipe $t 5)" "$(value haproxy $pipe $t 5)")" \
            "$(ratio "$(value proxy-own $pipe $t 5)" "$(value haproxy $pipe $t 5)")" \
            "$(value direct $pipe $t 6)" "$(value proxy $pipe $t 6)" \
            "$(value proxy-own $pipe $t 6)" "$(value haproxy $pipe $t 6)" \
            "$(value proxy $pipe $t 7)" "$(value proxy-own $pipe $t 7)" "$(value haproxy $pipe $t 7)"
    done
done
cat <<EOT

## Memory (VmRSS)

VmRSS, and in brackets RssAnon (the process's private memory; the rest is
clean file pages shared with the page cache) and Pss (each shared page
divided among the processes mapping it; redis-server and HAProxy map the
same libssl/libcrypto on this machine). With TLS options sentinel-proxy
re-execs sentinel-proxy-tls, linked with Debian's libssl.so.3 and
libcrypto.so.3 by default (\`-DSENTINEL_PROXY_TLS_STATIC=ON\` links them
in). OpenSSL's initialisation (the first SSL_CTX fetches every algorithm of
its default provider) and its handshakes run through a large part of
libcrypto's code and tables, and the kernel maps file pages around each
fault in 64 KiB windows. "Idle after start" is measured after the
readiness check (20 fresh clients through each proxy), so the TLS
connections to the master are open. HAProxy maps the same libraries.

| process | idle after start | after the load |
|---|---:|---:|
| sentinel-proxy (TLS to master, multiplexed) | $(rss proxy_idle) | $(rss proxy_after) |
| sentinel-proxy --multiplex no | $(rss proxy_own_idle) | $(rss proxy_own_after) |
| HAProxy | $(rss haproxy_idle) | $(rss haproxy_after) |

Targets (issue 12): throughput without pipelining >= 1.2x HAProxy's, p99 <=
HAProxy's, idle RSS <= 3 MiB.
EOT
# The hand-written analysis and the table of all runs below the marker
# are kept from the previous file.
KEEP='<!-- kept: the sections below are hand-written; run-proxy.sh keeps them -->'
if grep -qF -- "$KEEP" "$HERE/RESULTS-proxy.md" 2>/dev/null; then
    echo
    sed -n "/^$KEEP\$/,\$p" "$HERE/RESULTS-proxy.md"
fi
} > "$OUT/RESULTS-proxy.md"
cp "$OUT/RESULTS-proxy.md" "$HERE/RESULTS-proxy.md"
cat "$HERE/RESULTS-proxy.md"
