#!/bin/sh
# ThreadSanitizer run of the concurrency tests: builds the library and the
# store tests with clang -fsanitize=thread in build-tsan and runs the soak
# (processes x threads on one file) and the store tests; any report fails.
#   scripts/tsan.sh [ctest -R regex]        (default: store/)
# Sizes of the soak come from MLOPS_TEST_SOAK_* (see tests/store/test_store_soak.c).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MLOPS_TSAN_BUILD:-$root/build-tsan}
filter=${1:-store/}
command -v clang >/dev/null 2>&1 || { echo "tsan.sh: clang is needed (scripts/deps.sh fuzz)" >&2; exit 1; }
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
      -DMLOPS_BUILD_TESTS=ON -DCMAKE_C_FLAGS="-fsanitize=thread -fno-omit-frame-pointer -O1" \
      -DCMAKE_CXX_FLAGS="-fsanitize=thread" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
      -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" >/dev/null
cmake --build "$build" -j2 --target test_store_soak test_db test_store_faults test_hostile_files >/dev/null
TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}" \
    ctest --test-dir "$build" -R "$filter" --output-on-failure
