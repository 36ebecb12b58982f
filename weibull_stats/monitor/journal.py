"""The monitor's folder: opened (a new scan folder, or the journal of an earlier monitor continued)
and rewritten after each monitored step."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from weibull_stats.scanning.folder import (
    JOURNAL,
    OutputFolderError,
    check_output_folder,
    clear_outputs,
    declare_outputs,
    output_lock,
)
from weibull_stats.scanning.journal import Journal, check_journal, header_line
from weibull_stats.scanning.output import write_run, write_tables
from weibull_stats.scanning.run import SCAN_OUTPUTS
from weibull_stats.scanning.settings import ScanSettings


def open_journal(out: Path, settings: ScanSettings, files: Mapping[str, Mapping[str, Any]], resume: bool
                 ) -> tuple[Journal, dict[int, list[dict[str, Any]]], list[dict[str, Any]]]:
    """Start the journal of ``out`` (under its lock), keeping an earlier monitor's with ``resume``.

    The folder is checked and cleared as a scan's is (:mod:`weibull_stats.scanning.folder`);
    with ``resume`` the journal must match ``settings`` and the model layout ``files``
    (:func:`~weibull_stats.scanning.journal.check_journal`), and its rows and failures are
    carried over into the new journal: a step is never fitted twice, and the weights of a
    past step cannot be read again, so its failures stay failures (a scan retries them).

    Returns
    -------
    journal : Journal
        Open for appending.
    rows : dict of int to list of dict
        The carried-over rows by step.
    errors : list of dict
        The carried-over failures.
    """
    check_output_folder(out, resume=resume)
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    if resume:
        numbered, errors, _torn = check_journal(out, settings, files)
        rows = [row for _, row in numbered]
    clear_outputs(out, keep=[JOURNAL])
    declare_outputs(out, SCAN_OUTPUTS, fresh=True)
    journal = Journal(out / JOURNAL, header_line(settings, files), rows)
    journal.write([], errors)
    by_step: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_step.setdefault(int(row["step"]), []).append(row)
    return journal, by_step, errors


def write_folder(out: Path, journal: Journal | None, frame: pd.DataFrame, errors: list[dict[str, Any]],
                 skipped: list[dict[str, Any]], settings: ScanSettings, *, gate: Any, started: str,
                 finished: str | None, files: Mapping[str, Mapping[str, Any]], every: int,
                 steps: int) -> None:
    """Rewrite the tables and ``run.json`` of ``out`` (under its lock) from the monitor's rows.

    Raises
    ------
    OutputFolderError
        Another scan replaced the journal while the monitor was writing into the folder.
    """
    with output_lock(out):
        if journal is not None and not os.path.samestat(os.fstat(journal.handle.fileno()),
                                                        os.stat(out / JOURNAL)):
            raise OutputFolderError(out, f"{out / JOURNAL}: replaced by another scan while "
                                         "this monitor wrote into the folder; give it another `out`")
        write_tables(out, frame, errors, skipped)
        write_run(out, settings, gate, started, finished, int(frame["tensor"].nunique()) if len(frame) else 0,
                  files, rows=len(frame), errors=len(errors), skipped=len(skipped), every=every, steps=steps)


__all__ = ["open_journal", "write_folder"]
