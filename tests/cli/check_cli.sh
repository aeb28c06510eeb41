#!/bin/sh
# Smoke tests of the mlops tool: every command answers --help with an
# example; each command has a success case and a failure case whose exit
# code and message are checked.
set -u
tool=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
passed=0

# expect CODE NEEDLE -- ARGS...: run the tool, check the exit code and that
# NEEDLE appears in its output (stdout and stderr together).
expect() {
    code=$1
    needle=$2
    shift 3
    output=$("$tool" "$@" 2>&1)
    status=$?
    if [ "$status" -ne "$code" ]; then
        echo "FAIL: mlops $* exited $status, expected $code"
        echo "$output" | sed 's/^/    /'
        failures=$((failures + 1))
    elif ! printf '%s' "$output" | grep -qF -- "$needle"; then
        echo "FAIL: mlops $*: output lacks \"$needle\""
        echo "$output" | sed 's/^/    /'
        failures=$((failures + 1))
    else
        passed=$((passed + 1))
    fi
}

expect 0 "usage: mlops" -- --help
expect 2 "unknown command" -- frobnicate
expect 2 "unknown option" -- --frob info
commands=$("$tool" --help | awk '/^commands:/ {on = 1; next} on && NF == 0 {on = 0} on {print $1}')
for command in $commands; do
    expect 0 "example:" -- "$command" --help
done

db="$work/cli.db"
printf 'id,amount,when\n1,2.5,2024-01-01\n2,,2024-01-02\n' > "$work/good.csv"
printf 'id,amount\n1,2.5\n2\n' > "$work/ragged.csv"
printf 'not a database, not at all, no' > "$work/garbage.db"

expect 0 "schema    version" -- --db "$db" info
expect 0 "\"schema_version\"" -- --db "$db" --json info
expect 1 "not an mlops database" -- --db "$work/garbage.db" info
expect 2 "unexpected argument" -- --db "$db" info extra

expect 0 "passed its integrity check" -- --db "$db" check
expect 1 "does not exist" -- --db "$work/absent.db" check

expect 0 "2 rows, 3 columns" -- csv "$work/good.csv"
expect 0 "\"type\": \"int64\"" -- --json csv "$work/good.csv" --schema '{"when": "timestamp"}'
expect 1 "CSV line 3: 1 fields, expected 2" -- csv "$work/ragged.csv"
expect 1 "unknown type" -- csv "$work/good.csv" --schema '{"id": "int32"}'
expect 2 "a CSV file is required" -- csv

awk 'BEGIN { print "a,b,label"; for (i = 0; i < 200; i++) { a = (i * 37 % 101) / 50.0 - 1; b = (i * 53 % 97) / 48.0 - 1;
    print a "," b "," (a + b > 0 ? 1 : 0) } }' > "$work/train.csv"
printf '{"features":["a","b"],"label":"label","model":{"type":"logistic"},"epochs":20,"optimizer":{"learning_rate":0.05},"split":{"test":0.25},"bootstrap":50}' > "$work/train.json"
printf '{"features":["a"],"label":"label","model":{"type":"forest"}}' > "$work/bad.json"
expect 0 "test metrics:" -- train "$work/train.csv" --config "$work/train.json" --save-onnx "$work/model.onnx"
expect 0 "\"roc_auc\":{\"value\":" -- --json train "$work/train.csv" --config "$work/train.json"
expect 1 "\$.model.type" -- train "$work/train.csv" --config "$work/bad.json"
expect 1 "model \"nope\"" -- --db "$db" train "$work/train.csv" --config "$work/train.json" --register nope
expect 2 "--config FILE are required" -- train "$work/train.csv"
if [ -s "$work/model.onnx" ]; then passed=$((passed + 1)); else echo "FAIL: mlops train --save-onnx wrote nothing"; failures=$((failures + 1)); fi

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
