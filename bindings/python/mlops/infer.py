"""Inference: ONNX sessions compiled to int8 or fp32 plans, and the quantized GEMM.

A :class:`Session` is immutable once open, and :meth:`Session.predict` releases
the GIL while C runs, so Python threads can share one session.
"""
from __future__ import annotations

import ctypes
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from ._floats import Batch
from ._handle import Handle, options_json, take_json
from ._lib import lib
from .db import Database
from .errors import InvalidArgument, raise_for
from .frame import Frame

_MAX_RANK = 8

PRECISIONS = {"int8": 0, "fp32": 1, "int8_weights": 2}
ACTIVATIONS = {"none": 0, "relu": 1, "leaky_relu": 2, "sigmoid": 3, "tanh": 4, "gelu": 5, "clip": 6}


def _shape(getter, session: ctypes.c_void_p, index: int) -> Tuple[int, ...]:
    dims = (ctypes.c_int64 * _MAX_RANK)()
    rank = ctypes.c_size_t()
    raise_for(getter(dims, _MAX_RANK, ctypes.byref(rank), session, index))
    return tuple(dims[:rank.value])


class Session(Handle):
    """One ONNX model compiled for this CPU.

    ``Session(model, precision="int8")`` opens from ONNX bytes or a file path,
    ``Session.open(db, "fraud@production")`` from the registry; options are
    those of ``mlops_session_open`` ("precision": "fp32", "int8" or "auto";
    "auto_tolerance"; "isa"; "threads"). ``calibration`` is a :class:`Frame`
    whose numeric columns form input rows (needed by "auto").
    """

    _free = lib.mlops_session_free
    _kind = "session"

    def __init__(self, model: Union[bytes, bytearray, memoryview, str, os.PathLike],
                 calibration: Optional[Frame] = None, **options: Any):
        out = ctypes.c_void_p()
        encoded = options_json(options or None)
        frame = calibration._p if calibration is not None else None
        if isinstance(model, (bytes, bytearray, memoryview)):
            data = bytes(model)
            raise_for(lib.mlops_session_open(ctypes.byref(out), data, len(data), encoded, frame))
        else:
            raise_for(lib.mlops_session_open_file(ctypes.byref(out), os.fsencode(model), encoded, frame))
        super().__init__(out)

    @classmethod
    def open(cls, db: Database, reference: str, calibration: Optional[Frame] = None, **options: Any) -> "Session":
        """Open the registry version ``reference`` names ("fraud@production", "fraud@7").

        The artifact is verified as it is read; a version without a signature
        gets this model's (see :attr:`signature`).
        """
        if not isinstance(db, Database):
            raise InvalidArgument(f"Session.open needs a Database, got {type(db).__name__}", -1)
        out = ctypes.c_void_p()
        frame = calibration._p if calibration is not None else None
        raise_for(lib.mlops_session_open_registry(ctypes.byref(out), db._p, reference.encode(),
                                                  options_json(options or None), frame))
        session = cls.__new__(cls)
        Handle.__init__(session, out)
        return session

    def predict(self, rows: Any) -> Any:
        """Run input rows (list of rows, one row, ``array.array``, memoryview, numpy) through the first output.

        The result has the input's kind: a list of rows (or one row), an
        ``array.array('f')``, a (rows x width) memoryview or numpy array.
        """
        batch = Batch(rows, lib.mlops_session_input_width(self._p), "predict")
        result = batch.output(lib.mlops_session_output_width(self._p))
        raise_for(lib.mlops_session_run(self._p, batch.pointer, batch.rows, result.pointer, result.count))
        return result.value()

    @property
    def inputs(self) -> List[str]:
        """Names of the graph inputs (initializers excluded)."""
        return [lib.mlops_session_input_name(self._p, i).decode()
                for i in range(lib.mlops_session_input_count(self._p))]

    @property
    def outputs(self) -> List[str]:
        """Names of the graph outputs."""
        return [lib.mlops_session_output_name(self._p, i).decode()
                for i in range(lib.mlops_session_output_count(self._p))]

    def input_shape(self, index: int = 0) -> Tuple[int, ...]:
        """Shape of input ``index``; -1 marks the batch dimension."""
        return _shape(lib.mlops_session_input_shape, self._p, index)

    def output_shape(self, index: int = 0) -> Tuple[int, ...]:
        """Shape of output ``index`` for one input row."""
        return _shape(lib.mlops_session_output_shape, self._p, index)

    @property
    def input_width(self) -> int:
        """Floats per row of the first input."""
        return lib.mlops_session_input_width(self._p)

    @property
    def output_width(self) -> int:
        """Floats per input row of the first output."""
        return lib.mlops_session_output_width(self._p)

    @property
    def feature_names(self) -> Optional[List[str]]:
        """Names of the input row's columns from the registry version's metadata, or None when unknown."""
        names = [lib.mlops_session_feature_name(self._p, i) for i in range(lib.mlops_session_input_width(self._p))]
        if not names or names[0] is None:
            return None
        return [name.decode() for name in names]

    @property
    def signature(self) -> Dict[str, Any]:
        """Inputs and outputs with their names, element types and shapes (-1: batch), as versions keep them."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_session_signature(ctypes.byref(out), self._p), out)

    @property
    def kernel(self) -> str:
        """Kernel of the int8 layers ("ref", "avx2", "avx512vnni", "amx"), or "fp32"."""
        return lib.mlops_session_kernel(self._p).decode()

    def plan(self) -> Dict[str, Any]:
        """The compiled plan: opset, kernel, and the steps with their precision."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_session_plan(ctypes.byref(out), self._p), out)

    def accuracy(self, frame: Frame) -> Dict[str, Any]:
        """int8 against fp32 on the rows of ``frame``: top-1 agreement, output and per-layer errors."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_session_accuracy(ctypes.byref(out), self._p, frame._p), out)

    def __repr__(self) -> str:
        if self.closed:
            return "<mlops.Session closed>"
        return f"<mlops.Session {self.input_width} -> {self.output_width} floats, kernel {self.kernel}>"


class GemmOptions(ctypes.Structure):
    """Mirror of ``mlops_gemm_options`` (version 1); filled by ``mlops_gemm_options_init``."""

    _fields_ = [
        ("version", ctypes.c_uint32),
        ("precision", ctypes.c_int32),
        ("activation", ctypes.c_int32),
        ("alpha", ctypes.c_float),
        ("beta", ctypes.c_float),
        ("transposed", ctypes.c_int32),
        ("threads", ctypes.c_int32),
        ("isa", ctypes.c_char_p),
    ]


class Gemm(Handle):
    """``y = act(x . W + b)`` with W (k x n) packed once, in int8 (default) or fp32.

    ``Gemm(w_rows, bias, precision="int8", activation="relu", threads=1, isa=None)``;
    ``w_rows`` is k rows of n floats. Calling the ``Gemm`` uses its own
    scratch, one thread at a time; :meth:`run` takes the caller's scratch, so
    threads may share one ``Gemm``, each with its own buffer.
    """

    _free = lib.mlops_gemm_free
    _kind = "gemm"

    def __init__(self, weights: Any, bias: Optional[Sequence[float]] = None, *, precision: str = "int8",
                 activation: str = "none", alpha: Optional[float] = None, beta: Optional[float] = None,
                 threads: int = 1, isa: Optional[str] = None):
        if precision not in PRECISIONS or activation not in ACTIVATIONS:
            raise InvalidArgument(f'unknown precision "{precision}" or activation "{activation}"', -1)
        k = len(weights)
        n = len(weights[0]) if k else 0
        w = Batch(weights, max(n, 1), "weights")
        self.k, self.n = k, n
        options = GemmOptions()
        lib.mlops_gemm_options_init(ctypes.byref(options))
        options.precision, options.activation, options.threads = PRECISIONS[precision], ACTIVATIONS[activation], threads
        if alpha is not None:
            options.alpha = alpha
        if beta is not None:
            options.beta = beta
        self._isa = None if isa is None else isa.encode()
        options.isa = self._isa
        b = None if bias is None else Batch(list(bias), max(n, 1), "bias")
        if b is not None and b.rows != 1:
            raise InvalidArgument(f"bias: {n} values expected", -1)
        out = ctypes.c_void_p()
        raise_for(lib.mlops_gemm_pack(ctypes.byref(out), w.pointer, k, n, n, None if b is None else b.pointer,
                                      ctypes.byref(options)))
        super().__init__(out)

    def __call__(self, rows: Any) -> Any:
        """``act(x . W + b)`` for rows of k floats, returned in the input's kind."""
        batch = Batch(rows, self.k, "gemm")
        result = batch.output(self.n)
        raise_for(lib.mlops_gemm_run(self._p, batch.pointer, batch.rows, self.k, result.pointer, self.n))
        return result.value()

    def scratch_bytes(self, rows: int) -> int:
        """Bytes of scratch :meth:`run` needs for ``rows`` input rows (0 in fp32)."""
        if rows < 0:
            raise InvalidArgument(f"gemm: {rows} rows", -1)
        return lib.mlops_gemm_scratch_bytes(self._p, rows)

    def run(self, rows: Any, scratch: Union[bytearray, memoryview, Any]) -> Any:
        """As calling the ``Gemm``, with ``scratch`` a writable buffer of at least :meth:`scratch_bytes` bytes.

        The GIL is released while C runs; threads sharing this ``Gemm`` each
        pass their own scratch (e.g. ``bytearray(gemm.scratch_bytes(rows))``).
        A smaller buffer raises :class:`mlops.BufferTooSmall`.
        """
        batch = Batch(rows, self.k, "gemm")
        result = batch.output(self.n)
        try:
            view = memoryview(scratch).cast("B")
        except TypeError as exc:
            raise InvalidArgument(f"gemm: scratch must be a writable buffer, got {type(scratch).__name__}", -1) \
                from exc
        if view.readonly:
            raise InvalidArgument("gemm: scratch must be a writable buffer, got a read-only one", -1)
        size = view.nbytes
        address = ctypes.addressof((ctypes.c_char * size).from_buffer(view)) if size else None
        raise_for(lib.mlops_gemm_run_scratch(self._p, batch.pointer, batch.rows, self.k, result.pointer, self.n,
                                             address, size))
        return result.value()

    @property
    def kernel(self) -> str:
        """Kernel in use: "ref", "avx2", "avx512vnni", "amx", or "blas" for fp32."""
        return lib.mlops_gemm_kernel(self._p).decode()


def default_isa() -> str:
    """The int8 kernel chosen by default on this machine (honours ``$MLOPS_ISA``)."""
    out = ctypes.c_char_p()
    raise_for(lib.mlops_gemm_isa_default(ctypes.byref(out)))
    return out.value.decode()
