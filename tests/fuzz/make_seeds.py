#!/usr/bin/env python3
"""Regenerate the seed corpora of the binary-input fuzz targets (profile,
onnx, bundle) from the project's own fixtures, made by the library itself
through the Python bindings:
  profile: serialized profiles of the tests' CSV files under several
           settings, as bytes and as their uncompressed payload (the form
           fuzz_profile wraps itself);
  onnx:    the tests' ONNX models (tests/data/infer), the conformance node
           models of the supported ops, and nets the trainer exports;
  bundle:  bundles of those models with metrics, tags and a profile,
           unsigned and signed.
    tests/fuzz/make_seeds.py BUILD_DIR      (BUILD_DIR holds libmlops.so)
"""
import glob
import hashlib
import os
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
NODE_DIR = "/usr/share/libonnx-testdata/data/node"
# Conformance node tests of the ops sessions support (as tests/infer/test_onnx_conformance.c picks them).
NODE_PREFIXES = ["gemm", "matmul", "add", "sub", "mul", "div", "relu", "leakyrelu", "sigmoid", "tanh", "erf",
                 "softmax", "logsoftmax", "flatten", "reshape", "squeeze", "unsqueeze", "identity", "dropout", "clip",
                 "batchnorm", "layer_normalization", "cast", "constant", "quantizelinear", "dequantizelinear",
                 "dynamicquantizelinear", "matmulinteger", "qlinearmatmul"]


def corpus(name):
    path = os.path.join(ROOT, "tests", "fuzz", "corpus", name)
    os.makedirs(path, exist_ok=True)
    return path


def keep(name, data):
    with open(os.path.join(corpus(name), hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def data(path):
    return os.path.join(ROOT, "tests", "data", path)


def profile_seeds(mlops):
    frames = [
        (mlops.Frame.from_csv(data("train/metrics_binary.csv")), {}),
        (mlops.Frame.from_csv(data("train/metrics_binary.csv")), {"quantile_k": 8, "hll_bits": 4}),
        (mlops.Frame.from_csv(data("train/metrics_binary.csv"), schema={"label": "string"}),
         {"category_cap": 1, "quantiles": False}),
        (mlops.Frame.from_csv(data("infer/gelu_io.csv")), {"distinct": False, "quantile_k": 16}),
        (mlops.Frame.from_csv(data("train/metrics_multiclass.csv"), schema={"label": "string"}),
         {"hll_bits": 4, "quantile_k": 8}),
    ]
    profiles = []
    for frame, options in frames:
        profile = mlops.Profile.of(frame, **options)
        profiles.append(profile)
        empty = mlops.Profile.for_frame(frame, **options)
        profiles.append(empty)
    with_edges = mlops.Profile({"columns": [{"name": "score", "kind": "numeric", "edges": [0, 0.25, 0.5, 1]},
                                            {"name": "label", "kind": "categorical"}],
                                "quantile_k": 8, "hll_bits": 4})
    with_edges.update_column("score", [0.1, 0.3, 0.7, 2.0, float("nan"), None])
    with_edges.update_column("label", ["a", "b", "a", None])
    profiles.append(with_edges)
    for profile in profiles:
        blob = profile.serialize()
        keep("profile", blob)
        payload = subprocess.run(["zstd", "-d", "-c"], input=blob[24:], check=True, stdout=subprocess.PIPE).stdout
        keep("profile", payload)
    return profiles


def onnx_seeds(mlops):
    models = [open(data("infer/gelu_mlp.onnx"), "rb").read(), open(data("infer/digits_mlp.onnx"), "rb").read()]
    for prefix in NODE_PREFIXES:
        for path in sorted(glob.glob(os.path.join(NODE_DIR, "test_" + prefix + "*", "model.onnx"))):
            if "_expanded" not in path:
                models.append(open(path, "rb").read())
    frame = mlops.Frame.from_csv(data("train/metrics_multiclass.csv"))
    label = frame.columns[0]
    features = frame.columns[1:]
    for model in ({"type": "softmax"}, {"type": "mlp", "hidden": [4], "activation": "gelu"}):
        config = {"features": features, "label": label, "task": "multiclass", "model": model, "epochs": 2, "seed": 1}
        net = mlops.train.train(frame, config)
        models.append(net.export_onnx())
        models.append(net.export_onnx("folded"))
    for model in models:
        keep("onnx", model)
    return models[:1] + models[-4:]


def bundle_seeds(mlops, models, profiles):
    public, secret = mlops.registry.keygen()
    with tempfile.TemporaryDirectory() as work:
        db = mlops.open(os.path.join(work, "seed.db"), actor="seed")
        registry = mlops.Registry(db)
        registry.create_model("fraud", "seed model", tags={"team": "risk"})
        for i, model in enumerate(models):
            version = registry.register("fraud", model, metadata={"i": i}, tags={"stage": "seed"})
            if i % 2 == 0:
                registry.log_metric("fraud", version, "auc", 0.9 - i / 100, ci=(0.8, 0.95), dataset="test")
                registry.set_profile("fraud", version, profiles[i % len(profiles)])
            for signed in (False, True):
                path = os.path.join(work, "b%d%d.mlb" % (i, signed))
                registry.export_bundle("fraud", version, path, secret if signed else None)
                keep("bundle", open(path, "rb").read())
        db.close()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_seeds.py BUILD_DIR")
    os.environ["MLOPS_LIBRARY"] = os.path.join(os.path.abspath(sys.argv[1]), "libmlops.so")
    sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
    import mlops  # noqa: E402 - found through the path set above
    profiles = profile_seeds(mlops)
    models = onnx_seeds(mlops)
    bundle_seeds(mlops, models, profiles)
    for name in ("profile", "onnx", "bundle"):
        files = os.listdir(corpus(name))
        size = sum(os.path.getsize(os.path.join(corpus(name), f)) for f in files)
        print(f"{name}: {len(files)} files, {size} bytes")


if __name__ == "__main__":
    main()
