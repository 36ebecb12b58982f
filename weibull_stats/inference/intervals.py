"""Bootstrap confidence intervals from a bootstrap distribution: percentile, basic and BCa.

Intervals at level ``1 - alpha`` from the bootstrap estimates ``t*`` of an estimate ``t``:

* percentile: the ``alpha/2`` and ``1 - alpha/2`` quantiles of ``t*``;
* basic: ``(2 t - q(1 - alpha/2), 2 t - q(alpha/2))``;
* BCa: quantiles at ``Phi(z0 + (z0 + z) / (1 - a (z0 + z)))`` for ``z = Phi^-1(alpha/2)``
  and ``Phi^-1(1 - alpha/2)``, with ``z0 = Phi^-1`` of the share of ``t*`` below ``t``
  (ties count half) and ``a`` the acceleration.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from weibull_stats.core.display import pair_text


class Interval(NamedTuple):
    """A confidence interval; unpacks as ``low, high``."""

    low: float
    high: float

    def __repr__(self) -> str:
        """``Interval(low=..., high=...)`` with the digits the width supports."""
        low, high = pair_text(self.low, self.high)[1:-1].split(", ")
        return f"Interval(low={low}, high={high})"


class ShapeScale(NamedTuple):
    """A pair of figures for the two parameters."""

    shape: float
    scale: float

    def __repr__(self) -> str:
        return f"ShapeScale(shape={self.shape:.4g}, scale={self.scale:.4g})"


class ConfidenceInterval(NamedTuple):
    """Intervals for both parameters: ``ci.shape.low``, ``low, high = ci.scale``."""

    shape: Interval
    scale: Interval

    def __repr__(self) -> str:
        return f"ConfidenceInterval(shape={pair_text(*self.shape)}, scale={pair_text(*self.scale)})"


def check_count(value: Any, name: str, minimum: int = 1) -> int:
    """A positive (or at least ``minimum``) int."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}; got {value!r}")
    return int(value)


def check_between(value: Any, name: str, high: float = 1.0) -> float:
    """A number strictly between 0 and ``high`` (a level, a probability), or a message naming ``name``.

    Examples
    --------
    >>> check_between(0.05, "fdr")
    0.05
    >>> check_between(0.7, "level", high=0.5)
    Traceback (most recent call last):
    ...
    ValueError: `level` must lie strictly between 0 and 0.5; got 0.7
    """
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not 0.0 < number < high:
        raise ValueError(f"`{name}` must lie strictly between 0 and {high:g}; got {value!r}")
    return number


def check_level(confidence_level: Any) -> float:
    """A confidence level strictly between 0 and 1."""
    return check_between(confidence_level, "confidence_level")


def interval_probabilities(
    distribution: np.ndarray, estimate: float, method: str, level: float, acceleration: float
) -> np.ndarray:
    """The two probabilities at which :func:`interval` takes quantiles of ``distribution``:
    ``alpha/2`` and ``1 - alpha/2``, adjusted by the bias correction and the acceleration for
    BCa (an error where BCa is undefined)."""
    alpha = 1.0 - level
    probs = np.array([alpha / 2.0, 1.0 - alpha / 2.0])
    if method == "bca":
        from scipy.special import ndtr, ndtri  # imported on use: the command line's --help loads no scipy

        below = (np.count_nonzero(distribution < estimate) + np.count_nonzero(distribution <= estimate))
        fraction = below / (2.0 * distribution.size)
        if 0.0 < fraction < 1.0:
            z0 = float(ndtri(fraction))
            z = ndtri(probs)
            probs = ndtr(z0 + (z0 + z) / (1.0 - acceleration * (z0 + z)))
        if not (0.0 < fraction < 1.0 and np.all(np.isfinite(probs))):
            raise ValueError(
                f"BCa interval undefined: {below / 2:g} of {distribution.size} bootstrap estimates lie "
                "below the estimate (all on one side); use method='percentile'"
            )
    return probs


def interval(
    distribution: np.ndarray, estimate: float, method: str, level: float, acceleration: float
) -> Interval:
    """The ``method`` interval at ``level`` from the bootstrap ``distribution`` of ``estimate``.

    Examples
    --------
    >>> interval(np.arange(0.0, 101.0), 50.0, "percentile", 0.9, 0.0)
    Interval(low=5.0, high=95.0)
    """
    probs = interval_probabilities(distribution, estimate, method, level, acceleration)
    low, high = np.quantile(distribution, probs)
    if method == "basic":
        low, high = 2.0 * estimate - high, 2.0 * estimate - low
    return Interval(float(low), float(high))
