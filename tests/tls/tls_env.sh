# Sourced by the tests/tls scripts: a fresh directory DIR and the EXIT trap
# that kills every process in PIDS (thawing frozen ones first) and removes
# DIR (kept with SENTINEL_TOPOLOGY_KEEP=1). Usage: PIDS=(); tls_env PREFIX
# Also CLI PORT ARGS...: redis-cli over mutual TLS with the certificates in
# DIR, bounded by TLS_CLI_TIMEOUT seconds (5).
tls_env() {
    DIR="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")" || exit 1
    trap tls_env_cleanup EXIT
    trap 'exit 1' INT TERM
}
tls_env_cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    if [ "${SENTINEL_TOPOLOGY_KEEP:-0}" = 1 ]; then echo "kept $DIR"; else rm -rf "$DIR"; fi
}
CLI() { # port args...
    local p="$1"; shift
    timeout "${TLS_CLI_TIMEOUT:-5}" "${REDIS_CLI:-redis-cli}" --tls --cacert "$DIR/ca.crt" \
        --cert "$DIR/client.crt" --key "$DIR/client.key" -h 127.0.0.1 -p "$p" "$@" 2>/dev/null
}
