#!/bin/sh
# Static analysis of the library's sources, as a ctest test.
#   check_static.sh cppcheck|clang-tidy SOURCE_DIR BUILD_DIR
# cppcheck: --enable=warning,performance,portability with the suppressions of
# tests/analysis/cppcheck-suppressions.txt; clang-tidy: the checks of
# SOURCE_DIR/.clang-tidy, every finding an error. Exits 77 (ctest: skipped)
# when the tool is not installed (scripts/deps.sh test installs both).
set -eu
tool=$1
src=$2
build=$3

case "$tool" in
cppcheck)
    if ! command -v cppcheck >/dev/null 2>&1; then
        echo "cppcheck is not installed: skipped"
        exit 77
    fi
    cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --std=c11 --inline-suppr \
        --suppressions-list="$src/tests/analysis/cppcheck-suppressions.txt" \
        -I"$src/include" -I"$src/src" -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DMLOPS_BUILDING \
        "$src/src"
    echo "cppcheck: no findings in $(ls "$src"/src/*/*.c | wc -l) files"
    ;;
clang-tidy)
    tidy=$(command -v clang-tidy || command -v clang-tidy-14 || true)
    if [ -z "$tidy" ]; then
        echo "clang-tidy is not installed: skipped"
        exit 77
    fi
    if [ ! -f "$build/compile_commands.json" ]; then
        echo "no $build/compile_commands.json (configure with CMAKE_EXPORT_COMPILE_COMMANDS=ON)" >&2
        exit 1
    fi
    out=$(mktemp)
    trap 'rm -f "$out"' EXIT
    # One file per run with the flags it is compiled with (compile_commands.json,
    # so per-file ISA flags and generated headers are seen), one run per core;
    # every finding is an error (WarningsAsErrors in .clang-tidy).
    jobs=$(nproc 2>/dev/null || echo 2)
    ls "$src"/src/*/*.c | xargs -P "$jobs" -n 1 "$tidy" --quiet --config-file="$src/.clang-tidy" -p "$build" \
        > "$out" 2>/dev/null || true
    if grep -qE '(error|warning): ' "$out"; then
        cat "$out"
        echo "clang-tidy: findings above"
        exit 1
    fi
    echo "clang-tidy: no findings in $(ls "$src"/src/*/*.c | wc -l) files"
    ;;
*)
    echo "usage: $0 cppcheck|clang-tidy SOURCE_DIR BUILD_DIR" >&2
    exit 2
    ;;
esac
