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
import sys
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from weibull_stats._version import __version__
from weibull_stats.checkpoints import Checkpoint, classify, open_sources, source_names, split_fused
from weibull_stats.checkpoints.readers import minilm_path
from weibull_stats.checkpoints.sources import reopen
from weibull_stats.sample import as_sample
from weibull_stats.scan_distributed import ClusterRun
from weibull_stats.scan_files import check_fingerprints, fingerprints, output_lock, remove_outputs
from weibull_stats.scan_fit import fit_unit as _fit_unit
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


def fit_tensor(task: TensorTask, settings: ScanSettings, validated: bool, threads: int | None = None
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Read one tensor, split it if fused, fit each (part, estimator) not yet done.

    The tensor is read in its stored precision (bfloat16 and float16 stay 16-bit) and each
    (tensor, part) is checked once into a :class:`~weibull_stats.Sample` with the scan's
    policy (:data:`FIT_OPTIONS`): 16-bit data are counted by bit pattern there, and every
    estimator, the bootstrap and the goodness-of-fit test take that one sample.
    ``threads`` goes to the bootstrap engine (None: every CPU); results do not depend on it.
    Returns the rows and the failures; a failure never raises.
    """
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    try:
        ckpt = _checkpoint(task.path, task.checkpoint)
        entry = ckpt.entry(task.tensor)
        weight = ckpt.read(task.tensor)
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
            sample = as_sample(block, **FIT_OPTIONS)
        except (ValueError, TypeError) as exc:  # constant, too few values, NaN: every estimator fails alike
            errors += [_error(task.checkpoint, task.step, task.tensor, part, name, f"{where}: {exc}")
                       for name in wanted]
            continue
        if sample.owned and len(wanted) * (1 + settings.gof) > 1:
            # shared by several fits: none may reorder it, so no row depends on the others
            sample = replace(sample, owned=False)
        for name in wanted:
            try:
                row = _fit_unit(sample, name, settings, seed, threads)
            except (ValueError, ArithmeticError, RuntimeError) as exc:
                errors.append(_error(task.checkpoint, task.step, task.tensor, part, name, f"{where}: {exc}"))
                continue
            row.update(
                checkpoint=task.checkpoint, step=task.step, tensor=task.tensor, part=part,
                layer=role.layer, kind=kind, family=task.family, dtype=entry.dtype,
                rows=int(block.shape[0]), cols=int(block.shape[1]), numel=int(block.size),
                seed=seed, package_version=__version__, validated=validated,
            )
            rows.append(row)
    return rows, errors


# ---------------------------------------------------------------------- the scan
def scan(
    paths: Any,
    *,
    estimators: str | Sequence[str] = ("probability_plot",),
    bootstrap: int = 0,
    confidence_level: float = 0.95,
    gof: bool = False,
    gof_samples: int = 99,
    seed: int = 0,
    out: str | Path | None = None,
    resume: bool = False,
    jobs: int = 1,
    gate: Any = None,
    include_vectors: bool = False,
    progress: bool = False,
    warn: bool = True,
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
    bootstrap : int, default 0
        Bootstrap resamples for percentile intervals of shape and scale (0: no intervals).
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
    progress : bool, default False
        A tqdm progress bar (one step per tensor) on stderr.
    warn : bool, default True
        Emit the :class:`ScanWarning` (:func:`warn_failures`) here; the workflow emits it
        after writing the report instead.
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
        include_vectors,
    )
    if resume and out is None:
        raise ValueError("`resume` needs `out`: the folder whose journal the scan continues")
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
            write_run(out_dir, settings, gate, started, None, len(tasks), files)
        pending = pending_tasks(tasks, finished, settings)
        rows = list(finished)
        try:
            if journal is not None:
                journal.write([], errors)
            for new_rows, new_errors in _run_tasks(pending, settings, validated, jobs, progress, len(tasks),
                                                     cluster):
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

        frame = results_frame(rows, tasks, settings.estimators)
        if out_dir is not None:
            write_tables(out_dir, frame, errors, skipped)
            write_run(out_dir, settings, gate, started, datetime.now(UTC).isoformat(timespec="seconds"),
                      len(tasks), files, rows=len(frame), errors=len(errors), skipped=len(skipped),
                      resumed_rows=len(finished), torn_journal_lines=torn)
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
               progress: bool, total: int, cluster: ClusterRun | None = None,
               ) -> Iterable[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    bar = tqdm(total=total, initial=total - len(tasks), unit="tensor", file=sys.stderr,
               disable=not progress, dynamic_ncols=True)
    try:
        if cluster is not None:  # a Dask cluster: one task per tensor, read by its worker
            for task, result in cluster.results(fit_tensor, tasks, settings, validated):
                bar.set_postfix_str(task.tensor, refresh=False)
                yield result
                bar.update()
        elif jobs == 1 or len(tasks) <= 1:
            for task in tasks:
                bar.set_postfix_str(task.tensor, refresh=False)
                yield fit_tensor(task, settings, validated)
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
                futures = {pool.submit(fit_tensor, task, settings, validated, 1): task for task in tasks}
                for future in as_completed(futures):
                    bar.set_postfix_str(futures[future].tensor, refresh=False)
                    yield future.result()
                    bar.update()
    finally:
        bar.close()
        _OPEN.clear()  # release the last checkpoint (a loaded .bin state dict can be large)


__all__ = ["COLUMNS", "ERROR_COLUMNS", "FIT_OPTIONS", "PART_ORDER", "SKIPPED_COLUMNS", "ScanSettings",
           "ScanWarning", "TensorTask", "fit_tensor", "minilm_path", "scan", "tensor_seed", "warn_failures"]
