"""The feature store: entities, contract-checked feature views, point-in-time reads.

Definitions are dicts (serialized to JSON); data moves in and out as
:class:`mlops.Frame`. Times are int64 microseconds since the Unix epoch, UTC.
The C option structures are versioned: :class:`IngestOptions` and
:class:`ReadOptions` mirror them and are filled by the library's ``*_init``.
"""
from __future__ import annotations

import ctypes
import json
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional, Sequence

from ._floats import LIST_ROWS, NUMPY, Result
from ._handle import Handle, take_json
from ._lib import lib
from .db import Database
from .errors import InvalidArgument, raise_for
from .frame import HAVE_NUMPY, Frame

TIME_UNSET = -(2 ** 63)
"""Mirror of MLOPS_TIME_UNSET: an optional time that is not given."""

POLICIES = {"reject": 0, "quarantine": 1}
_MAX_ERRORS = 8


class IngestOptions(ctypes.Structure):
    """Mirror of ``mlops_ingest_options`` (version 1)."""

    _fields_ = [("version", ctypes.c_uint32), ("policy", ctypes.c_int32), ("event_time_column", ctypes.c_char_p)]


class ReadOptions(ctypes.Structure):
    """Mirror of ``mlops_read_options`` (version 1)."""

    _fields_ = [("version", ctypes.c_uint32), ("definition_version", ctypes.c_int32), ("now", ctypes.c_int64),
                ("as_of_system_time", ctypes.c_int64), ("timestamp_column", ctypes.c_char_p)]


class _IngestError(ctypes.Structure):
    _fields_ = [("row", ctypes.c_int64), ("column", ctypes.c_char * 64), ("rule", ctypes.c_char * 24),
                ("message", ctypes.c_char * 160)]


class _IngestReport(ctypes.Structure):
    _fields_ = [("rows_written", ctypes.c_int64), ("rows_duplicate", ctypes.c_int64),
                ("rows_quarantined", ctypes.c_int64), ("system_time", ctypes.c_int64),
                ("definition_version", ctypes.c_int32), ("error_count", ctypes.c_uint32),
                ("errors", _IngestError * _MAX_ERRORS)]


@dataclass
class IngestError:
    """One contract violation: the frame row, the column, the rule and a message."""

    row: int
    column: str
    rule: str
    message: str


@dataclass
class IngestReport:
    """What an ingest did: rows written, duplicate, quarantined, and the first violations."""

    rows_written: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    system_time: int = 0
    definition_version: int = 0
    errors: List[IngestError] = field(default_factory=list)

    @classmethod
    def _from_c(cls, report: _IngestReport) -> "IngestReport":
        errors = [IngestError(e.row, e.column.decode(errors="replace"), e.rule.decode(errors="replace"),
                              e.message.decode(errors="replace")) for e in report.errors[:report.error_count]]
        return cls(report.rows_written, report.rows_duplicate, report.rows_quarantined, report.system_time,
                   report.definition_version, errors)


def _names(names: Sequence[str]) -> Any:
    names = list(names)
    if not names or not all(isinstance(n, str) for n in names):
        raise InvalidArgument("a list of one or more names (strings) is needed", -1)
    return (ctypes.c_char_p * len(names))(*[n.encode() for n in names])


def _definition(definition: Mapping[str, Any]) -> bytes:
    if not isinstance(definition, Mapping):
        raise InvalidArgument(f"a definition is a mapping, got {type(definition).__name__}", -1)
    return json.dumps(dict(definition)).encode()


def read_options(definition_version: int = 0, now: Optional[int] = None, as_of_system_time: Optional[int] = None,
                 timestamp_column: Optional[str] = None) -> ReadOptions:
    """A filled :class:`ReadOptions` (None leaves a field at its default)."""
    options = ReadOptions()
    lib.mlops_read_options_init(ctypes.byref(options))
    options.definition_version = definition_version
    if now is not None:
        options.now = now
    if as_of_system_time is not None:
        options.as_of_system_time = as_of_system_time
    if timestamp_column is not None:
        options.timestamp_column = timestamp_column.encode()
    return options


class OnlineReader(Handle):
    """The fast online path: numeric features of one view read into float32 rows.

    ``read(keys)`` gives a numpy array (rows x width) with numpy, else a list
    of rows; nulls, missing keys and expired values are NaN.
    """

    _free = lib.mlops_online_reader_free
    _kind = "online reader"

    @property
    def width(self) -> int:
        """Floats per row (f32vec features count their dimension)."""
        return lib.mlops_online_reader_width(self._p)

    def read(self, keys: Frame, now: Optional[int] = None) -> Any:
        """Latest values for the keys in ``keys`` (TTL measured at ``now``, default the wall clock)."""
        result = Result(NUMPY if HAVE_NUMPY else LIST_ROWS, keys.rows, self.width)
        raise_for(lib.mlops_online_reader_read(result.pointer, result.count, self._p, keys._p,
                                               TIME_UNSET if now is None else now))
        return result.value()


class FeatureStore:
    """The feature store of an open database (``FeatureStore(db)``); owns nothing."""

    def __init__(self, db: Database):
        if not isinstance(db, Database):
            raise InvalidArgument(f"a FeatureStore needs a Database, got {type(db).__name__}", -1)
        self.db = db

    def define_entity(self, definition: Mapping[str, Any]) -> None:
        """Define an entity: ``{"name", "keys": [{"name", "type"}], "description"}``.

        Defining it again identically does nothing; differently raises :class:`mlops.Conflict`.
        """
        raise_for(lib.mlops_entity_define(self.db._p, _definition(definition)))

    def define_view(self, definition: Mapping[str, Any], incompatible: bool = False) -> int:
        """Define or change a feature view; returns its definition version.

        An incompatible change raises :class:`mlops.Conflict` unless ``incompatible``.
        """
        version = ctypes.c_int32()
        raise_for(lib.mlops_view_define(ctypes.byref(version), self.db._p, _definition(definition),
                                        1 if incompatible else 0))
        return version.value

    def view(self, name: str, version: int = 0) -> Mapping[str, Any]:
        """The definition of view ``name`` at ``version`` (0 = current)."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_view_definition(ctypes.byref(out), self.db._p, name.encode(), version), out)

    def ingest(self, view: str, frame: Frame, policy: str = "reject",
               event_time_column: Optional[str] = None) -> IngestReport:
        """Write ``frame`` to ``view`` in one transaction, checking every row's contract.

        ``policy`` "reject": a bad row raises :class:`mlops.PolicyRefused` (its
        ``report`` attribute says why) and nothing is written; "quarantine":
        good rows are written and bad rows quarantined.
        """
        if policy not in POLICIES:
            raise InvalidArgument(f'unknown ingest policy "{policy}" (use "reject" or "quarantine")', -1)
        options = IngestOptions()
        lib.mlops_ingest_options_init(ctypes.byref(options))
        options.policy = POLICIES[policy]
        if event_time_column is not None:
            options.event_time_column = event_time_column.encode()
        return self._report(lib.mlops_features_ingest, view, frame, ctypes.byref(options))

    def _report(self, function, view: str, frame: Frame, *rest: Any) -> IngestReport:
        report = _IngestReport()
        status = function(ctypes.byref(report), self.db._p, view.encode(), frame._p, *rest)
        result = IngestReport._from_c(report)
        try:
            raise_for(status)
        except Exception as exc:
            exc.report = result  # type: ignore[attr-defined]
            raise
        return result

    def quarantine(self, view: str) -> Frame:
        """The quarantined rows of ``view``: quarantine_id, rule, column, message, system_time, keys, features."""
        out = ctypes.c_void_p()
        raise_for(lib.mlops_features_quarantine_list(ctypes.byref(out), self.db._p, view.encode()))
        return Frame(_pointer=out)

    def retry(self, view: str, frame: Frame) -> IngestReport:
        """Re-ingest corrected quarantine rows (layout of :meth:`quarantine`); still-bad rows go back."""
        return self._report(lib.mlops_features_quarantine_retry, view, frame)

    def online(self, view: str, keys: Frame, features: Sequence[str], *, now: Optional[int] = None,
               as_of_system_time: Optional[int] = None, definition_version: int = 0) -> Frame:
        """Latest values for the keys: key columns, event_time, age_us, one column per feature."""
        options = read_options(definition_version, now, as_of_system_time)
        out = ctypes.c_void_p()
        names = list(features)
        raise_for(lib.mlops_features_online(ctypes.byref(out), self.db._p, view.encode(), keys._p, _names(names),
                                            len(names), ctypes.byref(options)))
        return Frame(_pointer=out)

    def as_of(self, view: str, keys: Frame, features: Sequence[str], event_time: int, *,
              as_of_system_time: Optional[int] = None, definition_version: int = 0) -> Frame:
        """Values as of ``event_time`` (newest row at or before it, TTL measured from it)."""
        options = read_options(definition_version, None, as_of_system_time)
        out = ctypes.c_void_p()
        names = list(features)
        raise_for(lib.mlops_features_as_of(ctypes.byref(out), self.db._p, view.encode(), keys._p, _names(names),
                                           len(names), event_time, ctypes.byref(options)))
        return Frame(_pointer=out)

    def join(self, entities: Frame, references: Sequence[str], *, timestamp_column: str = "timestamp",
             as_of_system_time: Optional[int] = None) -> Frame:
        """Point-in-time join: ``entities`` plus one column per "view:feature" reference, without leakage."""
        options = read_options(0, None, as_of_system_time, timestamp_column)
        out = ctypes.c_void_p()
        refs = list(references)
        raise_for(lib.mlops_features_join(ctypes.byref(out), self.db._p, entities._p, _names(refs), len(refs),
                                          ctypes.byref(options)))
        return Frame(_pointer=out)

    def reader(self, view: str, features: Sequence[str], definition_version: int = 0) -> OnlineReader:
        """Open the fast online path for numeric ``features`` of ``view``."""
        options = read_options(definition_version)
        out = ctypes.c_void_p()
        names = list(features)
        raise_for(lib.mlops_online_reader_open(ctypes.byref(out), self.db._p, view.encode(), _names(names),
                                               len(names), ctypes.byref(options)))
        return OnlineReader(out)

    def forget(self, entity: str, keys: Frame) -> int:
        """Delete every row of the keys in all views of ``entity`` (history, online, quarantine); returns the count."""
        removed = ctypes.c_int64()
        raise_for(lib.mlops_features_forget(ctypes.byref(removed), self.db._p, entity.encode(), keys._p))
        return removed.value

    def stats(self, view: str) -> Mapping[str, Any]:
        """Rows, distinct keys, newest event time, quarantined rows and per-feature null rates of ``view``."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_features_stats(ctypes.byref(out), self.db._p, view.encode()), out)
