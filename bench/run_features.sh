#!/bin/sh
# Feature store benchmark: libmlops against raw SQLite (same access patterns,
# prepared statements) and the join against pandas merge_asof, in one run.
# Runs each side REPS times (default 3) and prints medians and ratios.
#   sh bench/run_features.sh BUILD_DIR [ROWS KEYS QUERIES]
set -eu
build=${1:-build-bench}
rows=${2:-1000000}
keys=${3:-100000}
queries=${4:-1000000}
reps=${REPS:-3}
here=$(dirname "$0")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

i=1
while [ "$i" -le "$reps" ]; do
    "$build/bench/bench_features" "$work" "$rows" "$keys" "$queries" >>"$work/results"
    /usr/bin/python3 "$here/features_pandas.py" "$rows" "$keys" "$queries" >>"$work/results"
    i=$((i + 1))
done

/usr/bin/python3 - "$work/results" <<'PY'
import statistics
import sys

values = {}
for line in open(sys.argv[1]):
    name, value = line.split()
    values.setdefault(name, []).append(float(value))
m = {name: statistics.median(v) for name, v in values.items()}
print(f"rows {m['rows']:.0f}, keys {m['keys']:.0f}, queries {m['queries']:.0f}; medians of {len(values['rows'])} runs")
def line(what, lib, peer, unit):
    print(f"{what:<34} libmlops {m[lib]:>12,.0f} {unit:<10} peer {m[peer]:>12,.0f}   ratio {m[lib] / m[peer]:.2f}")
line("ingest (raw SQLite insert)", "lib_ingest_rows_per_s", "raw_ingest_rows_per_s", "rows/s")
line("online single key (raw SELECT)", "lib_lookup_single_per_s", "raw_lookup_single_per_s", "lookups/s")
line("online batch of 100 (raw SELECT)", "lib_lookup_batch100_keys_per_s", "raw_lookup_batch100_keys_per_s", "keys/s")
line("join vs loop of as-of lookups", "lib_join_rows_per_s", "raw_asof_loop_rows_per_s", "rows/s")
line("join vs pandas merge_asof", "lib_join_rows_per_s", "pandas_join_rows_per_s", "rows/s")
for side in ("lib", "raw"):
    print(f"{side} single key p50 {m[side + '_lookup_single_p50_us']:.2f} us, p99 {m[side + '_lookup_single_p99_us']:.2f} us; "
          f"batch of 100 p50 {m[side + '_lookup_batch100_p50_us']:.1f} us, p99 {m[side + '_lookup_batch100_p99_us']:.1f} us")
PY
