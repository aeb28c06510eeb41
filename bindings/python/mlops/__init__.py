"""libmlops from Python: the production-ML loop in one embeddable C library.

Everything runs in C; this package is a thin ``ctypes`` layer that makes it
feel native. It works with and without numpy.

>>> import mlops
>>> with mlops.open(":memory:") as db:
...     frame = mlops.Frame({"id": [1, 2], "amount": [9.5, None]})
...     frame["amount"]
[9.5, None]

Subsystems, one module each: :mod:`mlops.features` (:class:`FeatureStore`),
:mod:`mlops.registry` (:class:`Registry`), :mod:`mlops.train`,
:mod:`mlops.infer` (:class:`Session`, :class:`Gemm`), :mod:`mlops.explain`
(:class:`Explainer`), :mod:`mlops.drift` (:class:`Profile`, tests, reports,
windows), :mod:`mlops.serve` (``Router``), :mod:`mlops.report` (the JSON
report and its HTML page) and :mod:`mlops.memory` (an allocation counter for
diagnostics).

The shared library is found through ``$MLOPS_LIBRARY``, a source checkout's
build directory, or the system loader. Failures raise subclasses of
:class:`mlops.Error` that carry the status code and the library's message.
"""
from ._lib import lib as _lib
from .db import Database, open
from .errors import (AlreadyExists, BufferTooSmall, Busy, Conflict, Corrupt, Error, FormatError, InternalError,
                     InvalidArgument, InvalidState, IOFailure, LimitExceeded, NotFound, OutOfMemory, PolicyRefused,
                     SchemaError, Unsupported)
from .frame import HAVE_NUMPY, Frame
from . import drift, explain, features, infer, memory, registry, report, serve, train
from .drift import Profile
from .explain import Explainer
from .features import FeatureStore
from .infer import Gemm, Session
from .registry import Registry

__all__ = [
    "open", "Database", "Frame", "HAVE_NUMPY", "version", "Registry", "Session", "Gemm", "FeatureStore", "Profile",
    "Explainer", "drift", "explain", "features", "infer", "memory", "registry", "report", "serve", "train",
    "Error", "InvalidArgument", "NotFound", "AlreadyExists", "Conflict", "Corrupt", "IOFailure", "OutOfMemory",
    "Unsupported", "PolicyRefused", "Busy", "SchemaError", "BufferTooSmall", "FormatError", "LimitExceeded",
    "InvalidState", "InternalError",
]


def version() -> str:
    """Version of the loaded C library, e.g. "0.1.0"."""
    return _lib.mlops_version().decode()


__version__ = version()
