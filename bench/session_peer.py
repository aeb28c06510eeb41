#!/usr/bin/python3
"""PyTorch peer of bench_session: the same models in fp32 and with PyTorch's
dynamically quantized int8 Linear, measured the same way, each model traced and
frozen with TorchScript so that the Python call overhead is as small as
PyTorch allows. Debian's PyTorch is
built without FBGEMM: its x86 quantized engine is oneDNN ("onednn"), used
here when present (else the first engine it lists); the engine is printed.

  /usr/bin/python3 bench/session_peer.py OUTDIR [--threads N] [--reps R] [--copies C]

Writes OUTDIR/mlp1024.onnx (1024 inputs, 3 hidden layers of 1024 with ReLU,
10 outputs; fixed seed) for bench_session, rebuilds the digits MLP from
tests/data/infer/digits_mlp.onnx, and prints lines like
  torch <label> fp32|int8 b1_hot_us|b1_cold_us|b256_rows_per_s <value>
"""
import argparse
import copy
import os
import statistics
import time

import numpy as np
import onnx
import onnx.numpy_helper
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


class MLP1024(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList(
            [torch.nn.Linear(1024, 1024) for _ in range(3)] + [torch.nn.Linear(1024, 10)])

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        return self.layers[-1](x)


class DigitsMLP(torch.nn.Module):
    def __init__(self, path):
        super().__init__()
        weights = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy())
                   for t in onnx.load(path).graph.initializer}
        self.hidden = torch.nn.Linear(64, 128)
        self.out = torch.nn.Linear(128, 10)
        with torch.no_grad():
            for name in ("hidden", "out"):
                getattr(self, name).weight.copy_(weights[f"{name}.weight"])
                getattr(self, name).bias.copy_(weights[f"{name}.bias"])

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x * (1.0 / 16.0))))


def inputs(width):
    i = np.arange(256 * width, dtype=np.int64)
    return torch.from_numpy((((i * 7919) % 1000) / 500.0 - 1.0).astype(np.float32).reshape(256, width))


def time_runs(models, x, calls):
    start = time.perf_counter()
    for i in range(calls):
        models[i % len(models)](x)
    return (time.perf_counter() - start) / calls


def compiled(model, example):
    """TorchScript (traced, frozen where possible): the leanest call path PyTorch offers."""
    with torch.no_grad():
        traced = torch.jit.trace(model, example)
        try:
            return torch.jit.freeze(traced.eval())
        except RuntimeError:
            return traced


def measure(label, precision, model, width, reps, copies):
    x = inputs(width)
    one = x[:1].clone()
    models = [compiled(copy.deepcopy(model), one) for _ in range(copies)]
    with torch.inference_mode():
        for m in models:
            m(x)
            m(one)
        hot = statistics.median(time_runs(models[:1], one, 300) for _ in range(reps))
        cold = statistics.median(time_runs(models, one, 50 * copies) for _ in range(reps))
        rate = statistics.median(256.0 / time_runs(models[:1], x, 20) for _ in range(reps))
    print(f"torch {label} {precision} b1_hot_us {hot * 1e6:.2f}")
    print(f"torch {label} {precision} b1_cold_us {cold * 1e6:.2f}")
    print(f"torch {label} {precision} b256_rows_per_s {rate:.0f}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--copies", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    engines = [e for e in torch.backends.quantized.supported_engines if e != "none"]
    engine = "fbgemm" if "fbgemm" in engines else "onednn" if "onednn" in engines else engines[0]
    torch.backends.quantized.engine = engine
    print(f"# torch {torch.__version__}, quantized engine {engine}, {args.threads} thread(s)", flush=True)

    mlp = MLP1024().eval()
    torch.onnx.export(mlp, torch.zeros(1, 1024), os.path.join(args.outdir, "mlp1024.onnx"), opset_version=13,
                      input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    digits = DigitsMLP(os.path.join(HERE, "..", "tests", "data", "infer", "digits_mlp.onnx")).eval()
    for label, model, width in (("mlp1024", mlp, 1024), ("digits", digits, 64)):
        measure(label, "fp32", model, width, args.reps, args.copies)
        quantized = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        measure(label, "int8", quantized, width, args.reps, args.copies)


if __name__ == "__main__":
    main()
