#!/bin/sh
# The PHP extension's remembered settings leave no password in freed memory
# (issue 13's secrets rule; php-ext/sentinel_fast.c): remember.php
# remembers settings holding two passwords under the PHP glue's kind of key
# (the options array, and a serialize() string of them: passwords included) and exits; free_scan.c,
# preloaded, scans every block freed through free()/realloc() for the
# password marker. At shutdown the extension frees its remembered settings
# and its key table: a remembered password freed unwiped, or a key kept as
# the caller's own string, is a hit (php-ext before b7a46b9: 4 passwords
# and the 2 keys). explicit_bzero() is scanned as well: the stack buffer
# that encodes an array key must be wiped whole, not only its last fill
# (php-ext before review4: "a wiped buffer kept the secret"). No topology needed (remember() opens
# no connection). Exits non-zero on a failure.
#
#   tests/php/secrets/run.sh          (SN_EXT_SO: a built sentinel.so)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${SN_EXT_SO:?SN_EXT_SO must point to a built sentinel.so}"
shim=$(mktemp /tmp/free_scan.XXXXXX)
out=$(mktemp /tmp/free_scan_out.XXXXXX)
trap 'rm -f "$shim" "$out"' EXIT
${CC:-cc} -std=c11 -Wall -Wextra -Werror -O2 -shared -fPIC -o "$shim" "$here/free_scan.c"
# A marker of this run (its reverse is in the passwords: free_scan.c).
mark="sn-canary-$$-$(date +%s)"
status=0
# USE_ZEND_ALLOC=1: PHP's request memory stays in the Zend allocator (with 0
# it would go through free(), and PHP's own copies of the passwords with it).
# The extension is preloaded too: PHP dlopen()s extensions with RTLD_DEEPBIND,
# so an extension loaded only by `extension=` calls libc's free() directly,
# past the shim; preloaded, it is already loaded (without DEEPBIND) when PHP
# asks for it, and its free() (libsentinel's included) is the shim's.
timeout 60 env USE_ZEND_ALLOC=1 SN_FREE_SCAN_MARK="$mark" LD_PRELOAD="$shim $SN_EXT_SO" \
    php -n -d "extension=$SN_EXT_SO" "$here/remember.php" >"$out" 2>&1 || status=$?
if [ "$status" -ne 0 ] || ! grep -q '^done$' "$out" || grep -q 'bool(false)' "$out"; then
    cat "$out"
    echo "FAIL: remember.php did not run (status $status)"
    exit 1
fi
if ! grep -q '^free_scan: on$' "$out"; then
    cat "$out"
    echo "FAIL: the free() scanner was not loaded"
    exit 1
fi
hits=$(grep -c 'freed block held the secret' "$out" || true)
if [ "$hits" -ne 0 ]; then
    echo "FAIL: $hits freed block(s) held a remembered password"
    exit 1
fi
hits=$(grep -c 'wiped buffer kept the secret' "$out" || true)
if [ "$hits" -ne 0 ]; then
    echo "FAIL: $hits key encoding(s) left a password on the stack past its wipe"
    exit 1
fi
echo "secrets-freed: 1 passed, 0 failed"
