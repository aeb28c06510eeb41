#!/usr/bin/python3
"""Train a small MLP on scikit-learn's digits and export it to ONNX.

Writes, next to this script:
  digits_mlp.onnx     64 pixels (0..16) -> Mul(1/16) -> Gemm 64x128 + Relu -> Gemm 128x10 logits, opset 13,
                      dynamic batch dimension
  digits_test.csv     the held-out rows: columns p0..p63 (integer pixels) and "label"
  digits_logits.csv   PyTorch's fp32 logits for those rows (columns l0..l9), the independent reference

Run with Debian's interpreter: /usr/bin/python3 tests/data/infer/make_digits_mlp.py
(python3-torch, python3-onnx, python3-sklearn). Deterministic: fixed seeds, full-batch training.
"""
import os

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))


class DigitsMLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.Linear(64, 128)
        self.out = torch.nn.Linear(128, 10)

    def forward(self, x):
        return self.out(torch.relu(self.hidden(x * (1.0 / 16.0))))


def main():
    torch.manual_seed(7)
    np.random.seed(7)
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data.astype(np.float32), digits.target, test_size=0.25, random_state=7, stratify=digits.target)
    model = DigitsMLP()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train).long()
    for _ in range(400):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(x_test)).numpy()
    accuracy = float((logits.argmax(axis=1) == y_test).mean())
    print(f"test accuracy (fp32, PyTorch): {accuracy:.4f} on {len(y_test)} rows")

    torch.onnx.export(model, torch.zeros(1, 64), os.path.join(HERE, "digits_mlp.onnx"), opset_version=13,
                      input_names=["pixels"], output_names=["logits"],
                      dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}})
    with open(os.path.join(HERE, "digits_test.csv"), "w") as f:
        f.write(",".join([f"p{i}" for i in range(64)] + ["label"]) + "\n")
        for row, label in zip(x_test.astype(int), y_test):
            f.write(",".join(str(v) for v in row) + f",{label}\n")
    with open(os.path.join(HERE, "digits_logits.csv"), "w") as f:
        f.write(",".join(f"l{i}" for i in range(10)) + "\n")
        for row in logits:
            f.write(",".join(f"{v:.9g}" for v in row) + "\n")


if __name__ == "__main__":
    main()
