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
    One JSON line per finished row or failure, appended as each tensor finishes; ``resume``
    reads it back and skips finished ``(checkpoint, tensor, part, estimator)`` rows.
``results.csv``, ``results.parquet``
    The final table, sorted (checkpoint, tensor in file order, part, estimator) and free of
    timestamps: the same inputs and seed give the same bytes, whatever ``jobs``.
``errors.csv``
    One line per failure (missing, truncated or corrupt file, unknown dtype, failed fit).
``skipped.csv``
    Tensors not fitted by design (non-floating buffers, 1-D vectors, tensors of 3+ dims).
``run.json``
    Settings, the validation-gate record, counts and timestamps.

The files are written by :mod:`weibull_stats.scan_output`; the settings, tasks and per-tensor
seeds (:func:`tensor_seed`) are in :mod:`weibull_stats.scan_plan`.
"""

from __future__ import annotations

import json
import math
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
from weibull_stats.bootstrapping import bootstrap
from weibull_stats.checkpoints import Checkpoint, classify, open_sources, source_names, split_fused
from weibull_stats.checkpoints.readers import minilm_path
from weibull_stats.checkpoints.sources import reopen
from weibull_stats.gof import goodness_of_fit
from weibull_stats.registry import get_estimator
from weibull_stats.sample import Sample, as_sample
from weibull_stats.scan_output import (
    COLUMNS,
    ERROR_COLUMNS,
    JOURNAL,
    SKIPPED_COLUMNS,
    Journal,
    gate_dict,
    results_frame,
    resume_state,
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
    # one open checkpoint per worker process at a time (a torch shard can be large)
    key = (path, label)
    if key not in _OPEN:
        _OPEN.clear()
        _OPEN[key] = reopen(path, label)
    return _OPEN[key]


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


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


def _fit_unit(sample: Sample, name: str, settings: ScanSettings, seed: int, threads: int | None
              ) -> dict[str, Any]:
    """One row: fit (or bootstrap) and test one checked sample with estimator ``name``.

    The sample is passed on as it is: nothing re-checks or re-copies the data. The bootstrap
    (the one consumer whose draws depend on the order of raw magnitudes) runs first.
    """
    boot = None
    if settings.bootstrap:
        boot = bootstrap(sample, name, n_resamples=settings.bootstrap, method="percentile",
                         confidence_level=settings.confidence_level, rng=seed, workers=threads,
                         **FIT_OPTIONS)
        result = boot.estimate
    else:
        result = get_estimator(name)(sample, **FIT_OPTIONS)
    row: dict[str, Any] = {
        "estimator": name, "shape": result.shape, "scale": result.scale, "n_used": result.n_used,
        "zeros": int(result.n_omitted.get("zeros", 0)), "r2": _float(result.r2),
        "converged": bool(result.converged),
        "options": json.dumps(dict(result.to_dict()["options"]), sort_keys=True),
        "shape_low": math.nan, "shape_high": math.nan, "scale_low": math.nan, "scale_high": math.nan,
        "confidence_level": math.nan, "n_resamples": 0,
        "gof_statistic": math.nan, "gof_pvalue": math.nan, "gof_samples": 0,
        "storage": sample.storage,
    }
    if boot is not None:
        interval = boot.confidence_interval
        row.update(shape_low=float(interval.shape[0]), shape_high=float(interval.shape[1]),
                   scale_low=float(interval.scale[0]), scale_high=float(interval.scale[1]),
                   confidence_level=settings.confidence_level, n_resamples=settings.bootstrap)
    if settings.gof:
        test = goodness_of_fit(sample, name, statistic="ad", n_mc_samples=settings.gof_samples, rng=seed,
                               workers=threads, **FIT_OPTIONS)
        row.update(gof_statistic=float(test.statistic), gof_pvalue=_float(test.pvalue),
                   gof_samples=settings.gof_samples)
    return row


# ---------------------------------------------------------------------- journal and files
def _pending(tasks: Sequence[TensorTask], finished: Sequence[dict[str, Any]], settings: ScanSettings
             ) -> list[TensorTask]:
    """The tasks with some (part, estimator) row not yet in the journal, each told what is done."""
    done: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for row in finished:
        done.setdefault((row["checkpoint"], row["tensor"]), set()).add((row["part"], row["estimator"]))
    pending = []
    for task in tasks:
        finished_keys = frozenset(done.get((task.checkpoint, task.tensor), set()))
        role = classify(task.tensor, task.family)
        wanted = {(p, e) for p in ("", *role.parts) for e in settings.estimators}
        if not wanted <= finished_keys:
            pending.append(TensorTask(task.order, task.checkpoint, task.path, task.step, task.tensor,
                                      task.family, task.config, finished_keys))
    return pending


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
        Continue the scan journalled in ``out``: finished rows are kept, not redone. Without
        it an existing journal in ``out`` is replaced.
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
        Bad settings, or ``resume`` with settings that differ from the journal's.

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
    tasks, skipped, errors = plan_tasks(checkpoints, settings)

    out_dir = Path(out) if out is not None else None
    finished: list[dict[str, Any]] = []
    torn = 0
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        if resume:
            finished, torn = resume_state(out_dir, settings)
        write_run(out_dir, settings, gate, started, None, len(tasks))
    pending = _pending(tasks, finished, settings)

    journal = Journal(out_dir / JOURNAL, finished) if out_dir is not None else None
    rows = list(finished)
    try:
        if journal is not None:
            journal.write([], errors)
        for new_rows, new_errors in _run_tasks(pending, settings, validated, jobs, progress, len(tasks)):
            rows += new_rows
            errors += new_errors
            if journal is not None:
                journal.write(new_rows, new_errors)
    finally:
        if journal is not None:
            journal.close()

    frame = results_frame(rows, tasks, settings.estimators)
    if out_dir is not None:
        write_tables(out_dir, frame, errors, skipped)
        write_run(out_dir, settings, gate, started, datetime.now(UTC).isoformat(timespec="seconds"),
                  len(tasks), rows=len(frame), errors=len(errors), skipped=len(skipped),
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
               progress: bool, total: int) -> Iterable[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    bar = tqdm(total=total, initial=total - len(tasks), unit="tensor", file=sys.stderr,
               disable=not progress, dynamic_ncols=True)
    try:
        if jobs == 1 or len(tasks) <= 1:
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
