#!/usr/bin/env bash
# Install check: `cmake --install` into a scratch prefix, then build a tiny
# consumer twice, once with pkg-config and once with find_package(Sentinel),
# and run it (no network: sentinel_new(), sentinel_version(), sentinel_strerror()
# and the header-only sentinel/hiredis.h wrappers).
set -euo pipefail
BUILD="${1:?usage: check.sh BUILD_DIR}"
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cmake --install "$BUILD" --prefix "$WORK/prefix" >/dev/null
for f in include/sentinel/sentinel.h include/sentinel/shared_cache.h include/sentinel/hiredis.h \
         lib/libsentinel.a lib/pkgconfig/libsentinel.pc \
         lib/cmake/Sentinel/SentinelConfig.cmake bin/sentinel-resolve; do
    libdir_f="${f/lib\//$(cd "$WORK/prefix" && ls -d lib* | head -1)/}"
    if [ ! -e "$WORK/prefix/$f" ] && [ ! -e "$WORK/prefix/$libdir_f" ]; then
        echo "install check: missing $f" >&2
        exit 1
    fi
done
LIBDIR="$(dirname "$(find "$WORK/prefix" -name libsentinel.pc | head -1)")/.."

# pkg-config consumer
PKG_CONFIG_PATH="$LIBDIR/pkgconfig" cc -std=c11 -Wall -Wextra -Werror \
    "$HERE/consumer.c" -o "$WORK/consumer-pc" \
    $(PKG_CONFIG_PATH="$LIBDIR/pkgconfig" pkg-config --cflags --libs libsentinel)
LD_LIBRARY_PATH="$LIBDIR" "$WORK/consumer-pc"

# CMake package consumer, with the namespaced target
mkdir -p "$WORK/cm"
cmake -S "$HERE" -B "$WORK/cm" -DCMAKE_PREFIX_PATH="$WORK/prefix" >/dev/null
cmake --build "$WORK/cm" >/dev/null
LD_LIBRARY_PATH="$LIBDIR" "$WORK/cm/consumer"
# sentinel-proxy re-execs sentinel-proxy-tls from its own directory for a
# TLS configuration: installed side by side, with the man page naming it.
if [ -e "$WORK/prefix/bin/sentinel-proxy" ] && grep -q '^SENTINEL_WITH_TLS:BOOL=ON' "$BUILD/CMakeCache.txt"; then
    [ -x "$WORK/prefix/bin/sentinel-proxy-tls" ] || {
        echo "install check: sentinel-proxy-tls not installed next to sentinel-proxy" >&2
        exit 1
    }
    man1="$(find "$WORK/prefix" -name sentinel-proxy.1 | head -1)"
    grep -q 'sentinel\\-proxy\\-tls' "$man1" || {
        echo "install check: the man page does not mention sentinel-proxy-tls" >&2
        exit 1
    }
    "$WORK/prefix/bin/sentinel-proxy-tls" --version | grep -q sentinel-proxy
fi
echo "install check: pkg-config and find_package(Sentinel) consumers built and ran"
