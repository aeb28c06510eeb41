#!/usr/bin/python3
"""PyTorch peer of bench_train: samples per second over one epoch of the same
3 x 1024 ReLU MLP (64 inputs, 10 classes, Adam 1e-3, batch 256, cross-entropy)
on 100 000 rows, shuffled each epoch like the trainer.

    train_torch.py [REPETITIONS [THREADS]]
"""
import statistics
import sys
import time

import numpy as np
import torch

ROWS, INPUTS, CLASSES, BATCH = 100000, 64, 10, 256


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    rng = np.random.default_rng(42)
    labels = rng.integers(0, CLASSES, ROWS)
    x = rng.random((ROWS, INPUTS)) + 0.05 * ((labels[:, None] + np.arange(INPUTS)) % CLASSES)
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    xs = torch.tensor(x, dtype=torch.float32)
    ys = torch.tensor(labels, dtype=torch.int64)
    rates = []
    for rep in range(reps):
        start = time.perf_counter()
        model = torch.nn.Sequential(
            torch.nn.Linear(INPUTS, 1024), torch.nn.ReLU(),
            torch.nn.Linear(1024, 1024), torch.nn.ReLU(),
            torch.nn.Linear(1024, 1024), torch.nn.ReLU(),
            torch.nn.Linear(1024, CLASSES))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        order = torch.randperm(ROWS)
        for begin in range(0, ROWS, BATCH):
            idx = order[begin:begin + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(xs[idx]), ys[idx])
            loss.backward()
            opt.step()
        elapsed = time.perf_counter() - start
        rates.append(ROWS / elapsed)
        print("rep %d: %.3f s, samples_per_s=%.0f" % (rep + 1, elapsed, rates[-1]))
    print("pytorch %s threads=%d median samples_per_s=%.0f" % (torch.__version__, threads, statistics.median(rates)))


if __name__ == "__main__":
    main()
