#!/bin/sh
# Render a report page with headless Chromium (scripts/render_report.sh) and
# check that a PNG of the page comes out. Skipped (exit 77) when chromium is
# not installed: the suite never installs it.
set -eu
tool=$1
source_dir=$2
command -v chromium >/dev/null 2>&1 || { echo "chromium is not installed: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/render.db"
"$tool" --db "$db" model create digits --description "handwritten digits" >/dev/null
"$tool" --db "$db" version register digits "$source_dir/tests/data/infer/digits_mlp.onnx" >/dev/null
"$tool" --db "$db" metrics log digits@1 accuracy 0.95 --ci 0.93,0.97 --dataset test >/dev/null
"$tool" --db "$db" report --html "$work/report.html" >/dev/null
sh "$source_dir/scripts/render_report.sh" "$work/report.html" "$work/report.png" 1280x900 >/dev/null
# a PNG signature and more than a blank page's bytes
if [ "$(head -c 4 "$work/report.png" | od -An -tx1 | tr -d ' \n')" != "89504e47" ]; then
    echo "FAIL: the screenshot is not a PNG"
    exit 1
fi
size=$(wc -c < "$work/report.png")
if [ "$size" -lt 20000 ]; then
    echo "FAIL: the screenshot has only $size bytes"
    exit 1
fi
echo "rendered a $size-byte PNG of the report"
