"""Explanations: why a session predicted what it did.

An :class:`Explainer` over a :class:`mlops.infer.Session` gives, per input
row, one attribution per feature for a chosen output; with the baseline's
output they add up to the prediction. Methods: ``"linear"`` (exact SHAP of a
linear or logistic model), ``"integrated_gradients"`` and ``"kernel_shap"``.
Global importance: :meth:`Explainer.global_importance` and
:meth:`Explainer.permutation_importance`. An int8 session is explained
through its fp32 twin (docs/explain.md).
"""
from __future__ import annotations

import array
import ctypes
from typing import Any, Dict, List, NamedTuple, Optional, Sequence

from ._floats import NUMPY, Batch
from .frame import _np
from ._handle import Handle, options_json, take_json
from ._lib import lib
from .errors import InvalidArgument, raise_for
from .infer import Session

METHODS = {1: "linear", 2: "integrated_gradients", 3: "kernel_shap"}


class Explanation(NamedTuple):
    """What :meth:`Explainer.explain` returns; matrices in the input's kind, per-row values as lists (numpy: arrays)."""

    attributions: Any
    std_errors: Any
    predictions: Any
    completeness_errors: Any


def _per_row(batch: Batch, buffer: array.array) -> Any:
    if batch.kind == NUMPY:
        return _np.frombuffer(buffer, dtype=_np.float32).copy()
    return buffer.tolist()


class Explainer(Handle):
    """Attributions of one output of ``session`` (kept alive by the explainer).

    ``Explainer(session, background, method="kernel_shap", samples=4096)``:
    ``background`` holds rows (any float container the sessions take) for the
    baseline ``"mean"`` and for KernelSHAP; options are those of
    ``mlops_explainer_open`` ("method", "output", "baseline", "steps",
    "rule", "max_segments", "samples", "seed", "scale", "features"). One
    thread at a time.
    """

    _free = lib.mlops_explainer_free
    _kind = "explainer"

    def __init__(self, session: Session, background: Any = None, **options: Any):
        if not isinstance(session, Session):
            raise InvalidArgument(f"Explainer needs a Session, got {type(session).__name__}", -1)
        out = ctypes.c_void_p()
        width = lib.mlops_session_input_width(session._p)
        rows = Batch(background, width, "background") if background is not None else None
        raise_for(lib.mlops_explainer_open(ctypes.byref(out), session._p, options_json(options or None),
                                           rows.pointer if rows else None, rows.rows if rows else 0))
        super().__init__(out)
        self._session = session

    @property
    def method(self) -> str:
        """The method in use: "linear", "integrated_gradients" or "kernel_shap"."""
        return METHODS[lib.mlops_explainer_method(self._p)]

    @property
    def features(self) -> List[str]:
        """The feature names, in input order."""
        return [lib.mlops_explainer_feature_name(self._p, i).decode()
                for i in range(lib.mlops_explainer_features(self._p))]

    @property
    def baseline_output(self) -> float:
        """The output the attributions start from (baseline row, or mean over the background)."""
        return lib.mlops_explainer_baseline_output(self._p)

    def _rows(self, rows: Any, what: str) -> Batch:
        return Batch(rows, lib.mlops_explainer_features(self._p), what)

    def explain(self, rows: Any) -> Explanation:
        """Attributions, KernelSHAP standard errors (0 otherwise), predictions and completeness errors of ``rows``."""
        batch = self._rows(rows, "explain")
        width = batch.width
        attributions, std_errors = batch.output(width), batch.output(width)
        predictions = array.array("f", bytes(4 * max(batch.rows, 1)))
        completeness = array.array("f", bytes(4 * max(batch.rows, 1)))
        raise_for(lib.mlops_explain_rows(attributions.pointer, std_errors.pointer, predictions.buffer_info()[0],
                                         completeness.buffer_info()[0], attributions.count, self._p, batch.pointer,
                                         batch.rows))
        return Explanation(attributions.value(), std_errors.value(), _per_row(batch, predictions[:batch.rows]),
                           _per_row(batch, completeness[:batch.rows]))

    def explain_json(self, rows: Any) -> Dict[str, Any]:
        """The explanation of ``rows`` as the library's JSON document, parsed."""
        batch = self._rows(rows, "explain_json")
        out = ctypes.c_void_p()
        return take_json(lib.mlops_explain_rows_json(ctypes.byref(out), self._p, batch.pointer, batch.rows), out)

    def gradient(self, rows: Any) -> Any:
        """d output / d input of each row through the fp32 plan, in the input's kind."""
        batch = self._rows(rows, "gradient")
        result = batch.output(batch.width)
        raise_for(lib.mlops_explain_gradient(result.pointer, result.count, self._p, batch.pointer, batch.rows))
        return result.value()

    def global_importance(self, rows: Any) -> Dict[str, Any]:
        """Mean absolute attribution per feature over ``rows``, by importance."""
        batch = self._rows(rows, "global_importance")
        out = ctypes.c_void_p()
        return take_json(lib.mlops_explain_global(ctypes.byref(out), self._p, batch.pointer, batch.rows), out)

    def permutation_importance(self, rows: Any, labels: Sequence[float], metric: Optional[str] = None,
                               **options: Any) -> Dict[str, Any]:
        """How much ``metric`` worsens when each feature is shuffled ("repeats", "seed", "outputs": "logits")."""
        batch = self._rows(rows, "permutation_importance")
        values = array.array("f", [float(v) for v in labels])
        if len(values) != batch.rows:
            raise InvalidArgument(f"permutation_importance: {len(values)} labels for {batch.rows} rows", -1)
        if metric is not None:
            options["metric"] = metric
        out = ctypes.c_void_p()
        pointer = values.buffer_info()[0] if values else None
        return take_json(lib.mlops_explain_permutation(ctypes.byref(out), self._p, batch.pointer, pointer, batch.rows,
                                                       options_json(options or None)), out)

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{self.method}, {lib.mlops_explainer_features(self._p)} features"
        return f"<mlops.explain.Explainer {state}>"
