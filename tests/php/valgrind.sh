#!/bin/sh
# The phpt suite (php-ext/tests and tests/php/bindings) under valgrind
# memcheck, with the Zend allocator off so every allocation is checked
# (run-tests.php -m; USE_ZEND_ALLOC=0). A test with leaks or invalid accesses
# is reported as LEAKED and fails the run.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 1; }
export USE_ZEND_ALLOC=0
# PCRE's JIT code trips memcheck with false "uninitialised value" reports.
exec "$here/run.sh" -m -d pcre.jit=0 "$@"
