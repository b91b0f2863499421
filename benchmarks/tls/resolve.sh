#!/usr/bin/env bash
# Cold resolution over TLS vs a raw OpenSSL peer, in one interleaved run
# (benchmarks/tls/bench_tls_resolve.c says what each path does).
#
#   benchmarks/tls/resolve.sh [BUILD_DIR] [--rounds N] [--calls N]
#
# Starts the TLS-only topology of php-ext/tests/tls_topology.bash (a master
# requiring client certificates and a sentinel, port 0 and tls-port each,
# certificates made with openssl at start), runs bench_tls_resolve from
# BUILD_DIR (default ./build) under nice, and prints a markdown table
# (benchmarks/tls/RESULTS-resolve.md keeps one). The topology is torn down
# when this script ends, however it ends. A measurement, not a test: it
# asserts nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$(realpath "${1:-$root/build}")"
[ $# -gt 0 ] && shift
bench="$build/benchmarks/bench_tls_resolve"
[ -x "$bench" ] || { echo "no $bench: cmake --build $build --target bench_tls_resolve" >&2; exit 1; }

# The holder keeps the topology while its stdin is open.
coproc TOPO { exec bash "$root/php-ext/tests/tls_topology.bash" 2>/dev/null; }
trap 'exec {TOPO[1]}>&-; wait "$TOPO_PID" 2>/dev/null || true' EXIT
read -r -t 60 ready dir master_port sentinel_port <&"${TOPO[0]}" || true
[ "${ready:-}" = READY ] || { echo "TLS topology did not start: $ready $dir" >&2; exit 1; }

echo "## Cold resolution over TLS vs a raw OpenSSL peer"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(openssl version), loopback;" \
     "one sentinel and one master, TLS only, mutual TLS, verification on."
echo
nice -n 10 "$bench" "$sentinel_port" tlsmaster "$master_port" "$dir/ca.crt" "$dir/client.crt" \
    "$dir/client.key" --markdown "$@"
