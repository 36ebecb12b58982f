"""What a scan writes: the tables and the run record (see :mod:`weibull_stats.scanning.run`).

Every file is written to a temporary name and renamed into place
(:func:`weibull_stats.scanning.folder.atomic_path`); the journal is :mod:`weibull_stats.scanning.journal`.
Everything here is a function of the rows and settings; the column lists are written once:
the fit columns come from :data:`weibull_stats.estimators.results.FIT_COLUMNS`, shared with
:meth:`~weibull_stats.WeibullFit.to_row` and :func:`~weibull_stats.results_table`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from weibull_stats._version import __version__
from weibull_stats.checkpoints.naming import STACK_PART
from weibull_stats.core.formatting import jsonable
from weibull_stats.estimators.results import FIT_COLUMNS, INTERVAL_COLUMNS, PROVENANCE_COLUMNS
from weibull_stats.scanning.decisions import DECISION_COLUMNS, add_decisions
from weibull_stats.scanning.folder import atomic_path, atomic_write_text
from weibull_stats.scanning.plan import PART_ORDER, TensorTask
from weibull_stats.scanning.settings import ScanSettings

#: Where a row's matrix lives and what it is.
LOCATION_COLUMNS: tuple[str, ...] = (
    "checkpoint", "step", "tensor", "part", "layer", "kind", "expert", "shared_expert", "side", "family",
    "dtype", "storage", "rows", "cols", "numel",
)
#: Columns of the results table, in order: location, the shared fit columns, the scan's extras.
COLUMNS: tuple[str, ...] = (
    *LOCATION_COLUMNS, *FIT_COLUMNS, "zeros", *INTERVAL_COLUMNS, "shape_se", "log_scale_se",
    "interval_method", "interval_warning", "bootstrap_shape_low", "bootstrap_shape_high",
    "bootstrap_scale_low", "bootstrap_scale_high", "n_resamples", "bootstrap_method", "r2",
    "gof_statistic", "gof_pvalue", "gof_pvalue_adjusted", "gof_samples", "gof_null", "equivalence",
    "equivalence_low", "equivalence_high", "equivalence_pvalue", "equivalence_pvalue_adjusted",
    "converged", "options", *PROVENANCE_COLUMNS, "validated",
)
ERROR_COLUMNS: tuple[str, ...] = ("checkpoint", "step", "tensor", "part", "estimator", "error")
SKIPPED_COLUMNS: tuple[str, ...] = ("checkpoint", "tensor", "dtype", "shape", "reason")
#: The tables a scan writes (:func:`write_tables`) and its run record (:func:`write_run`).
TABLES: tuple[str, ...] = ("results.csv", "results.parquet", "errors.csv", "skipped.csv")
RUN_RECORD = "run.json"


def results_frame(rows: list[dict[str, Any]], tasks: Sequence[TensorTask], settings: ScanSettings
                  ) -> pd.DataFrame:
    """The results table: :data:`COLUMNS`, sorted deterministically, stable dtypes, with the
    decisions across matrices (:func:`~weibull_stats.scanning.decisions.add_decisions`)."""
    order = {(t.checkpoint, t.tensor): t.order for t in tasks}
    position = {name: i for i, name in enumerate(settings.estimators)}

    def key(row: dict[str, Any]) -> tuple[int, int, int, str, int, str]:
        part = row["part"]
        stacked = STACK_PART.match(part)  # e<expert>[.<kind>] of an expert stack: experts in index order
        within = (stacked.group(2) or "") if stacked else part
        return (order.get((row["checkpoint"], row["tensor"]), len(order)),
                int(stacked.group(1)) if stacked else -1,
                PART_ORDER.index(within) if within in PART_ORDER else len(PART_ORDER), part,
                position.get(row["estimator"], len(position)), row["estimator"])

    ordered = sorted(rows, key=key)
    # a scan fits the whole block: the values given (`n`) are its `numel`
    frame = pd.DataFrame([{c: r.get(c, r.get("numel")) if c == "n" else r.get(c) for c in COLUMNS}
                          for r in ordered], columns=list(COLUMNS))
    integer = ("step", "layer", "expert", "rows", "cols", "numel", "n", "n_used", "zeros", "n_resamples",
               "gof_samples")
    for column in integer:
        frame[column] = frame[column].astype("Int64")
    frame = add_decisions(frame, equivalence_level=settings.equivalence_level, fdr=settings.fdr,
                          method=settings.multiple_testing)
    for column in ("shape", "scale", "shape_low", "shape_high", "scale_low", "scale_high",
                   "confidence_level", "shape_se", "log_scale_se", "bootstrap_shape_low",
                   "bootstrap_shape_high", "bootstrap_scale_low", "bootstrap_scale_high", "r2",
                   "gof_statistic", "gof_pvalue", "gof_pvalue_adjusted", *DECISION_COLUMNS[2:]):
        frame[column] = frame[column].astype("float64")
    frame["seed"] = frame["seed"].astype("int64")
    frame["shared_expert"] = frame["shared_expert"].fillna(False)
    for column in ("converged", "validated", "shared_expert"):
        frame[column] = frame[column].astype("bool")
    frame["side"] = frame["side"].fillna("")
    for column in ("checkpoint", "tensor", "part", "kind", "side", "family", "dtype", "storage", "estimator",
                   "interval_method", "interval_warning", "bootstrap_method", "gof_null", "equivalence",
                   "options", "package_version"):
        frame[column] = frame[column].astype("str")
    return frame


def write_tables(out: Path, frame: pd.DataFrame, errors: list[dict[str, Any]],
                  skipped: list[dict[str, Any]]) -> None:
    """Write ``results.csv``, ``results.parquet``, ``errors.csv`` and ``skipped.csv``, each atomically."""
    error_frame = pd.DataFrame(errors, columns=list(ERROR_COLUMNS))
    error_frame["step"] = error_frame["step"].astype("Int64")
    skipped_frame = pd.DataFrame(skipped, columns=list(SKIPPED_COLUMNS))
    results, parquet, errors_csv, skipped_csv = TABLES
    for name, table in ((results, frame), (errors_csv, error_frame), (skipped_csv, skipped_frame)):
        with atomic_path(out / name) as temporary:
            table.to_csv(temporary, index=False, lineterminator="\n")
    with atomic_path(out / parquet) as temporary:
        frame.to_parquet(temporary, index=False, engine="pyarrow")


def gate_dict(gate: Any, estimators: Sequence[str] = ()) -> dict[str, Any]:
    """The validation-gate record as JSON: ``gate.to_dict()``; None is an explicit skip.

    Examples
    --------
    >>> record = gate_dict(None, ["mle"])
    >>> record["validated"], record["skipped"], record["source"], record["estimators"]
    (False, True, 'skipped', ['mle'])
    """
    if gate is None:
        return {"validated": False, "skipped": True, "source": "skipped", "package_version": __version__,
                "estimators": list(estimators), "seed": None, "validated_at": None, "cache_path": None,
                "checks": 0, "note": None}
    return jsonable(dict(gate.to_dict()))


def write_run(out: Path, settings: ScanSettings, gate: Any, started: str, finished: str | None,
               tensors: int, files: Mapping[str, Any], device: str | None = None, **counts: int) -> None:
    """Write ``run.json`` atomically: settings, checkpoint fingerprints, gate, counts, times, and
    the ``device`` the samples were reduced on (None: numpy on the CPU)."""
    record = {
        "package_version": __version__,
        "settings": settings.to_dict(),
        "files": dict(files),
        "gate": gate_dict(gate, settings.estimators),
        "started": started,
        "finished": finished,
        "tensors": tensors,
        "device": device,
        **counts,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
    }
    atomic_write_text(out / RUN_RECORD, json.dumps(record, indent=2, sort_keys=True) + "\n")


__all__ = ["COLUMNS", "ERROR_COLUMNS", "LOCATION_COLUMNS", "RUN_RECORD", "SKIPPED_COLUMNS", "TABLES",
           "gate_dict", "results_frame", "write_run", "write_tables"]
