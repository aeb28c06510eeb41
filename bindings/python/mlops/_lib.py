"""Loading the shared library and declaring the C signatures.

The library is looked for, in order, at ``$MLOPS_LIBRARY``, in the build
trees of a source checkout, and through the system loader. Every function
that is called gets its argument and result types declared here, so a wrong
call fails in Python instead of corrupting memory.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import List

SUPPORTED_MAJOR = 0
SUPPORTED_MIN_MINOR = 1

c_int = ctypes.c_int
c_int32 = ctypes.c_int32
c_uint32 = ctypes.c_uint32
c_int64 = ctypes.c_int64
c_size_t = ctypes.c_size_t
c_double = ctypes.c_double
c_float = ctypes.c_float
c_char_p = ctypes.c_char_p
c_void_p = ctypes.c_void_p
c_uint8_p = ctypes.POINTER(ctypes.c_uint8)
P = ctypes.POINTER


class ErrorDetail(ctypes.Structure):
    """Mirror of ``mlops_error``."""

    _fields_ = [
        ("code", c_int32),
        ("dependency_code", c_int32),
        ("subsystem", c_char_p),
        ("message", c_char_p),
    ]


def _candidates() -> List[str]:
    found: List[str] = []
    explicit = os.environ.get("MLOPS_LIBRARY")
    if explicit:
        found.append(explicit)
    root = Path(__file__).resolve().parents[3]
    for build in ("build", "build-sanitize", "build-bench"):
        found.append(str(root / build / "libmlops.so"))
    system = ctypes.util.find_library("mlops")
    if system:
        found.append(system)
    found.append("libmlops.so.0")
    return found


def _load() -> ctypes.CDLL:
    tried = []
    for candidate in _candidates():
        if os.path.sep in candidate and not os.path.exists(candidate):
            tried.append(f"{candidate} (absent)")
            continue
        try:
            return ctypes.CDLL(candidate)
        except OSError as exc:
            tried.append(f"{candidate} ({exc})")
    raise ImportError("libmlops shared library not found; set MLOPS_LIBRARY to its path. Tried: " + "; ".join(tried))


lib = _load()


def _declare(name: str, restype, *argtypes) -> None:
    function = getattr(lib, name)
    function.restype = restype
    function.argtypes = list(argtypes)


# common.h
_declare("mlops_error_last", P(ErrorDetail))
_declare("mlops_error_clear", None)
_declare("mlops_strerror", c_char_p, c_int)
_declare("mlops_version", c_char_p)
_declare("mlops_version_number", c_int32)
_declare("mlops_free", None, c_void_p)

# db.h
_declare("mlops_db_open", c_int, P(c_void_p), c_char_p, c_char_p)
_declare("mlops_db_close", None, c_void_p)
_declare("mlops_db_path", c_char_p, c_void_p)
_declare("mlops_db_schema_version", c_int, P(c_int32), c_void_p)
_declare("mlops_db_schema_version_supported", c_int32)
_declare("mlops_db_check", c_int, c_void_p)

# frame.h
_declare("mlops_frame_new", c_int, P(c_void_p))
_declare("mlops_frame_free", None, c_void_p)
_declare("mlops_frame_clone", c_int, P(c_void_p), c_void_p)
_declare("mlops_frame_rows", c_size_t, c_void_p)
_declare("mlops_frame_columns", c_size_t, c_void_p)
_declare("mlops_frame_column_index", c_int, P(c_size_t), c_void_p, c_char_p)
_declare("mlops_frame_column_name", c_char_p, c_void_p, c_size_t)
_declare("mlops_frame_column_type", c_int, c_void_p, c_size_t)
_declare("mlops_frame_column_dim", c_uint32, c_void_p, c_size_t)
_declare("mlops_frame_add_column", c_int, c_void_p, c_char_p, c_int32, c_uint32)
_declare("mlops_frame_add_int64", c_int, c_void_p, c_char_p, c_void_p, c_void_p, c_size_t)
_declare("mlops_frame_add_float64", c_int, c_void_p, c_char_p, c_void_p, c_void_p, c_size_t)
_declare("mlops_frame_add_bool", c_int, c_void_p, c_char_p, c_void_p, c_void_p, c_size_t)
_declare("mlops_frame_add_string", c_int, c_void_p, c_char_p, P(c_char_p), c_size_t)
_declare("mlops_frame_add_f32vec", c_int, c_void_p, c_char_p, c_uint32, c_void_p, c_void_p, c_size_t)
_declare("mlops_frame_drop_column", c_int, c_void_p, c_size_t)
_declare("mlops_frame_append_rows", c_int, c_void_p, c_size_t)
_declare("mlops_frame_set_null", c_int, c_void_p, c_size_t, c_size_t)
_declare("mlops_frame_get_string", c_int, P(c_char_p), P(c_size_t), c_void_p, c_size_t, c_size_t)
_declare("mlops_frame_column_int64", c_int, P(c_void_p), c_void_p, c_size_t)
_declare("mlops_frame_column_float64", c_int, P(c_void_p), c_void_p, c_size_t)
_declare("mlops_frame_column_bool", c_int, P(c_void_p), c_void_p, c_size_t)
_declare("mlops_frame_column_f32vec", c_int, P(c_void_p), c_void_p, c_size_t)
_declare("mlops_frame_column_nulls", c_int, P(c_void_p), c_void_p, c_size_t)
_declare("mlops_frame_select", c_int, P(c_void_p), c_void_p, P(c_char_p), c_size_t)
_declare("mlops_frame_take_rows", c_int, P(c_void_p), c_void_p, P(c_size_t), c_size_t)
_declare("mlops_frame_to_matrix", c_int, c_void_p, c_size_t, P(c_size_t), c_void_p, P(c_char_p), c_size_t,
         c_uint32)
_declare("mlops_frame_parse_csv", c_int, P(c_void_p), c_char_p, c_size_t, c_char_p)
_declare("mlops_frame_read_csv", c_int, P(c_void_p), c_char_p, c_char_p)
_declare("mlops_frame_format_csv", c_int, P(c_void_p), P(c_size_t), c_void_p, c_char_p)
_declare("mlops_frame_write_csv", c_int, c_void_p, c_char_p, c_char_p)


def check_version() -> None:
    number = lib.mlops_version_number()
    major, minor = number // 10000, number // 100 % 100
    if major != SUPPORTED_MAJOR or minor < SUPPORTED_MIN_MINOR:
        raise ImportError(
            f"libmlops {lib.mlops_version().decode()} is not supported by these bindings "
            f"(need {SUPPORTED_MAJOR}.{SUPPORTED_MIN_MINOR} or a later {SUPPORTED_MAJOR}.x)")


check_version()
