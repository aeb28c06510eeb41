#!/usr/bin/python3
"""PyTorch peer of bench_explain: the same integrated gradients with autograd.

For each row: the path from the baseline (the mean of the 32 background rows)
to the row at steps + 1 points plus the row itself, as one batch; one forward
pass, the sum of output 0 backpropagated, the trapezoid-weighted gradients
times (x - baseline). The digits MLP is rebuilt from
tests/data/infer/digits_mlp.onnx (session_peer.DigitsMLP); inputs are those of
bench_explain. One thread; eager mode (autograd needs it: a frozen
TorchScript module has no gradients).

  /usr/bin/python3 bench/explain_peer.py [--reps R] [--rows N]

prints lines like  torch digits ig64|ig256|ig4096 explanations_per_s <value>
and, as comments, the mean and the largest relative completeness error
(relative to |output|, at least 1e-2). PyTorch has uniform steps only; the
4096-step figure explains a quarter of the rows.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from session_peer import DigitsMLP  # noqa: E402

BACKGROUND = 32


def rows_of(n, width):
    i = np.arange(n * width, dtype=np.int64)
    return torch.from_numpy(((((i * 7919) % 1000) / 500.0 - 1.0) * 8.0 + 8.0).astype(np.float32).reshape(n, width))


def integrated_gradients(model, x, baseline, steps, weights, alphas):
    path = (baseline + alphas[:, None] * (x - baseline)).detach()
    batch = torch.cat([path, x[None, :]]).requires_grad_(True)
    out = model(batch)[:, 0]
    out.sum().backward()
    grads = batch.grad[:-1]
    phi = (x - baseline) * (weights[:, None] * grads).sum(0)
    return phi, out[-1].item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--rows", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"# torch {torch.__version__}, 1 thread, eager autograd", flush=True)
    model = DigitsMLP(os.path.join(HERE, "..", "tests", "data", "infer", "digits_mlp.onnx")).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    data = rows_of(args.rows + BACKGROUND, 64)
    x, background = data[:args.rows], data[args.rows:]
    baseline = background.mean(0)
    with torch.no_grad():
        base_out = model(baseline[None, :])[0, 0].item()
    for steps in (64, 256, 4096):
        rows = args.rows if steps < 4096 else args.rows // 4 + 1
        alphas = torch.arange(steps + 1, dtype=torch.float32) / steps
        weights = torch.full((steps + 1,), 1.0 / steps)
        weights[0] = weights[-1] = 0.5 / steps
        integrated_gradients(model, x[0], baseline, steps, weights, alphas)
        rates, errors, relative = [], [], []
        for _ in range(args.reps):
            start = time.perf_counter()
            for r in range(rows):
                phi, pred = integrated_gradients(model, x[r], baseline, steps, weights, alphas)
                errors.append(abs(phi.sum().item() - (pred - base_out)))
                relative.append(errors[-1] / max(abs(pred), 1e-2))
            rates.append(rows / (time.perf_counter() - start))
        print(f"torch digits ig{steps} explanations_per_s {statistics.median(rates):.1f}")
        print(f"# torch digits ig{steps} mean completeness error {statistics.mean(errors):.3g}, "
              f"largest relative {max(relative):.3g}", flush=True)


if __name__ == "__main__":
    main()
