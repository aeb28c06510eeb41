"""Frames: typed, columnar, null-aware tables shared with the C library.

A :class:`Frame` is built from a mapping of column name to values: Python
lists (``None`` is null), ``array.array``, memoryviews, or numpy arrays when
numpy is installed. Numeric numpy arrays are handed to C without a Python-side
copy, and :meth:`Frame.numpy` returns views on the frame's own storage.
"""
from __future__ import annotations

import array
import ctypes
import math
import numbers
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ._handle import Handle, options_json
from ._lib import lib
from .errors import InvalidArgument, raise_for

try:  # numpy is optional: every call works without it
    if os.environ.get("MLOPS_PYTHON_NO_NUMPY"):
        raise ImportError("disabled by MLOPS_PYTHON_NO_NUMPY")
    import numpy as _np
except ImportError:
    _np = None

HAVE_NUMPY = _np is not None

INT64, FLOAT64, BOOL, STRING, F32VEC = 1, 2, 3, 4, 5
#: Column type codes and their names, as the library spells them.
TYPE_NAMES = {code: lib.mlops_frame_type_name(code).decode() for code in (INT64, FLOAT64, BOOL, STRING, F32VEC)}
_TYPES_BY_NAME = {name: code for code, name in TYPE_NAMES.items()}
_MLOPS_NULL = 2

ColumnValues = Union[Sequence[Any], "array.array", memoryview, Any]
Cell = Union[None, int, float, bool, str, List[float]]


def _name(name: str) -> bytes:
    if not isinstance(name, str):
        raise InvalidArgument(f"column names are strings, got {type(name).__name__}", -1)
    return name.encode()


def _infer_type(values: Sequence[Any]) -> int:
    kinds = set()
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            kinds.add(BOOL)
        elif isinstance(value, int):
            kinds.add(INT64)
        elif isinstance(value, float):
            kinds.add(FLOAT64)
        elif isinstance(value, str):
            kinds.add(STRING)
        elif isinstance(value, (list, tuple, array.array)) or (HAVE_NUMPY and isinstance(value, _np.ndarray)):
            kinds.add(F32VEC)
        else:
            raise InvalidArgument(f"cannot store a {type(value).__name__} in a frame", -1)
    if not kinds:
        return FLOAT64
    if kinds <= {INT64, FLOAT64}:
        return FLOAT64 if FLOAT64 in kinds else INT64
    if len(kinds) == 1:
        return kinds.pop()
    raise InvalidArgument("a column mixes " + ", ".join(sorted(TYPE_NAMES[k] for k in kinds)), -1)


def _fits(kind: int, value: Any) -> bool:
    """True when ``value`` may be stored in a cell of column type ``kind`` (numpy scalars included)."""
    is_bool = isinstance(value, bool) or (HAVE_NUMPY and isinstance(value, _np.bool_))
    if kind == BOOL:
        return is_bool
    if kind == INT64:
        return isinstance(value, numbers.Integral) and not is_bool
    if kind == FLOAT64:
        return isinstance(value, numbers.Real) and not is_bool
    if kind == STRING:
        return isinstance(value, str)
    return True  # a vector: its length is checked by the library


class Frame(Handle):
    """A typed, columnar, null-aware table.

    ``Frame({"id": [1, 2], "amount": [9.5, None]})`` builds one; ``types``
    forces column types by name ("int64", "float64", "bool", "string",
    "f32vec"). One thread at a time per frame.
    """

    _free = lib.mlops_frame_free
    _kind = "frame"

    def __init__(self, columns: Optional[Mapping[str, ColumnValues]] = None,
                 types: Optional[Mapping[str, str]] = None, *, _pointer: Optional[ctypes.c_void_p] = None):
        if _pointer is None:
            _pointer = ctypes.c_void_p()
            raise_for(lib.mlops_frame_new(ctypes.byref(_pointer)))
        super().__init__(_pointer)
        for name, values in (columns or {}).items():
            self.add_column(name, values, (types or {}).get(name))

    # ---- construction ----------------------------------------------------

    def add_column(self, name: str, values: ColumnValues, type: Optional[str] = None) -> None:  # noqa: A002
        """Append a column; its length must equal the frame's row count (unless the frame is empty)."""
        if type is not None and type not in _TYPES_BY_NAME:
            raise InvalidArgument(f'column "{name}": unknown type "{type}"', -1)
        if HAVE_NUMPY and isinstance(values, _np.ndarray):
            self._add_numpy(name, values, type)
            return
        if isinstance(values, (array.array, memoryview)):
            values = values.tolist()
        values = list(values)
        code = _TYPES_BY_NAME[type] if type else _infer_type(values)
        self._add_list(name, values, code)

    def _add_list(self, name: str, values: List[Any], code: int) -> None:
        rows = len(values)
        nulls = (ctypes.c_uint8 * max(rows, 1))(*[1 if v is None else 0 for v in values])
        key = _name(name)
        if code == STRING:
            cells = (ctypes.c_char_p * max(rows, 1))(*[None if v is None else str(v).encode() for v in values])
            raise_for(lib.mlops_frame_add_string(self._p, key, cells, rows))
        elif code == F32VEC:
            present = [v for v in values if v is not None]
            dim = len(present[0]) if present else 0
            if dim == 0 or any(len(v) != dim for v in present):
                raise InvalidArgument(f'column "{name}": vectors must all have the same, positive length', -1)
            flat = (ctypes.c_float * (rows * dim))()
            for row, vector in enumerate(values):
                if vector is not None:
                    flat[row * dim:(row + 1) * dim] = [float(x) for x in vector]
            raise_for(lib.mlops_frame_add_f32vec(self._p, key, dim, flat, nulls, rows))
        elif code == INT64:
            data = (ctypes.c_int64 * max(rows, 1))(*[0 if v is None else int(v) for v in values])
            raise_for(lib.mlops_frame_add_int64(self._p, key, data, nulls, rows))
        elif code == BOOL:
            data = (ctypes.c_uint8 * max(rows, 1))(*[0 if v is None else (1 if v else 0) for v in values])
            raise_for(lib.mlops_frame_add_bool(self._p, key, data, nulls, rows))
        else:
            data = (ctypes.c_double * max(rows, 1))(*[math.nan if v is None else float(v) for v in values])
            raise_for(lib.mlops_frame_add_float64(self._p, key, data, nulls, rows))

    def _add_numpy(self, name: str, values: Any, type: Optional[str]) -> None:  # noqa: A002
        key = _name(name)
        if type == "string" or values.dtype.kind in "OUS":
            self._add_list(name, [None if v is None else str(v) for v in values.tolist()], STRING)
            return
        if type == "f32vec" or (values.ndim == 2 and type is None):
            matrix = _np.ascontiguousarray(values, dtype=_np.float32)
            if matrix.ndim != 2 or matrix.shape[1] == 0:
                raise InvalidArgument(f'column "{name}": a vector column needs a 2-D array', -1)
            raise_for(lib.mlops_frame_add_f32vec(self._p, key, matrix.shape[1], matrix.ctypes.data, None,
                                                 matrix.shape[0]))
            return
        if values.ndim != 1:
            raise InvalidArgument(f'column "{name}": expected a 1-D array, got {values.ndim}-D', -1)
        kind = type or {"b": "bool", "i": "int64", "u": "int64"}.get(values.dtype.kind, "float64")
        if kind == "bool":
            data = _np.ascontiguousarray(values, dtype=_np.uint8)
            raise_for(lib.mlops_frame_add_bool(self._p, key, data.ctypes.data, None, len(data)))
        elif kind == "int64":
            data = _np.ascontiguousarray(values, dtype=_np.int64)
            raise_for(lib.mlops_frame_add_int64(self._p, key, data.ctypes.data, None, len(data)))
        else:
            data = _np.ascontiguousarray(values, dtype=_np.float64)
            nulls = _np.ascontiguousarray(_np.isnan(data), dtype=_np.uint8)
            raise_for(lib.mlops_frame_add_float64(self._p, key, data.ctypes.data, nulls.ctypes.data, len(data)))

    # ---- shape -----------------------------------------------------------

    @property
    def rows(self) -> int:
        """Number of rows."""
        return lib.mlops_frame_rows(self._p)

    def __len__(self) -> int:
        return self.rows

    @property
    def columns(self) -> List[str]:
        """Column names in order."""
        return [lib.mlops_frame_column_name(self._p, i).decode() for i in range(lib.mlops_frame_columns(self._p))]

    def index(self, name: str) -> int:
        """Position of column ``name``; raises :class:`mlops.NotFound`."""
        out = ctypes.c_size_t()
        raise_for(lib.mlops_frame_column_index(ctypes.byref(out), self._p, _name(name)))
        return out.value

    def type(self, name: str) -> str:
        """Type name of column ``name`` ("int64", "float64", "bool", "string", "f32vec")."""
        return TYPE_NAMES[raise_for(lib.mlops_frame_column_type(self._p, self.index(name)))]

    def dim(self, name: str) -> int:
        """Vector dimension of an f32vec column (1 for scalar columns)."""
        return lib.mlops_frame_column_dim(self._p, self.index(name))

    # ---- reading ---------------------------------------------------------

    def _raw(self, getter, column: int, ctype, count: int):
        out = ctypes.c_void_p()
        raise_for(getter(ctypes.byref(out), self._p, column))
        if count == 0:
            return (ctype * 0)()
        buffer = (ctype * count).from_address(out.value)
        buffer.owner = self  # keep the frame alive while a view exists
        return buffer

    def nulls(self, name: str) -> List[bool]:
        """Null mask of a column: True where the cell is null."""
        column = self.index(name)
        return [bool(b) for b in self._raw(lib.mlops_frame_column_nulls, column, ctypes.c_uint8, self.rows)]

    def __getitem__(self, name: str) -> List[Any]:
        """Column ``name`` as a list, ``None`` for nulls (vectors as lists of floats)."""
        column = self.index(name)
        kind = raise_for(lib.mlops_frame_column_type(self._p, column))
        rows = self.rows
        nulls = self._raw(lib.mlops_frame_column_nulls, column, ctypes.c_uint8, rows)
        if kind == STRING:
            out: List[Any] = []
            text = ctypes.c_char_p()
            for row in range(rows):
                status = raise_for(lib.mlops_frame_get_string(ctypes.byref(text), None, self._p, column, row))
                out.append(None if status == _MLOPS_NULL else text.value.decode())
            return out
        if kind == F32VEC:
            dim = lib.mlops_frame_column_dim(self._p, column)
            flat = self._raw(lib.mlops_frame_column_f32vec, column, ctypes.c_float, rows * dim)
            return [None if nulls[r] else list(flat[r * dim:(r + 1) * dim]) for r in range(rows)]
        getter, ctype, convert = {
            INT64: (lib.mlops_frame_column_int64, ctypes.c_int64, int),
            FLOAT64: (lib.mlops_frame_column_float64, ctypes.c_double, float),
            BOOL: (lib.mlops_frame_column_bool, ctypes.c_uint8, bool),
        }[kind]
        data = self._raw(getter, column, ctype, rows)
        return [None if nulls[r] else convert(data[r]) for r in range(rows)]

    def numpy(self, name: str) -> Any:
        """A numpy view (no copy) of a numeric column; null cells hold NaN (float) or 0.

        The view stays valid while the frame is neither modified nor closed.
        Needs numpy; string columns are refused (use ``frame[name]``).
        """
        if not HAVE_NUMPY:
            raise ImportError("numpy is not available")
        column = self.index(name)
        kind = raise_for(lib.mlops_frame_column_type(self._p, column))
        rows = self.rows
        if kind == STRING:
            raise InvalidArgument(f'column "{name}" is a string column', -1)
        if kind == F32VEC:
            dim = lib.mlops_frame_column_dim(self._p, column)
            flat = self._raw(lib.mlops_frame_column_f32vec, column, ctypes.c_float, rows * dim)
            return _np.ctypeslib.as_array(flat).reshape(rows, dim)
        getter, ctype = {
            INT64: (lib.mlops_frame_column_int64, ctypes.c_int64),
            FLOAT64: (lib.mlops_frame_column_float64, ctypes.c_double),
            BOOL: (lib.mlops_frame_column_bool, ctypes.c_uint8),
        }[kind]
        view = _np.ctypeslib.as_array(self._raw(getter, column, ctype, rows))
        return view.view(_np.bool_) if kind == BOOL else view

    def to_dict(self) -> Dict[str, List[Any]]:
        """All columns as lists, ``None`` for nulls."""
        return {name: self[name] for name in self.columns}

    def to_matrix(self, columns: Optional[Sequence[str]] = None, refuse_nulls: bool = False) -> Any:
        """Numeric columns as a row-major float32 matrix.

        Returns a numpy array (rows x width) with numpy, else a list of row
        lists. Vector columns spread over their dimension; nulls become NaN
        unless ``refuse_nulls``.
        """
        names = list(columns) if columns is not None else self.columns
        keys = (ctypes.c_char_p * max(len(names), 1))(*[_name(n) for n in names])
        width = ctypes.c_size_t()
        status = lib.mlops_frame_to_matrix(None, 0, ctypes.byref(width), self._p, keys, len(names),
                                           1 if refuse_nulls else 0)
        if status != -12 or width.value == 0 or self.rows == 0:
            raise_for(status)
        count = self.rows * width.value
        if HAVE_NUMPY:
            out = _np.empty((self.rows, width.value), dtype=_np.float32)
            raise_for(lib.mlops_frame_to_matrix(out.ctypes.data, count, None, self._p, keys, len(names),
                                                1 if refuse_nulls else 0))
            return out
        buffer = (ctypes.c_float * max(count, 1))()
        raise_for(lib.mlops_frame_to_matrix(buffer, count, None, self._p, keys, len(names), 1 if refuse_nulls else 0))
        w = width.value
        return [list(buffer[r * w:(r + 1) * w]) for r in range(self.rows)]

    # ---- cells -----------------------------------------------------------

    def _cell(self, row: int, name: str) -> Tuple[int, int, int]:
        """(row, column, type) with a negative row counted from the end, as Python lists do."""
        column = self.index(name)
        kind = raise_for(lib.mlops_frame_column_type(self._p, column))
        if isinstance(row, bool) or not isinstance(row, numbers.Integral):
            raise InvalidArgument(f'column "{name}": row indexes are integers, got {type(row).__name__}', -1)
        row = int(row)
        if row < 0:
            row += self.rows
        if row < 0:
            raise InvalidArgument(f'column "{name}": row {row - self.rows} out of range ({self.rows} rows)', -1)
        return row, column, kind

    def get(self, row: int, name: str) -> Cell:
        """The cell at ``row`` of column ``name`` (negative rows count from the end); ``None`` when null.

        Raises :class:`mlops.InvalidArgument` for a row out of range and
        :class:`mlops.NotFound` for an unknown column.
        """
        row, column, kind = self._cell(row, name)
        if kind == STRING:
            text = ctypes.c_char_p()
            status = raise_for(lib.mlops_frame_get_string(ctypes.byref(text), None, self._p, column, row))
            return None if status == _MLOPS_NULL else text.value.decode()
        if kind == F32VEC:
            vector = ctypes.POINTER(ctypes.c_float)()
            status = raise_for(lib.mlops_frame_get_f32vec(ctypes.byref(vector), self._p, column, row))
            return None if status == _MLOPS_NULL else vector[:lib.mlops_frame_column_dim(self._p, column)]
        getter, out, convert = {
            INT64: (lib.mlops_frame_get_int64, ctypes.c_int64(), int),
            FLOAT64: (lib.mlops_frame_get_float64, ctypes.c_double(), float),
            BOOL: (lib.mlops_frame_get_bool, ctypes.c_int32(), bool),
        }[kind]
        status = raise_for(getter(ctypes.byref(out), self._p, column, row))
        return None if status == _MLOPS_NULL else convert(out.value)

    def set(self, row: int, name: str, value: Cell) -> None:
        """Set the cell at ``row`` of column ``name``; ``None`` makes it null.

        The value must suit the column: an int for int64, a number for
        float64, a bool for bool, a str for string, ``dim`` numbers for f32vec.
        """
        row, column, kind = self._cell(row, name)
        if value is None:
            raise_for(lib.mlops_frame_set_null(self._p, column, row))
            return
        if not _fits(kind, value):
            raise InvalidArgument(f'column "{name}" is {TYPE_NAMES[kind]}: cannot store a {type(value).__name__}', -1)
        if kind == STRING:
            data = value.encode()
            raise_for(lib.mlops_frame_set_string(self._p, column, row, data, len(data)))
        elif kind == F32VEC:
            floats = [float(x) for x in value]
            vector = (ctypes.c_float * max(len(floats), 1))(*floats)
            raise_for(lib.mlops_frame_set_f32vec(self._p, column, row, vector, len(floats)))
        elif kind == INT64:
            raise_for(lib.mlops_frame_set_int64(self._p, column, row, int(value)))
        elif kind == BOOL:
            raise_for(lib.mlops_frame_set_bool(self._p, column, row, 1 if value else 0))
        else:
            raise_for(lib.mlops_frame_set_float64(self._p, column, row, float(value)))

    def is_null(self, row: int, name: str) -> bool:
        """True when the cell at ``row`` of column ``name`` is null."""
        row, column, _ = self._cell(row, name)
        return bool(raise_for(lib.mlops_frame_is_null(self._p, column, row)))

    def append_rows(self, count: int = 1) -> None:
        """Append ``count`` rows whose cells are all null; fill them with :meth:`set`."""
        if count < 0:
            raise InvalidArgument(f"append_rows: count {count} is negative", -1)
        raise_for(lib.mlops_frame_append_rows(self._p, count))

    def add_null_column(self, name: str, type: str, dim: int = 0) -> None:  # noqa: A002
        """Append an all-null column of ``type`` (``dim`` > 0 only for "f32vec"), to fill with :meth:`set`."""
        if type not in _TYPES_BY_NAME:
            raise InvalidArgument(f'column "{name}": unknown type "{type}"', -1)
        raise_for(lib.mlops_frame_add_column(self._p, _name(name), _TYPES_BY_NAME[type], dim))

    # ---- transformation and CSV -------------------------------------------

    def select(self, columns: Iterable[str]) -> "Frame":
        """A new frame with copies of the named columns, in that order."""
        names = list(columns)
        keys = (ctypes.c_char_p * max(len(names), 1))(*[_name(n) for n in names])
        out = ctypes.c_void_p()
        raise_for(lib.mlops_frame_select(ctypes.byref(out), self._p, keys, len(names)))
        return Frame(_pointer=out)

    def take(self, rows: Iterable[int]) -> "Frame":
        """A new frame with copies of the given rows, in that order (repeats allowed)."""
        picked = list(rows)
        indexes = (ctypes.c_size_t * max(len(picked), 1))(*picked)
        out = ctypes.c_void_p()
        raise_for(lib.mlops_frame_take_rows(ctypes.byref(out), self._p, indexes, len(picked)))
        return Frame(_pointer=out)

    def copy(self) -> "Frame":
        """A deep copy."""
        out = ctypes.c_void_p()
        raise_for(lib.mlops_frame_clone(ctypes.byref(out), self._p))
        return Frame(_pointer=out)

    def drop(self, name: str) -> None:
        """Remove column ``name``."""
        raise_for(lib.mlops_frame_drop_column(self._p, self.index(name)))

    def to_csv(self, path: Optional[Union[str, os.PathLike]] = None, **options: Any) -> Optional[str]:
        """Write CSV to ``path`` (replaced atomically), or return it as text when no path is given."""
        if path is not None:
            raise_for(lib.mlops_frame_write_csv(self._p, os.fsencode(path), options_json(options or None)))
            return None
        out = ctypes.c_void_p()
        length = ctypes.c_size_t()
        raise_for(lib.mlops_frame_format_csv(ctypes.byref(out), ctypes.byref(length), self._p,
                                             options_json(options or None)))
        try:
            return ctypes.string_at(out, length.value).decode()
        finally:
            lib.mlops_free(out)

    @classmethod
    def from_csv(cls, source: Union[str, bytes, os.PathLike], *, text: bool = False, **options: Any) -> "Frame":
        """Read CSV from a file path, or parse ``source`` itself when ``text=True``.

        Options are those of ``mlops_frame_parse_csv``: ``header``,
        ``delimiter``, ``schema`` (column name to type), ``max_field_bytes``,
        ``max_frame_bytes``.
        """
        out = ctypes.c_void_p()
        if text:
            data = source.encode() if isinstance(source, str) else bytes(source)
            raise_for(lib.mlops_frame_parse_csv(ctypes.byref(out), data, len(data), options_json(options or None)))
        else:
            raise_for(lib.mlops_frame_read_csv(ctypes.byref(out), os.fsencode(source), options_json(options or None)))
        return cls(_pointer=out)

    def __repr__(self) -> str:
        if self.closed:
            return "<mlops.Frame closed>"
        return f"<mlops.Frame {self.rows} rows x {len(self.columns)} columns: {', '.join(self.columns)}>"
