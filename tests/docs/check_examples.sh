#!/bin/sh
# Compile and run every complete C example (a ```c block with a main function)
# in README.md and docs/*.md against the built shared library, each in its
# own scratch directory, so the documentation's examples keep working. The
# scratch directory links the repository's tests/ so an example may use the
# fixtures; an example that needs arguments says so in a comment line
# "/* Run: ./example ARGS */".
set -eu
source_dir=$1
build=$2
cc=$3
extra_flags=${4:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
count=0
for doc in "$source_dir"/README.md "$source_dir"/docs/*.md; do
    [ -f "$doc" ] || continue
    awk -v dir="$work" -v base="$(basename "$doc" .md)" '
        /^```c[[:space:]]*$/ { inside = 1; n++; file = sprintf("%s/%s_%d.c", dir, base, n); next }
        /^```/ && inside { inside = 0; close(file); next }
        inside { print > file }
    ' "$doc"
done
for example in "$work"/*.c; do
    [ -e "$example" ] || continue
    grep -q 'int main' "$example" || continue
    count=$((count + 1))
    name=$(basename "$example" .c)
    mkdir -p "$work/run_$name"
    # shellcheck disable=SC2086
    if ! "$cc" -std=c11 -Wall -Wextra -Werror $extra_flags -I"$source_dir/include" -o "$work/run_$name/example" \
        "$example" -L"$build" -lmlops -lm -Wl,-rpath,"$build"; then
        echo "FAIL: example $name does not compile"
        exit 1
    fi
    ln -s "$source_dir/tests" "$work/run_$name/tests"
    args=$(sed -n 's|^/\* Run: ./example \(.*\) \*/$|\1|p' "$example" | head -n 1)
    # shellcheck disable=SC2086
    if ! (cd "$work/run_$name" && ./example $args > output.txt 2>&1); then
        echo "FAIL: example $name exited with an error:"
        cat "$work/run_$name/output.txt"
        exit 1
    fi
done
echo "$count documentation examples compiled and ran"
