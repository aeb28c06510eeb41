"""Exceptions raised for the library's status codes.

Every failing call raises a subclass of :class:`Error` carrying the status
code, the subsystem and the library's message (what failed and where).
"""
from __future__ import annotations

from typing import Dict, Type

from ._lib import lib


class Error(Exception):
    """A libmlops call failed. ``code`` is the negative MLOPS_E* status."""

    code = 0

    def __init__(self, message: str, code: int = 0, subsystem: str = "", dependency_code: int = 0):
        super().__init__(message)
        self.message = message
        self.code = code or type(self).code
        self.subsystem = subsystem
        self.dependency_code = dependency_code


class InvalidArgument(Error, ValueError):
    """An argument is invalid (MLOPS_EINVAL)."""
    code = -1


class NotFound(Error, LookupError):
    """The named object does not exist (MLOPS_ENOTFOUND)."""
    code = -2


class AlreadyExists(Error):
    """The object already exists (MLOPS_EEXISTS)."""
    code = -3


class Conflict(Error):
    """The change conflicts with the stored state (MLOPS_ECONFLICT)."""
    code = -4


class Corrupt(Error):
    """Stored or supplied bytes are damaged (MLOPS_ECORRUPT)."""
    code = -5


class IOFailure(Error, OSError):
    """Reading or writing a file failed (MLOPS_EIO)."""
    code = -6


class OutOfMemory(Error, MemoryError):
    """An allocation failed (MLOPS_ENOMEM)."""
    code = -7


class Unsupported(Error):
    """Valid but not supported by this build or machine (MLOPS_EUNSUPPORTED)."""
    code = -8


class PolicyRefused(Error):
    """Refused by a policy: a gate, a data contract, a trust rule (MLOPS_EPOLICY)."""
    code = -9


class Busy(Error):
    """The database stayed locked past the busy timeout (MLOPS_EBUSY)."""
    code = -10


class SchemaError(Error):
    """Not an mlops database of a known schema (MLOPS_ESCHEMA)."""
    code = -11


class BufferTooSmall(Error):
    """A caller buffer is too small (MLOPS_EBUFSIZE)."""
    code = -12


class FormatError(Error, ValueError):
    """Malformed input: CSV, JSON, ONNX, bundle (MLOPS_EFORMAT)."""
    code = -13


class LimitExceeded(Error):
    """Input exceeds a documented resource limit (MLOPS_ELIMIT)."""
    code = -14


class InvalidState(Error):
    """The object is not in a state that allows the call (MLOPS_ESTATE)."""
    code = -15


class InternalError(Error):
    """An internal invariant failed (MLOPS_EINTERNAL)."""
    code = -16


_BY_CODE: Dict[int, Type[Error]] = {cls.code: cls for cls in Error.__subclasses__()}


def raise_for(status: int) -> int:
    """Return ``status`` when it is not an error, else raise the matching exception."""
    if status >= 0:
        return status
    detail = lib.mlops_error_last().contents
    message = (detail.message or b"").decode("utf-8", "replace")
    subsystem = (detail.subsystem or b"").decode("utf-8", "replace")
    dependency_code = detail.dependency_code
    cls = _BY_CODE.get(status, Error)
    if detail.code != status:
        message = lib.mlops_strerror(status).decode()
    lib.mlops_error_clear()  # read once: a stale detail never describes a later failure
    raise cls(message, status, subsystem, dependency_code)
