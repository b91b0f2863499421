#!/usr/bin/env bash
# Build the libFuzzer targets with clang (tests/fuzz/CMakeLists.txt, outside
# the main gcc build) and run each one for SECONDS, one after the other.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     default: 30 s, every fuzz_*.c
#
# Each run starts from the seeds in tests/fuzz/corpus/<target>/ (read only)
# plus what earlier runs found in $FUZZ_BUILD_DIR/corpus/<target>/, and is
# bounded by -max_total_time and -rss_limit_mb (FUZZ_RSS_LIMIT_MB, default
# 2048). -malloc_limit_mb (FUZZ_MALLOC_LIMIT_MB, default 64) fails any single
# allocation above it: replies are bounded to 1 MiB (SN_REPLY_MAX), so a
# bigger one means a peer made us allocate what it never sent. A crash, leak,
# sanitizer report, broken invariant, timeout or OOM fails the target; its input is saved under
# $FUZZ_BUILD_DIR/artifacts/<target>/. Prints executions per target and
# "fuzz: N passed, N failed"; exits non-zero if any target failed.
#
# Environment: FUZZ_BUILD_DIR (default ./build-fuzz), FUZZ_CC (clang),
# FUZZ_RSS_LIMIT_MB (2048), FUZZ_MALLOC_LIMIT_MB (64), FUZZ_TIMEOUT (seconds
# per input, 10).
#
# Replay an input without libFuzzer:
#   cmake -S tests/fuzz -B build-fuzz-repro -DSN_FUZZ_ENGINE=standalone
#   cmake --build build-fuzz-repro && SN_FUZZ_VERBOSE=1 build-fuzz-repro/fuzz_resolve FILE
set -uo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SECONDS_EACH="${1:-30}"
[ $# -gt 0 ] && shift
BUILD="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
CC_FUZZ="${FUZZ_CC:-clang}"
RSS_MB="${FUZZ_RSS_LIMIT_MB:-2048}"
MALLOC_MB="${FUZZ_MALLOC_LIMIT_MB:-64}"
TIMEOUT="${FUZZ_TIMEOUT:-10}"

case "$SECONDS_EACH" in
''|*[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for src in "$HERE"/fuzz_*.c; do
        targets+=("$(basename "$src" .c)")
    done
fi

echo "fuzz: building ${#targets[@]} target(s) with $CC_FUZZ in $BUILD"
if ! cmake -S "$HERE" -B "$BUILD" -DCMAKE_C_COMPILER="$CC_FUZZ" \
        -DSN_FUZZ_ENGINE=libfuzzer >"$BUILD.configure.log" 2>&1; then
    cat "$BUILD.configure.log" >&2
    echo "fuzz: 0 passed, ${#targets[@]} failed (configure failed)"
    exit 1
fi
rm -f "$BUILD.configure.log"

passed=0
failed=0
total_execs=0
for t in "${targets[@]}"; do
    bin="$BUILD/$t"
    seeds="$HERE/corpus/${t#fuzz_}"
    work="$BUILD/corpus/${t#fuzz_}"
    artifacts="$BUILD/artifacts/$t"
    log="$BUILD/$t.log"
    dict="$HERE/${t#fuzz_}.dict"
    # A target CMake left out for a missing optional dependency (fuzz_php_ini
    # without libphp8.2-embed) is skipped, not failed.
    if [ -f "$BUILD/$t.skipped" ]; then
        echo "$t: skipped ($(head -n 1 "$BUILD/$t.skipped"))"
        continue
    fi
    # One build per target: a target that does not compile fails alone.
    if ! cmake --build "$BUILD" --target "$t" -j"$(nproc 2>/dev/null || echo 2)" \
            >"$BUILD/$t.build.log" 2>&1 || [ ! -x "$bin" ]; then
        echo "$t: FAILED (build; log $BUILD/$t.build.log)"
        grep -E -m 10 'error|No rule' "$BUILD/$t.build.log"
        failed=$((failed + 1))
        continue
    fi
    mkdir -p "$work" "$artifacts"
    args=(-max_total_time="$SECONDS_EACH" -rss_limit_mb="$RSS_MB" -malloc_limit_mb="$MALLOC_MB"
          -timeout="$TIMEOUT" -print_final_stats=1 -artifact_prefix="$artifacts/")
    [ -f "$dict" ] && args+=(-dict="$dict")
    # New inputs go to the first directory; the seeds in the repo stay as they are.
    dirs=("$work")
    [ -d "$seeds" ] && dirs+=("$seeds")
    ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
    UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
        "$bin" "${args[@]}" "${dirs[@]}" >"$log" 2>&1
    rc=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    execs="${execs:-0}"
    total_execs=$((total_execs + execs))
    if [ "$rc" -eq 0 ]; then
        echo "$t: passed, $execs executions in ${SECONDS_EACH} s, corpus $(ls "$work" | wc -l) + $(ls "$seeds" 2>/dev/null | wc -l) seeds"
        passed=$((passed + 1))
    else
        echo "$t: FAILED (exit $rc) after $execs executions; log $log"
        grep -E -A 30 '^==[0-9]+==ERROR|runtime error|invariant failed|ERROR: libFuzzer' "$log" | head -n 40
        ls "$artifacts" | sed "s|^|    input: $artifacts/|"
        failed=$((failed + 1))
    fi
done
echo "fuzz: $passed passed, $failed failed ($total_execs executions, ${SECONDS_EACH} s per target)"
[ "$failed" -eq 0 ]
