#!/usr/bin/env bash
# sentinel-resolve against a real topology (run under `sentinel-topology
# run`): output formats, one exit code per error class, usage errors.
set -uo pipefail
RESOLVE="${1:?usage: test_sentinel_resolve.sh PATH/TO/sentinel-resolve}"
: "${SENTINEL_TEST_SENTINELS:?run me under sentinel-topology run}"
CTL() { "$SENTINEL_TOPOLOGY_CTL" ctl --dir "$SENTINEL_TEST_DIR" "$@"; }
pass=0 fail=0

check() { # name expected-status command...
    local name="$1" want="$2"; shift 2
    local out status
    out="$("$@" 2>/tmp/cli-stderr.$$)"; status=$?
    if [ "$status" -eq "$want" ]; then
        pass=$((pass + 1)); echo "ok   $name (exit $status)"
    else
        fail=$((fail + 1)); echo "FAIL $name: exit $status, want $want"
        sed 's/^/     | /' /tmp/cli-stderr.$$
    fi
    LAST_OUT="$out"
}
expect_out() { # name pattern
    if printf '%s' "$LAST_OUT" | grep -Eq "$2"; then
        pass=$((pass + 1)); echo "ok   $1"
    else
        fail=$((fail + 1)); echo "FAIL $1: output '$LAST_OUT' does not match /$2/"
    fi
}

M="$SENTINEL_TEST_MASTER_NAME"
master="$(CTL master-port)"
dead="127.0.0.1:1"

check "plain output" 0 "$RESOLVE" --sentinel "$SENTINEL_TEST_SENTINELS" --master "$M"
expect_out "plain is 'HOST PORT'" "^127\.0\.0\.1 $master$"
check "repeated --sentinel, first dead" 0 "$RESOLVE" -s "$dead" -s "${SENTINEL_TEST_SENTINELS%%,*}" -m "$M"
check "json output" 0 "$RESOLVE" -s "$SENTINEL_TEST_SENTINELS" -m "$M" --format json
expect_out "json has host and port" "\"host\":\"127\.0\.0\.1\",\"port\":$master,"
check "env output" 0 "$RESOLVE" -s "$SENTINEL_TEST_SENTINELS" -m "$M" -f env
expect_out "env has SENTINEL_MASTER_PORT" "SENTINEL_MASTER_PORT=$master"
check "--help" 0 "$RESOLVE" --help
expect_out "--help documents exit codes" "Exit status"
check "--version" 0 "$RESOLVE" --version

check "missing --master is a usage error" 2 "$RESOLVE" -s "$SENTINEL_TEST_SENTINELS"
check "unknown option is a usage error" 2 "$RESOLVE" --bogus
check "bad timeout is a usage error" 2 "$RESOLVE" -s "$dead" -m "$M" --timeout -5
check "malformed sentinel list: invalid argument (11)" 11 "$RESOLVE" -s "localhost" -m "$M"
check "empty sentinel list: invalid argument (11)" 11 "$RESOLVE" -s "," -m "$M"
check "bad master name: invalid argument (11)" 11 "$RESOLVE" -s "$dead" -m "two words"
check "bad master name, json error" 11 "$RESOLVE" -s "$dead" -m "two words" -f json
expect_out "json error says why the name is refused" "\"name\":\"SENTINEL_ERR_INVALID_ARGUMENT\".*without spaces"
check "no sentinel reachable (13)" 13 "$RESOLVE" -s "$dead" -m "$M" --timeout 300
check "unknown master name (14)" 14 "$RESOLVE" -s "$SENTINEL_TEST_SENTINELS" -m no-such-master
check "unknown name, json error" 14 "$RESOLVE" -s "$SENTINEL_TEST_SENTINELS" -m no-such-master -f json
expect_out "json error carries the code name" "\"name\":\"SENTINEL_ERR_UNKNOWN_MASTER\""
check "host name does not resolve (19)" 19 "$RESOLVE" -s "no-such-host.invalid:26379" -m "$M" --timeout 300
check "map to a host name still verifies" 0 "$RESOLVE" -s "$SENTINEL_TEST_SENTINELS" -m "$M" --map "127.0.0.1:$master=localhost"
expect_out "mapped address printed" "^localhost $master$"

rm -f /tmp/cli-stderr.$$
echo "sentinel-resolve: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
