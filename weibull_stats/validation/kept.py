"""Finished tasks of a long study kept on disk, so that a run that stops goes on where it was.

A task is ``(cost, kind, args)``; its result is pickled under ``parts`` in a file named by
``kind`` and a hash of ``(kind, args)``, written whole (a temporary file, then a rename), and
read back instead of running the task again. Delete the folder after a change of code.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any


def kept_path(task: tuple[float, str, tuple], parts: Path | None) -> Path | None:
    """Where a finished task's result is kept (None: not kept): named by the task itself.

    Examples
    --------
    >>> kept_path((1.0, "asymptotic", (1, 2)), Path("parts")).name[:11]
    'asymptotic-'
    >>> kept_path((1.0, "asymptotic", (1, 2)), None) is None
    True
    """
    if parts is None:
        return None
    _, kind, args = task
    key = hashlib.sha256(repr((kind, args)).encode()).hexdigest()[:20]
    return parts / f"{kind}-{key}.pkl"


def run_kept(run: Callable[[tuple[float, str, tuple]], Any], task: tuple[float, str, tuple],
             parts: Path | None) -> Any:
    """``run(task)``, or its result kept under ``parts`` by an earlier run; kept there after."""
    path = kept_path(task, parts)
    if path is not None and path.is_file():
        with path.open("rb") as handle:
            return pickle.load(handle)  # our own file, written below
    result = run(task)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        with partial.open("wb") as handle:
            pickle.dump(result, handle)
        partial.replace(path)
    return result


__all__ = ["kept_path", "run_kept"]
