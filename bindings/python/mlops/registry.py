"""The model registry: models, versions, artifacts, aliases and gates, runs, lineage, audit, bundles.

A :class:`Registry` is a view of the registry inside one :class:`mlops.Database`;
it owns nothing and stays usable while the database is open. JSON documents
returned by the library come back as Python dicts and lists.
"""
from __future__ import annotations

import ctypes
import json
import math
import os
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple, Union

from ._handle import Handle, take_bytes, take_json, take_text
from ._lib import lib
from .db import Database
from .errors import InvalidArgument, raise_for

_DONE = 1
PUBLIC_KEY_BYTES = 32
SECRET_KEY_BYTES = 64

PathLike = Union[str, os.PathLike]


def _text(value: Optional[str]) -> Optional[bytes]:
    return None if value is None else value.encode()


def _doc(value: Optional[Mapping[str, Any]]) -> Optional[bytes]:
    return None if value is None else json.dumps(dict(value)).encode()


def keygen() -> Tuple[bytes, bytes]:
    """A new Ed25519 key pair for signing bundles: ``(public_key, secret_key)``, 32 and 64 bytes."""
    public = ctypes.create_string_buffer(PUBLIC_KEY_BYTES)
    secret = ctypes.create_string_buffer(SECRET_KEY_BYTES)
    raise_for(lib.mlops_bundle_keygen(public, secret))
    return public.raw, secret.raw


def _key(key: bytes, size: int, what: str) -> bytes:
    if not isinstance(key, (bytes, bytearray)) or len(key) != size:
        raise InvalidArgument(f"a {what} key is {size} bytes", -1)
    return bytes(key)


class Registry:
    """The model registry of an open database (``Registry(db)``).

    Every change is one transaction that also appends to the audit chain;
    a refused change leaves the registry as it was.
    """

    def __init__(self, db: Database):
        if not isinstance(db, Database):
            raise InvalidArgument(f"a Registry needs a Database, got {type(db).__name__}", -1)
        self.db = db

    # ---- models ----------------------------------------------------------

    def create_model(self, name: str, description: str = "", tags: Optional[Mapping[str, str]] = None) -> None:
        """Create model ``name``; raises :class:`mlops.AlreadyExists` when present."""
        raise_for(lib.mlops_model_create(self.db._p, name.encode(), description.encode(), _doc(tags)))

    def models(self) -> List[Dict[str, Any]]:
        """Every model: name, description, tags, created, latest version, aliases."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_model_list(ctypes.byref(out), self.db._p), out)

    def model(self, name: str) -> Dict[str, Any]:
        """The document of model ``name`` with its aliases and gates; :class:`mlops.NotFound` when absent."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_model_show(ctypes.byref(out), self.db._p, name.encode()), out)

    # ---- versions --------------------------------------------------------

    def register(self, model: str, artifact: Union[bytes, bytearray, memoryview, PathLike], *,
                 metadata: Optional[Mapping[str, Any]] = None, tags: Optional[Mapping[str, str]] = None,
                 signature: Optional[Mapping[str, Any]] = None, run_id: Optional[int] = None,
                 parent_version: Optional[int] = None, lineage: Optional[Mapping[str, Any]] = None,
                 zstd_level: Optional[int] = None) -> int:
        """Register a new version of ``model`` from bytes, or from the file at a path (streamed); returns its number."""
        options = {key: value for key, value in (("metadata", metadata), ("tags", tags), ("signature", signature),
                                                 ("run_id", run_id), ("parent_version", parent_version),
                                                 ("lineage", lineage), ("zstd_level", zstd_level))
                   if value is not None}
        encoded = _doc(options) if options else None
        version = ctypes.c_int64()
        if isinstance(artifact, (bytes, bytearray, memoryview)):
            data = bytes(artifact)
            raise_for(lib.mlops_version_register(ctypes.byref(version), self.db._p, model.encode(), data, len(data),
                                                 encoded))
            return version.value
        writer = ctypes.c_void_p()
        with open(os.fspath(artifact), "rb") as source:
            raise_for(lib.mlops_version_writer_begin(ctypes.byref(writer), self.db._p, model.encode(), encoded))
            try:
                for chunk in iter(lambda: source.read(1 << 20), b""):
                    raise_for(lib.mlops_version_writer_write(writer, chunk, len(chunk)))
                raise_for(lib.mlops_version_writer_commit(ctypes.byref(version), writer))
            finally:
                lib.mlops_version_writer_free(writer)
        return version.value

    def version(self, model: str, version: int) -> Dict[str, Any]:
        """The document of one version: artifact, metadata, tags, signature, metrics, approvals, aliases."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_version_show(ctypes.byref(out), self.db._p, model.encode(), version), out)

    def versions(self, model: str, *, tags: Optional[Mapping[str, str]] = None, metric: Optional[str] = None,
                 limit: Optional[int] = None) -> List[Dict[str, Any]]:
        """Versions of ``model``, newest first.

        Filters: ``tags`` (all must match), ``metric`` (an expression such as
        "auc >= 0.9" on each version's latest value), ``limit``.
        """
        options = {key: value for key, value in (("tags", tags), ("metric", metric), ("limit", limit))
                   if value is not None}
        out = ctypes.c_void_p()
        return take_json(lib.mlops_version_list(ctypes.byref(out), self.db._p, model.encode(),
                                                _doc(options) if options else None), out)

    def delete_version(self, model: str, version: int) -> None:
        """Delete a version; :class:`mlops.InvalidState` while an alias points at it."""
        raise_for(lib.mlops_version_delete(self.db._p, model.encode(), version))

    def fill_signature(self, model: str, version: int, signature: Mapping[str, Any]) -> None:
        """Set a version's signature when it has none yet; :class:`mlops.InvalidState` otherwise."""
        raise_for(lib.mlops_version_signature_fill(self.db._p, model.encode(), version, _doc(signature)))

    def set_profile(self, model: str, version: int, profile: Union[bytes, Any]) -> None:
        """Attach (replace) the reference data profile: bytes, or a :class:`mlops.drift.Profile`."""
        data = profile if isinstance(profile, (bytes, bytearray)) else profile.serialize()
        data = bytes(data)
        raise_for(lib.mlops_version_profile_set(self.db._p, model.encode(), version, data, len(data)))

    def profile(self, model: str, version: int) -> bytes:
        """The reference profile bytes; :class:`mlops.NotFound` when none is attached."""
        out, length = ctypes.c_void_p(), ctypes.c_size_t()
        return take_bytes(lib.mlops_version_profile_get(ctypes.byref(out), ctypes.byref(length), self.db._p,
                                                        model.encode(), version), out, length)

    def log_metric(self, model: str, version: int, name: str, value: float, *,
                   ci: Optional[Tuple[float, float]] = None, dataset: str = "", time_us: int = 0) -> None:
        """Record an evaluation metric of a version, with an optional confidence interval ``(low, high)``."""
        low, high = ci if ci is not None else (math.nan, math.nan)
        raise_for(lib.mlops_version_metric_log(self.db._p, model.encode(), version, name.encode(), value, low, high,
                                               dataset.encode(), time_us))

    def approve(self, model: str, version: int, note: str = "") -> None:
        """Approve a version as this database's actor; :class:`mlops.AlreadyExists` when done already."""
        raise_for(lib.mlops_version_approve(self.db._p, model.encode(), version, note.encode()))

    # ---- artifacts -------------------------------------------------------

    def artifact(self, model: str, version: int) -> bytes:
        """The whole artifact of a version, verified; :class:`mlops.Corrupt` when damaged."""
        out, length = ctypes.c_void_p(), ctypes.c_size_t()
        return take_bytes(lib.mlops_artifact_read(ctypes.byref(out), ctypes.byref(length), self.db._p,
                                                  model.encode(), version), out, length)

    def artifact_size(self, model: str, version: int) -> int:
        """Size in bytes of a version's artifact (uncompressed), without reading it."""
        reader = ctypes.c_void_p()
        raise_for(lib.mlops_artifact_reader_open(ctypes.byref(reader), self.db._p, model.encode(), version))
        try:
            return lib.mlops_artifact_reader_size(reader)
        finally:
            lib.mlops_artifact_reader_free(reader)

    def artifact_chunks(self, model: str, version: int, chunk_bytes: int = 1 << 20) -> Iterator[bytes]:
        """Stream a version's artifact in chunks, each verified before it is handed out.

        The whole content's SHA-256 is checked at the end; damage raises
        :class:`mlops.Corrupt` naming model and version.
        """
        reader = ctypes.c_void_p()
        raise_for(lib.mlops_artifact_reader_open(ctypes.byref(reader), self.db._p, model.encode(), version))
        try:
            buffer = ctypes.create_string_buffer(max(chunk_bytes, 1))
            got = ctypes.c_size_t()
            while raise_for(lib.mlops_artifact_reader_read(ctypes.byref(got), reader, buffer, len(buffer))) != _DONE:
                yield buffer.raw[:got.value]
        finally:
            lib.mlops_artifact_reader_free(reader)

    def gc(self) -> int:
        """Delete artifacts no version references; returns how many."""
        removed = ctypes.c_int64()
        raise_for(lib.mlops_artifact_gc(ctypes.byref(removed), self.db._p))
        return removed.value

    # ---- aliases and gates -----------------------------------------------

    def set_alias(self, model: str, alias: str, version: int) -> None:
        """Point ``alias`` at ``version``; :class:`mlops.PolicyRefused` names the gate rule that failed."""
        raise_for(lib.mlops_alias_set(self.db._p, model.encode(), alias.encode(), version))

    def delete_alias(self, model: str, alias: str) -> None:
        """Remove ``alias`` (its history is kept); :class:`mlops.NotFound` when unset."""
        raise_for(lib.mlops_alias_delete(self.db._p, model.encode(), alias.encode()))

    def rollback(self, model: str, alias: str) -> int:
        """Move ``alias`` back to its previous target (not gated); returns that version."""
        version = ctypes.c_int64()
        raise_for(lib.mlops_alias_rollback(ctypes.byref(version), self.db._p, model.encode(), alias.encode()))
        return version.value

    def alias_history(self, model: str, alias: str) -> List[Dict[str, Any]]:
        """Every move of ``alias``, oldest first (time, actor, version, previous, action)."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_alias_history(ctypes.byref(out), self.db._p, model.encode(), alias.encode()), out)

    def alias_at(self, model: str, alias: str, time_us: int) -> int:
        """The version ``alias`` pointed at, at time ``time_us``; :class:`mlops.NotFound` when unset then."""
        version = ctypes.c_int64()
        raise_for(lib.mlops_alias_at(ctypes.byref(version), self.db._p, model.encode(), alias.encode(), time_us))
        return version.value

    def resolve(self, reference: str) -> int:
        """The version number of "name@alias" or "name@7"."""
        version = ctypes.c_int64()
        raise_for(lib.mlops_model_resolve(ctypes.byref(version), self.db._p, reference.encode()))
        return version.value

    def set_gate(self, model: str, alias: str, policy: Optional[Mapping[str, Any]]) -> None:
        """Attach a gate policy ``{"rules": [...]}`` to ``alias`` (None removes it)."""
        raise_for(lib.mlops_gate_set(self.db._p, model.encode(), alias.encode(), _doc(policy)))

    def gate(self, model: str, alias: str) -> Dict[str, Any]:
        """The gate policy of ``alias``; :class:`mlops.NotFound` when none."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_gate_get(ctypes.byref(out), self.db._p, model.encode(), alias.encode()), out)

    # ---- runs ------------------------------------------------------------

    def start_run(self, experiment: str, name: str = "", params: Optional[Mapping[str, Any]] = None,
                  tags: Optional[Mapping[str, str]] = None) -> int:
        """Start a run in ``experiment`` (created when absent); returns its id."""
        run = ctypes.c_int64()
        raise_for(lib.mlops_run_start(ctypes.byref(run), self.db._p, experiment.encode(), name.encode(),
                                      _doc(params), _doc(tags)))
        return run.value

    def log_run_metric(self, run: int, key: str, value: float, step: int = 0, time_us: int = 0) -> None:
        """Append a point to the metric series ``key`` of a run."""
        raise_for(lib.mlops_run_log_metric(self.db._p, run, key.encode(), value, step, time_us))

    def set_run_tag(self, run: int, key: str, value: str) -> None:
        """Set (replace) a tag of a run."""
        raise_for(lib.mlops_run_set_tag(self.db._p, run, key.encode(), value.encode()))

    def end_run(self, run: int, status: str = "finished") -> None:
        """End a run: "finished", "failed" or "killed"; :class:`mlops.InvalidState` when it already ended."""
        raise_for(lib.mlops_run_end(self.db._p, run, status.encode()))

    def run(self, run: int) -> Dict[str, Any]:
        """The document of a run: experiment, name, params, tags, status, times, metric series."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_run_show(ctypes.byref(out), self.db._p, run), out)

    def runs(self, experiment: Optional[str] = None) -> List[Dict[str, Any]]:
        """Runs of ``experiment`` (None: all), newest first."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_run_list(ctypes.byref(out), self.db._p, _text(experiment)), out)

    # ---- lineage and audit ---------------------------------------------

    def lineage(self, model: str, version: int) -> Dict[str, Any]:
        """What a version was trained on: feature views, as-of time, run, parent."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_lineage_of(ctypes.byref(out), self.db._p, model.encode(), version), out)

    def lineage_users(self, view: str, view_version: int = -1) -> List[Dict[str, Any]]:
        """The versions trained on feature view ``view`` (at ``view_version``; -1 = any)."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_lineage_users(ctypes.byref(out), self.db._p, view.encode(), view_version), out)

    def audit(self, after_seq: int = 0, limit: int = 0) -> List[Dict[str, Any]]:
        """Audit entries with seq > ``after_seq``, at most ``limit`` (0 = all), oldest first."""
        out = ctypes.c_void_p()
        return take_json(lib.mlops_audit_list(ctypes.byref(out), self.db._p, after_seq, limit), out)

    def verify_audit(self) -> None:
        """Walk the audit chain; raises :class:`mlops.Corrupt` (with ``first_bad`` set) when it was altered."""
        first_bad = ctypes.c_int64()
        status = lib.mlops_audit_verify(ctypes.byref(first_bad), self.db._p)
        try:
            raise_for(status)
        except Exception as exc:
            exc.first_bad = first_bad.value  # type: ignore[attr-defined]
            raise

    # ---- bundles -------------------------------------------------------

    def export_bundle(self, model: str, version: int, path: PathLike, secret_key: Optional[bytes] = None) -> None:
        """Write a version to a bundle file, signed when ``secret_key`` (64 bytes) is given."""
        key = None if secret_key is None else _key(secret_key, SECRET_KEY_BYTES, "secret")
        raise_for(lib.mlops_bundle_export(self.db._p, model.encode(), version, os.fsencode(path), key))

    def import_bundle(self, path: PathLike) -> Tuple[str, int]:
        """Import a bundle file; returns ``(model, version)``. Damage or an untrusted signature is refused."""
        version = ctypes.c_int64()
        name = ctypes.c_void_p()
        status = lib.mlops_bundle_import(ctypes.byref(version), ctypes.byref(name), self.db._p, os.fsencode(path))
        return take_text(status, name), version.value

    def trust_key(self, public_key: bytes, name: str) -> None:
        """Trust bundles signed by ``public_key`` (32 bytes) from now on."""
        raise_for(lib.mlops_bundle_trust_key(self.db._p, _key(public_key, PUBLIC_KEY_BYTES, "public"), name.encode()))


class _Change(ctypes.Structure):
    _fields_ = [("seq", ctypes.c_int64), ("time_us", ctypes.c_int64), ("kind", ctypes.c_char_p),
                ("model", ctypes.c_char_p), ("version", ctypes.c_int64), ("alias", ctypes.c_char_p)]


_CHANGE_FN = ctypes.CFUNCTYPE(None, ctypes.POINTER(_Change), ctypes.c_void_p)


class Watch(Handle):
    """Registry changes of the database file at ``path``, from every process, delivered in order.

    ``callback(change)`` receives a dict (seq, time_us, kind, model, version,
    alias) during :meth:`poll` on the calling thread, or on a background
    thread after :meth:`start`. ``after_seq`` -1 delivers only new changes.
    """

    _free = lib.mlops_registry_watch_close
    _kind = "registry watch"

    def __init__(self, path: PathLike, callback: Callable[[Dict[str, Any]], None], after_seq: int = -1):
        def deliver(change, _payload):
            c = change.contents
            callback({"seq": c.seq, "time_us": c.time_us, "kind": c.kind.decode(), "model": c.model.decode(),
                      "version": c.version, "alias": c.alias.decode()})

        self._callback = _CHANGE_FN(deliver)  # the C side holds it: keep it alive while open
        out = ctypes.c_void_p()
        raise_for(lib.mlops_registry_watch_open(ctypes.byref(out), os.fsencode(path), after_seq, self._callback, None))
        super().__init__(out)

    def poll(self) -> int:
        """Deliver the changes committed since the last poll; returns how many."""
        delivered = ctypes.c_int64()
        raise_for(lib.mlops_registry_watch_poll(ctypes.byref(delivered), self._p))
        return delivered.value

    def start(self, interval_ms: int = 1000) -> None:
        """Poll on a background thread every ``interval_ms`` (1..60000) until :meth:`close`."""
        raise_for(lib.mlops_registry_watch_start(self._p, interval_ms))
