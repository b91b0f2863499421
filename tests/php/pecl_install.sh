#!/bin/sh
# Package the extension with the one documented command
# (php-ext/scripts/package.sh) and install the tarball the way a user on a
# machine with only php-dev and libhiredis-dev would (the bundled libsentinel
# is built): `pecl install` with a scratch PEAR configuration when PEAR is
# present, else the steps pecl install runs (unpack, phpize, configure, make)
# by hand. php.ini is not touched; the built sentinel.so is loaded with
# -d extension=, checked with `php --ri sentinel`, and removed again on exit.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/sentinel-pecl.XXXXXX)
installed=
cleanup() {
    if [ -n "$installed" ]; then
        pecl -c "$work/pearrc" uninstall sentinel >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

ini_sum() { md5sum /etc/php/*/cli/php.ini 2>/dev/null || true; }
before=$(ini_sum)

tarball=$(sh "$root/php-ext/scripts/package.sh" "$work" 2>"$work/package.log") || {
    cat "$work/package.log"
    exit 1
}
[ -f "$tarball" ] || { echo "package.sh printed '$tarball', not a file" >&2; exit 1; }
echo "== packaged $(basename "$tarball") ($(tar tzf "$tarball" | wc -l) entries)"

if command -v pecl >/dev/null 2>&1; then
    pecl config-create "$work/pear" "$work/pearrc" >/dev/null
    pecl -c "$work/pearrc" config-set php_bin "$(command -v php)" >/dev/null
    pecl -c "$work/pearrc" config-set bin_dir "$(dirname "$(command -v phpize)")" >/dev/null
    pecl -c "$work/pearrc" config-set php_ini "" >/dev/null
    if ! printf '\n' | pecl -c "$work/pearrc" install "$tarball" >"$work/install.log" 2>&1; then
        tail -n 40 "$work/install.log"
        exit 1
    fi
    installed=1
    grep -E 'bundled|install ok' "$work/install.log"
    so=$(php-config --extension-dir)/sentinel.so
else
    echo "== pecl not installed: building the tarball as pecl install would"
    mkdir "$work/unpacked"
    tar xzf "$tarball" -C "$work/unpacked"
    src=$(ls -d "$work"/unpacked/sentinel-*)
    (cd "$src" && phpize && ./configure && make -j2) >"$work/install.log" 2>&1 || {
        tail -n 40 "$work/install.log"
        exit 1
    }
    grep -E 'bundled' "$work/install.log"
    so=$src/modules/sentinel.so
fi
php -n -d "extension=$so" --ri sentinel | sed -n '1,8p'
php -n -d "extension=$so" -r 'exit(function_exists("Sentinel\\resolve") && function_exists("Sentinel\\epoch") ? 0 : 1);'
after=$(ini_sum)
[ "$before" = "$after" ] || { echo "php.ini changed!" >&2; exit 1; }
echo "pecl-install: 1 passed, 0 failed"
