#!/bin/sh
# Install the Debian packages a task needs, skipping those already present.
#   scripts/deps.sh build|test|bench|fuzz
# fuzz: clang with libFuzzer and the sanitizer runtimes, for scripts/fuzz.sh
# and scripts/tsan.sh (the suite replays the fuzz corpora without them).
# Runs apt-get as root (directly, or through sudo when available).
set -eu

build_packages="gcc g++ make cmake pkg-config binutils libcjson-dev libsqlite3-dev libzstd-dev libopenblas-dev
libsodium-dev protobuf-c-compiler libprotobuf-c-dev libonnx-dev"
test_packages="$build_packages libcmocka-dev libonnx-testdata python3 python3-numpy python3-onnx python3-pip
python3-setuptools python3-wheel cppcheck clang-tidy doxygen"
bench_packages="$test_packages libdnnl-dev python3-scipy python3-pandas python3-sklearn python3-torch"
fuzz_packages="$test_packages clang libclang-rt-14-dev sqlite3"

case "${1:-}" in
    build) wanted=$build_packages ;;
    test) wanted=$test_packages ;;
    bench) wanted=$bench_packages ;;
    fuzz) wanted=$fuzz_packages ;;
    *) echo "usage: $0 build|test|bench|fuzz" >&2; exit 2 ;;
esac

missing=""
for package in $wanted; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $package"
    fi
done
[ -z "$missing" ] && exit 0

echo "installing Debian packages:$missing"
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "missing packages:$missing; run this script as root to install them" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
