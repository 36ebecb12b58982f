"""The monitor: fit every weight matrix of a model at steps 0, N, 2N, ... of its training.

:class:`Monitor` is the scan (:mod:`weibull_stats.scanning`) run from inside a training loop on
the live model. Each parameter is read where it lives, not copied
(:class:`~weibull_stats.checkpoints.sources.MemoryCheckpoint` with ``live=True``): a 16-bit
tensor on a GPU is counted by bit pattern there and only the 65,536 counts leave it
(:mod:`weibull_stats.sample.tensors`); a CPU tensor is a numpy view, one tensor at a time.
Everything runs under ``torch.no_grad()``; nothing writes to the training tensors.

It writes a scan's folder (:mod:`weibull_stats.scanning.run`; ``step-N`` checkpoints with the
``step`` column), rewritten after every monitored step, with ``report.md`` at
:meth:`Monitor.close`: ``weibull-stats report DIR`` and every trajectory tool read it, during
the run as after it. ``resume=True`` continues it (:mod:`weibull_stats.monitor.journal`).
"""

from __future__ import annotations

import contextlib
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd

from weibull_stats.checkpoints import source_names
from weibull_stats.checkpoints.sources import MEMORY_PREFIX, MemoryCheckpoint, from_module, from_state_dict
from weibull_stats.core.checks import integer, one_of
from weibull_stats.core.progress import ProgressOption, progress_bar
from weibull_stats.monitor.integrations import attach_trainer, log_scalars, scalars, summary_writer
from weibull_stats.monitor.journal import open_journal, write_folder
from weibull_stats.report.markdown import write_report
from weibull_stats.scanning.folder import (
    check_output_folder,
    output_lock,
    staged_files,
)
from weibull_stats.scanning.journal import Journal
from weibull_stats.scanning.output import results_frame
from weibull_stats.scanning.plan import TensorTask, error_record, plan_tasks
from weibull_stats.scanning.settings import SETTINGS, ScanSettings, check_settings
from weibull_stats.scanning.tensor import fit_tensor, release
from weibull_stats.validation import gate as validation_gate

#: What a failed matrix does: an ``errors.csv`` row (training goes on), or an exception.
ERROR_CHOICES: tuple[str, ...] = ("record", "raise")


class MonitorWarning(UserWarning):
    """A matrix could not be fitted, or a monitored step failed; it is a row of ``errors.csv``."""


class MonitorError(RuntimeError):
    """A monitored step recorded failures and the monitor was asked to raise (``errors="raise"``)."""


def step_label(step: int) -> str:
    """The ``checkpoint`` label of a monitored step, as a folder of ``step-N`` checkpoints has it."""
    return f"step-{step}"


class Monitor:
    """Fit every weight matrix of ``model`` at steps 0, ``every``, 2 ``every``, ... of its training.

    Call :meth:`step` with the number of optimizer steps done, after each (steps that are not
    multiples of ``every`` cost one comparison), and :meth:`close` at the end (``with
    Monitor(...) as monitor:`` closes it), which fits the last step given if it was not a
    multiple of ``every``. Each monitored step is a checkpoint ``step-N`` of the scan's table.

    Parameters
    ----------
    model : torch.nn.Module or mapping of tensors
        The model being trained (its ``state_dict()`` is read at each monitored step), or a
        state dict whose tensors are the live parameters.
    every : int, default 100
        Interval in steps (at least 1).
    out : path, optional
        The folder written (see :mod:`weibull_stats.monitor.watch`): a new or empty folder, or
        one an earlier scan or monitor wrote. Without it nothing is written; :attr:`frame`
        and :attr:`latest` still hold the results.
    estimators, intervals, options
        As :func:`weibull_stats.scan` (their defaults are the scan's declared ones); the first
        estimator gives :attr:`latest`.
    label : str, optional
        The model's name in ``run.json`` (default: its class name, as :func:`weibull_stats.scan`
        names an in-memory model).
    resume : bool, default False
        Continue the monitor journalled in ``out`` (the same settings and model layout): its
        steps are kept and not fitted again. Without it, an earlier scan's files in ``out`` are
        removed first, as :func:`weibull_stats.scan` does.
    errors : {"record", "raise"}, default "record"
        A matrix that cannot be fitted (or a step that fails, such as a full disk) is a row of
        ``errors.csv`` and a :class:`MonitorWarning` (once per matrix), and training goes on;
        ``"raise"``: a :class:`MonitorError` (or the failure itself) after the step is written.
    report : bool, default True
        With ``out``, write ``report.md`` and its figures at :meth:`close`.
    tensorboard : path or SummaryWriter, optional
        Also log :attr:`latest` as scalars at each monitored step: a log folder (needs the
        ``tensorboard`` package) or any object with ``add_scalar(tag, value, step)``.
    skip_validation : bool, default False
        As :func:`weibull_stats.scan`: without it the validation gate runs once, here.
    progress : bool, None or ticker, default False
        A bar per monitored step on stderr (:mod:`weibull_stats.core.progress`).
    **settings
        Any other recorded setting of :data:`~weibull_stats.scanning.settings.SCAN_SETTINGS`
        (``bootstrap``, ``gof``, ``anchor``, ``seed``, ``include_vectors``, ...).

    Attributes
    ----------
    settings : ScanSettings
        The checked settings, recorded in ``run.json`` and the journal.
    latest : dict of str to float
        Per-kind median k and λ of the last monitored step (:func:`scalars`).
    seconds : float
        Time spent inside the monitor so far (fits, writes, the report at :meth:`close`).

    Raises
    ------
    ValueError
        Bad settings, ``every`` or ``errors``; a model without tensors; ``resume`` refused
        (another model layout or other settings); ``out`` holds files no scan wrote.
    TypeError
        ``model`` is neither a torch module nor a state dict.

    Examples
    --------
    >>> import tempfile, torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.Linear(16, 4))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     with ws.Monitor(model, every=2, out=folder, skip_validation=True, report=False) as monitor:
    ...         for step in range(5):
    ...             table = monitor.step(step)   # the weights after `step` updates
    ...     monitor.steps, len(monitor.frame)
    ([0, 2, 4], 6)
    """

    def __init__(
        self,
        model: Any,
        *,
        every: int = 100,
        out: str | Path | None = None,
        estimators: str | Sequence[str] = SETTINGS["estimators"].default,
        intervals: str = SETTINGS["intervals"].default,
        options: Mapping[str, Any] | None = SETTINGS["options"].default,
        label: str | None = None,
        resume: bool = False,
        errors: str = "record",
        report: bool = True,
        tensorboard: Any = None,
        skip_validation: bool = False,
        progress: ProgressOption = False,
        **settings: Any,
    ) -> None:
        self.every = integer(1)(every, "every")
        self.errors = one_of(ERROR_CHOICES)(errors, "errors")
        if not isinstance(model, Mapping) and not hasattr(model, "state_dict"):
            raise TypeError("`model`: expected a torch.nn.Module or a state dict; got "
                            f"{type(model).__name__}")
        unrecorded = [name for name in settings if name in SETTINGS and not SETTINGS[name].recorded]
        if unrecorded or "paths" in settings:  # the monitor fits in the training process, its model
            raise TypeError(f"`{(unrecorded or ['paths'])[0]}` is a setting of a scan, not of a monitor")
        self.label = label if label is not None else source_names(model)[0]
        self.settings: ScanSettings = check_settings(paths=[self.label], estimators=estimators,
                                                     intervals=intervals, options=options, **settings)
        if resume and out is None:
            raise ValueError("`resume` needs `out`: the folder whose journal the monitor continues")
        self._model, self.report, self.progress = model, report, progress
        self.out = Path(out) if out is not None else None
        layout = self._checkpoint(0)  # the model's tensors: names, dtypes, shapes
        self._files = {f"{MEMORY_PREFIX}/{self.label}": {"memory": True, "layout": True,
                                                        "sha256": layout.fingerprint()}}
        if self.out is not None:
            check_output_folder(self.out, resume=resume)  # before the gate spends seconds
        self.gate = validation_gate.ensure_validated(list(self.settings.estimators), skip=skip_validation,
                                                     progress=progress)
        self._validated = bool(self.gate.validated) and not bool(self.gate.skipped)
        self._writer, self._own_writer = summary_writer(tensorboard)
        self._frames: dict[int, pd.DataFrame] = {}
        self._empty = self._table([], [], 0)  # the table of a step with no rows (its columns and dtypes)
        self._errors: list[dict[str, Any]] = []
        self._skipped: list[dict[str, Any]] = []
        self._warned: set[tuple[str, str, str]] = set()
        self._last: int | None = None
        self._closed = False
        self.latest: dict[str, float] = {}
        self.seconds = 0.0
        self._started = datetime.now(UTC).isoformat(timespec="seconds")
        self._journal: Journal | None = None
        if self.out is not None:
            with output_lock(self.out):
                self._open_folder(self.out, resume)

    # ------------------------------------------------------------------ the folder
    def _open_folder(self, out: Path, resume: bool) -> None:
        self._journal, by_step, self._errors = open_journal(out, self.settings, self._files, resume)
        tasks = plan_tasks([self._checkpoint(0)], self.settings)[0]
        for number, found in sorted(by_step.items()):
            self._frames[number] = self._table(found, tasks, number)
        for error in self._errors:  # a step whose every matrix failed is taken too
            if isinstance(error.get("step"), int):
                self._frames.setdefault(error["step"], self._empty)
        self._write(None)

    def _write(self, finished: str | None) -> None:
        if self.out is None:
            return
        write_folder(self.out, self._journal, self.frame, self._errors, self._skipped, self.settings,
                     gate=self.gate, started=self._started, finished=finished, files=self._files,
                     every=self.every, steps=len(self.steps))

    # ------------------------------------------------------------------ one step
    def _checkpoint(self, step: int) -> MemoryCheckpoint:
        if isinstance(self._model, Mapping):
            return from_state_dict(self._model, label=step_label(step), step=step, live=True)
        return from_module(self._model, label=step_label(step), step=step, live=True)

    def _table(self, rows: list[dict[str, Any]], tasks: list[TensorTask], step: int) -> pd.DataFrame:
        """The scan's table of one step's rows (ordered as the scan orders them, with its decisions)."""
        label = step_label(step)
        return results_frame(rows, [replace(t, checkpoint=label, step=step) for t in tasks], self.settings)

    def _fit(self, step: int) -> pd.DataFrame:
        torch = sys.modules.get("torch")
        no_grad = torch.no_grad() if torch is not None else contextlib.nullcontext()
        with output_lock(self.out) if self.out is not None else contextlib.nullcontext(), no_grad:
            ckpt = self._checkpoint(step)
            tasks, skipped, errors = plan_tasks([ckpt], self.settings)
            rows: list[dict[str, Any]] = []
            self._frames[step] = self._empty  # the step is taken, whatever follows
            self._record([], errors)
            try:
                with progress_bar(self.progress, len(tasks) or 1, description=f"monitor {ckpt.label}") as bar:
                    for task in tasks:
                        new_rows, new_errors = fit_tensor(task, self.settings, self._validated)
                        rows += new_rows
                        errors += new_errors
                        self._record(new_rows, new_errors)
                        bar.update(1)
            finally:
                release()
            frame = self._frames[step] = self._table(rows, tasks, step)
            self._skipped = [{**s, "checkpoint": self.label} for s in skipped]  # the same at every step
            self._write(None)
        self.latest = scalars(frame, self.settings.estimators[0])
        log_scalars(self._writer, self.latest, step)
        if errors and self.errors == "raise":
            raise MonitorError(f"{len(errors)} failures at step {step} (first: {errors[0]['error']})"
                               + (f"; see {self.out / 'errors.csv'}" if self.out is not None else ""))
        return frame

    def _record(self, rows: list[dict[str, Any]], errors: list[dict[str, Any]]) -> None:
        self._errors += errors
        if self._journal is not None:
            self._journal.write(rows, errors)
        for error in errors:
            key = (error["tensor"], error["part"], error["estimator"])
            if key not in self._warned:  # once per matrix: the same matrix fails at every step alike
                self._warned.add(key)
                where = f"; see {self.out / 'errors.csv'}" if self.out is not None else ""
                warnings.warn(f"monitor, step {error['step']}: {error['error']}{where}", MonitorWarning,
                              stacklevel=5)

    def _guarded(self, step: int) -> pd.DataFrame | None:
        started = time.perf_counter()
        try:
            return self._fit(step)
        except MonitorError:
            raise
        except (OSError, ValueError, TypeError, RuntimeError, ArithmeticError) as exc:
            if self.errors == "raise":
                raise
            self._steps_failed(step, exc)
            return None
        finally:
            self.seconds += time.perf_counter() - started

    def _steps_failed(self, step: int, exc: BaseException) -> None:
        self.latest = {}  # nothing new to log
        self._frames.setdefault(step, self._empty)
        error = error_record(step_label(step), step, "", "", "", f"step {step}: monitoring failed: {exc}")
        with contextlib.suppress(OSError, ValueError):  # the failure may be the folder's own
            self._record([], [error])
            self._write(None)
        if error not in self._errors:
            self._errors.append(error)

    # ------------------------------------------------------------------ the public calls
    def step(self, step: int) -> pd.DataFrame | None:
        """Record that ``step`` optimizer steps are done; fit every matrix if it is a monitored one.

        A monitored step (a multiple of ``every`` not yet in the folder) is fitted, journalled
        and written; its table is returned. Other steps return None at once.

        Raises
        ------
        ValueError
            ``step`` is not an integer >= 0, or the monitor is closed.
        MonitorError
            With ``errors="raise"``, when some matrix failed.
        """
        step = integer(0)(step, "step")
        if self._closed:
            raise ValueError("the monitor is closed; make a new Monitor (resume=True continues its folder)")
        self._last = step
        if step % self.every or step in self._frames:
            return None
        return self._guarded(step)

    def close(self, step: int | None = None, *, fit: bool = True) -> pd.DataFrame:
        """Fit the last step (``step``, else the last one given to :meth:`step`) if it was not
        monitored, write the tables, ``run.json`` and the report, and let go of the folder.

        With ``fit=False`` (an exception left the ``with`` block) nothing more is fitted.
        Returns :attr:`frame`. Closing twice does nothing more.
        """
        if self._closed:
            return self.frame
        last = integer(0)(step, "step") if step is not None else self._last
        before, started = self.seconds, time.perf_counter()  # the report counts as monitoring too
        try:
            if fit and last is not None and last not in self._frames:
                self._guarded(last)
            try:
                self._write(datetime.now(UTC).isoformat(timespec="seconds"))
                if self.out is not None and self.report and len(self.frame):
                    with output_lock(self.out), staged_files(self.out) as staging:
                        write_report(staging, self.frame, [], errors=self._errors, skipped=self._skipped,
                                     gate=self.gate, settings=self.settings)
            except (OSError, ValueError, RuntimeError) as exc:
                if self.errors == "raise":
                    raise
                warnings.warn(f"monitor: closing {self.out}: {exc}", MonitorWarning, stacklevel=2)
        finally:
            self._closed, self.seconds = True, before + time.perf_counter() - started
            if self._journal is not None:
                self._journal.close()
            if self._writer is not None and self._own_writer:
                self._writer.close()
        return self.frame

    def attach(self, trainer: Any) -> Any:
        """Add a Hugging Face ``TrainerCallback`` that drives this monitor to ``trainer``.

        The callback calls :meth:`step` with the trainer's ``state.global_step`` at the start
        of training and at the end of each step, :meth:`close` at the end of training, and
        passes :attr:`latest` to ``trainer.log`` after each monitored step, so every logging
        backend of the trainer (TensorBoard, W&B, ...) receives the per-kind median k and λ.
        Imports ``transformers``. Returns the callback.
        """
        return attach_trainer(self, trainer)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` ran: :meth:`step` refuses from then on."""
        return self._closed

    @property
    def failures(self) -> list[dict[str, Any]]:
        """The rows of ``errors.csv`` so far: what could not be fitted, at which step, and why."""
        return list(self._errors)

    @property
    def steps(self) -> list[int]:
        """The monitored steps so far, in order (those of a resumed folder included)."""
        return sorted(self._frames)

    @property
    def frame(self) -> pd.DataFrame:
        """Every row so far: the scan's table, one checkpoint ``step-N`` per monitored step."""
        frames = [self._frames[s] for s in sorted(self._frames) if len(self._frames[s])]
        return pd.concat(frames, ignore_index=True) if frames else self._empty.copy()

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close(fit=kind is None)

    def __repr__(self) -> str:
        return f"Monitor({self.label}, every={self.every}, out={self.out}, steps={self.steps})"


__all__ = ["ERROR_CHOICES", "Monitor", "MonitorError", "MonitorWarning", "step_label"]
