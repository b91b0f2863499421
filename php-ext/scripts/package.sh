#!/bin/sh
# Make the pecl tarball from a checkout, in one command:
#
#   php-ext/scripts/package.sh [OUTDIR]
#
# Fills lib/ with libsentinel's sources (scripts/sync-lib.sh: lib/ is not
# committed, the tarball must ship it), checks the release (scripts/checkrel.sh:
# package.xml lists every file, arginfo matches the stub, one version), runs
# `pecl package` (or, without PEAR, scripts/package-fallback.php, which makes
# the same layout), and prints the tarball's absolute path on stdout (the only
# line there; progress goes to stderr). The tarball is written to OUTDIR
# (default: the current directory). Then: pecl install /path/to/sentinel-X.Y.Z.tgz
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$PWD}
mkdir -p "$out"
out=$(cd "$out" && pwd)
log=$(mktemp /tmp/sentinel-package.XXXXXX)
trap 'rm -f "$log"' EXIT

sh "$here/scripts/sync-lib.sh" >&2
sh "$here/scripts/checkrel.sh" >&2 || { echo "package: release check failed (see above)" >&2; exit 1; }

version=$(sed -n 's/#define PHP_SENTINEL_VERSION "\(.*\)"/\1/p' "$here/php_sentinel.h")
tarball="sentinel-$version.tgz"
rm -f "$here/$tarball"
if command -v pecl >/dev/null 2>&1; then
    packager="pecl package"
    (cd "$here" && pecl package package.xml) >"$log" 2>&1 || packager=
else
    # No PEAR here: the same tarball layout from PHP itself.
    packager="scripts/package-fallback.php (pecl not installed)"
    (cd "$here" && php scripts/package-fallback.php) >"$log" 2>&1 || packager=
fi
if [ -z "$packager" ]; then
    cat "$log" >&2
    echo "package: packaging failed" >&2
    exit 1
fi
[ -f "$here/$tarball" ] || { cat "$log" >&2; echo "package: no $tarball made" >&2; exit 1; }
if [ "$out" != "$here" ]; then
    mv -f "$here/$tarball" "$out/$tarball"
fi
echo "package: $(tar tzf "$out/$tarball" | wc -l) entries, made with $packager" >&2
echo "$out/$tarball"
