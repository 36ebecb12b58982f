"""One tensor of a scan: read it, split it if fused, fit each part; its share of the work.

:func:`fit_tensor` is what a scan runs per tensor, in this process, in a worker process of
``--jobs`` (reporting its progress through a queue) or on a Dask worker. :func:`task_cost`
is the tensor's work in weights fitted, what the scan's progress bar counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from queue import Empty
from typing import Any

import numpy as np

from weibull_stats._version import __version__
from weibull_stats.checkpoints import Checkpoint, classify, split_fused
from weibull_stats.checkpoints.devices import to_device
from weibull_stats.checkpoints.fp8 import model_weights
from weibull_stats.checkpoints.sources import reopen
from weibull_stats.core.progress import QueueTicker, Ticker
from weibull_stats.sample.bad_input import PolicyError
from weibull_stats.sample.checked import as_sample
from weibull_stats.scanning.fit import fit_unit as _fit_unit
from weibull_stats.scanning.fit import unit_cost
from weibull_stats.scanning.plan import TensorTask, tensor_seed
from weibull_stats.scanning.plan import error_record as _error
from weibull_stats.scanning.settings import ScanSettings

#: The checkpoint this process holds open, by (path, label).
_OPEN: dict[tuple[str, str], Checkpoint] = {}


def release() -> None:
    """Let go of the checkpoint this process holds open (a loaded .bin state dict can be large)."""
    _OPEN.clear()


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

    The tensor is read in its stored precision (bfloat16 and float16 stay 16-bit; FP8 as the
    model computes with it, :func:`~weibull_stats.checkpoints.fp8.model_weights`, its row's
    ``storage`` saying how it is stored and scaled, and never tested with ``gof``) and each
    (tensor, part) is checked once into a :class:`~weibull_stats.Sample` with the scan's
    policy (:data:`FIT_OPTIONS`): 16-bit data are counted by bit pattern there, and every
    estimator, the bootstrap and the goodness-of-fit test take that one sample.
    ``threads`` goes to the bootstrap engine (None: every CPU); results do not depend on it.
    With a ``device`` the tensor is moved there as read and the sample's O(n) passes run there
    (:mod:`weibull_stats.checkpoints.devices`). ``ticker`` (:mod:`weibull_stats.core.progress`) is
    told of the work done, in weights fitted (:func:`task_cost` in all). Returns the rows and
    the failures; a failure never raises.
    """
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    try:
        ckpt = _checkpoint(task.path, task.checkpoint)
        entry = ckpt.entry(task.tensor)
        stored = model_weights(ckpt, task.tensor)  # FP8: its scales applied, as the model computes
        weight = stored.values
        if device is not None:
            weight = to_device(weight, device)
    except (ValueError, OSError, KeyError, TypeError, RuntimeError) as exc:  # torch raises RuntimeError
        message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        errors.append(_error(task.checkpoint, task.step, task.tensor, "", "", message))
        return rows, errors
    if weight.ndim == 1:
        weight = weight.reshape(-1, 1)
    if stored.fp8 and settings.gof:  # no FP8 null yet: the plan records why (NO_FP8_GOF)
        settings = replace(settings, gof=False)
    role = classify(task.tensor, task.family, tuple(weight.shape))
    units: list[tuple[str, str, np.ndarray]] = [("", role.kind, weight)] if role.whole else []
    if role.parts:
        try:
            blocks = split_fused(weight, role, task.config, task.tensor)
            units += [(part, role.part_kind(part), block) for part, block in blocks]
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
        except PolicyError as exc:  # NaN, zeros or negative values the scan's policy refuses
            errors += [_error(task.checkpoint, task.step, task.tensor, part, name, refused(where, exc))
                       for name in wanted]
            continue
        except (ValueError, TypeError) as exc:  # constant, too few values: every estimator fails alike
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
                layer=role.layer, kind=kind, expert=role.part_expert(part), shared_expert=role.shared,
                side=role.side, family=task.family, dtype=entry.dtype,
                rows=int(block.shape[0]), cols=int(block.shape[1]), numel=math.prod(block.shape),
                seed=seed, package_version=__version__, validated=validated,
            )
            if stored.storage is not None:  # FP8: how it is stored and scaled, not the fitted array's
                row.update(storage=stored.storage)
            rows.append(row)
    return rows, errors


def refused(where: str, exc: PolicyError) -> str:
    """A refusal of the scan's input policy in the scan's words: what was found in ``where``
    and the setting that accepts it, as the flag and as the keyword of :func:`weibull_stats.scan`.

    Examples
    --------
    >>> from weibull_stats.sample.bad_input import PolicyError
    >>> error = PolicyError("x", "has 2 zeros out of 9", "zeros", "omit", "drop them", wrap=True)
    >>> refused("fc.weight", error)
    "fc.weight has 2 zeros out of 9; rescan with --zeros omit (ws.scan(..., zeros='omit')) to drop them"
    """
    return (f"{where} {exc.finding}; rescan with --{exc.option} {exc.value} "
            f"(ws.scan(..., {exc.option}={exc.value!r})) to {exc.effect}")


def task_cost(task: TensorTask, settings: ScanSettings) -> float:
    """The work of one task, in weights fitted: each (part, estimator) row still to do costs its
    weights times :func:`~weibull_stats.scanning.fit.unit_cost` (a fused matrix's parts share its
    weights equally; an expert stack's parts share them and the stack has no row)."""
    role = classify(task.tensor, task.family, task.shape)
    parts = role.rows
    share = {part: task.numel / len(role.parts) if part else task.numel for part in parts}
    rows = [(part, name) for part in parts for name in settings.estimators if (part, name) not in task.done]
    return float(sum(share[part] for part, _ in rows) * unit_cost(settings))


_QUEUE: Any = None


def set_progress_queue(queue: Any) -> None:
    """The worker processes' end of the progress queue (a pool's ``initializer``)."""
    global _QUEUE
    _QUEUE = queue


def fit_reporting(task: TensorTask, settings: ScanSettings, validated: bool, threads: int | None,
                  device: str | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """:func:`fit_tensor` in a worker process, its progress sent to the queue."""
    ticker = QueueTicker(_QUEUE, task.order) if _QUEUE is not None else None
    try:
        return fit_tensor(task, settings, validated, threads, device, ticker=ticker)
    finally:
        if ticker is not None:
            ticker.flush()


class TaskTicker:
    """A task's ticker in this process: its reports go to ``credit(key, units)``."""

    def __init__(self, credit: Callable[[int, float], None], key: int) -> None:
        self.credit, self.key = credit, key

    def update(self, n: float = 1) -> None:
        self.credit(self.key, float(n))


def drain(queue: Any, credit: Callable[[int, float], None]) -> None:
    """Credit every progress report waiting in ``queue``."""
    while queue is not None:
        try:
            key, units = queue.get_nowait()
        except Empty:
            return
        credit(key, units)


__all__ = ["TaskTicker", "drain", "fit_reporting", "fit_tensor", "refused", "release", "set_progress_queue",
           "task_cost"]
