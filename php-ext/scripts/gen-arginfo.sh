#!/bin/sh
# Regenerate sentinel_arginfo.h from sentinel.stub.php.
#
# Uses PHP's own gen_stub.php (from php-dev) when nikic/PHP-Parser 4.x is
# available: PHP_PARSER_DIR=/path/to/PHP-Parser (a checkout with lib/), or
# Debian's php-parser package (/usr/share/php/PhpParser). gen_stub.php would
# otherwise try to download PHP-Parser, which this project does not allow;
# then scripts/gen-arginfo-fallback.php writes the same format for this stub.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)

gen_stub=
for f in /usr/lib/php/*/build/gen_stub.php; do
    [ -f "$f" ] && gen_stub=$f
done

parser=
if [ -n "${PHP_PARSER_DIR:-}" ] && [ -d "$PHP_PARSER_DIR/lib/PhpParser" ]; then
    parser=$PHP_PARSER_DIR/lib/PhpParser
elif [ -d /usr/share/php/PhpParser ]; then
    parser=/usr/share/php/PhpParser
fi

if [ -n "$gen_stub" ] && [ -n "$parser" ]; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    cp "$gen_stub" "$tmp/gen_stub.php"
    # gen_stub.php looks for PHP-Parser-<version>/lib/PhpParser next to itself.
    version=$(sed -n 's/.*\$version = "\([0-9.]*\)".*/\1/p' "$gen_stub" | head -n 1)
    mkdir -p "$tmp/PHP-Parser-$version/lib"
    ln -s "$parser" "$tmp/PHP-Parser-$version/lib/PhpParser"
    php "$tmp/gen_stub.php" -f "$here/sentinel.stub.php"
    echo "gen-arginfo: generated with $gen_stub"
else
    echo "gen-arginfo: gen_stub.php or nikic/PHP-Parser not available; using the fallback" >&2
    php "$here/scripts/gen-arginfo-fallback.php"
fi
