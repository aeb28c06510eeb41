#!/bin/sh
# Build the libFuzzer targets (clang, ASan + UBSan) and run each for a given
# time, one after another on one core, starting from the committed corpus.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   scripts/fuzz.sh --merge [TARGET...]
# SECONDS_PER_TARGET defaults to 600; TARGET names are those of
# tests/fuzz/fuzz_<name>.c (all of them by default). New inputs are kept in
# build-fuzz/corpus/<name> (the committed corpus is only read); a crash leaves
# its input in build-fuzz/artifacts/<name>/ and the script exits non-zero:
# fix the bug, then copy the input into tests/fuzz/corpus/<name>/.
# --merge adds to tests/fuzz/corpus/<name>/ the inputs of build-fuzz/corpus/<name>
# that reach code the committed corpus does not (libFuzzer's -merge=1), so the
# suite's replay covers what the fuzzer learned.
# Environment: MLOPS_FUZZ_BUILD (default build-fuzz), MLOPS_FUZZ_JOBS (default 1),
# MLOPS_FUZZ_RSS_MB (default 2048).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
merge=0
if [ "${1:-}" = "--merge" ]; then
    merge=1
    shift
    seconds=0
else
    seconds=${1:-600}
    [ $# -gt 0 ] && shift
fi
build=${MLOPS_FUZZ_BUILD:-$root/build-fuzz}
jobs=${MLOPS_FUZZ_JOBS:-1}
rss=${MLOPS_FUZZ_RSS_MB:-2048}

if [ $# -eq 0 ]; then
    set -- $(cd "$root/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
fi

command -v clang >/dev/null 2>&1 || { echo "fuzz.sh: clang is needed (scripts/deps.sh fuzz)" >&2; exit 1; }
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
      -DMLOPS_FUZZ=ON -DMLOPS_BUILD_TESTS=ON >/dev/null
targets=""
for name in "$@"; do targets="$targets fuzz_$name"; done
# shellcheck disable=SC2086
cmake --build "$build" -j2 --target $targets >/dev/null

if [ $merge -eq 1 ]; then
    for name in "$@"; do
        before=$(ls "$root/tests/fuzz/corpus/$name" | wc -l)
        "$build/tests/fuzz_$name" -merge=1 -rss_limit_mb="$rss" "$root/tests/fuzz/corpus/$name" \
            "$build/corpus/$name" > "$build/merge_$name.log" 2>&1
        echo "fuzz_$name: corpus $before -> $(ls "$root/tests/fuzz/corpus/$name" | wc -l) files"
    done
    exit 0
fi

status=0
for name in "$@"; do
    corpus=$build/corpus/$name
    artifacts=$build/artifacts/$name
    mkdir -p "$corpus" "$artifacts"
    parallel=""
    [ "$jobs" -gt 1 ] && parallel="-jobs=$jobs -workers=$jobs"
    dict=""
    [ -f "$root/tests/fuzz/dict/$name.dict" ] && dict="-dict=$root/tests/fuzz/dict/$name.dict"
    echo "== fuzz_$name: ${seconds}s"
    start=$(date +%s)
    # shellcheck disable=SC2086
    if ! (cd "$build" && "$build/tests/fuzz_$name" -max_total_time="$seconds" $parallel \
            -rss_limit_mb="$rss" -timeout=25 -print_final_stats=1 $dict \
            -artifact_prefix="$artifacts/" "$corpus" "$root/tests/fuzz/corpus/$name" \
            > "$build/fuzz_$name.log" 2>&1); then
        echo "fuzz_$name: FINDING after $(( $(date +%s) - start ))s, see $build/fuzz_$name.log and $artifacts/"
        status=1
        continue
    fi
    echo "fuzz_$name: no finding in $(( $(date +%s) - start ))s;" \
         "$(grep -E 'stat::number_of_executed_units' "$build/fuzz_$name.log" | tail -1 | awk '{print $2}') runs," \
         "$(ls "$corpus" | wc -l) corpus entries"
done
exit $status
