"""The monitor's folder opened: a new scan folder, or the journal of an earlier monitor continued."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from weibull_stats.scanning.folder import JOURNAL, check_output_folder, clear_outputs, declare_outputs
from weibull_stats.scanning.journal import Journal, check_journal, header_line
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


__all__ = ["open_journal"]
