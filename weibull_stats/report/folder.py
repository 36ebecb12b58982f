"""Read back what a scan wrote to its folder, checked, for ``weibull-stats report DIR``.

Each reader names the file in any error: a table that is not a scan's (its missing columns
listed), a corrupt ``run.json``, an unreadable CSV. :func:`weibull_stats.report.markdown.report_from_folder`
uses them.
"""

from __future__ import annotations

import json
import types
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from weibull_stats.scanning.output import COLUMNS
from weibull_stats.scanning.settings import ScanSettings, read_settings

#: Fields of the gate record the report reads.
GATE_KEYS: tuple[str, ...] = ("skipped", "estimators", "source", "package_version")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def read_results(path: Path) -> pd.DataFrame:
    """``results.parquet`` of a scan, checked to have the scan's columns (:data:`COLUMNS`)."""
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError, TypeError, NotImplementedError) as exc:  # pyarrow's errors derive from these
        raise ValueError(f"{path}: cannot read the results table ({_one_line(exc)})") from None
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"{path}: not the results table of a scan: missing columns {', '.join(missing)}")
    numeric = ("shape", "scale", "shape_low", "shape_high", "r2", "numel")
    wrong = [column for column in numeric if not pd.api.types.is_numeric_dtype(frame[column])]
    if wrong:
        raise ValueError(f"{path}: not the results table of a scan: columns {', '.join(wrong)} "
                         "are not numeric")
    return frame


class EarlierRunWarning(UserWarning):
    """A ``run.json`` of an earlier version lacks settings; the report states what stood in."""


def read_run(path: Path) -> tuple[ScanSettings, types.SimpleNamespace]:
    """The checked settings and the gate record (as attributes) of a scan's ``run.json``.

    Every recorded setting is read (:func:`~weibull_stats.scanning.settings.read_settings`),
    so the report states what the scan used. A record of an earlier version that lacks
    some is read with their declared defaults (``equivalence_level``: its ``fdr``), with an
    :class:`EarlierRunWarning` naming them.
    """
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{path}: corrupt run record ({_one_line(exc)})") from None
    if not isinstance(run, dict) or not isinstance(run.get("settings"), dict) or not isinstance(
            run.get("gate"), dict):
        raise ValueError(f"{path}: corrupt run record (not an object with `settings` and `gate` objects)")
    lacking = [key for key in GATE_KEYS if key not in run["gate"]]
    if lacking:
        raise ValueError(f"{path}: corrupt run record (`gate` lacks {', '.join(lacking)})")
    try:
        settings, notes = read_settings(run["settings"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: corrupt run record (settings: {_one_line(exc)})") from None
    if notes:
        warnings.warn(f"{path}: written by an earlier weibull-stats, without some settings; the report "
                      f"states {', '.join(notes)}", EarlierRunWarning, stacklevel=2)
    return settings, types.SimpleNamespace(**run["gate"])


def read_records(path: Path) -> list[dict[str, Any]]:
    """The rows of ``errors.csv`` or ``skipped.csv`` as dicts of strings (none when absent)."""
    if not path.is_file():
        return []
    try:
        table = pd.read_csv(path, keep_default_na=False, dtype=str)
    except (OSError, ValueError) as exc:  # pandas' parser errors are ValueErrors
        raise ValueError(f"{path}: cannot read the table ({_one_line(exc)})") from None
    return [{str(k): v for k, v in row.items()} for row in table.to_dict("records")]


__all__ = ["GATE_KEYS", "EarlierRunWarning", "read_records", "read_results", "read_run"]
