"""The lifetime of a C handle owned by a Python object."""
from __future__ import annotations

import ctypes
import json
from typing import Any, Callable, Mapping, Optional

from ._lib import lib
from .errors import InvalidState, raise_for


class Handle:
    """Owns one C handle: freed by ``close()``, by ``with``, or by the garbage collector.

    Using the object after ``close()`` raises :class:`mlops.errors.InvalidState`.
    """

    _free: Callable[[Any], None]
    _kind = "handle"

    def __init__(self, pointer: ctypes.c_void_p):
        self._ptr: Optional[ctypes.c_void_p] = pointer

    @property
    def _p(self) -> ctypes.c_void_p:
        if self._ptr is None:
            raise InvalidState(f"the {self._kind} is closed", -15)
        return self._ptr

    @property
    def closed(self) -> bool:
        """True once the handle has been released."""
        return self._ptr is None

    def close(self) -> None:
        """Release the C object now; calling it again does nothing."""
        pointer, self._ptr = self._ptr, None
        if pointer is not None:
            type(self)._free(pointer)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass


def options_json(options: Optional[Mapping[str, Any]]) -> Optional[bytes]:
    """Serialize an options mapping for the C API (None stays None)."""
    if options is None:
        return None
    return json.dumps(dict(options)).encode()


def take_text(status: int, out: ctypes.c_void_p) -> str:
    """Decode and free a C string handed to the caller after a call returning ``status``."""
    raise_for(status)
    try:
        return ctypes.string_at(out).decode() if out.value else ""
    finally:
        lib.mlops_free(out)


def take_json(status: int, out: ctypes.c_void_p) -> Any:
    """Parse and free a JSON document handed to the caller after a call returning ``status``."""
    return json.loads(take_text(status, out))


def take_bytes(status: int, out: ctypes.c_void_p, length: ctypes.c_size_t) -> bytes:
    """Copy and free a byte buffer handed to the caller after a call returning ``status``."""
    raise_for(status)
    try:
        return ctypes.string_at(out, length.value) if length.value else b""
    finally:
        lib.mlops_free(out)
