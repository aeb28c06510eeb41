#!/bin/sh
# Install the built tree into a scratch prefix, then build and run a consumer
# program twice outside the tree: with pkg-config and with find_package(mlops).
set -eu
build=$1
# Extra compiler flags of the build under test (the sanitizers), used for the consumers too.
extra_flags=${2:-}
source_dir=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" > "$work/install.log"
libdir=$(find "$prefix" -name 'libmlops.so.0' -printf '%h\n' | head -n 1)
test -f "$libdir/libmlops.a"
test -f "$prefix/include/mlops.h"

export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror $extra_flags -o "$work/consumer-pc" "$source_dir/consumer.c" $(pkg-config --cflags --libs mlops)
LD_LIBRARY_PATH=$libdir "$work/consumer-pc" "$work/pc.db"

cmake -S "$source_dir" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="$extra_flags" > "$work/configure.log"
cmake --build "$work/cmake-build" > "$work/build.log"
LD_LIBRARY_PATH=$libdir "$work/cmake-build/consumer" "$work/cmake.db"
echo "installed tree works with pkg-config and find_package(mlops)"
