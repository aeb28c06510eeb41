"""Small generated data sets shared by the tests (deterministic, no numpy needed)."""
import random
import threading

import mlops


def linear_binary(rows=300, seed=7):
    """Columns a, b (uniform in [-1, 1]), ts, and y = 1 when a + b > 0."""
    draw = random.Random(seed)
    a = [draw.uniform(-1, 1) for _ in range(rows)]
    b = [draw.uniform(-1, 1) for _ in range(rows)]
    return {"a": a, "b": b, "ts": [1_700_000_000_000_000 + i * 60_000_000 for i in range(rows)],
            "y": [int(x + z > 0) for x, z in zip(a, b)]}


def binary_frame(rows=300, seed=7):
    return mlops.Frame(linear_binary(rows, seed))


MLP = {"features": ["a", "b"], "label": "y", "task": "binary",
       "model": {"type": "mlp", "hidden": [8], "activation": "relu"},
       "optimizer": {"type": "adam", "learning_rate": 0.05}, "epochs": 15, "seed": 3}


def in_threads(work, count=2):
    """Run ``work(i)`` on ``count`` threads at once, i = 0 .. count-1, and wait for them all."""
    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
