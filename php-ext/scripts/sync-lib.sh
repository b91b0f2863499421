#!/bin/sh
# Copy libsentinel's sources into php-ext/lib/ so the extension (and the
# tarball `pecl package` makes) builds without an installed libsentinel.
#
#   scripts/sync-lib.sh               copy (run after changing libsentinel/)
#   scripts/sync-lib.sh --check       exit 1 if lib/ differs from libsentinel/
#   scripts/sync-lib.sh copy DIR      copy into DIR/lib instead (a scratch build)
#
# What is copied: libsentinel/src/*.c and *.h (not src/proxy/: the extension
# does not need the proxy) and libsentinel/include/sentinel/*.h.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
root=$(cd "$here/.." && pwd)
src=$root/libsentinel
mode=${1:-copy}
dst=${2:-$here}/lib

[ -d "$src/src" ] || { echo "sync-lib: $src/src not found" >&2; exit 2; }

# The file list, relative to libsentinel/ and to lib/.
list_upstream() {
    (cd "$src" && ls src/*.c src/*.h include/sentinel/*.h) | LC_ALL=C sort
}
list_copy() {
    [ -d "$dst" ] || return 0
    (cd "$dst" && ls src/*.c src/*.h include/sentinel/*.h 2>/dev/null) | LC_ALL=C sort
}

case $mode in
--check)
    status=0
    if [ "$(list_upstream)" != "$(list_copy)" ]; then
        echo "sync-lib: php-ext/lib/ does not list the same files as libsentinel/:" >&2
        list_upstream > "${TMPDIR:-/tmp}/sync-lib.up.$$"
        list_copy > "${TMPDIR:-/tmp}/sync-lib.cp.$$"
        diff -u "${TMPDIR:-/tmp}/sync-lib.up.$$" "${TMPDIR:-/tmp}/sync-lib.cp.$$" >&2 || true
        rm -f "${TMPDIR:-/tmp}/sync-lib.up.$$" "${TMPDIR:-/tmp}/sync-lib.cp.$$"
        status=1
    fi
    for f in $(list_upstream); do
        if [ -f "$dst/$f" ] && ! cmp -s "$src/$f" "$dst/$f"; then
            echo "sync-lib: php-ext/lib/$f differs from libsentinel/$f" >&2
            status=1
        fi
    done
    [ $status -eq 0 ] && echo "sync-lib: php-ext/lib/ matches libsentinel/"
    exit $status
    ;;
copy)
    rm -rf "$dst/src" "$dst/include"
    mkdir -p "$dst/src" "$dst/include/sentinel"
    for f in $(list_upstream); do
        cp "$src/$f" "$dst/$f"
    done
    echo "sync-lib: copied $(list_upstream | wc -l) files into php-ext/lib/"
    ;;
*)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac
