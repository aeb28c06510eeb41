"""`pip install bindings/python` works: install offline into a scratch directory, import from there, run a model.

Run by ctest once per interpreter, with MLOPS_LIBRARY naming the built
library (an installed package finds it at run time). Exits 77, which ctest
reports as skipped, when the interpreter cannot build a wheel offline.
"""
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile

SKIPPED = 77
SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Runs in the installed package only: PYTHONPATH holds nothing else.
SMOKE = r"""
import os, sys
import mlops
from mlops import train
assert mlops.__file__.startswith(sys.argv[1]), mlops.__file__
frame = mlops.Frame({"a": [0.0, 1.0, 2.0, 3.0], "y": [0.0, 2.0, 4.0, 6.0]})
net = train.train(frame, {"features": ["a"], "label": "y", "task": "regression", "model": {"type": "linear"},
                          "optimizer": {"type": "sgd", "learning_rate": 0.1}, "epochs": 200, "seed": 1})
with mlops.Session(net.export_onnx(), precision="fp32") as session:
    print("predicted", round(session.predict([[5.0]])[0][0]))
"""


def main() -> int:
    missing = [name for name in ("pip", "setuptools", "wheel") if importlib.util.find_spec(name) is None]
    if missing:
        print(f"SKIPPED: {sys.executable} lacks {', '.join(missing)}, which pip needs to build the package offline "
              "(scripts/deps.sh test installs python3-pip, python3-setuptools and python3-wheel for the system "
              "python3)")
        return SKIPPED
    with tempfile.TemporaryDirectory() as scratch:
        # pip builds in the source tree (build/, *.egg-info): build a copy, never the checkout
        source = os.path.join(scratch, "source")
        shutil.copytree(SOURCE, source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
        target = os.path.join(scratch, "site")
        quiet = {key: value for key, value in os.environ.items() if key not in ("LD_PRELOAD", "PYTHONPATH")}
        quiet["PIP_ROOT_USER_ACTION"] = "ignore"
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-build-isolation",
                        "--no-deps", "--target", target, source], check=True, env=quiet)
        installed = sorted(os.listdir(os.path.join(target, "mlops")))
        assert "__init__.py" in installed and "_lib.py" in installed, installed
        assert not any(name.startswith("test") for name in installed), installed
        assert any(name.startswith("mlops-") and name.endswith(".dist-info") for name in os.listdir(target))
        run = subprocess.run([sys.executable, "-c", SMOKE, target], env=dict(os.environ, PYTHONPATH=target),
                             capture_output=True, text=True, check=False)
        sys.stdout.write(run.stdout)
        sys.stderr.write(run.stderr)
        if run.returncode != 0 or "predicted 10" not in run.stdout:
            print("the installed package failed to run a model")
            return 1
    print(f"pip install bindings/python works with {sys.executable}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
