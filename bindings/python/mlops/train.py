"""The trainer: fp32 linear, logistic, softmax and MLP models from a frame, metrics, ONNX export.

>>> net = mlops.train.train(frame, {"features": ["a", "b"], "label": "y", "model": {"type": "logistic"}})
>>> net.predict([[0.5, 0.25]])
"""
from __future__ import annotations

import array
import ctypes
import json
import math
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from ._floats import LIST_ROWS, NUMPY, Batch, Result
from ._handle import Handle, options_json, take_bytes, take_json
from ._lib import TRAIN_PROGRESS, lib
from .db import Database
from .errors import InvalidArgument, InvalidState, raise_for
from .frame import HAVE_NUMPY, Frame

TASKS = {1: "regression", 2: "binary", 3: "multiclass"}
_TASK_CODES = {name: code for code, name in TASKS.items()}


class Metrics(Handle, Mapping[str, Any]):
    """Evaluation metrics of one task: values, bootstrap 95% intervals and a confusion matrix.

    Reads like the dict of ``mlops_metrics_json``: ``metrics["accuracy"]`` is
    ``{"value": ..., "ci_low": ..., "ci_high": ...}`` (None where undefined)
    and ``metrics["confusion_matrix"]`` is a list of rows for a classifier.
    :meth:`value`, :meth:`interval` and :meth:`confusion` read single
    entries. Metrics borrowed from a net (:meth:`Net.test_metrics`) keep the
    net open and raise :class:`mlops.InvalidState` once it is closed.
    """

    _free = lib.mlops_metrics_free
    _kind = "metrics"

    def __init__(self, pointer: ctypes.c_void_p, owner: Optional[Handle] = None):
        super().__init__(pointer)
        self._owner = owner

    @property
    def _p(self) -> ctypes.c_void_p:
        if self._owner is not None and self._owner.closed:
            raise InvalidState(f"the {self._owner._kind} these metrics belong to is closed", -15)
        return super()._p

    def close(self) -> None:
        """Release the metrics now (borrowed ones are only forgotten); calling it again does nothing."""
        if self._owner is not None:
            self._ptr, self._owner = None, None
            return
        super().close()

    @property
    def names(self) -> List[str]:
        """Names of the metrics the task defines, in the library's order."""
        pointer = self._p
        return [lib.mlops_metrics_name(pointer, i).decode() for i in range(lib.mlops_metrics_count(pointer))]

    def _get(self, name: str) -> Tuple[float, float, float]:
        value, low, high = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
        raise_for(lib.mlops_metrics_get(ctypes.byref(value), ctypes.byref(low), ctypes.byref(high), self._p,
                                        name.encode()))
        return value.value, low.value, high.value

    def value(self, name: str) -> float:
        """Value of metric ``name`` (NaN when undefined); :class:`mlops.NotFound` when the task has no such metric."""
        return self._get(name)[0]

    def interval(self, name: str) -> Tuple[float, float]:
        """Bootstrap 95% interval ``(low, high)`` of metric ``name`` (NaN without bootstrap resamples)."""
        return self._get(name)[1:]

    def confusion(self) -> List[List[int]]:
        """Confusion matrix, row = true class, column = predicted class; :class:`mlops.NotFound` for regression."""
        cells, classes = ctypes.POINTER(ctypes.c_int64)(), ctypes.c_size_t()
        raise_for(lib.mlops_metrics_confusion(ctypes.byref(cells), ctypes.byref(classes), self._p))
        n = classes.value
        return [cells[r * n:(r + 1) * n] for r in range(n)]

    def to_dict(self) -> Dict[str, Any]:
        """Every metric and the confusion matrix as plain data (the library's JSON document)."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_metrics_json(ctypes.byref(out), self._p), out)

    def __getitem__(self, name: str) -> Any:
        if name == "confusion_matrix" and self._has_confusion():
            return self.confusion()
        if name not in self.names:
            raise KeyError(name)
        return {key: None if math.isnan(x) else x for key, x in zip(("value", "ci_low", "ci_high"), self._get(name))}

    def _has_confusion(self) -> bool:
        cells, classes = ctypes.POINTER(ctypes.c_int64)(), ctypes.c_size_t()
        return lib.mlops_metrics_confusion(ctypes.byref(cells), ctypes.byref(classes), self._p) == 0

    def __iter__(self) -> Iterator[str]:
        names = self.names
        return iter(names + ["confusion_matrix"] if self._has_confusion() else names)

    def __len__(self) -> int:
        return len(list(iter(self)))

    def __repr__(self) -> str:
        if self.closed:
            return "<mlops.train.Metrics closed>"
        return "<mlops.train.Metrics " + ", ".join(f"{n}={self.value(n):.4g}" for n in self.names) + ">"


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

    def evaluate(self, frame: Frame, **options: Any) -> Metrics:
        """Metrics on every row of ``frame`` (feature and label columns); options "bootstrap", "seed", "threshold"."""
        out = ctypes.c_void_p()
        raise_for(lib.mlops_net_evaluate(ctypes.byref(out), self._p, frame._p, options_json(options or None)))
        return Metrics(out)

    def test_metrics(self) -> Metrics:
        """Metrics on the test split (valid while the net is open); :class:`mlops.NotFound` when trained without one."""
        out = ctypes.c_void_p()
        raise_for(lib.mlops_net_test_metrics(ctypes.byref(out), self._p))
        return Metrics(out, owner=self)

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


#: ``progress(epoch, epochs, loss, validation)``: epoch from 1, mean training loss, validation score or None.
Progress = Callable[[int, int, float, Optional[float]], Any]


def train(frame: Frame, config: Mapping[str, Any], progress: Optional[Progress] = None) -> Net:
    """Train a net on ``frame`` as ``config`` says (features, label, model, optimizer, epochs, split, seed...).

    ``progress``, when given, is called on this thread after every epoch with
    the epoch (from 1), the epochs asked for, the mean training loss and the
    validation score (None without a validation split). An exception it
    raises is not lost: later epochs are no longer reported, the net is
    discarded once training returns, and the exception propagates from here.
    """
    out = ctypes.c_void_p()
    if progress is None:
        raise_for(lib.mlops_net_train(ctypes.byref(out), frame._p, _config(config)))
        return Net(out)
    raised: List[BaseException] = []

    def report(epoch: int, epochs: int, loss: float, validation: float, _payload: Any) -> None:
        if raised:
            return
        try:
            progress(epoch, epochs, loss, None if math.isnan(validation) else validation)
        except BaseException as exc:  # re-raised once C returns: an exception cannot cross the C frames
            raised.append(exc)

    callback = TRAIN_PROGRESS(report)
    status = lib.mlops_net_train_progress(ctypes.byref(out), frame._p, _config(config), callback, None)
    if raised:
        lib.mlops_net_free(out)
        raise raised[0]
    raise_for(status)
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
    return Metrics(out)
