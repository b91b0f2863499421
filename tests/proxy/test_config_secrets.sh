#!/bin/sh
# A sentinel-proxy config file's passwords do not go back to the allocator
# unwiped (issue 13's secrets rule; libsentinel/src/proxy/config.c): the
# file is loaded and the configuration freed under free_scan.c
# (tests/php/secrets), which scans every freed block, stdio's buffer freed
# by fclose() included, for the passwords. Before the fix, stdio's buffer
# held the whole file when fclose() freed it.
#
#   test_config_secrets.sh LOADER SHIM     (built by tests/proxy/CMakeLists.txt)
set -eu
loader=${1:?proxy_config_secrets}
shim=${2:?libfree_scan.so}
dir=$(mktemp -d /tmp/sn-config-secrets.XXXXXX)
trap 'rm -rf "$dir"' EXIT
# free_scan.c looks for SN_FREE_SCAN_MARK reversed (so the environment,
# which some programs copy, never holds the secret itself).
mark="sn-canary-$$-$(date +%s)"
secret=$(printf '%s' "$mark" | rev)
cat >"$dir/proxy.conf" <<CONF
master mymaster
sentinel 127.0.0.1:26379
sentinel-password $secret-sentinel
data-password $secret-data
CONF
timeout 30 env SN_FREE_SCAN_MARK="$mark" LD_PRELOAD="$shim" "$loader" "$dir/proxy.conf" \
    >"$dir/out" 2>&1 || { cat "$dir/out"; echo "FAIL: the config file was not loaded"; exit 1; }
grep -q '^loaded$' "$dir/out" || { cat "$dir/out"; echo "FAIL: not loaded"; exit 1; }
grep -q '^free_scan: on$' "$dir/out" || { cat "$dir/out"; echo "FAIL: the free() scanner was not loaded"; exit 1; }
hits=$(grep -c 'freed block held the secret' "$dir/out" || true)
[ "$hits" -eq 0 ] || { echo "FAIL: $hits freed block(s) held a password from the config file"; exit 1; }
echo "ok: no password from the config file in freed memory"
