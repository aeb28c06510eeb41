"""The database handle: one SQLite file holding everything."""
from __future__ import annotations

import ctypes
import os
from typing import Any, Union

from ._handle import Handle, options_json
from ._lib import lib
from .errors import raise_for


class Database(Handle):
    """An open libmlops database; use as a context manager or call ``close()``.

    One thread at a time per ``Database``; open one per thread to share a file.
    """

    _free = lib.mlops_db_close
    _kind = "database"

    def __init__(self, path: Union[str, os.PathLike] = ":memory:", **options: Any):
        out = ctypes.c_void_p()
        raise_for(lib.mlops_db_open(ctypes.byref(out), os.fsencode(path), options_json(options or None)))
        super().__init__(out)

    @property
    def path(self) -> str:
        """The path the database was opened with."""
        return lib.mlops_db_path(self._p).decode()

    @property
    def schema_version(self) -> int:
        """The schema version of the open file."""
        version = ctypes.c_int32()
        raise_for(lib.mlops_db_schema_version(ctypes.byref(version), self._p))
        return version.value

    def check(self) -> None:
        """Run SQLite's integrity check; raises :class:`mlops.Corrupt` when it fails."""
        raise_for(lib.mlops_db_check(self._p))


def supported_schema_version() -> int:
    """The newest database schema version this library can open."""
    return lib.mlops_db_schema_version_supported()


def open(path: Union[str, os.PathLike] = ":memory:", **options: Any) -> Database:  # noqa: A001 - mirrors builtins.open
    """Open (creating if absent) the database at ``path``.

    Options are those of ``mlops_db_open``: ``busy_timeout_ms``, ``create``,
    ``read_only``, ``synchronous`` ("normal" or "full"), ``actor``.
    """
    return Database(path, **options)
