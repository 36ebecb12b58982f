"""A Weibull law on a 16-bit grid: the grid, its rounding cells and their probabilities.

A real value stored as bfloat16 or float16 is rounded to nearest (ties to even), so it lands
on a representable positive value ``g`` exactly when it falls in ``g``'s *cell*, the interval
between the midpoints to ``g``'s neighbours. The smallest subnormal's cell starts at half its
value (below, values round to zero); the largest finite value's cell ends half an ulp above it
(from there, rounding overflows). Under a law with distribution function ``F`` the stored
value ``g_j`` has probability ``F(b_{j+1}) - F(b_j)``, ``b`` the cell boundaries.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from weibull_stats.sample.storage import FIRST_NONFINITE, pattern_values
from weibull_stats.weibull.law import cdf_of_hazard, cumulative_hazard


def _check_storage(storage: str) -> None:
    if storage not in FIRST_NONFINITE:
        raise ValueError(f"`storage` must be one of {', '.join(FIRST_NONFINITE)}; got {storage!r}")


@functools.cache
def storage_grid(storage: str) -> np.ndarray:
    """Every positive finite value of the 16-bit format ``storage``, ascending, as float64
    (read-only; the patterns ``1 .. first non-finite - 1``).

    Examples
    --------
    >>> grid = storage_grid("bfloat16")
    >>> grid.size, float(grid[0]) == 2.0**-133, float(grid[-1]) == (2 - 2**-7) * 2.0**127
    (32639, True, True)
    """
    _check_storage(storage)
    values = pattern_values(np.arange(1, FIRST_NONFINITE[storage]), storage)
    values.flags.writeable = False
    return values


@functools.cache
def rounding_cells(storage: str) -> tuple[np.ndarray, np.ndarray]:
    """``(values, boundaries)`` of the positive finite cells of a 16-bit format (read-only).

    ``values`` (``m``,) is :func:`storage_grid`; ``boundaries`` (``m + 1``,): the cell of
    ``values[j]`` is ``[boundaries[j], boundaries[j + 1])``.

    Examples
    --------
    >>> values, edges = rounding_cells("bfloat16")
    >>> values.size, float(edges[0]) == float(values[0]) / 2
    (32639, True)
    """
    values = storage_grid(storage)
    boundaries = np.empty(values.size + 1)
    boundaries[0] = values[0] / 2.0
    boundaries[1:-1] = 0.5 * (values[:-1] + values[1:])
    boundaries[-1] = values[-1] + 0.5 * (values[-1] - values[-2])
    boundaries.flags.writeable = False
    return values, boundaries


def cell_probabilities(boundaries: np.ndarray, shape: float, scale: float) -> tuple[np.ndarray, float, float]:
    """``(p, zero, overflow)``: Weibull probabilities of the cells between ``boundaries``,
    of the values below the first boundary and of those above the last, each from the CDF
    below the median and from the survival function above it (no cancellation).

    Examples
    --------
    >>> p, zero, overflow = cell_probabilities(np.array([0.5, 1.0, 2.0]), 1.0, 1.0)
    >>> bool(np.allclose(p, [np.exp(-0.5) - np.exp(-1), np.exp(-1) - np.exp(-2)], rtol=1e-15))
    True
    >>> bool(np.isclose(zero + p.sum() + overflow, 1.0, rtol=1e-15))
    True
    """
    t = cumulative_hazard(np.log(boundaries), shape, math.log(scale))
    cdf = cdf_of_hazard(t)
    survival = np.exp(-t)
    upper = cdf[1:] > 0.5
    p = np.where(upper, survival[:-1] - survival[1:], cdf[1:] - cdf[:-1])
    return np.maximum(p, 0.0), float(cdf[0]), float(survival[-1])
