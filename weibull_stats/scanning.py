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
    ``(checkpoint, tensor, part, estimator)`` rows (:mod:`weibull_stats.scan_journal`).
``results.csv``, ``results.parquet``
    The final table, sorted (checkpoint, tensor in file order, part, estimator) and free of
    timestamps: the same inputs and seed give the same bytes, whatever ``jobs``.
``errors.csv``
    One line per failure (missing, truncated or corrupt file, unknown dtype, failed fit).
``skipped.csv``
    Tensors not fitted by design (non-floating buffers, 1-D vectors, tensors of 3+ dims).
``run.json``
    Settings, checkpoint fingerprints, the validation-gate record, counts and timestamps.
``scan.lock``
    Locked while a scan writes (:func:`weibull_stats.scan_files.output_lock`).

Tables and run record are written atomically by :mod:`weibull_stats.scan_output`; the
settings, tasks and per-tensor seeds (:func:`tensor_seed`) are in :mod:`weibull_stats.scan_plan`.
"""

from __future__ import annotations

import contextlib
import functools
import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import replace
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING, Any

import numpy as np

from weibull_stats._version import __version__
from weibull_stats.checkpoints import Checkpoint, classify, open_sources, source_names, split_fused
from weibull_stats.checkpoints.devices import check_device, to_device
from weibull_stats.checkpoints.readers import minilm_path
from weibull_stats.checkpoints.sources import reopen
from weibull_stats.progress import ProgressOption, QueueTicker, Ticker, progress_bar, show_progress
from weibull_stats.sample import as_sample
from weibull_stats.scan_distributed import ClusterRun
from weibull_stats.scan_files import check_fingerprints, fingerprints, output_lock, remove_outputs
from weibull_stats.scan_fit import fit_unit as _fit_unit
from weibull_stats.scan_fit import unit_cost
from weibull_stats.scan_journal import JOURNAL, Journal, header_line, pending_tasks, resume_state
from weibull_stats.scan_output import (
    COLUMNS,
    ERROR_COLUMNS,
    SKIPPED_COLUMNS,
    gate_dict,
    results_frame,
    write_run,
    write_tables,
)
from weibull_stats.scan_plan import (
    FIT_OPTIONS,
    PART_ORDER,
    ScanSettings,
    TensorTask,
    check_settings,
    plan_tasks,
    tensor_seed,
)
from weibull_stats.scan_plan import error_record as _error

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class ScanWarning(UserWarning):
    """Some tensors or files failed during a scan (see ``errors.csv`` or ``frame.attrs``)."""


_OPEN: dict[tuple[str, str], Checkpoint] = {}


def _checkpoint(path: str, label: str) -> Checkpoint:
    # one open checkpoint per worker process at a time (a torch shard can be large); safe when a
    # Dask worker runs tasks in several threads
    key = (path, label)
    found = _OPEN.get(key)
    if found is None:
        found = reopen(path, label)
        _OPEN.clear()
        _OPEN[key] = found
    return found


def fit_tensor(task: TensorTask, settings: ScanSettings, validated: bool, threads: int | None = None,
               device: str | None = None, ticker: Ticker | None = None
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Read one tensor, split it if fused, fit each (part, estimator) not yet done.

    The tensor is read in its stored precision (bfloat16 and float16 stay 16-bit) and each
    (tensor, part) is checked once into a :class:`~weibull_stats.Sample` with the scan's
    policy (:data:`FIT_OPTIONS`): 16-bit data are counted by bit pattern there, and every
    estimator, the bootstrap and the goodness-of-fit test take that one sample.
    ``threads`` goes to the bootstrap engine (None: every CPU); results do not depend on it.
    With a ``device`` the tensor is moved there as read and the sample's O(n) passes run there
    (:mod:`weibull_stats.checkpoints.devices`). ``ticker`` (:mod:`weibull_stats.progress`) is
    told of the work done, in weights fitted (:func:`task_cost` in all). Returns the rows and
    the failures; a failure never raises.
    """
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    try:
        ckpt = _checkpoint(task.path, task.checkpoint)
        entry = ckpt.entry(task.tensor)
        weight = ckpt.read(task.tensor)
        if device is not None:
            weight = to_device(weight, device)
    except (ValueError, OSError, KeyError, TypeError) as exc:
        message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        errors.append(_error(task.checkpoint, task.step, task.tensor, "", "", message))
        return rows, errors
    if weight.ndim == 1:
        weight = weight.reshape(-1, 1)
    role = classify(task.tensor, task.family)
    units: list[tuple[str, str, np.ndarray]] = [("", role.kind, weight)]
    if role.parts:
        try:
            blocks = split_fused(weight, role, task.config, task.tensor)
            units += [(part, part, block) for part, block in blocks]
        except ValueError as exc:
            errors += [_error(task.checkpoint, task.step, task.tensor, part, "", str(exc))
                       for part in role.parts]
    for part, kind, block in units:
        wanted = [name for name in settings.estimators if (part, name) not in task.done]
        if not wanted:
            continue
        seed = tensor_seed(settings.seed, task.tensor, part)
        where = f"{task.tensor}" + (f" part {part}" if part else "")
        try:
            sample = as_sample(block, values=settings.policy["values"], zeros=settings.policy["zeros"],
                               nonfinite=settings.policy["nonfinite"])
        except (ValueError, TypeError) as exc:  # constant, too few values, NaN: every estimator fails alike
            errors += [_error(task.checkpoint, task.step, task.tensor, part, name, f"{where}: {exc}")
                       for name in wanted]
            continue
        # consumers of the sample per estimator: the fit (with its interval) or the bootstrap,
        # the interval beside a bootstrap, the test
        both = settings.bootstrap > 0 and settings.intervals == "asymptotic"
        if sample.owned and len(wanted) * (1 + settings.gof + both) > 1:
            # shared by several fits: none may reorder it, so no row depends on the others
            sample = replace(sample, owned=False)
        for name in wanted:
            try:
                row = _fit_unit(sample, name, settings, seed, threads, ticker)
            except (ValueError, ArithmeticError, RuntimeError) as exc:
                errors.append(_error(task.checkpoint, task.step, task.tensor, part, name, f"{where}: {exc}"))
                continue
            row.update(
                checkpoint=task.checkpoint, step=task.step, tensor=task.tensor, part=part,
                layer=role.layer, kind=kind, family=task.family, dtype=entry.dtype,
                rows=int(block.shape[0]), cols=int(block.shape[1]), numel=math.prod(block.shape),
                seed=seed, package_version=__version__, validated=validated,
            )
            rows.append(row)
    return rows, errors


# ---------------------------------------------------------------------- the scan
def scan(
    paths: Any,
    *,
    estimators: str | Sequence[str] = ("probability_plot",),
    options: Mapping[str, Any] | None = None,
    values: str = "weights",
    zeros: str = "omit",
    nonfinite: str = "error",
    bootstrap: int = 0,
    bootstrap_method: str = "percentile",
    intervals: str = "asymptotic",
    fdr: float = 0.05,
    multiple_testing: str = "fdr_bh",
    confidence_level: float = 0.95,
    gof: bool = False,
    gof_samples: int = 99,
    seed: int = 0,
    out: str | Path | None = None,
    resume: bool = False,
    jobs: int = 1,
    gate: Any = None,
    include_vectors: bool = False,
    progress: ProgressOption = None,
    warn: bool = True,
    device: str | None = None,
    client: Any = None,
) -> tuple[pd.DataFrame, list[Checkpoint]]:
    """Fit every weight matrix of one or more checkpoints, behind a gate already decided.

    Most callers want :func:`weibull_stats.scan` (:mod:`weibull_stats.workflow`), which runs
    the validation gate first and writes the report after.

    Parameters
    ----------
    paths : source or sequence of sources
        Each a weight file (``.safetensors``, ``.bin``/``.pt``, ``.npy``, ``*.index.json``), a
        model folder, a folder of ``step-N`` checkpoint folders (a trajectory, in step order),
        ``"minilm"`` (the embedded all-MiniLM-L6-v2), a Hugging Face model id in the local
        cache, a ``torch.nn.Module`` or a state dict (see
        :mod:`weibull_stats.checkpoints.sources`).
    estimators : str or sequence of str, default ("probability_plot",)
        Registered estimators; every matrix is fitted with each.
    options : mapping, optional
        Estimator options, recorded in ``run.json`` and in each row's ``options``: flat,
        ``{"trim": (0.05, 0.95)}`` (each option goes to every chosen estimator that takes
        it), or by estimator, ``{"probability_plot": {"trim": (0.05, 0.95)}}``
        (:func:`~weibull_stats.registry.options_by_estimator`). Default: each estimator's own.
    values, zeros, nonfinite : str, default "weights", "omit", "error"
        The input policy of every fit (:func:`~weibull_stats.as_sample`): signed weights
        (``|w|`` is fitted), zeros left out and counted in the ``zeros`` column, NaN or
        infinite values an error of that tensor (``"omit"``: left out and counted).
    bootstrap : int, default 0
        Bootstrap resamples for intervals of shape and scale (0: no intervals).
    bootstrap_method : {"percentile", "basic", "bca"}, default "percentile"
        The bootstrap interval (:func:`~weibull_stats.bootstrap`), in the ``bootstrap_*``
        columns, its method in ``bootstrap_method``.
    intervals : {"asymptotic", "none"}, default "asymptotic"
        Every matrix gets its estimator's asymptotic interval (:func:`~weibull_stats.
        confidence_interval`, a few percent of the fit) in ``shape_low`` ... ``scale_high``,
        with ``shape_se``, ``log_scale_se``, ``interval_method`` and, where first-order theory
        is not to be trusted, ``interval_warning``.
    fdr : float, default 0.05
        Level of the equivalence verdicts and the false discovery rate of the adjusted
        p-values the report counts (:mod:`weibull_stats.scan_decisions`).
    multiple_testing : str, default "fdr_bh"
        statsmodels ``multipletests`` method of ``gof_pvalue_adjusted`` and
        ``equivalence_pvalue_adjusted`` (Benjamini–Hochberg by default), across the matrices
        of each checkpoint and estimator.
    confidence_level : float, default 0.95
    gof : bool, default False
        Anderson–Darling goodness of fit with parametric-bootstrap p-values
        (``gof_samples`` Monte Carlo refits with the same estimator).
    gof_samples : int, default 99
    seed : int, default 0
        Root seed; each (tensor, part) gets :func:`tensor_seed` ``(seed, tensor, part)``.
    out : path, optional
        Folder for the journal, tables and run record (see the module docstring). Without
        it nothing is written and ``resume`` is unavailable.
    resume : bool, default False
        Continue the scan journalled in ``out``: finished rows are kept, not redone, once the
        journal's settings and checkpoint fingerprints match. Without it the journal, tables,
        report, plots and ``run.json`` of an earlier scan in ``out`` are removed first.
    jobs : int, default 1
        Worker processes; results do not depend on it. Memory grows with it (one tensor per
        worker).
    gate : object, optional
        The validation-gate record (a :class:`~weibull_stats.validation.GateRecord`: attributes
        ``validated`` and ``skipped``, method ``to_dict``); None means validation was skipped.
        Rows record ``validated = gate.validated and not gate.skipped``.
    include_vectors : bool, default False
        Also fit 1-D floating tensors (biases, norms) as kind ``other``.
    progress : bool, None or ticker, default None
        A bar on stderr with the time left, counting weights fitted (so it moves within a
        large tensor's bootstrap or test); None shows it when stderr is a terminal
        (:mod:`weibull_stats.progress`).
    warn : bool, default True
        Emit the :class:`ScanWarning` (:func:`warn_failures`) here; the workflow emits it
        after writing the report instead.
    device : str, optional
        A torch device (``"cuda"``, ``"cuda:1"``, ``"cpu"``...): each tensor is read straight
        into a torch tensor there and its sample reduced there (16-bit storage: only the
        pattern counts come back). Recorded in ``run.json``; the numbers do not depend on it.
        None (default): numpy on the CPU.
    client : dask.distributed.Client, optional
        Run the tasks (one per tensor) on this Dask cluster; its workers read the tensors
        from the files, this process journals the results (:mod:`weibull_stats.scan_distributed`).
        The tables are the same bytes as without it. Not with in-memory sources or ``jobs > 1``.

    Returns
    -------
    frame : pandas.DataFrame
        One row per (checkpoint, tensor, part, estimator), columns :data:`COLUMNS`
        (``part`` is ``""`` for a whole matrix, ``q``/``k``/``v`` or ``up``/``gate`` for a
        part of a fused one). ``frame.attrs`` holds ``errors`` and ``skipped`` (lists of
        dicts) and ``gate`` (the validation record).
    checkpoints : list of Checkpoint
        The checkpoints scanned (for the report).

    Warns
    -----
    ScanWarning
        When some tensor or file failed; the failures are in ``frame.attrs["errors"]`` and
        ``errors.csv``.

    Raises
    ------
    ValueError
        Bad settings; nothing to fit in any checkpoint; ``resume`` refused (the settings, the
        package version or a checkpoint file differ from the journalled scan's, or the journal
        or ``run.json`` is corrupt: the message names the file and line); a checkpoint file
        changed while it was scanned. See :mod:`weibull_stats.scan_journal`.
    OSError
        Another scan or report holds the lock on ``out`` (:func:`weibull_stats.scan_files.output_lock`).

    Examples
    --------
    A synthetic Llama-layout checkpoint (``scan("minilm")`` scans the embedded real model):

    >>> import tempfile
    >>> from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
    >>> from weibull_stats.scanning import scan
    >>> state, config = synthetic_state("llama", layers=2, hidden=16, heads=2)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     table, _ = scan(write_checkpoint(folder, state, config))
    >>> len(table), sorted(set(table["kind"]))
    (16, ['down', 'embedding', 'gate', 'k', 'lm_head', 'o', 'q', 'up', 'v'])
    >>> table.loc[table["kind"] == "q", ["layer", "rows", "cols"]].to_numpy().tolist()
    [[0, 16, 16], [1, 16, 16]]
    """
    settings = check_settings(
        source_names(paths), estimators, bootstrap, confidence_level, gof, gof_samples, seed, jobs,
        include_vectors, options=options, policy={"values": values, "zeros": zeros, "nonfinite": nonfinite},
        bootstrap_method=bootstrap_method, intervals=intervals, fdr=fdr, multiple_testing=multiple_testing,
    )
    if resume and out is None:
        raise ValueError("`resume` needs `out`: the folder whose journal the scan continues")
    device = check_device(device)
    validated = gate is not None and bool(gate.validated) and not bool(gate.skipped)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    checkpoints = open_sources(paths, jobs=jobs)
    cluster = ClusterRun.start(client, checkpoints, jobs) if client is not None else None
    tasks, skipped, errors = plan_tasks(checkpoints, settings)
    if not tasks and len(errors) == len(checkpoints):  # only "nothing to fit" (no file or tensor failed)
        raise ValueError("nothing to fit: " + "; ".join(e["error"] for e in errors))
    files = fingerprints(checkpoints)

    out_dir = Path(out) if out is not None else None
    with output_lock(out_dir) if out_dir is not None else contextlib.nullcontext():
        finished: list[dict[str, Any]] = []
        torn = 0
        journal = None
        if out_dir is not None:
            if resume:
                finished, torn = resume_state(out_dir, settings, files, tasks)
            remove_outputs(out_dir)  # no table, report or run record of an earlier scan stays beside this one
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


def task_cost(task: TensorTask, settings: ScanSettings) -> float:
    """The work of one task, in weights fitted: each (part, estimator) row still to do costs its
    weights times :func:`~weibull_stats.scan_fit.unit_cost` (a fused matrix's parts share its
    weights equally)."""
    parts = ("", *classify(task.tensor, task.family).parts)
    share = {part: task.numel / (len(parts) - 1) if part and len(parts) > 1 else task.numel for part in parts}
    rows = [(part, name) for part in parts for name in settings.estimators if (part, name) not in task.done]
    return float(sum(share[part] for part, _ in rows) * unit_cost(settings))


_QUEUE: Any = None


def _set_queue(queue: Any) -> None:  # the worker processes' end of the progress queue
    global _QUEUE
    _QUEUE = queue


def _fit_reporting(task: TensorTask, settings: ScanSettings, validated: bool, threads: int | None,
                   device: str | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ticker = QueueTicker(_QUEUE, task.order) if _QUEUE is not None else None
    try:
        return fit_tensor(task, settings, validated, threads, device, ticker=ticker)
    finally:
        if ticker is not None:
            ticker.flush()


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
                    ticker = _TaskTicker(credit, task.order)
                    result = fit_tensor(task, settings, validated, None, device, ticker=ticker)
                    finish(task)
                    yield result
            else:
                report = show_progress(progress) or isinstance(progress, Ticker)
                yield from _run_pool(tasks, settings, validated, jobs, device, report, credit, finish)
        finally:
            _OPEN.clear()  # release the last checkpoint (a loaded .bin state dict can be large)


class _TaskTicker:
    """A task's ticker in this process: its reports go to ``credit(key, units)``."""

    def __init__(self, credit: Callable[[int, float], None], key: int) -> None:
        self.credit, self.key = credit, key

    def update(self, n: float = 1) -> None:
        self.credit(self.key, float(n))


def _run_pool(tasks: list[TensorTask], settings: ScanSettings, validated: bool, jobs: int,
              device: str | None, report: bool, credit: Callable[[int, float], None],
              finish: Callable[[TensorTask], None]
              ) -> Iterable[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    context = get_context("spawn")
    queue = context.Queue() if report else None
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_set_queue,
                             initargs=(queue,)) as pool:
        futures = {pool.submit(_fit_reporting, task, settings, validated, 1, device): task for task in tasks}
        waiting = set(futures)
        while waiting:
            ready, waiting = wait(waiting, timeout=0.25 if report else None, return_when=FIRST_COMPLETED)
            _drain(queue, credit)
            for future in sorted(ready, key=lambda f: futures[f].order):
                finish(futures[future])
                yield future.result()
    if queue is not None:
        queue.close()


def _drain(queue: Any, credit: Callable[[int, float], None]) -> None:
    while queue is not None:
        try:
            key, units = queue.get_nowait()
        except Empty:
            return
        credit(key, units)


__all__ = ["COLUMNS", "ERROR_COLUMNS", "FIT_OPTIONS", "PART_ORDER", "SKIPPED_COLUMNS", "ScanSettings",
           "ScanWarning", "TensorTask", "fit_tensor", "minilm_path", "scan", "tensor_seed", "warn_failures"]
