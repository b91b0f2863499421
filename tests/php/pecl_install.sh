#!/bin/sh
# `pecl package` the extension and `pecl install` the tarball, the way a user
# on a machine with only php-dev and libhiredis-dev would (the bundled
# libsentinel is built), using a scratch PEAR configuration. php.ini is not
# touched; the installed sentinel.so is loaded with -d extension=, checked
# with `php --ri sentinel`, and uninstalled again on exit.
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

cp -R "$root/php-ext" "$work/src"
rm -rf "$work/src/lib"
sh "$root/php-ext/scripts/sync-lib.sh" copy "$work/src" >/dev/null
sh "$work/src/scripts/checkrel.sh" >/dev/null 2>&1 || sh "$work/src/scripts/checkrel.sh"
(cd "$work/src" && pecl package package.xml >"$work/package.log" 2>&1) || { cat "$work/package.log"; exit 1; }
tarball=$(ls "$work"/src/sentinel-*.tgz)
echo "== packaged $(basename "$tarball") ($(tar tzf "$tarball" | wc -l) entries)"

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
ext_dir=$(php-config --extension-dir)
php -n -d "extension=$ext_dir/sentinel.so" --ri sentinel | sed -n '1,8p'
php -n -d "extension=$ext_dir/sentinel.so" -r 'exit(function_exists("Sentinel\\resolve") ? 0 : 1);'
after=$(ini_sum)
[ "$before" = "$after" ] || { echo "php.ini changed!" >&2; exit 1; }
echo "pecl-install: 1 passed, 0 failed"
