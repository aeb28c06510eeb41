"""Reports: one JSON document per database (versions, metrics, drift, serving) and its HTML page.

>>> doc = mlops.report.build(db, model="fraud", stream="fraud:inputs", windows=3)
>>> mlops.report.write_html(db, "report.html", model="fraud")

The HTML page is rendered from the JSON report alone: self-contained (inline
CSS and SVG, no script), with the same numbers. docs/report.md has both
formats.
"""
from __future__ import annotations

import ctypes
import json
from typing import Any, Dict, Mapping, Union

from ._handle import take_text
from ._lib import lib
from .db import Database
from .errors import InvalidArgument


def _options(options: Mapping[str, Any]) -> bytes:
    return json.dumps({key: value for key, value in options.items() if value is not None}).encode()


def build(db: Database, **options: Any) -> Dict[str, Any]:
    """The JSON report as a dict; ``options`` are those of ``mlops_report_json`` (model, stream, windows, ...)."""
    return json.loads(build_json(db, **options))


def build_json(db: Database, **options: Any) -> str:
    """The JSON report as text, exactly as the library wrote it."""
    if not isinstance(db, Database):
        raise InvalidArgument(f"report needs a Database, got {type(db).__name__}", -1)
    out = ctypes.c_void_p()
    return take_text(lib.mlops_report_json(ctypes.byref(out), db._p, _options(options)), out)


def html(report: Union[str, Mapping[str, Any]]) -> str:
    """The HTML page of a report (its JSON text or the dict :func:`build` returned)."""
    text = report if isinstance(report, str) else json.dumps(report)
    out = ctypes.c_void_p()
    return take_text(lib.mlops_report_html(ctypes.byref(out), text.encode()), out)


def write_html(db: Database, path: str, **options: Any) -> Dict[str, Any]:
    """Build the report, write its HTML page to ``path`` and return the report."""
    text = build_json(db, **options)
    with open(path, "w", encoding="utf-8") as file:
        file.write(html(text))
    return json.loads(text)


__all__ = ["build", "build_json", "html", "write_html"]
