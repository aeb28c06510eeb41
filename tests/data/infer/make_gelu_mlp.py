#!/usr/bin/python3
"""Export a small MLP with an exact GELU from PyTorch to ONNX, with reference outputs.

Writes, next to this script:
  gelu_mlp.onnx   8 inputs -> Linear 8x16 -> GELU (erf form) -> Linear 16x4, opset 13, dynamic batch
  gelu_io.csv     32 input rows (x0..x7) with PyTorch's fp32 outputs (y0..y3)

Run with Debian's interpreter: /usr/bin/python3 tests/data/infer/make_gelu_mlp.py (python3-torch, python3-onnx).
"""
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    torch.manual_seed(11)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.GELU(), torch.nn.Linear(16, 4)).eval()
    x = torch.randn(32, 8) * 2.0
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(model, x[:1], os.path.join(HERE, "gelu_mlp.onnx"), opset_version=13, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    with open(os.path.join(HERE, "gelu_io.csv"), "w") as f:
        f.write(",".join([f"x{i}" for i in range(8)] + [f"y{i}" for i in range(4)]) + "\n")
        for row_x, row_y in zip(x.tolist(), y.tolist()):
            f.write(",".join(f"{v:.9g}" for v in row_x + row_y) + "\n")


if __name__ == "__main__":
    main()
