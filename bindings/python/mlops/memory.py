"""The library's allocation hook, for diagnostics: count allocations, fail one on purpose.

``mlops_allocator_set`` routes every allocation the library makes for itself
(not those of SQLite, zstd or OpenBLAS) through host functions. From Python
the only hook offered is :class:`AllocationCounter`, a context manager that
counts calls and can make the Nth allocation fail, to see an
:class:`mlops.OutOfMemory` path run:

>>> with mlops.memory.AllocationCounter() as counts:
...     mlops.Frame({"a": [1, 2, 3]}).close()
>>> counts.allocations > 0
True

Why it is safe from ctypes: the hooks forward to the C library's own
``malloc``, ``realloc`` and ``free``, the functions the library uses when no
hook is set, so a block allocated before the counter was installed may be
freed while it is, and the other way round. The hook functions live as long
as the process, and when no counter is active they only forward, so a
library thread that read the hook just before it was removed still lands
somewhere valid. The cyclic garbage collector is paused while a counter is
installed, so no handle is freed from inside a hook (an allocation inside the
library must not re-enter the library on the same thread). Every allocation
takes the GIL while a counter is installed: it is slow, for tests and
diagnostics only. Install it while no other thread is inside the library.
"""
from __future__ import annotations

import atexit
import ctypes
import gc
import threading
from typing import Any, Optional

from ._lib import Allocator, lib
from .errors import InvalidArgument, InvalidState, raise_for

__all__ = ["AllocationCounter"]

_ALLOCATOR_VERSION = 1

_libc = ctypes.CDLL(None)
_libc.malloc.restype = ctypes.c_void_p
_libc.malloc.argtypes = [ctypes.c_size_t]
_libc.realloc.restype = ctypes.c_void_p
_libc.realloc.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_libc.free.restype = None
_libc.free.argtypes = [ctypes.c_void_p]

_lock = threading.Lock()  # installing and removing
_counting = threading.Lock()  # the counts, updated from whichever thread allocates
_active: Optional["AllocationCounter"] = None


def _granted(counter: Optional["AllocationCounter"], size: int) -> bool:
    """Count one allocation of ``size`` bytes; False when it is the one to fail."""
    if counter is None:
        return True
    with _counting:
        counter.allocations += 1
        counter.bytes_requested += size
        if counter.fail_at is None or counter.allocations != counter.fail_at:
            return True
        counter.failed += 1
        return False


def _malloc(size: int, _payload: Any) -> Optional[int]:
    return _libc.malloc(size) if _granted(_active, size) else None


def _realloc(pointer: Optional[int], size: int, _payload: Any) -> Optional[int]:
    counter = _active
    if counter is not None:
        with _counting:
            counter.reallocations += 1
    return _libc.realloc(pointer, size) if _granted(counter, size) else None


def _free(pointer: Optional[int], _payload: Any) -> None:
    counter = _active
    if counter is not None:
        with _counting:
            counter.frees += 1
    _libc.free(pointer)


# Built once and never released: the library may hold these pointers at any time.
_HOOKS = Allocator(_ALLOCATOR_VERSION, Allocator.MALLOC(_malloc), Allocator.REALLOC(_realloc),
                   Allocator.FREE(_free), None)


class AllocationCounter:
    """Counts the library's allocations while installed (``with``); optionally fails the ``fail_at``-th one.

    ``allocations`` counts ``malloc`` and ``realloc`` calls (``fail_at`` is
    1-based over them, and only that one call fails), ``reallocations`` the
    ``realloc`` calls among them, ``frees`` the ``free`` calls,
    ``bytes_requested`` the sizes asked for, ``failed`` the failures made.
    One counter at a time per process.
    """

    def __init__(self, fail_at: Optional[int] = None):
        if fail_at is not None and fail_at < 1:
            raise InvalidArgument(f"fail_at is 1 or more, got {fail_at}", -1)
        self.fail_at = fail_at
        self.allocations = 0
        self.reallocations = 0
        self.frees = 0
        self.bytes_requested = 0
        self.failed = 0
        self._gc_was_enabled = False

    def __enter__(self) -> "AllocationCounter":
        global _active
        with _lock:
            if _active is not None:
                raise InvalidState("an AllocationCounter is already installed", -15)
            self._gc_was_enabled = gc.isenabled()
            gc.disable()
            _active = self
            status = lib.mlops_allocator_set(ctypes.byref(_HOOKS))
            if status < 0:
                _active = None
                self._restore_gc()
                raise_for(status)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        _uninstall()

    def _restore_gc(self) -> None:
        if self._gc_was_enabled:
            gc.enable()

    def __repr__(self) -> str:
        return (f"<mlops.memory.AllocationCounter allocations={self.allocations} reallocations={self.reallocations} "
                f"frees={self.frees} bytes_requested={self.bytes_requested} failed={self.failed}>")


def _uninstall() -> None:
    global _active
    with _lock:
        counter, _active = _active, None
        if counter is not None:
            lib.mlops_allocator_set(None)
            counter._restore_gc()


atexit.register(_uninstall)  # no hook may call into a finalizing interpreter
