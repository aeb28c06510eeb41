"""Serving: a router answering from a model's aliases (champion, challenger) with metrics, drift and outcomes.

>>> with mlops.serve.Router(db, "fraud", {"challenger": "staging", "share": 0.2}) as router:
...     scores, version = router.run("customer-17", [[0.1, 0.2]])

The router keeps its own connection to the database file (an in-memory
database is refused) and swaps versions in when aliases move. ``close()``
stops its thread and flushes its drift windows before returning.
"""
from __future__ import annotations

import ctypes
import json
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ._floats import Batch
from ._handle import Handle, options_json, take_json, take_text
from ._lib import lib
from .db import Database
from .errors import InvalidArgument, raise_for
from .infer import Session
from .registry import Registry

CHAMPION, CHALLENGER = 0, 1
ARMS = {CHAMPION: "champion", CHALLENGER: "challenger"}


class _DriftEvent(ctypes.Structure):
    _fields_ = [("model", ctypes.c_char_p), ("arm", ctypes.c_int32), ("dataset_drift", ctypes.c_int32),
                ("prediction_drift", ctypes.c_int32), ("reserved", ctypes.c_int32), ("version", ctypes.c_int64),
                ("start_us", ctypes.c_int64), ("end_us", ctypes.c_int64), ("stream", ctypes.c_char_p),
                ("report_json", ctypes.c_char_p)]


_DRIFT_FN = ctypes.CFUNCTYPE(None, ctypes.POINTER(_DriftEvent), ctypes.c_void_p)


class Router(Handle):
    """Routes requests of ``model`` between the champion and challenger aliases.

    ``settings`` are those of ``mlops_router_open`` ("champion", "challenger",
    "mode", "share", "salt", "reload_interval_ms", "session", "drift",
    "outcomes"). ``run`` and ``outcome`` may be called from several threads.
    """

    _free = lib.mlops_router_close
    _kind = "router"

    def __init__(self, db: Database, model: str, settings: Optional[Mapping[str, Any]] = None):
        if not isinstance(db, Database):
            raise InvalidArgument(f"a Router needs a Database, got {type(db).__name__}", -1)
        out = ctypes.c_void_p()
        raise_for(lib.mlops_router_open(ctypes.byref(out), db._p, model.encode(), options_json(settings)))
        super().__init__(out)
        self.model = model
        self._registry = Registry(db)
        self._widths: Dict[int, Tuple[int, int]] = {}
        self._callback = None

    def _width(self, version: int) -> Tuple[int, int]:
        if version not in self._widths:
            with Session(self._registry.artifact(self.model, version)) as session:
                self._widths[version] = (session.input_width, session.output_width)
        return self._widths[version]

    def version(self, arm: int = CHAMPION) -> int:
        """Version answering for ``arm`` (CHAMPION or CHALLENGER); 0 when the arm has none."""
        return lib.mlops_router_version(self._p, arm)

    def assign(self, request_key: str) -> str:
        """Arm that answers ``request_key`` now: "champion" or "challenger"."""
        arm = ctypes.c_int32()
        raise_for(lib.mlops_router_assign(ctypes.byref(arm), self._p, request_key.encode()))
        return ARMS[arm.value]

    def run(self, request_key: str, rows: Any) -> Tuple[Any, int]:
        """Predict ``rows`` for ``request_key``; returns ``(outputs, version)``, outputs in the input's kind.

        Widths are learnt once per version from its artifact (the database
        given at open must stay open).
        """
        live = [v for v in (self.version(CHAMPION), self.version(CHALLENGER)) if v]
        widths = [self._width(v) for v in live]
        batch = Batch(rows, widths[0][0], "run")
        result = batch.output(max(w[1] for w in widths))
        version = ctypes.c_int64()
        raise_for(lib.mlops_router_run(ctypes.byref(version), self._p, request_key.encode(), batch.pointer,
                                       batch.rows, result.pointer, result.count))
        width = self._width(version.value)[1]
        if width != result.width:
            exact = batch.output(width)
            ctypes.memmove(exact.pointer, result.pointer, 4 * exact.count)
            result = exact
        return result.value(), version.value

    def reload(self) -> bool:
        """Look up the aliases now and swap in changed versions; True when one changed."""
        changed = ctypes.c_int32()
        raise_for(lib.mlops_router_reload(ctypes.byref(changed), self._p))
        return bool(changed.value)

    def metrics(self) -> Dict[str, Any]:
        """Metrics of every arm and version, parsed from the JSON document."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_router_metrics_json(ctypes.byref(out), self._p), out)

    def prometheus(self) -> str:
        """The same metrics in the Prometheus text exposition format."""
        out = ctypes.c_void_p()
        return take_text(lib.mlops_router_metrics_prometheus(ctypes.byref(out), self._p), out)

    def outcome(self, request_key: str, label: float) -> None:
        """Report the true outcome of a request (class index or value); :class:`mlops.NotFound` when not kept."""
        raise_for(lib.mlops_router_outcome(self._p, request_key.encode(), label))

    def log_quality(self, dataset: Optional[str] = None) -> int:
        """Log live quality ("accuracy" or "rmse" with intervals) as version metrics on ``dataset`` ("serve")."""
        logged = ctypes.c_int64()
        raise_for(lib.mlops_router_quality_log(ctypes.byref(logged), self._p,
                                               None if dataset is None else dataset.encode()))
        return logged.value

    def log_metrics(self) -> int:
        """Persist what was counted since the previous call (requests, errors, latency) in the database.

        Returns the number of snapshots written (one per arm and version that
        served since); :func:`stats` and :mod:`mlops.report` read them back.
        """
        logged = ctypes.c_int64()
        raise_for(lib.mlops_router_metrics_log(ctypes.byref(logged), self._p))
        return logged.value

    def on_drift(self, callback: Optional[Callable[[Dict[str, Any]], None]]) -> None:
        """Call ``callback(event)`` for each window with drift (None: stop); it may run on the router's thread.

        The event holds model, arm, version, dataset_drift, prediction_drift,
        start_us, end_us, stream and the parsed report. Exceptions raised by
        the callback are printed by ctypes and otherwise ignored.
        """
        if callback is None:
            raise_for(lib.mlops_router_on_drift(self._p, None, None))
            self._callback = None
            return

        def deliver(event, _payload):
            e = event.contents
            callback({"model": e.model.decode(), "arm": ARMS[e.arm], "version": e.version,
                      "dataset_drift": bool(e.dataset_drift), "prediction_drift": bool(e.prediction_drift),
                      "start_us": e.start_us, "end_us": e.end_us, "stream": e.stream.decode(),
                      "report": json.loads(e.report_json)})

        function = _DRIFT_FN(deliver)
        raise_for(lib.mlops_router_on_drift(self._p, function, None))
        self._callback = function  # the C side holds it: keep it alive

    def flush_drift(self) -> None:
        """Close the current drift window of every live arm now (store it, compare with the reference)."""
        raise_for(lib.mlops_router_drift_flush(self._p))

    def close(self) -> None:
        """Stop the background thread, flush drift windows and free the router; calling it again does nothing."""
        super().close()
        self._callback = None


def stats(db: Database, model: str) -> Dict[str, Any]:
    """Serving metrics of ``model`` persisted by routers, summed per version and arm, with latency percentiles."""
    if not isinstance(db, Database):
        raise InvalidArgument(f"stats needs a Database, got {type(db).__name__}", -1)
    out = ctypes.c_void_p()
    return take_json(lib.mlops_serve_stats_json(ctypes.byref(out), db._p, model.encode()), out)
