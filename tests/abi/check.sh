#!/usr/bin/env bash
# ABI check of libsentinel.so against the committed baseline
# (tests/abi/libsentinel.abi, written by abidw from abigail-tools).
#
#   tests/abi/check.sh BUILD_DIR            compare; fail on an incompatible change
#   tests/abi/check.sh --update BUILD_DIR   rewrite the baseline (deliberately!)
#
# BUILD_DIR is a configured and built tree with debug info (RelWithDebInfo or
# Debug, the default SENTINEL_BUILD_PROXY=ON). Only what the public headers
# (libsentinel/include/sentinel/) declare is compared.
#
# Fails when abidiff reports a removed or changed function or variable, or
# a changed public type (a struct that grew, a field that moved, a changed
# parameter or return type, a renumbered enumerator). Passes when
# enumerators were appended or fields appended to a size-versioned struct
# (size_versioned.suppr), and, with a note, when functions were added: those
# are compatible, but the baseline should be updated in the same commit so a
# later removal of the new function is caught.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BASELINE="$ROOT/tests/abi/libsentinel.abi"
HEADERS="$ROOT/libsentinel/include/sentinel"
SUPPR="$ROOT/tests/abi/size_versioned.suppr" # size-versioned structs may grow at the end

update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
if [ $# -ne 1 ]; then
    echo "usage: $0 [--update] BUILD_DIR" >&2
    exit 2
fi
LIB="$1/libsentinel/libsentinel.so"

for tool in abidw abidiff readelf nm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "abi check: $tool not found (Debian: apt-get install abigail-tools binutils)" >&2
        exit 1
    fi
done
if [ ! -f "$LIB" ]; then
    echo "abi check: $LIB not found: build the 'sentinel' target in $1 first" >&2
    exit 1
fi
if ! readelf -S "$LIB" | grep -c "\.debug_info" >/dev/null; then
    echo "abi check: $LIB has no debug info: configure with -DCMAKE_BUILD_TYPE=RelWithDebInfo" >&2
    exit 1
fi

if [ "$update" -eq 1 ]; then
    # Short locations, hashed type ids and no build paths: the file is the
    # same from any checkout, and a diff of it shows only what changed.
    abidw --headers-dir "$HEADERS" --drop-private-types --drop-undefined-syms \
          --no-corpus-path --no-comp-dir-path --short-locs --type-id-style hash \
          --out-file "$BASELINE" "$LIB" || exit 1
    echo "abi check: baseline rewritten: $BASELINE"
    echo "abi check: commit it together with the change that altered the ABI, and say why."
    exit 0
fi

# The version script (libsentinel/sentinel.map) is in force: every defined
# dynamic symbol is a sentinel_* function in the LIBSENTINEL_0 node.
stray="$(nm -D --defined-only "$LIB" | awk '$2 != "A" && $3 !~ /^sentinel_[A-Za-z0-9_]*@@LIBSENTINEL_0$/ {print $3}')"
if [ -n "$stray" ]; then
    printf '%s\n' "$stray"
    echo "abi check: FAILED: the symbols above are exported but are not sentinel_*@@LIBSENTINEL_0:" >&2
    echo "abi check: is libsentinel/sentinel.map still passed to the linker (libsentinel/CMakeLists.txt)?" >&2
    exit 1
fi

report="$(abidiff --headers-dir2 "$HEADERS" --drop-private-types --no-added-syms \
          --suppressions "$SUPPR" "$BASELINE" "$LIB")"
rc=$?
# abidiff's status is a bit field: 1 error, 2 usage error, 4 ABI change,
# 8 incompatible ABI change.
if [ $((rc & 3)) -ne 0 ]; then
    printf '%s\n' "$report"
    echo "abi check: abidiff failed to run (status $rc)" >&2
    exit 1
fi
if [ "$rc" -ne 0 ]; then
    printf '%s\n' "$report"
    cat >&2 <<MSG

abi check: FAILED: libsentinel's ABI changed incompatibly against
  $BASELINE
(abidiff status $rc: 4 = changed, 8|4 = incompatible). Programs built against
the old library would misbehave with this one. Either
  - undo the change (append new fields to size-versioned structs only, add
    new functions rather than change existing ones, append enumerators), or
  - if the break is deliberate: bump SENTINEL_VERSION_MAJOR in
    libsentinel/include/sentinel/sentinel.h (the SONAME; not needed while it
    is 0), rebuild, run
        tests/abi/check.sh --update $1
    and commit the new baseline with the change, saying what broke and why.
MSG
    exit 1
fi

added="$(abidiff --headers-dir2 "$HEADERS" --drop-private-types --added-fns --added-vars \
         "$BASELINE" "$LIB" | grep -E '^ *\[A\]' || true)"
if [ -n "$added" ]; then
    printf '%s\n' "$added"
    echo "abi check: note: the library adds the symbols above, which the baseline lacks."
    echo "abi check: compatible; record them with: tests/abi/check.sh --update $1"
fi
echo "abi check: OK, no incompatible change against $(basename "$BASELINE")"
