"""What a scan writes: the journal, the tables and the run record (see :mod:`weibull_stats.scanning`).

Everything here is a function of the rows and settings; the column lists are written once:
the fit columns come from :data:`weibull_stats.results.FIT_COLUMNS`, shared with
:meth:`~weibull_stats.WeibullFit.to_row` and :func:`~weibull_stats.results_table`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from weibull_stats._version import __version__
from weibull_stats.formatting import jsonable
from weibull_stats.results import FIT_COLUMNS, INTERVAL_COLUMNS, PROVENANCE_COLUMNS
from weibull_stats.scan_plan import PART_ORDER, ScanSettings, TensorTask

#: Where a row's matrix lives and what it is.
LOCATION_COLUMNS: tuple[str, ...] = (
    "checkpoint", "step", "tensor", "part", "layer", "kind", "family", "dtype", "storage", "rows", "cols",
    "numel",
)
#: Columns of the results table, in order: location, the shared fit columns, the scan's extras.
COLUMNS: tuple[str, ...] = (
    *LOCATION_COLUMNS, *FIT_COLUMNS, "zeros", *INTERVAL_COLUMNS, "n_resamples", "r2", "gof_statistic",
    "gof_pvalue", "gof_samples", "converged", "options", *PROVENANCE_COLUMNS, "validated",
)
ERROR_COLUMNS: tuple[str, ...] = ("checkpoint", "step", "tensor", "part", "estimator", "error")
SKIPPED_COLUMNS: tuple[str, ...] = ("checkpoint", "tensor", "dtype", "shape", "reason")
JOURNAL = "journal.jsonl"


def read_journal(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Finished rows of a journal; a torn last line (interrupted write) is dropped and counted."""
    rows: list[dict[str, Any]] = []
    torn = 0
    if not path.is_file():
        return rows, torn
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                torn += 1
                continue
            if not line.endswith("\n"):
                torn += 1
                continue
            if record.get("type") == "row":
                rows.append(record["row"])
    return rows, torn


class Journal:
    """Append-only JSON-lines record of finished rows and failures, flushed per tensor."""

    def __init__(self, path: Path, rows: list[dict[str, Any]]) -> None:
        self.handle = open(path, "w", encoding="utf-8")
        for row in rows:  # rewrite the clean part of a resumed journal
            self.handle.write(json.dumps({"type": "row", "row": row}) + "\n")
        self.handle.flush()

    def write(self, rows: Iterable[dict[str, Any]], errors: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.handle.write(json.dumps({"type": "row", "row": row}) + "\n")
        for error in errors:
            self.handle.write(json.dumps({"type": "error", "error": error}) + "\n")
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


def results_frame(rows: list[dict[str, Any]], tasks: Sequence[TensorTask], estimators: Sequence[str]
                  ) -> pd.DataFrame:
    """The results table: :data:`COLUMNS`, sorted deterministically, stable dtypes."""
    order = {(t.checkpoint, t.tensor): t.order for t in tasks}
    position = {name: i for i, name in enumerate(estimators)}

    def key(row: dict[str, Any]) -> tuple[int, int, str, int, str]:
        part = row["part"]
        return (order.get((row["checkpoint"], row["tensor"]), len(order)),
                PART_ORDER.index(part) if part in PART_ORDER else len(PART_ORDER), part,
                position.get(row["estimator"], len(position)), row["estimator"])

    ordered = sorted(rows, key=key)
    # a scan fits the whole block: the values given (`n`) are its `numel`
    frame = pd.DataFrame([{c: r.get(c, r.get("numel")) if c == "n" else r.get(c) for c in COLUMNS}
                          for r in ordered], columns=list(COLUMNS))
    integer = ("step", "layer", "rows", "cols", "numel", "n", "n_used", "zeros", "n_resamples", "gof_samples")
    for column in integer:
        frame[column] = frame[column].astype("Int64")
    for column in ("shape", "scale", "shape_low", "shape_high", "scale_low", "scale_high",
                   "confidence_level", "r2", "gof_statistic", "gof_pvalue"):
        frame[column] = frame[column].astype("float64")
    frame["seed"] = frame["seed"].astype("int64")
    for column in ("converged", "validated"):
        frame[column] = frame[column].astype("bool")
    for column in ("checkpoint", "tensor", "part", "kind", "family", "dtype", "storage", "estimator",
                   "options", "package_version"):
        frame[column] = frame[column].astype("str")
    return frame


def write_tables(out: Path, frame: pd.DataFrame, errors: list[dict[str, Any]],
                  skipped: list[dict[str, Any]]) -> None:
    frame.to_csv(out / "results.csv", index=False, lineterminator="\n")
    frame.to_parquet(out / "results.parquet", index=False, engine="pyarrow")
    error_frame = pd.DataFrame(errors, columns=list(ERROR_COLUMNS))
    error_frame["step"] = error_frame["step"].astype("Int64")
    error_frame.to_csv(out / "errors.csv", index=False, lineterminator="\n")
    pd.DataFrame(skipped, columns=list(SKIPPED_COLUMNS)).to_csv(out / "skipped.csv", index=False,
                                                                 lineterminator="\n")


def resume_state(out: Path, settings: ScanSettings) -> tuple[list[dict[str, Any]], int]:
    run_file = out / "run.json"
    if run_file.is_file():
        try:
            previous = json.loads(run_file.read_text(encoding="utf-8")).get("settings")
        except json.JSONDecodeError as exc:
            raise ValueError(f"{run_file}: corrupt run record ({exc}); scan into a new folder") from None
        if previous is not None and previous != settings.to_dict():
            changed = sorted(k for k in settings.to_dict() if previous.get(k) != settings.to_dict()[k])
            raise ValueError(
                f"{out}: cannot resume: settings differ from the journalled scan ({', '.join(changed)}); "
                "use the same settings or another --out"
            )
    rows, torn = read_journal(out / JOURNAL)
    unique: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for row in rows:
        unique.setdefault((row["checkpoint"], row["tensor"], row["part"], row["estimator"]), row)
    return list(unique.values()), torn


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
                "checks": 0}
    return jsonable(dict(gate.to_dict()))


def write_run(out: Path, settings: ScanSettings, gate: Any, started: str, finished: str | None,
               tensors: int, **counts: int) -> None:
    record = {
        "package_version": __version__,
        "settings": settings.to_dict(),
        "gate": gate_dict(gate, settings.estimators),
        "started": started,
        "finished": finished,
        "tensors": tensors,
        **counts,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
    }
    (out / "run.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")


__all__ = ["COLUMNS", "ERROR_COLUMNS", "JOURNAL", "LOCATION_COLUMNS", "SKIPPED_COLUMNS", "Journal",
           "gate_dict", "read_journal", "results_frame", "resume_state", "write_run", "write_tables"]
