#!/bin/bash
# tests/proxy/faults.sh's failover_scenario against stub sentinel-topology
# and proxy-client commands (no topology needed): a frozen master is thawed
# whatever fails after the freeze (the fault's own bookkeeping, or the
# switch), as its header promises; a failed step returns non-zero.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/faults-sh.XXXXXX)
trap 'rm -rf "$T"' EXIT
failures=0
check() { # what, then a command that must succeed
    local what=$1
    shift
    if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}

# The stub topology logs every ctl command; STUB_FAIL names one that fails.
cat >"$T/topology" <<'EOS'
#!/bin/sh
echo "$*" >>"$STUB_LOG"
[ "$2" = "${STUB_FAIL:-}" ] && exit 1
case $2 in
master-port) echo 6379 ;;
wait-switch) echo 6380 ;;
esac
exit 0
EOS
cat >"$T/client" <<'EOS'
#!/bin/sh
[ "$1" = "${STUB_FAIL:-}" ] && exit 1
case $1 in
syncpoint) echo "1000 1000000 2 0" ;;
now) echo "1005 1005000" ;;
esac
exit 0
EOS
chmod +x "$T/topology" "$T/client"
export TOPOLOGY_BIN=$T/topology PROXY_CLIENT=$T/client STUB_LOG=$T/log
. "$HERE/faults.sh"

run() { # kind stub_fail: failover_scenario's status
    : >"$STUB_LOG"
    STUB_FAIL=$2 failover_scenario "$1" "$T/out" 0 >"$T/stdout" 2>/dev/null
}
thawed() { grep -q '^ctl thaw-all' "$STUB_LOG"; }

run freeze ""
check "freeze: succeeds, prints the new master" test $? -eq 0 -a "$(cat "$T/stdout")" = 6380
check "freeze: thawed after the switch" thawed
run freeze wait-switch
check "freeze, no switch: fails" test $? -ne 0
check "freeze, no switch: thawed" thawed
run freeze now
check "freeze, the fault's end not taken: fails" test $? -ne 0
check "freeze, the fault's end not taken: thawed" thawed
run kill ""
check "kill: succeeds" test $? -eq 0
check "kill: nothing thawed" eval '! thawed'
[ $failures -eq 0 ] || { echo "$failures failed"; exit 1; }
echo "all passed"
