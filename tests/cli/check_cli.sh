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
# Command names are one or two words, followed by two spaces and the summary.
"$tool" --help | awk '/^commands:/ {on = 1; next} on && NF == 0 {on = 0} on {sub(/^ +/, ""); sub(/  .*/, ""); print}' \
    > "$work/commands"
[ -s "$work/commands" ] || { echo "FAIL: mlops --help lists no commands"; failures=$((failures + 1)); }
while IFS= read -r command; do
    # shellcheck disable=SC2086 # the words of the command name are separate arguments
    expect 0 "example:" -- $command --help
done < "$work/commands"
expect 0 "subcommands:" -- model --help
expect 2 "a subcommand is required" -- model
expect 2 "unknown subcommand" -- model frobnicate

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

# ---- registry -----------------------------------------------------------------------------------
data=$(dirname "$0")/../data/infer
reg="$work/registry.db"
edge="$work/edge.db"
printf '{"rules": [{"rule": "metric_min", "metric": "auc", "min": 0.9}]}' > "$work/gate.json"
printf '{"rules": [{"rule": "no_such_rule"}]}' > "$work/badgate.json"
printf 'not an onnx model' > "$work/garbage.onnx"

expect 0 "created model fraud" -- --db "$reg" model create fraud --description "card fraud" --tags '{"team": "risk"}'
expect 1 "already exists" -- --db "$reg" model create fraud
expect 0 "registered digits@1" -- --db "$reg" version register digits "$data/digits_mlp.onnx" --tags '{"stage": "dev"}'
expect 0 "\"version\": 2" -- --db "$reg" --json version register digits "$data/digits_mlp.onnx"
expect 1 "reading the ONNX graph" -- --db "$reg" version register digits "$work/garbage.onnx"
expect 2 "--run must be an integer" -- --db "$reg" version register digits "$data/digits_mlp.onnx" --run x
expect 0 "digits  2" -- --db "$reg" model list
expect 0 "\"latest_version\":2" -- --db "$reg" --json model list
expect 0 "card fraud" -- --db "$reg" model show fraud
expect 1 "model \"nope\" not found" -- --db "$reg" model show nope
expect 0 "stage=dev" -- --db "$reg" version list digits
expect 0 "\"type\":\"float32\",\"shape\":[-1,64]" -- --db "$reg" --json version list digits --tag stage=dev
expect 2 "--tag takes KEY=VALUE" -- --db "$reg" version list digits --tag stage
expect 0 "name=pixels" -- --db "$reg" version show digits@1
expect 1 "version 9 not found" -- --db "$reg" version show digits@9
expect 2 "not a model reference" -- --db "$reg" version show digits
expect 0 "logged auc = 0.91" -- --db "$reg" metrics log digits@1 auc 0.91 --ci 0.89,0.93 --dataset holdout
expect 0 "logged auc = 0.85" -- --db "$reg" metrics log digits@2 auc 0.85
expect 0 "logged delta = -0.5" -- --db "$reg" metrics log digits@2 delta -0.5
expect 2 "VALUE must be a finite number" -- --db "$reg" metrics log digits@1 auc high
expect 0 "holdout" -- --db "$reg" metrics list digits@1
expect 0 "\"ci_high\":0.93" -- --db "$reg" --json metrics list digits@1
expect 1 "not found" -- --db "$reg" metrics list ghost@1
expect 0 "\"version\":1,\"artifact\"" -- --db "$reg" --json version list digits --metric "auc >= 0.9" --limit 1
expect 0 "gate of digits@production set" -- --db "$reg" gate set digits@production "$work/gate.json"
expect 1 "no_such_rule" -- --db "$reg" gate set digits@production "$work/badgate.json"
expect 0 "metric_min" -- --db "$reg" gate get digits@production
expect 1 "has no gate" -- --db "$reg" gate get digits@staging
expect 0 "digits@production -> version 1" -- --db "$reg" alias set digits@production 1
expect 1 "refuses version 2" -- --db "$reg" alias set digits@production 2
expect 0 "digits@staging -> version 2" -- --db "$reg" alias set digits@staging 2
expect 0 "digits@staging -> version 1" -- --db "$reg" alias set digits@staging production
expect 0 "digits@staging -> version 2" -- --db "$reg" alias rollback digits@staging
expect 1 "roll" -- --db "$reg" alias rollback digits@production
expect 0 "set     1" -- --db "$reg" alias history digits@production
expect 0 "\"version\":2" -- --db "$reg" --json alias history digits@staging
expect 0 "was version 1" -- --db "$reg" alias at digits@production 2100-01-01T00:00:00Z
expect 1 "was not set at" -- --db "$reg" alias at digits@production 2000-01-01T00:00:00Z
expect 2 "TIME must be an ISO 8601 time" -- --db "$reg" alias at digits@production yesterday
expect 0 "approved digits@2" -- --db "$reg" version approve digits@2 --note "looks fine"
expect 1 "already approved" -- --db "$reg" version approve digits@2
expect 0 "(none)" -- --db "$reg" run list
expect 1 "run 7 not found" -- --db "$reg" run show 7
expect 0 "feature views" -- --db "$reg" lineage of digits@1
expect 1 "not found" -- --db "$reg" lineage of digits@5
expect 0 "(none)" -- --db "$reg" lineage users txn
expect 2 "--view-version must be an integer" -- --db "$reg" lineage users txn --view-version x
expect 0 "model.create" -- --db "$reg" audit list --limit 3
expect 0 "\"seq\":1" -- --db "$reg" --json audit list --limit 1
expect 0 "audit chain is intact" -- --db "$reg" audit verify
expect 1 "does not exist" -- --db "$work/absent.db" audit verify
expect 0 "wrote $work/release.key" -- bundle keygen "$work/release"
expect 1 "cannot create" -- bundle keygen "$work/release"
expect 0 "(signed)" -- --db "$reg" bundle export digits@production "$work/digits.mlb" --sign "$work/release.key"
expect 0 "exported digits@2" -- --db "$reg" bundle export digits@2 "$work/unsigned.mlb"
expect 1 "is not a key file" -- --db "$reg" bundle export digits@1 "$work/x.mlb" --sign "$work/gate.json"
expect 0 "trusting bundles signed by release" -- --db "$edge" bundle trust "$work/release.pub" --name release
expect 1 "cannot open" -- --db "$edge" bundle trust "$work/missing.pub"
expect 0 "imported digits@1" -- --db "$edge" bundle import "$work/digits.mlb"
expect 0 "\"version\": 1" -- --db "$edge" --json bundle import "$work/digits.mlb"
expect 1 "unsigned" -- --db "$edge" bundle import "$work/unsigned.mlb"
expect 1 "importing" -- --db "$edge" bundle import "$work/gate.json"

# ---- feature store ------------------------------------------------------------------------------
fs="$work/features.db"
printf '{"name": "customer", "keys": [{"name": "customer_id", "type": "int64"}]}' > "$work/customer.json"
printf '{"name": "customer", "keys": [{"name": "customer_id", "type": "string"}]}' > "$work/customer2.json"
printf '{"name": "txn", "entity": "customer", "features": [{"name": "amount", "type": "float64", "contract": {"min": 0}}, {"name": "country", "type": "string"}]}' > "$work/txn.json"
printf '{"name": "txn", "entity": "customer", "features": [{"name": "amount", "type": "int64"}]}' > "$work/txn_retyped.json"
printf 'customer_id,event_time,amount,country\n1,2026-01-01T00:00:00Z,10,FR\n2,2026-01-02T00:00:00Z,20,DE\n1,2026-01-03T00:00:00Z,30,FR\n3,2026-01-03T00:00:00Z,-5,US\n' > "$work/txn.csv"
printf 'customer_id,timestamp,label\n1,2026-01-02T00:00:00Z,0\n1,2026-01-04T00:00:00Z,1\n2,2026-01-01T00:00:00Z,0\n' > "$work/labels.csv"

expect 0 "entity defined" -- --db "$fs" entity define "$work/customer.json"
expect 1 "defining the entity" -- --db "$fs" entity define "$work/customer2.json"
expect 0 "definition version 1" -- --db "$fs" view define "$work/txn.json"
expect 1 "defining the view" -- --db "$fs" view define "$work/txn_retyped.json"
expect 0 "min=0" -- --db "$fs" view show txn
expect 1 "not found" -- --db "$fs" view show nope
expect 1 "nothing written" -- --db "$fs" features ingest txn "$work/txn.csv"
expect 1 "first violations" -- --db "$fs" features ingest txn "$work/txn.csv"
expect 0 "3 written, 0 duplicate, 1 quarantined" -- --db "$fs" features ingest txn "$work/txn.csv" --policy quarantine
expect 0 "\"rows_duplicate\": 3" -- --db "$fs" --json features ingest txn "$work/txn.csv" --policy quarantine --batch-rows 2
expect 2 "--policy is reject or quarantine" -- --db "$fs" features ingest txn "$work/txn.csv" --policy drop
expect 0 "2026-01-03T00:00:00Z" -- --db "$fs" features get txn customer_id=1 customer_id=2
expect 0 "\"amount\": 30" -- --db "$fs" --json features get txn customer_id=1 --features amount
expect 1 "reading features" -- --db "$fs" features get txn customer_id=1 --features colour
expect 2 "a key is COLUMN=VALUE" -- --db "$fs" features get txn 1
expect 0 "\"amount\": 10" -- --db "$fs" --json features asof txn 2026-01-02T00:00:00Z customer_id=1
expect 2 "TIME must be an ISO 8601 time" -- --db "$fs" features asof txn soon customer_id=1
expect 0 "1,1767484800000000,1,30,FR" -- --db "$fs" features join "$work/labels.csv" txn:amount txn:country
expect 0 "wrote 3 rows" -- --db "$fs" features join "$work/labels.csv" txn:amount --output "$work/train.csv"
expect 1 "joining" -- --db "$fs" features join "$work/labels.csv" txn:colour
expect 0 "quarantined   2" -- --db "$fs" features stats txn
expect 0 "\"keys\":2" -- --db "$fs" --json features stats txn
expect 1 "not found" -- --db "$fs" features stats nope
expect 0 "value -5 below min 0" -- --db "$fs" features quarantine txn
expect 0 "wrote 2 quarantined rows" -- --db "$fs" features quarantine txn --output "$work/fix.csv"
expect 1 "not found" -- --db "$fs" features quarantine nope
sed 's/,-5,/,5,/' "$work/fix.csv" > "$work/fixed.csv"
sed 's/^1,/99,/' "$work/fix.csv" > "$work/badfix.csv"
expect 1 "retrying" -- --db "$fs" features retry txn "$work/badfix.csv"
expect 0 "1 written, 1 duplicate, 0 quarantined" -- --db "$fs" features retry txn "$work/fixed.csv"
expect 0 "3 row(s) removed" -- --db "$fs" features forget customer customer_id=1
expect 1 "forgetting" -- --db "$fs" features forget shop shop_id=1
expect 2 "give keys" -- --db "$fs" features forget customer

# ---- drift ------------------------------------------------------------------------------------------
head -201 "$data/digits_test.csv" > "$work/ref.csv"
# The current sample: the next 200 rows with pixel p4 shifted by 3.
(head -1 "$data/digits_test.csv"; sed -n '202,401p' "$data/digits_test.csv" | awk -F, 'BEGIN {OFS = ","} {$5 = $5 + 3; print}') \
    > "$work/cur.csv"

expect 0 "(4 of 65 columns drifted" -- drift "$work/ref.csv" "$work/cur.csv"
expect 0 "\"drifted_columns\":" -- --json drift "$work/ref.csv" "$work/cur.csv" --config '{"correction": "bonferroni"}'
expect 1 "comparing" -- drift "$work/ref.csv" "$work/cur.csv" --config '{"tests": "all"}'
expect 2 "give REF.csv and CUR.csv" -- drift "$work/ref.csv"
expect 0 "attached a reference profile of 200 rows" -- --db "$reg" drift profile digits@1 "$work/ref.csv"
expect 1 "not found" -- --db "$reg" drift profile digits@9 "$work/ref.csv"
expect 0 "dataset drift:" -- --db "$reg" drift --model digits@1 "$work/cur.csv"
expect 1 "has no reference profile" -- --db "$reg" drift --model digits@2 "$work/cur.csv"
week1="--start 2026-01-01T00:00:00Z --end 2026-01-08T00:00:00Z"
# shellcheck disable=SC2086 # the window's options are separate arguments
expect 0 "recorded 200 rows into window" -- --db "$reg" drift record live "$work/ref.csv" $week1 --model digits@1
expect 0 "recorded 200 rows" -- --db "$reg" drift record live "$work/cur.csv" --start 2026-01-08T00:00:00Z \
    --end 2026-01-15T00:00:00Z --model digits@1
expect 1 "differs from" -- --db "$reg" drift record live "$work/ref.csv" --start 2026-01-01T00:00:00Z --end 2026-01-09T00:00:00Z

# serve-stats reads what routers store: a window of the stream serve:MODEL:VERSION and live quality metrics.
# shellcheck disable=SC2086 # the window's options are separate arguments
expect 0 "recorded 200 rows" -- --db "$reg" drift record serve:digits:1 "$work/ref.csv" $week1 --model digits@1
expect 0 "accuracy" -- --db "$reg" metrics log digits@1 accuracy 0.97 --ci 0.95,0.98 --dataset serve
expect 0 "accuracy 0.97 [0.95, 0.98]" -- --db "$reg" serve-stats digits
expect 0 "\"windows\": 1, \"rows\": 200" -- --db "$reg" --json serve-stats digits
expect 1 "model \"ghost\" not found" -- --db "$reg" serve-stats ghost
expect 2 "serve-stats" -- --db "$reg" serve-stats

# report: the same window against version 1's reference profile, as a summary, JSON and an HTML page.
expect 0 "drift on serve:digits:1" -- --db "$reg" report --model digits --reference 1 --html "$work/report.html"
if ! grep -q "<!DOCTYPE html>" "$work/report.html" || grep -q "<script" "$work/report.html"; then
    echo "FAIL: mlops report --html wrote no self-contained page"
    failures=$((failures + 1))
fi
expect 0 "\"report\":\"mlops\"" -- --db "$reg" --json report --model digits --reference production
printf '{"method": "permutation", "features": [{"name": "p0", "importance": 0.25}]}' > "$work/importance.json"
expect 0 "\"importance\":{\"method\":\"permutation\"" -- --db "$reg" --json report --model digits \
    --importance "$work/importance.json"
printf '[1]' > "$work/badimportance.json"
expect 1 "\$.importance: expected an object" -- --db "$reg" report --importance "$work/badimportance.json"
expect 1 "model \"ghost\" not found" -- --db "$reg" report --model ghost
expect 1 "\$.windows" -- --db "$reg" report --windows 0
expect 2 "--windows" -- --db "$reg" report --windows many
expect 2 "unexpected argument" -- --db "$reg" report digits
expect 2 "--start and --end give the window" -- --db "$reg" drift record live "$work/ref.csv"
expect 0 "2026-01-08T00:00:00" -- --db "$reg" drift windows live
expect 0 "\"rows\":200" -- --db "$reg" --json drift windows live --from 2026-01-08T00:00:00Z
expect 2 "--from must be an ISO 8601 time" -- --db "$reg" drift windows live --from then
expect 0 "p4," -- --db "$reg" drift trend live --model digits@1
expect 0 "\"windows\":" -- --db "$reg" --json drift trend live --model digits@1 --to 2026-01-08T00:00:00Z
expect 1 "has no reference profile" -- --db "$reg" drift trend live --model digits@2
expect 2 "--model NAME@REF" -- --db "$reg" drift trend live

# ---- inference --------------------------------------------------------------------------------------
expect 0 "label,logits_0," -- predict "$data/digits_mlp.onnx" "$data/digits_test.csv" --exclude label
expect 0 "through a router on digits@production" -- --db "$reg" predict digits@production "$data/digits_test.csv" --exclude label \
    --precision int8 --output "$work/pred.csv"
expect 1 "gives 65 numbers per row and the model takes 64" -- predict "$data/digits_mlp.onnx" "$data/digits_test.csv"
expect 1 "model \"ghost\" not found" -- --db "$reg" predict ghost@1 "$data/digits_test.csv"
expect 2 "--precision is fp32, int8 or auto" -- predict "$data/digits_mlp.onnx" "$data/digits_test.csv" --precision fp16
expect 0 "top-1 agreement" -- accuracy "$data/digits_mlp.onnx" "$data/digits_test.csv" --exclude label
expect 0 "\"top1_agreement\":" -- --db "$reg" --json accuracy digits@1 "$data/digits_test.csv" --exclude label
expect 1 "opening the model" -- accuracy "$work/garbage.onnx" "$data/digits_test.csv"
expect 0 "/hidden/Gemm+/Relu" -- plan "$data/digits_mlp.onnx" --precision int8
expect 0 "\"steps\":" -- --db "$reg" --json plan digits@production
expect 1 "reference \"digits@canary\": model \"digits\" has no alias \"canary\"" -- --db "$reg" plan digits@canary
expect 2 "is not a version number" -- --db "$reg" plan digits@1x
expect 1 "cannot open model file" -- plan "$work/absent.onnx"
expect 0 "row 0: prediction" -- explain "$data/digits_mlp.onnx" "$data/digits_test.csv" --exclude label --output 3 --steps 32
expect 0 "\"completeness_error\":" -- --db "$reg" --json explain digits@production "$data/digits_test.csv" --exclude label \
    --steps 16
expect 0 "kernel_shap importance of output 0" -- explain "$data/digits_mlp.onnx" "$data/digits_test.csv" --exclude label \
    --method kernel_shap --samples 64 --global --background "$data/digits_test.csv"
expect 0 "\"metric\":\"auc\"" -- --json explain "$data/digits_mlp.onnx" "$data/digits_test.csv" --labels label --logits \
    --metric auc --repeats 1
expect 1 "not a probability" -- explain "$data/digits_mlp.onnx" "$data/digits_test.csv" --labels label --repeats 1
printf 'a,b,c,d\n1,2,3,4\n0.5,0,1,2\n' > "$work/four.csv"
expect 1 "(QuantizeLinear) has no derivative" -- explain "$data/../explain/quantized.onnx" "$work/four.csv"
expect 2 "--metric needs --labels COLUMN" -- explain "$data/digits_mlp.onnx" "$data/digits_test.csv" --metric auc
expect 2 "--steps must be an integer" -- explain "$data/digits_mlp.onnx" "$data/digits_test.csv" --exclude label --steps many
expect 1 "\$.method: \"lime\"" -- explain "$data/digits_mlp.onnx" "$data/digits_test.csv" --exclude label --method lime

# ---- the reference stays in step with the help texts --------------------------------------------
root=$(dirname "$0")/../..
if sh "$root/scripts/cli_reference.sh" "$tool" > "$work/cli.md" && cmp -s "$work/cli.md" "$root/docs/cli.md"; then
    passed=$((passed + 1))
else
    echo "FAIL: docs/cli.md is stale: sh scripts/cli_reference.sh $tool > docs/cli.md"
    failures=$((failures + 1))
fi

# ---- train ---------------------------------------------------------------------------------------
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
# A registered trained model names its features: explain picks those columns of the CSV, in that order.
expect 0 "created model ab" -- --db "$db" model create ab
expect 0 "registered as ab version 1" -- --db "$db" train "$work/train.csv" --config "$work/train.json" --register ab
printf 'id,b,label,a\n7,0.5,1,0.25\n8,-1,0,0.5\n' > "$work/shuffled.csv"
printf 'a,c\n1,2\n' > "$work/missing.csv"
expect 0 "\"features\":[\"a\",\"b\"]" -- --db "$db" --json explain ab@1 "$work/shuffled.csv"
expect 1 "has no column \"b\", feature 1 of the model" -- --db "$db" explain ab@1 "$work/missing.csv"

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
