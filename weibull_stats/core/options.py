"""Option checks shared by every public entry point: one place, one style of message.

Each message names the argument in backticks and says what was expected and what came.

The input policy's defaults are declared here once, as :data:`DEFAULT_POLICY`: every
estimator's ``fit_*``, :func:`~weibull_stats.as_sample`, :func:`~weibull_stats.fit`,
:func:`~weibull_stats.bootstrap`, :func:`~weibull_stats.goodness_of_fit`,
:func:`~weibull_stats.confidence_interval`, :func:`~weibull_stats.scan` and every command
line flag take their defaults from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

VALUES_CHOICES: tuple[str, ...] = ("magnitudes", "weights")
POLICY_CHOICES: tuple[str, ...] = ("error", "omit")

#: The input policy of every entry point, Python and command line, when none is given: signed
#: weights (``|w|`` is fitted; harmless on magnitudes), zeros left out and counted in the
#: result, NaN and infinite values an error.
DEFAULT_POLICY: Mapping[str, str] = MappingProxyType(
    {"values": "weights", "nonfinite": "error", "zeros": "omit"})
#: What a sample may leave out of the data, each counted (``Sample.n_omitted``,
#: ``WeibullFit.n_omitted``): masked entries, and what ``nonfinite="omit"`` and ``zeros="omit"`` drop.
OMISSIONS: tuple[str, ...] = ("masked", "nonfinite", "zeros")


def no_omissions() -> dict[str, int]:
    """Every count of :data:`OMISSIONS` at zero (the ``n_omitted`` of a fit that dropped nothing)."""
    return dict.fromkeys(OMISSIONS, 0)


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a message naming ``name``.

    Examples
    --------
    >>> check_choice("omit", "zeros", POLICY_CHOICES)
    'omit'
    >>> check_choice("drop", "zeros", POLICY_CHOICES)
    Traceback (most recent call last):
    ...
    ValueError: `zeros` must be one of 'error', 'omit'; got 'drop'
    """
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {listed}; got {value!r}")
    return value


def check_policy(values: str, nonfinite: str, zeros: str) -> dict[str, str]:
    """Validate the three bad-input options; return them as a dict.

    Examples
    --------
    >>> check_policy("weights", "error", "omit")
    {'values': 'weights', 'nonfinite': 'error', 'zeros': 'omit'}
    """
    return {
        "values": check_choice(values, "values", VALUES_CHOICES),
        "nonfinite": check_choice(nonfinite, "nonfinite", POLICY_CHOICES),
        "zeros": check_choice(zeros, "zeros", POLICY_CHOICES),
    }


def check_trim(trim: Any) -> tuple[float, float]:
    """Validate a ``(low, high)`` window of probabilities, ``0 <= low < high <= 1``.

    Examples
    --------
    >>> check_trim([0.1, 0.9])
    (0.1, 0.9)
    """
    try:
        low, high = (float(v) for v in trim)
    except (TypeError, ValueError):
        raise ValueError(f"`trim` must be a pair (low, high) of probabilities; got {trim!r}") from None
    if not (0.0 <= low < high <= 1.0):
        raise ValueError(f"`trim` must satisfy 0 <= low < high <= 1; got ({low}, {high})")
    return low, high
