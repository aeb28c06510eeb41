"""Float32 row batches in and out of C, in the caller's own kind of container.

Inputs may be a list of rows, one flat row (a list of numbers), an
``array.array``, a memoryview or a numpy array; results come back as the
same kind: a list of rows (or one row), an ``array.array('f')``, a
memoryview of shape (rows, width), or a numpy array of shape (rows, width).
A contiguous float32 buffer that is writable is passed to C without a copy.
"""
from __future__ import annotations

import array
import ctypes
from typing import Any, Tuple

from .errors import InvalidArgument
from .frame import HAVE_NUMPY, _np

LIST_ROWS, LIST_ROW, ARRAY, MEMORYVIEW, NUMPY = range(5)

# C refuses NULL buffers even for zero rows: empty batches point here.
_EMPTY = (ctypes.c_float * 1)()


class Batch:
    """Rows of floats ready for C: ``pointer``, ``rows``, and the caller's container kind."""

    def __init__(self, data: Any, width: int, what: str):
        self.kind, self.keep = self._classify(data)
        if width <= 0:
            raise InvalidArgument(f"{what}: the model has no single float input", -1)
        count = self._count()
        if count % width:
            raise InvalidArgument(f"{what}: {count} values are not whole rows of {width}", -1)
        self.rows = count // width
        self.width = width

    def _classify(self, data: Any) -> Tuple[int, Any]:
        if HAVE_NUMPY and isinstance(data, _np.ndarray):
            return NUMPY, _np.ascontiguousarray(data, dtype=_np.float32)
        if isinstance(data, array.array):
            return ARRAY, data if data.typecode == "f" else array.array("f", data)
        if isinstance(data, memoryview):
            flat = data.cast("B").cast(data.format) if data.ndim > 1 else data
            if data.format == "f" and data.c_contiguous and not data.readonly:
                return MEMORYVIEW, flat
            return MEMORYVIEW, memoryview(array.array("f", flat.tolist()))
        if isinstance(data, (list, tuple)):
            row_types = (list, tuple, _np.ndarray) if HAVE_NUMPY else (list, tuple)
            if data and isinstance(data[0], row_types):
                return LIST_ROWS, array.array("f", [float(x) for row in data for x in row])
            return LIST_ROW, array.array("f", [float(x) for x in data])
        raise InvalidArgument(f"cannot read float rows from a {type(data).__name__}", -1)

    def _count(self) -> int:
        if self.kind == NUMPY:
            return int(self.keep.size)
        if self.kind == MEMORYVIEW:
            return self.keep.nbytes // 4
        return len(self.keep)

    @property
    def pointer(self) -> Any:
        """Address of the first float (valid while this batch lives)."""
        if self.kind == NUMPY:
            return self.keep.ctypes.data
        if self.rows == 0:
            return ctypes.addressof(_EMPTY)
        return ctypes.addressof((ctypes.c_float * 1).from_buffer(self.keep))

    def output(self, width: int) -> "Result":
        """An output buffer for ``rows`` x ``width`` floats in this batch's container kind."""
        return Result(self.kind, self.rows, width)


class Result:
    """Output floats written by C, handed back in the caller's container kind."""

    def __init__(self, kind: int, rows: int, width: int):
        self.kind, self.rows, self.width = kind, rows, width
        self.count = rows * width
        if kind == NUMPY:
            self.buffer = _np.empty((rows, width), dtype=_np.float32)
            self.pointer = self.buffer.ctypes.data if self.count else ctypes.addressof(_EMPTY)
        else:
            self.buffer = array.array("f", bytes(4 * self.count))
            self.pointer = self.buffer.buffer_info()[0] if self.count else ctypes.addressof(_EMPTY)

    def value(self) -> Any:
        """The results as the input's kind."""
        if self.kind in (NUMPY, ARRAY):
            return self.buffer
        if self.kind == MEMORYVIEW:
            return memoryview(self.buffer).cast("B").cast("f", [self.rows, self.width]) if self.count else \
                memoryview(self.buffer)
        rows = [self.buffer[r * self.width:(r + 1) * self.width].tolist() for r in range(self.rows)]
        return rows[0] if self.kind == LIST_ROW and len(rows) == 1 else rows
