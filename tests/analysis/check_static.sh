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
flags="-std=c11 -I$src/include -I$src/src -I$build/generated -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DMLOPS_BUILDING"

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
    out=$(mktemp)
    trap 'rm -f "$out"' EXIT
    # One file per run, two at a time; every finding is an error (WarningsAsErrors in .clang-tidy).
    ls "$src"/src/*/*.c | xargs -P 2 -I{} sh -c '"$0" --quiet --config-file="$1/.clang-tidy" "$3" -- $2 2>/dev/null' \
        "$tidy" "$src" "$flags" {} > "$out" 2>&1 || true
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
