"""Progress bars of long operations: one rule for when they show, one place that draws them.

Every long operation (the bootstrap, the goodness-of-fit null, the validation suite, the
scan) takes ``progress``:

* ``None`` (the default): a bar on stderr when stderr is a terminal, nothing otherwise (a
  CI log, a redirected file, a notebook cell);
* ``True`` / ``False``: always / never;
* an object with an ``update(n)`` method (a ``tqdm`` bar, or :class:`Share`): the operation
  reports its work to it and draws nothing of its own, so an outer operation (the scan)
  can show the progress of an inner one (a tensor's bootstrap) on its own bar.

Bars show the share done, the elapsed time and the estimated time left.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Ticker(Protocol):
    """Anything that takes reports of work done: ``update(n)``."""

    def update(self, n: float = 1) -> Any:
        """Record ``n`` more units of work done."""
        ...


#: ``progress`` as every long operation takes it.
ProgressOption = bool | None | Ticker

#: The bar's layout: share done, bar, elapsed < left, what it is doing.
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]"


def show_progress(progress: Any) -> bool:
    """Whether ``progress`` asks for a bar of our own (``None``: when stderr is a terminal).

    Examples
    --------
    >>> show_progress(False), show_progress(True)
    (False, True)
    >>> show_progress("yes")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: `progress` must be True, False, None (a bar when stderr is a terminal) or an ...
    """
    if progress is None:
        return bool(getattr(sys.stderr, "isatty", lambda: False)())
    if isinstance(progress, bool):
        return progress
    if isinstance(progress, Ticker):
        return False
    raise ValueError("`progress` must be True, False, None (a bar when stderr is a terminal) or an "
                     f"object with update(n); got {progress!r}")


class _Silent:
    def update(self, n: float = 1) -> None:
        return None

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        return None


@contextmanager
def progress_bar(progress: Any, total: float, *, description: str, initial: float = 0,
                 leave: bool = True) -> Iterator[Any]:
    """A bar for ``total`` units of work under the ``progress`` rule; closed on exit.

    Yields the caller's own ticker when ``progress`` is one (not closed here), a ``tqdm``
    bar on stderr when a bar is asked for, and a silent ticker otherwise; each has
    ``update(n)``.

    Examples
    --------
    >>> with progress_bar(False, 10, description="work") as bar:
    ...     bar.update(10)
    """
    if isinstance(progress, Ticker):
        yield progress
        return
    if not show_progress(progress):
        yield _Silent()
        return
    from tqdm import tqdm

    bar = tqdm(total=total, initial=initial, desc=description, file=sys.stderr, leave=leave,
               dynamic_ncols=True, bar_format=BAR_FORMAT, mininterval=0.5)
    try:
        yield bar
    finally:
        bar.close()


class Share:
    """A ticker that passes ``weight`` units to ``target`` per unit reported to it.

    The scan counts a tensor's work in weights fitted; its bootstrap reports resamples:
    ``Share(bar, weight=n)`` turns each resample of an ``n``-weight matrix into ``n`` units
    of the scan's bar, so the bar moves while one large tensor is resampled.

    Examples
    --------
    >>> class Count:
    ...     done = 0.0
    ...     def update(self, n=1):
    ...         self.done += n
    >>> bar = Count()
    >>> Share(bar, weight=1000).update(3)
    >>> bar.done
    3000.0
    """

    def __init__(self, target: Ticker, weight: float) -> None:
        self.target = target
        self.weight = float(weight)
        self.done = 0.0

    def update(self, n: float = 1) -> None:
        """Pass ``n * weight`` units on."""
        units = float(n) * self.weight
        self.done += units
        self.target.update(units)


class QueueTicker:
    """A ticker in a worker process: sends ``(key, units)`` to a queue, at most every
    ``interval`` seconds (the rest is sent by :meth:`flush`)."""

    def __init__(self, queue: Any, key: Any, interval: float = 0.25) -> None:
        self.queue = queue
        self.key = key
        self.interval = interval
        self.pending = 0.0
        self.sent_at = -math.inf  # the first report goes at once, however long the machine has been up
        self.lock = threading.Lock()  # bootstrap blocks may report from several threads

    def update(self, n: float = 1) -> None:
        """Add ``n`` units; send them when ``interval`` has passed."""
        with self.lock:
            self.pending += float(n)
            now = time.monotonic()
            if now - self.sent_at >= self.interval:
                self._send(now)

    def flush(self) -> None:
        """Send what is pending."""
        with self.lock:
            self._send(time.monotonic())

    def _send(self, now: float) -> None:
        if self.pending:
            self.queue.put((self.key, self.pending))
            self.pending = 0.0
        self.sent_at = now


class Stages:
    """One bar over the named stages of a long run, each of a stated relative cost.

    Call it with a stage's name as it starts (the ``tell(message)`` of the validation
    suite): the previous planned stage is counted done and the name is shown. A name not in
    the plan (a step within a stage) is only shown. :meth:`within` gives a ticker that moves
    the bar through the current stage as its work is reported.

    Examples
    --------
    >>> with Stages(False, {"anchors": 1.0, "simulation": 2.0}, description="validate") as tell:
    ...     tell("anchors")
    ...     tell("simulation")
    ...     tell.within(10).update(10)
    """

    def __init__(self, progress: Any, plan: dict[str, float], *, description: str) -> None:
        self.progress, self.plan, self.description = progress, dict(plan), description
        self.bar: Any = _Silent()
        self.current: str | None = None
        self.done_in_stage = 0.0
        self._context: Any = None

    def __enter__(self) -> Stages:
        self._context = progress_bar(self.progress, sum(self.plan.values()) or 1.0,
                                     description=self.description)
        self.bar = self._context.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is None:
            self._finish_stage()
        self._context.__exit__(*exc)

    def __call__(self, message: str) -> None:
        if message in self.plan:
            self._finish_stage()
            self.current, self.done_in_stage = message, 0.0
        if hasattr(self.bar, "set_postfix_str"):
            self.bar.set_postfix_str(message)

    def within(self, total: float) -> Ticker:
        """A ticker for ``total`` units of work of the current stage."""
        weight = self.plan.get(self.current or "", 0.0) / total if total else 0.0
        return _StageShare(self, weight)

    def _finish_stage(self) -> None:
        if self.current is not None:
            self.bar.update(max(0.0, self.plan[self.current] - self.done_in_stage))
            self.current = None


class _StageShare:
    def __init__(self, stages: Stages, weight: float) -> None:
        self.stages, self.weight = stages, weight

    def update(self, n: float = 1) -> None:
        units = min(float(n) * self.weight,
                    self.stages.plan.get(self.stages.current or "", 0.0) - self.stages.done_in_stage)
        if units > 0:
            self.stages.done_in_stage += units
            self.stages.bar.update(units)


__all__ = ["BAR_FORMAT", "ProgressOption", "QueueTicker", "Share", "Stages", "Ticker", "progress_bar",
           "show_progress"]
