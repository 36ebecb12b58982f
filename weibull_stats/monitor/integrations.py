"""What a monitor hands to the tools around a training run: scalars, TensorBoard, the HF Trainer.

:func:`scalars` reduces a monitored step's table to per-kind median k and λ, the numbers a
training dashboard plots; :func:`summary_writer` opens the TensorBoard writer a monitor logs
them to; :func:`attach_trainer` adds the Hugging Face ``TrainerCallback`` that drives a
monitor from ``Trainer.train()`` and passes the scalars to ``trainer.log`` (so every logging
backend of the trainer receives them). ``transformers`` and ``tensorboard`` are imported only
when used.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from weibull_stats.scanning.trajectory import import_transformers

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Prefix of every scalar name (one TensorBoard section).
SCALAR_PREFIX = "weibull"


def scalars(frame: pd.DataFrame, estimator: str) -> dict[str, float]:
    """Per-kind median shape k and scale λ of ``estimator``'s rows of ``frame``, as named scalars.

    The names are ``weibull/k_median/<kind>`` and ``weibull/lambda_median/<kind>`` (the kinds of
    :mod:`weibull_stats.checkpoints.naming`: ``q``, ``up``, ``embedding``...), in the order the
    kinds first appear; the medians are over the matrices of each kind (the parts of a fused
    matrix are rows of their own kind, as in the report's trajectory table).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"estimator": ["mle"] * 3, "kind": ["q", "q", "up"],
    ...                       "shape": [1.0, 2.0, 3.0], "scale": [0.1, 0.3, 0.5]})
    >>> scalars(table, "mle")
    {'weibull/k_median/q': 1.5, 'weibull/lambda_median/q': 0.2,
     'weibull/k_median/up': 3.0, 'weibull/lambda_median/up': 0.5}
    """
    data = frame[frame["estimator"] == estimator]
    medians = data.groupby("kind", sort=False)[["shape", "scale"]].median()
    found: dict[str, float] = {}
    for kind, row in medians.iterrows():
        for column, name in (("shape", "k_median"), ("scale", "lambda_median")):
            value = float(row[column])
            if value == value:  # a kind whose every fit failed has no median
                found[f"{SCALAR_PREFIX}/{name}/{kind}"] = value
    return found


def log_scalars(writer: Any, values: dict[str, float], step: int) -> None:
    """``writer.add_scalar(name, value, step)`` for each scalar, then ``flush`` (None: nothing)."""
    if writer is None:
        return
    for name, value in values.items():
        writer.add_scalar(name, value, step)
    if callable(getattr(writer, "flush", None)):
        writer.flush()


def summary_writer(tensorboard: Any) -> tuple[Any, bool]:
    """The writer of a monitor's ``tensorboard`` argument, and whether the monitor owns (closes) it.

    None: no writer. A path: a ``torch.utils.tensorboard.SummaryWriter`` logging there (needs
    the ``tensorboard`` package). Any object with ``add_scalar(tag, value, step)``: itself.

    Raises
    ------
    ValueError
        A path, and the ``tensorboard`` package is not installed.
    TypeError
        Neither a path nor a writer.
    """
    if tensorboard is None:
        return None, False
    if isinstance(tensorboard, str | os.PathLike):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ValueError(f"`tensorboard` {os.fspath(tensorboard)!r}: logging to a folder needs the "
                             "tensorboard package (pip install tensorboard), or pass a SummaryWriter"
                             ) from None
        return SummaryWriter(log_dir=os.fspath(tensorboard)), True
    if callable(getattr(tensorboard, "add_scalar", None)):
        return tensorboard, False
    raise TypeError("`tensorboard`: expected a log folder or a writer with add_scalar(tag, value, step); "
                    f"got {type(tensorboard).__name__}")


def attach_trainer(monitor: Any, trainer: Any) -> Any:
    """Add to ``trainer`` (a ``transformers.Trainer``) a callback that drives ``monitor``.

    ``on_train_begin`` and ``on_step_end`` call ``monitor.step(state.global_step)`` (so the
    monitor's interval picks the steps), ``on_train_end`` calls ``monitor.close(global_step)``;
    after each monitored step ``trainer.log(monitor.latest)`` hands the per-kind median k and
    λ to the trainer's logging backends and its ``log_history``. Only the main process
    (``state.is_world_process_zero``) monitors. Returns the callback.
    """
    callback = trainer_callback(monitor, trainer)
    trainer.add_callback(callback)
    return callback


def trainer_callback(monitor: Any, trainer: Any = None) -> Any:
    """The ``transformers.TrainerCallback`` of :func:`attach_trainer` (without ``trainer``, the
    scalars go nowhere but the monitor's own folder and TensorBoard writer)."""
    transformers = import_transformers()

    class WeibullMonitorCallback(transformers.TrainerCallback):  # type: ignore[name-defined]
        """Drives a :class:`weibull_stats.Monitor` from the Trainer's training loop."""

        def __init__(self) -> None:
            self.monitor = monitor

        def _at(self, state: Any, *, last: bool = False) -> None:
            if not state.is_world_process_zero or monitor.closed:
                return
            before = len(monitor.steps)
            if last:
                monitor.close(state.global_step)
            else:
                monitor.step(state.global_step)
            if trainer is not None and len(monitor.steps) > before and monitor.latest:
                trainer.log(dict(monitor.latest))

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self._at(state)

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self._at(state)

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self._at(state, last=True)

    return WeibullMonitorCallback()


__all__ = ["SCALAR_PREFIX", "attach_trainer", "log_scalars", "scalars", "summary_writer", "trainer_callback"]
