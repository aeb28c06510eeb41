"""The trainer: fp32 linear, logistic, softmax and MLP models from a frame, metrics, ONNX export.

>>> net = mlops.train.train(frame, {"features": ["a", "b"], "label": "y", "model": {"type": "logistic"}})
>>> net.predict([[0.5, 0.25]])
"""
from __future__ import annotations

import array
import ctypes
import json
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ._floats import LIST_ROWS, NUMPY, Batch, Result
from ._handle import Handle, options_json, take_bytes, take_json
from ._lib import lib
from .db import Database
from .errors import InvalidArgument, raise_for
from .frame import HAVE_NUMPY, Frame

TASKS = {1: "regression", 2: "binary", 3: "multiclass"}
_TASK_CODES = {name: code for code, name in TASKS.items()}


def _metrics(pointer: ctypes.c_void_p, owned: bool) -> Dict[str, Any]:
    out = ctypes.c_void_p()
    try:
        return take_json(lib.mlops_metrics_json(ctypes.byref(out), pointer), out)
    finally:
        if owned:
            lib.mlops_metrics_free(pointer)


def _config(config: Mapping[str, Any]) -> bytes:
    if not isinstance(config, Mapping):
        raise InvalidArgument(f"a training configuration is a mapping, got {type(config).__name__}", -1)
    return json.dumps(dict(config)).encode()


class Net(Handle):
    """A trained model that takes raw feature values (imputation and standardisation included).

    Read-only once trained: ``predict`` and ``evaluate`` may run from several threads.
    """

    _free = lib.mlops_net_free
    _kind = "net"

    @property
    def task(self) -> str:
        """"regression", "binary" or "multiclass"."""
        return TASKS[lib.mlops_net_task(self._p)]

    @property
    def features(self) -> List[str]:
        """Names of the input features, in order."""
        return [lib.mlops_net_feature_name(self._p, i).decode() for i in range(lib.mlops_net_inputs(self._p))]

    @property
    def outputs(self) -> int:
        """Values per prediction row: 1, or the class count of a multiclass net."""
        return lib.mlops_net_outputs(self._p)

    def parameters(self) -> List[float]:
        """Every trainable parameter, layer by layer (weights out x in, then biases)."""
        count = ctypes.c_size_t()
        status = lib.mlops_net_parameters(None, 0, ctypes.byref(count), self._p)
        if status != -12 and status < 0:
            raise_for(status)
        buffer = (ctypes.c_float * max(count.value, 1))()
        raise_for(lib.mlops_net_parameters(buffer, count.value, ctypes.byref(count), self._p))
        return list(buffer[:count.value])

    def predict(self, features: Any) -> Any:
        """Forward pass over raw feature rows (NaN imputed), or over a :class:`Frame`'s feature columns.

        Rows may be lists, ``array.array``, memoryviews or numpy arrays; the
        result is the same kind (a frame gives a list of rows, or numpy with numpy).
        """
        if isinstance(features, Frame):
            result = Result(NUMPY if HAVE_NUMPY else LIST_ROWS, features.rows, self.outputs)
            raise_for(lib.mlops_net_predict_frame(result.pointer, result.count, self._p, features._p))
            return result.value()
        batch = Batch(features, lib.mlops_net_inputs(self._p), "predict")
        result = batch.output(self.outputs)
        raise_for(lib.mlops_net_predict(result.pointer, result.count, self._p, batch.pointer, batch.rows))
        return result.value()

    def evaluate(self, frame: Frame, **options: Any) -> Dict[str, Any]:
        """Metrics on every row of ``frame`` (feature and label columns); options "bootstrap", "seed", "threshold"."""
        out = ctypes.c_void_p()
        raise_for(lib.mlops_net_evaluate(ctypes.byref(out), self._p, frame._p, options_json(options or None)))
        return _metrics(out, True)

    def test_metrics(self) -> Dict[str, Any]:
        """Metrics on the test split; :class:`mlops.NotFound` when trained without one."""
        out = ctypes.c_void_p()
        raise_for(lib.mlops_net_test_metrics(ctypes.byref(out), self._p))
        return _metrics(out, False)

    def report(self) -> Dict[str, Any]:
        """The training record: configuration, split sizes, per-epoch loss, kept epoch, test metrics."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_net_report_json(ctypes.byref(out), self._p), out)

    def export_onnx(self, standardization: Optional[str] = None) -> bytes:
        """The net as ONNX bytes (opset 13): input "features", output "output".

        ``standardization``: "nodes" (default) or "folded" into the first layer.
        """
        out, length = ctypes.c_void_p(), ctypes.c_size_t()
        options = options_json({"standardization": standardization} if standardization else None)
        return take_bytes(lib.mlops_net_export_onnx(ctypes.byref(out), ctypes.byref(length), self._p, options),
                          out, length)


def train(frame: Frame, config: Mapping[str, Any]) -> Net:
    """Train a net on ``frame`` as ``config`` says (features, label, model, optimizer, epochs, split, seed...)."""
    out = ctypes.c_void_p()
    raise_for(lib.mlops_net_train(ctypes.byref(out), frame._p, _config(config)))
    return Net(out)


def train_register(db: Database, model: str, frame: Frame, config: Mapping[str, Any],
                   **options: Any) -> Tuple[int, Net]:
    """Train (with a test split), then register the ONNX export as a new version of ``model`` in one transaction.

    Options: "experiment", "run_name", "tags", "parent_version", "lineage",
    "export", "profile". Returns ``(version, net)``; on failure nothing is written.
    """
    version, out = ctypes.c_int64(), ctypes.c_void_p()
    raise_for(lib.mlops_net_train_register(ctypes.byref(version), ctypes.byref(out), db._p, model.encode(),
                                           frame._p, _config(config), options_json(options or None)))
    return version.value, Net(out)


def metrics(task: str, scores: Sequence[float], labels: Sequence[float], classes: int = 2,
            **options: Any) -> Dict[str, Any]:
    """Metrics of ``task`` for predictions against labels (multiclass scores are rows x classes, flattened or not)."""
    if task not in _TASK_CODES:
        raise InvalidArgument(f'unknown task "{task}"', -1)
    truth = array.array("d", [float(x) for x in labels])
    width = classes if task == "multiclass" else 1
    batch = Batch(scores, width, "metrics")
    if batch.rows != len(truth):
        raise InvalidArgument(f"{batch.rows} score rows for {len(truth)} labels", -1)
    out = ctypes.c_void_p()
    raise_for(lib.mlops_metrics_compute(ctypes.byref(out), _TASK_CODES[task], batch.pointer,
                                        truth.buffer_info()[0] if truth else None, len(truth), classes,
                                        options_json(options or None)))
    return _metrics(out, True)
