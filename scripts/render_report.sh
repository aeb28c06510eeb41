#!/bin/sh
# Render an HTML report to a PNG with headless Chromium (Debian's chromium,
# installed with apt-get when missing and running as root).
#   scripts/render_report.sh report.html report.png [WIDTHxHEIGHT]
set -eu
if [ $# -lt 2 ]; then
    echo "usage: $0 HTML PNG [WIDTHxHEIGHT]" >&2
    exit 2
fi
html=$1
png=$2
size=${3:-1280x2000}
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "$0: chromium is missing; install it (apt-get install chromium) or run as root" >&2
        exit 1
    fi
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
case $html in
    /*) url="file://$html" ;;
    *) url="file://$(pwd)/$html" ;;
esac
case $png in
    /*) out=$png ;;
    *) out="$(pwd)/$png" ;;
esac
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size="$(echo "$size" | tr x ,)" --screenshot="$out" "$url" >/dev/null 2>&1
test -s "$out"
echo "$out"
