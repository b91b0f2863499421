#!/bin/sh
# Builds and runs tests/php/key/key_check.c against php-ext/sentinel_key.c
# (the registry key builder, no PHP needed). Exits non-zero on a failure.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
bin=$(mktemp /tmp/key_check.XXXXXX)
trap 'rm -f "$bin"' EXIT
${CC:-cc} -std=c11 -Wall -Wextra -Werror -O2 -I"$root/php-ext" -o "$bin" \
    "$here/key_check.c" "$root/php-ext/sentinel_key.c"
"$bin"
