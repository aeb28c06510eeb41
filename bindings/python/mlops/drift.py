"""Drift statistics: two-sample tests, streaming profiles, drift reports, stored windows and trends.

The tests follow SciPy's definitions and return a :class:`TestResult`.
Samples may be any sequence of numbers (lists, ``array.array``, numpy);
NaN values are dropped and counted.
"""
from __future__ import annotations

import array
import ctypes
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ._floats import Batch
from ._handle import Handle, options_json, take_bytes, take_json
from ._lib import lib
from .db import Database
from .errors import InvalidArgument, raise_for
from .frame import Frame

METHODS = {"auto": 0, "exact": 1, "asymptotic": 2}
_METHOD_NAMES = {0: "", 1: "exact", 2: "asymptotic"}
BINNINGS = {"quantile": 0, "width": 1}
KINDS = {1: "numeric", 2: "categorical"}
_DOUBLE_P = ctypes.POINTER(ctypes.c_double)


class _Result(ctypes.Structure):
    _fields_ = [("statistic", ctypes.c_double), ("pvalue", ctypes.c_double), ("method", ctypes.c_int32),
                ("dof", ctypes.c_int32), ("n_ref", ctypes.c_uint64), ("n_cur", ctypes.c_uint64),
                ("nan_ref", ctypes.c_uint64), ("nan_cur", ctypes.c_uint64)]


class _ColumnStats(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int32), ("reserved", ctypes.c_int32), ("rows", ctypes.c_uint64),
                ("count", ctypes.c_uint64), ("nulls", ctypes.c_uint64), ("nans", ctypes.c_uint64),
                ("infs", ctypes.c_uint64), ("min", ctypes.c_double), ("max", ctypes.c_double),
                ("mean", ctypes.c_double), ("variance", ctypes.c_double), ("distinct", ctypes.c_double),
                ("distinct_rse", ctypes.c_double), ("rank_error", ctypes.c_double), ("categories", ctypes.c_uint64),
                ("frequency_error", ctypes.c_double)]


@dataclass
class TestResult:
    """Result of one test: statistic, p-value (NaN when the measure has none), method used, dof, sample sizes."""

    __test__ = False  # not a unittest case

    statistic: float
    pvalue: float
    method: str
    dof: int
    n_ref: int
    n_cur: int
    nan_ref: int
    nan_cur: int


@dataclass
class ColumnStats:
    """Summary of one profile column (numeric or categorical)."""

    kind: str
    rows: int
    count: int
    nulls: int
    nans: int
    infs: int
    min: float
    max: float
    mean: float
    variance: float
    distinct: float
    distinct_rse: float
    rank_error: float
    categories: int
    frequency_error: float


def _doubles(values: Sequence[float]) -> Tuple[Any, int, Any]:
    data = values if isinstance(values, array.array) and values.typecode == "d" else \
        array.array("d", [float(x) for x in values])
    count = len(data)
    return (ctypes.cast(data.buffer_info()[0], _DOUBLE_P) if count else None), count, data


def _run(function, *args: Any) -> TestResult:
    out = _Result()
    raise_for(function(ctypes.byref(out), *args))
    return TestResult(out.statistic, out.pvalue, _METHOD_NAMES.get(out.method, ""), out.dof, out.n_ref, out.n_cur,
                      out.nan_ref, out.nan_cur)


def _two(function, ref: Sequence[float], cur: Sequence[float], *extra: Any) -> TestResult:
    r, nr, keep_r = _doubles(ref)
    c, nc, keep_c = _doubles(cur)
    return _run(function, r, nr, c, nc, *extra)


def _method(method: str) -> int:
    if method not in METHODS:
        raise InvalidArgument(f'unknown method "{method}" (use "auto", "exact" or "asymptotic")', -1)
    return METHODS[method]


def _histograms(p: Sequence[float], q: Sequence[float]) -> Tuple[Any, Any, int, Any]:
    a, na, keep_a = _doubles(p)
    b, nb, keep_b = _doubles(q)
    if na != nb:
        raise InvalidArgument(f"histograms of {na} and {nb} bins", -1)
    return a, b, na, (keep_a, keep_b)


def ks_2samp(ref: Sequence[float], cur: Sequence[float], method: str = "auto") -> TestResult:
    """Two-sample Kolmogorov–Smirnov test, two-sided (SciPy ks_2samp)."""
    return _two(lib.mlops_stat_ks_2samp, ref, cur, _method(method))


def cvm_2samp(ref: Sequence[float], cur: Sequence[float], method: str = "auto") -> TestResult:
    """Two-sample Cramér–von Mises test (SciPy cramervonmises_2samp)."""
    return _two(lib.mlops_stat_cvm_2samp, ref, cur, _method(method))


def wasserstein(ref: Sequence[float], cur: Sequence[float], normed: bool = False) -> TestResult:
    """Wasserstein-1 distance; ``normed`` divides by max(std of ref, 0.001)."""
    return _two(lib.mlops_stat_wasserstein_norm if normed else lib.mlops_stat_wasserstein, ref, cur)


def energy(ref: Sequence[float], cur: Sequence[float]) -> TestResult:
    """Energy distance (SciPy energy_distance)."""
    return _two(lib.mlops_stat_energy, ref, cur)


def anderson_ksamp(samples: Sequence[Sequence[float]]) -> TestResult:
    """Anderson–Darling k-sample test (SciPy anderson_ksamp, midranks; significance capped to [0.001, 0.25])."""
    converted = [_doubles(s) for s in samples]
    pointers = (_DOUBLE_P * max(len(converted), 1))(*[c[0] for c in converted])
    sizes = (ctypes.c_size_t * max(len(converted), 1))(*[c[1] for c in converted])
    return _run(lib.mlops_stat_anderson_ksamp, pointers, sizes, len(converted))


def psi(ref: Sequence[float], cur: Sequence[float], bins: int = 10, binning: str = "quantile",
        epsilon: float = 0.0) -> Tuple[TestResult, List[float]]:
    """Population Stability Index with ``bins`` bins from the reference; returns ``(result, edges)``."""
    if binning not in BINNINGS:
        raise InvalidArgument(f'unknown binning "{binning}" (use "quantile" or "width")', -1)
    edges = (ctypes.c_double * (max(bins, 0) + 1))()
    result = _two(lambda out, *rest: lib.mlops_stat_psi(out, edges, len(edges), *rest), ref, cur, bins,
                  BINNINGS[binning], epsilon)
    return result, list(edges)


def psi_hist(ref: Sequence[float], cur: Sequence[float], epsilon: float = 0.0) -> TestResult:
    """PSI of two histograms over the same bins (counts or proportions)."""
    a, b, k, keep = _histograms(ref, cur)
    return _run(lib.mlops_stat_psi_hist, a, b, k, epsilon)


def jensenshannon(p: Sequence[float], q: Sequence[float], base: float = 0.0) -> TestResult:
    """Jensen–Shannon distance of two histograms (``base`` 0 means e; SciPy jensenshannon)."""
    a, b, k, keep = _histograms(p, q)
    return _run(lib.mlops_stat_jensenshannon, a, b, k, base)


def kl(p: Sequence[float], q: Sequence[float], base: float = 0.0) -> TestResult:
    """Kullback–Leibler divergence D(p || q) of two histograms (SciPy entropy)."""
    a, b, k, keep = _histograms(p, q)
    return _run(lib.mlops_stat_kl, a, b, k, base)


def chisquare(observed: Sequence[float], expected: Sequence[float]) -> TestResult:
    """Chi-square goodness of fit (SciPy chisquare, k - 1 degrees of freedom)."""
    a, b, k, keep = _histograms(observed, expected)
    return _run(lib.mlops_stat_chisquare, a, b, k)


def chi2_contingency(ref: Sequence[float], cur: Sequence[float], correction: bool = True) -> TestResult:
    """Chi-square independence test of the 2 x k table of counts (SciPy chi2_contingency)."""
    a, b, k, keep = _histograms(ref, cur)
    return _run(lib.mlops_stat_chi2_contingency, a, b, k, 1 if correction else 0)


class Profile(Handle):
    """A mergeable streaming summary of columns (counts, moments, quantile sketch, histogram, distinct count).

    ``Profile({"columns": [{"name": "amount", "kind": "numeric"}]})`` from a
    specification, or :meth:`for_frame`. One thread at a time per profile:
    update one per thread (:meth:`new_like`) and :meth:`merge`.
    """

    _free = lib.mlops_profile_free
    _kind = "profile"

    def __init__(self, spec: Optional[Mapping[str, Any]] = None, *, _pointer: Optional[ctypes.c_void_p] = None):
        if _pointer is None:
            if not isinstance(spec, Mapping):
                raise InvalidArgument("a profile specification is a mapping", -1)
            _pointer = ctypes.c_void_p()
            raise_for(lib.mlops_profile_new(ctypes.byref(_pointer), options_json(spec)))
        super().__init__(_pointer)

    @classmethod
    def for_frame(cls, frame: Frame, **options: Any) -> "Profile":
        """An empty profile with a column per numeric and string/bool column of ``frame`` (call :meth:`update`)."""
        out = ctypes.c_void_p()
        raise_for(lib.mlops_profile_new_for_frame(ctypes.byref(out), frame._p, options_json(options or None)))
        return cls(_pointer=out)

    @classmethod
    def of(cls, frame: Frame, **options: Any) -> "Profile":
        """A profile of ``frame``: :meth:`for_frame` then :meth:`update`."""
        profile = cls.for_frame(frame, **options)
        profile.update(frame)
        return profile

    @classmethod
    def deserialize(cls, data: Union[bytes, bytearray, memoryview]) -> "Profile":
        """Rebuild a profile from :meth:`serialize` bytes; :class:`mlops.Corrupt` for damaged bytes."""
        blob = bytes(data)
        out = ctypes.c_void_p()
        raise_for(lib.mlops_profile_deserialize(ctypes.byref(out), blob, len(blob)))
        return cls(_pointer=out)

    def new_like(self) -> "Profile":
        """An empty profile with the same specification (a shard to merge later)."""
        out = ctypes.c_void_p()
        raise_for(lib.mlops_profile_new_like(ctypes.byref(out), self._p))
        return Profile(_pointer=out)

    @property
    def columns(self) -> List[str]:
        """Column names in order."""
        return [lib.mlops_profile_column_name(self._p, i).decode() for i in range(lib.mlops_profile_columns(self._p))]

    def _column(self, name: str) -> int:
        out = ctypes.c_size_t()
        raise_for(lib.mlops_profile_column_index(ctypes.byref(out), self._p, name.encode()))
        return out.value

    def update(self, frame: Frame) -> None:
        """Feed every profile column from the frame column of the same name."""
        raise_for(lib.mlops_profile_update_frame(self._p, frame._p))

    def update_column(self, name: str, values: Sequence[Any]) -> None:
        """Feed values to one column: numbers (None is null) or strings (None is null)."""
        column = self._column(name)
        values = list(values)
        if any(isinstance(v, str) for v in values):
            cells = (ctypes.c_char_p * max(len(values), 1))(*[None if v is None else str(v).encode() for v in values])
            raise_for(lib.mlops_profile_update_strings(self._p, column, cells, len(values)))
            return
        nulls = (ctypes.c_uint8 * max(len(values), 1))(*[1 if v is None else 0 for v in values])
        data, count, keep = _doubles([0.0 if v is None else v for v in values])
        raise_for(lib.mlops_profile_update_float64(self._p, column, data, nulls, count))

    def update_matrix(self, rows: Any) -> None:
        """Feed float rows whose values are the profile's columns in order (all numeric).

        ``rows`` is a list of rows, an ``array.array``, a memoryview or a
        numpy array, as :meth:`mlops.Session.predict` takes.
        """
        batch = Batch(rows, len(self.columns), "profile")
        raise_for(lib.mlops_profile_update_matrix(self._p, batch.pointer, batch.rows, batch.width))

    def merge(self, other: "Profile") -> None:
        """Merge ``other`` (same specification) into this profile."""
        raise_for(lib.mlops_profile_merge(self._p, other._p))

    def stats(self, name: str) -> ColumnStats:
        """The summary of column ``name``."""
        out = _ColumnStats()
        raise_for(lib.mlops_profile_column_stats(ctypes.byref(out), self._p, self._column(name)))
        return ColumnStats(KINDS[out.kind], out.rows, out.count, out.nulls, out.nans, out.infs, out.min, out.max,
                           out.mean, out.variance, out.distinct, out.distinct_rse, out.rank_error, out.categories,
                           out.frequency_error)

    def quantile(self, name: str, q: float) -> float:
        """Estimated ``q``-quantile (0..1) of a numeric column."""
        out = ctypes.c_double()
        raise_for(lib.mlops_profile_quantile(ctypes.byref(out), self._p, self._column(name), q))
        return out.value

    def rank(self, name: str, x: float) -> float:
        """Estimated fraction of values <= ``x`` in a numeric column."""
        out = ctypes.c_double()
        raise_for(lib.mlops_profile_rank(ctypes.byref(out), self._p, self._column(name), x))
        return out.value

    def histogram(self, name: str) -> List[int]:
        """Counts of the column's histogram bins (values outside the edges are in the outer bins)."""
        column, bins = self._column(name), ctypes.c_size_t()
        status = lib.mlops_profile_histogram(None, 0, ctypes.byref(bins), self._p, column)
        if status != -12:
            raise_for(status)
        counts = (ctypes.c_uint64 * max(bins.value, 1))()
        raise_for(lib.mlops_profile_histogram(counts, bins.value, ctypes.byref(bins), self._p, column))
        return list(counts[:bins.value])

    def category_count(self, name: str, category: str) -> int:
        """Counter of ``category`` in a categorical column (0 when not tracked)."""
        out = ctypes.c_uint64()
        raise_for(lib.mlops_profile_category_count(ctypes.byref(out), self._p, self._column(name), category.encode()))
        return out.value

    def describe(self) -> Dict[str, Any]:
        """The specification and every column summary, parsed."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_profile_describe(ctypes.byref(out), self._p), out)

    def serialize(self) -> bytes:
        """A versioned compact binary form (zstd)."""
        out, length = ctypes.c_void_p(), ctypes.c_size_t()
        return take_bytes(lib.mlops_profile_serialize(ctypes.byref(out), ctypes.byref(length), self._p), out, length)


def report(reference: Union[Frame, Profile], current: Union[Frame, Profile],
           config: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """Drift report of ``current`` against ``reference``: two frames (exact tests) or two profiles (sketches)."""
    out = ctypes.c_void_p()
    encoded = options_json(config)
    if isinstance(reference, Frame) and isinstance(current, Frame):
        status = lib.mlops_drift_report_frames(ctypes.byref(out), reference._p, current._p, encoded)
    elif isinstance(reference, Profile) and isinstance(current, Profile):
        status = lib.mlops_drift_report_profiles(ctypes.byref(out), reference._p, current._p, encoded)
    else:
        raise InvalidArgument("a report compares two frames or two profiles", -1)
    return take_json(status, out)


class Windows:
    """Live profiles stored in a database per stream and time window [start_us, end_us)."""

    def __init__(self, db: Database):
        if not isinstance(db, Database):
            raise InvalidArgument(f"Windows needs a Database, got {type(db).__name__}", -1)
        self.db = db

    def put(self, stream: str, start_us: int, end_us: int, profile: Profile) -> None:
        """Merge ``profile`` into the stored window (created when absent)."""
        raise_for(lib.mlops_drift_window_put(self.db._p, stream.encode(), start_us, end_us, profile._p))

    def get(self, stream: str, start_us: int) -> Profile:
        """The profile of the window starting at ``start_us``; :class:`mlops.NotFound` when absent."""
        out = ctypes.c_void_p()
        raise_for(lib.mlops_drift_window_get(ctypes.byref(out), self.db._p, stream.encode(), start_us))
        return Profile(_pointer=out)

    def list(self, stream: str, from_us: int = -(2 ** 63), to_us: int = 2 ** 63 - 1) -> Dict[str, Any]:
        """The windows of ``stream`` starting in [from_us, to_us), oldest first."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_drift_window_list(ctypes.byref(out), self.db._p, stream.encode(), from_us, to_us),
                         out)

    def trend(self, stream: str, reference: Profile, from_us: int = -(2 ** 63), to_us: int = 2 ** 63 - 1,
              config: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """A profile report of each window in [from_us, to_us) against ``reference``."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_drift_trend(ctypes.byref(out), self.db._p, stream.encode(), reference._p, from_us,
                                               to_us, options_json(config)), out)
