"""Fit every weight matrix of one or more checkpoints: the scan.

A scan reads each checkpoint one tensor at a time, names every 2-D floating tensor by layer
and kind (:mod:`weibull_stats.checkpoints`), splits merged matrices into their parts, and fits
the magnitudes ``|w|`` (zeros omitted and counted) with each chosen estimator, optionally with
bootstrap intervals and a goodness-of-fit p-value.

This module is the scan layer: it takes the validation-gate record already decided and writes
no report. The public :func:`weibull_stats.scan` (:mod:`weibull_stats.workflow`) runs the gate,
then this scan, then the report.

Files written to ``out``
------------------------
``journal.jsonl``
    A header line (settings, checkpoint fingerprints), then one JSON line per finished row or
    failure, appended as each tensor finishes; ``resume`` checks it and skips finished
    ``(checkpoint, tensor, part, estimator)`` rows (:mod:`weibull_stats.scanning.journal`).
``results.csv``, ``results.parquet``
    The final table, sorted (checkpoint, tensor in file order, part, estimator) and free of
    timestamps: the same inputs and seed give the same bytes, whatever ``jobs``.
``errors.csv``
    One line per failure (missing, truncated or corrupt file, unknown dtype, failed fit); a
    checkpoint that cannot be opened is one such line while any other opens.
``skipped.csv``
    What is not fitted by design, with the reason: non-floating buffers, 1-D vectors, tensors
    of 3+ dims, the other weight files of a model folder (a ``.bin`` beside the ``.safetensors``).
``run.json``
    Settings, checkpoint fingerprints, the validation-gate record, counts and timestamps.
``manifest.json``
    Every file the scan and its report write there, listed before it is written. A new scan
    writes only into a new or empty folder or one an earlier scan wrote, and removes only the
    files its manifest lists (:mod:`weibull_stats.scanning.folder`).
``scan.lock``
    Locked while a scan writes, removed when it ends (:func:`weibull_stats.scanning.folder.output_lock`).

Tables and run record are written atomically by :mod:`weibull_stats.scanning.output`; the
settings are declared and checked in :mod:`weibull_stats.scanning.settings`; the tasks and
per-tensor seeds (:func:`tensor_seed`) are in :mod:`weibull_stats.scanning.plan`;
one tensor's read and fit in :mod:`weibull_stats.scanning.tensor`; the decisions across matrices
(equivalence, adjusted p-values) in :mod:`weibull_stats.scanning.decisions`; the Dask route in
:mod:`weibull_stats.scanning.distributed`.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weibull_stats.checkpoints import Checkpoint, open_sources, source_names
from weibull_stats.checkpoints.devices import check_device
from weibull_stats.checkpoints.readers import minilm_path
from weibull_stats.core.progress import ProgressOption, Ticker, progress_bar, show_progress
from weibull_stats.scanning.distributed import ClusterRun
from weibull_stats.scanning.files import check_fingerprints, fingerprints
from weibull_stats.scanning.folder import check_output_folder, clear_outputs, declare_outputs, output_lock
from weibull_stats.scanning.journal import JOURNAL, Journal, header_line, pending_tasks, resume_state
from weibull_stats.scanning.output import (
    COLUMNS,
    ERROR_COLUMNS,
    RUN_RECORD,
    SKIPPED_COLUMNS,
    TABLES,
    gate_dict,
    results_frame,
    write_run,
    write_tables,
)
from weibull_stats.scanning.plan import PART_ORDER, TensorTask, plan_tasks, tensor_seed
from weibull_stats.scanning.settings import FIT_OPTIONS, SETTINGS, ScanSettings, check_settings
from weibull_stats.scanning.tensor import (
    TaskTicker,
    drain,
    fit_reporting,
    fit_tensor,
    release,
    set_progress_queue,
    task_cost,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


#: What a scan writes into its folder (its report adds its own files to the manifest).
SCAN_OUTPUTS: tuple[str, ...] = (JOURNAL, RUN_RECORD, *TABLES)


class ScanWarning(UserWarning):
    """Some tensors or files failed during a scan (see ``errors.csv`` or ``frame.attrs``)."""


# ---------------------------------------------------------------------- the scan
def scan(
    paths: Any,
    settings: ScanSettings | None = None,
    *,
    out: str | Path | None = None,
    resume: bool = False,
    jobs: int = 1,
    gate: Any = None,
    progress: ProgressOption = None,
    warn: bool = True,
    device: str | None = None,
    client: Any = None,
    **given: Any,
) -> tuple[pd.DataFrame, list[Checkpoint]]:
    """Fit every weight matrix of one or more checkpoints, behind a gate already decided.

    Most callers want :func:`weibull_stats.scan` (:mod:`weibull_stats.workflow`), which runs
    the validation gate first and writes the report after.

    Parameters
    ----------
    paths
        As :func:`weibull_stats.scan`.
    settings : ScanSettings, optional
        The settings, checked (:func:`~weibull_stats.scanning.settings.check_settings`, as
        :func:`weibull_stats.scan` does before its gate). Without it, the keywords ``given``
        are checked here.
    out, resume, jobs, progress, device, client
        As :func:`weibull_stats.scan`.
    **given
        Without ``settings``: any setting of
        :data:`~weibull_stats.scanning.settings.SCAN_SETTINGS` (``estimators``, ``bootstrap``,
        ``fdr``, ...), as :func:`weibull_stats.scan` documents them.
    gate : object, optional
        The validation-gate record (a :class:`~weibull_stats.validation.GateRecord`: attributes
        ``validated`` and ``skipped``, method ``to_dict``); None means validation was skipped.
        Rows record ``validated = gate.validated and not gate.skipped``.
    warn : bool, default True
        Emit the :class:`ScanWarning` (:func:`warn_failures`) here; the workflow emits it
        after writing the report instead.

    Returns
    -------
    frame : pandas.DataFrame
        The table :func:`weibull_stats.scan` returns, with ``frame.attrs["gate"]`` the record
        given (or None).
    checkpoints : list of Checkpoint
        The checkpoints scanned (for the report).

    Warns
    -----
    ScanWarning
        As :func:`weibull_stats.scan`, here when ``warn`` is true.

    Raises
    ------
    ValueError, OutputFolderError, OSError
        As :func:`weibull_stats.scan` (all but the validation gate's failure: the gate is
        decided by the caller).

    Examples
    --------
    The scan proper of a synthetic Llama-layout checkpoint: no gate is given, so no row counts
    as validated.

    >>> import tempfile
    >>> from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
    >>> from weibull_stats.scanning.run import scan
    >>> state, config = synthetic_state("llama", layers=2, hidden=16, heads=2)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     table, checkpoints = scan(write_checkpoint(folder, state, config), estimators=("mle",))
    >>> len(table), sorted(set(table["estimator"])), bool(table["validated"].any()), len(checkpoints)
    (16, ['mle'], False, 1)
    """
    if settings is None:
        settings = check_settings(paths=source_names(paths), jobs=jobs, **given)
    elif given:
        raise TypeError(f"give `settings` or the settings by keyword, not both (got {', '.join(given)})")
    else:
        jobs = SETTINGS["jobs"].checked(jobs)  # not a recorded setting: checked here too
    if resume and out is None:
        raise ValueError("`resume` needs `out`: the folder whose journal the scan continues")
    device = check_device(device)
    validated = gate is not None and bool(gate.validated) and not bool(gate.skipped)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    checkpoints = open_sources(paths, jobs=jobs, errors="record")  # one bad path: an errors.csv row
    cluster = ClusterRun.start(client, checkpoints, jobs) if client is not None else None
    tasks, skipped, errors = plan_tasks(checkpoints, settings)
    if not tasks:
        raise ValueError("nothing to fit: " + "; ".join(e["error"] for e in errors[:3])
                         + (f"; ... ({len(errors)} failures)" if len(errors) > 3 else ""))
    files = fingerprints(checkpoints)

    out_dir = Path(out) if out is not None else None
    with output_lock(out_dir) if out_dir is not None else contextlib.nullcontext():
        finished: list[dict[str, Any]] = []
        torn = 0
        journal = None
        if out_dir is not None:
            check_output_folder(out_dir, resume=resume)  # nothing but an earlier scan's files is there
            if resume:
                finished, torn = resume_state(out_dir, settings, files, tasks)
            clear_outputs(out_dir, keep=[JOURNAL])  # no file of an earlier scan stays beside this one's
            declare_outputs(out_dir, SCAN_OUTPUTS, fresh=True)
            journal = Journal(out_dir / JOURNAL, header_line(settings, files), finished)
            write_run(out_dir, settings, gate, started, None, len(tasks), files, device=device)
        pending = pending_tasks(tasks, finished, settings)
        rows = list(finished)
        try:
            if journal is not None:
                journal.write([], errors)
            for new_rows, new_errors in _run_tasks(pending, settings, validated, jobs, progress, len(tasks),
                                                   device, cluster):
                rows += new_rows
                errors += new_errors
                if journal is not None:
                    journal.write(new_rows, new_errors)
        finally:
            if journal is not None:
                journal.close()
        # a file rewritten while it was read would mix two checkpoints in one table
        check_fingerprints(files, fingerprints(checkpoints, memory=False),
                           out_dir / JOURNAL if out_dir else Path(JOURNAL), during=True)

        frame = results_frame(rows, tasks, settings)
        if out_dir is not None:
            write_tables(out_dir, frame, errors, skipped)
            write_run(out_dir, settings, gate, started, datetime.now(UTC).isoformat(timespec="seconds"),
                      len(tasks), files, rows=len(frame), errors=len(errors), skipped=len(skipped),
                      resumed_rows=len(finished), torn_journal_lines=torn, device=device)
    frame.attrs["errors"] = errors
    frame.attrs["skipped"] = skipped
    frame.attrs["gate"] = gate_dict(gate, settings.estimators)
    frame.attrs["settings"] = settings.to_dict()
    if warn:
        warn_failures(frame, out_dir, stacklevel=2)
    return frame, checkpoints


def warn_failures(frame: pd.DataFrame, out: Path | None, *, stacklevel: int = 2) -> None:
    """A :class:`ScanWarning` naming the failures in ``frame.attrs["errors"]``, if any."""
    errors = frame.attrs.get("errors") or []
    if errors:
        where = f"; see {out / 'errors.csv'}" if out is not None else "; see frame.attrs['errors']"
        first = errors[0]["error"]
        warnings.warn(f"{len(errors)} failures during the scan (first: {first}){where}", ScanWarning,
                      stacklevel=stacklevel + 1)


def _run_tasks(tasks: list[TensorTask], settings: ScanSettings, validated: bool, jobs: int,
               progress: Any, total: int, device: str | None = None, cluster: ClusterRun | None = None,
               ) -> Iterable[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Fit ``tasks`` (of ``total``), yielding each task's rows and failures as it finishes.

    The bar counts weights fitted (:func:`task_cost`), so it moves while a large tensor is
    resampled or tested; with ``jobs > 1`` the workers report through a queue.
    """
    costs = {task.order: task_cost(task, settings) for task in tasks}
    done_tasks = total - len(tasks)
    with progress_bar(progress, sum(costs.values()) or 1.0, description="scan") as bar:
        reported: dict[int, float] = dict.fromkeys(costs, 0.0)

        def credit(key: int, units: float) -> None:  # never more than a task's cost, whatever arrives late
            units = min(units, costs[key] - reported[key])
            if units > 0:
                reported[key] += units
                bar.update(units)

        def finish(task: TensorTask) -> None:
            nonlocal done_tasks
            done_tasks += 1
            bar.update(costs[task.order] - reported[task.order])  # zeros omitted: less was fitted
            reported[task.order] = costs[task.order]
            if hasattr(bar, "set_postfix_str"):
                bar.set_postfix_str(f"{done_tasks}/{total} tensors, {task.tensor}", refresh=False)

        try:
            if cluster is not None:  # a Dask cluster: one task per tensor, read by its worker
                fit = functools.partial(fit_tensor, device=device) if device is not None else fit_tensor
                for task, result in cluster.results(fit, tasks, settings, validated):
                    finish(task)
                    yield result
            elif jobs == 1 or len(tasks) <= 1:
                for task in tasks:
                    ticker = TaskTicker(credit, task.order)
                    result = fit_tensor(task, settings, validated, None, device, ticker=ticker)
                    finish(task)
                    yield result
            else:
                report = show_progress(progress) or isinstance(progress, Ticker)
                yield from _run_pool(tasks, settings, validated, jobs, device, report, credit, finish)
        finally:
            release()  # the last checkpoint (a loaded .bin state dict can be large)


def _run_pool(tasks: list[TensorTask], settings: ScanSettings, validated: bool, jobs: int,
              device: str | None, report: bool, credit: Callable[[int, float], None],
              finish: Callable[[TensorTask], None]
              ) -> Iterable[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    context = get_context("spawn")
    queue = context.Queue() if report else None
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=set_progress_queue,
                             initargs=(queue,)) as pool:
        futures = {pool.submit(fit_reporting, task, settings, validated, 1, device): task for task in tasks}
        waiting = set(futures)
        while waiting:
            ready, waiting = wait(waiting, timeout=0.25 if report else None, return_when=FIRST_COMPLETED)
            drain(queue, credit)
            for future in sorted(ready, key=lambda f: futures[f].order):
                finish(futures[future])
                yield future.result()
    if queue is not None:
        queue.close()


__all__ = ["COLUMNS", "ERROR_COLUMNS", "FIT_OPTIONS", "PART_ORDER", "SKIPPED_COLUMNS", "ScanSettings",
           "ScanWarning", "TensorTask", "fit_tensor", "minilm_path", "scan", "tensor_seed", "warn_failures"]
