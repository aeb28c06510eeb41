#!/usr/bin/python3
"""Peer of bench_features: the same point-in-time join with pandas merge_asof.

Builds the same three views (key = i % KEYS, event time = (i // KEYS) * 1000 +
i % 7) and QUERIES random entity rows, then times what a pandas user does:
sort the entity rows by time, merge_asof each view (by key, backward,
inclusive) and restore the input order. Prints "pandas_join_rows_per_s N".

    features_pandas.py [ROWS KEYS QUERIES]
"""
import sys
import time

import numpy as np
import pandas as pd


def view(rows, keys, features):
    i = np.arange(rows, dtype=np.int64)
    data = {"id": i % keys, "event_time": (i // keys) * 1000 + i % 7}
    for f in range(features):
        data[f"f{f}"] = ((i * 31 + f * 17) % 1000) / 8.0
    return pd.DataFrame(data)


def main():
    rows, keys, queries = (int(a) for a in sys.argv[1:4]) if len(sys.argv) >= 4 else (1000000, 100000, 1000000)
    views = [view(rows, keys, 16), view(rows, keys, 4), view(rows, keys, 4)]
    rng = np.random.default_rng(7)
    span = (rows // keys) * 1000 + 1000
    entities = pd.DataFrame({"id": rng.integers(0, keys, queries, dtype=np.int64),
                             "timestamp": rng.integers(0, span, queries, dtype=np.int64) - 500,
                             "row": np.arange(queries, dtype=np.int64)})

    start = time.perf_counter()
    out = entities.sort_values("timestamp", kind="stable")
    for n, v in enumerate(views):
        right = v[["id", "event_time", "f0", "f1"]].rename(columns={"f0": f"v{n}:f0", "f1": f"v{n}:f1"})
        right = right.sort_values("event_time", kind="stable")
        out = pd.merge_asof(out, right, left_on="timestamp", right_on="event_time", by="id",
                            direction="backward", allow_exact_matches=True).drop(columns="event_time")
    # merge_asof returns rows in time order: put them back in input order.
    out = out.sort_values("row", kind="stable").reset_index(drop=True)
    elapsed = time.perf_counter() - start
    if len(out) != queries:
        raise SystemExit("row count changed")
    print(f"pandas_join_rows_per_s {queries / elapsed:.0f}")


if __name__ == "__main__":
    main()
