"""Checks that state what they accept: each returns the value accepted or raises an error
naming the setting and its requirement, and the requirement is also the range ``--help``
states (the scan's settings, :mod:`weibull_stats.scanning.settings`, are declared with them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Check:
    """A check that states what it accepts: ``check(value, name)`` returns the value accepted
    (converted) or raises ``ValueError: `name` must be REQUIREMENT; got VALUE``.

    Attributes
    ----------
    requirement : str
        What a value must be ("a number strictly between 0 and 0.5"): the error, and the
        range in ``--help``.
    accept : callable
        The value converted, or :class:`TypeError` / :class:`ValueError`.
    parse : callable
        Text of the command line to a value (``int``, ``float``, ``str``).
    choices : tuple of str
        The values allowed, where they are a list (the command line offers them).
    """

    requirement: str
    accept: Callable[[Any], Any]
    parse: Callable[[str], Any] = str
    choices: tuple[str, ...] = ()

    def __call__(self, value: Any, name: str) -> Any:
        try:
            return self.accept(value)
        except (TypeError, ValueError):
            raise ValueError(f"`{name}` must be {self.requirement}; got {value!r}") from None


def between(low: float, high: float) -> Check:
    """A number strictly between ``low`` and ``high``.

    Examples
    --------
    >>> between(0, 0.5)(0.1, "level")
    0.1
    >>> between(0, 0.5)(0.5, "level")
    Traceback (most recent call last):
    ...
    ValueError: `level` must be a number strictly between 0 and 0.5; got 0.5
    """
    def accept(value: Any) -> float:
        number = float(value) if not isinstance(value, bool | str) else float("nan")
        if not low < number < high:
            raise ValueError
        return number

    return Check(f"a number strictly between {low:g} and {high:g}", accept, float)


def integer(minimum: int) -> Check:
    """An integer ``>= minimum`` (not a bool).

    Examples
    --------
    >>> integer(1)(3, "jobs"), integer(0)(np.int64(2), "seed")
    (3, 2)
    """
    def accept(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
            raise ValueError
        return int(value)

    return Check(f"an integer >= {minimum}", accept, int)


def one_of(choices: Sequence[str]) -> Check:
    """One of ``choices`` (strings)."""
    def accept(value: Any) -> str:
        if not isinstance(value, str) or value not in choices:
            raise ValueError
        return value

    return Check("one of " + ", ".join(repr(c) for c in choices), accept, choices=tuple(choices))


def _switch(value: Any) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError
    return bool(value)


SWITCH = Check("True or False", _switch)


__all__ = ["SWITCH", "Check", "between", "integer", "one_of"]
