"""The least-squares line of a Weibull plot, weighted or not, and the law it stands for.

On the plot a point is ``(u, v) = (ln x, ln(-ln(1 - p)))``; a Weibull law is the line
``v = shape (u - ln scale)``. From the (weighted) means ``u_bar``, ``v_bar`` and centred sums
``S_uu``, ``S_vv``, ``S_uv`` of the points:

* ``y_on_x`` regresses ``v`` on ``u``: ``shape = S_uv / S_uu``, ``ln scale = u_bar - v_bar / shape``;
* ``x_on_y`` regresses ``u`` on ``v``: slope ``b = S_uv / S_vv``, ``shape = 1 / b``,
  ``ln scale = u_bar - b v_bar``;

and ``r^2 = S_uv^2 / (S_uu S_vv)`` either way. Every function is plain arithmetic, so it takes
floats, numpy arrays (one line per element: a batch of rows at once) and :mod:`mpmath`
numbers (a population's line at the working precision) alike.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

#: The two regressions of the plot: ``v`` on ``u`` (the paper's) and ``u`` on ``v``.
DIRECTIONS: tuple[str, ...] = ("y_on_x", "x_on_y")


class Moments(NamedTuple):
    """Weighted means and centred sums of the points ``(u, v)``, the centred points and the
    total weight."""

    mean_u: Any
    mean_v: Any
    suu: Any
    svv: Any
    suv: Any
    du: Any
    dv: Any
    total: Any


def weighted_moments(u: Any, v: Any, weights: Any = None) -> Moments:
    """:class:`Moments` of the points ``(u, v)`` along the last axis (``weights`` default 1).

    ``u``, ``v`` and ``weights`` broadcast against each other, so one call serves a batch of
    rows (``(rows, points)``) with shared abscissae or ordinates. Sums are pairwise
    (``ndarray.sum``), never BLAS dot products (which thread and round differently).

    Examples
    --------
    >>> m = weighted_moments(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0]), np.array([1.0, 2.0, 1.0]))
    >>> float(m.mean_u), float(m.suu), float(m.suv)
    (1.0, 2.0, 4.0)
    """
    u, v = np.asarray(u), np.asarray(v)
    if weights is None:
        count = np.broadcast_shapes(u.shape, v.shape)[-1]
        mean_u = u.sum(axis=-1) / count
        mean_v = v.sum(axis=-1) / count
        du = u - np.expand_dims(mean_u, -1)
        dv = v - np.expand_dims(mean_v, -1)
        return Moments(mean_u, mean_v, (du * du).sum(axis=-1), (dv * dv).sum(axis=-1),
                       (du * dv).sum(axis=-1), du, dv, count)
    weights = np.asarray(weights)
    total = weights.sum(axis=-1)
    mean_u = (weights * u).sum(axis=-1) / total
    mean_v = (weights * v).sum(axis=-1) / total
    du = u - np.expand_dims(mean_u, -1)
    dv = v - np.expand_dims(mean_v, -1)
    wdu = weights * du
    return Moments(mean_u, mean_v, (wdu * du).sum(axis=-1), ((weights * dv) * dv).sum(axis=-1),
                   (wdu * dv).sum(axis=-1), du, dv, total)


def centred_sums(count: Any, su: Any, sv: Any, suu: Any, svv: Any, suv: Any) -> tuple[Any, ...]:
    """``(u_bar, v_bar, S_uu, S_vv, S_uv)`` from the raw sums ``sum u``, ``sum v``, ``sum u^2``,
    ``sum v^2`` and ``sum u v`` of ``count`` points (``u`` best shifted near its mean first).

    Examples
    --------
    >>> [float(s) for s in centred_sums(3, 3.0, 9.0, 5.0, 35.0, 13.0)]
    [1.0, 3.0, 2.0, 8.0, 4.0]
    """
    mean_u = su / count
    mean_v = sv / count
    return (mean_u, mean_v, suu - count * mean_u * mean_u, svv - count * mean_v * mean_v,
            suv - count * mean_u * mean_v)


def plot_line(mean_u: Any, mean_v: Any, suu: Any, svv: Any, suv: Any, direction: str) -> tuple[Any, Any]:
    """``(shape, ln scale)`` of the least-squares line in ``direction`` (see the module docstring).

    Examples
    --------
    >>> import math
    >>> shape, log_scale = plot_line(0.0, -1.0, 2.0, 8.0, 4.0, "y_on_x")   # v = 2 (u + 1/2)
    >>> shape, log_scale
    (2.0, 0.5)
    >>> plot_line(0.0, -1.0, 2.0, 8.0, 4.0, "x_on_y")   # the same points lie on a line: same law
    (2.0, 0.5)
    """
    if direction == "y_on_x":
        shape = suv / suu
        return shape, mean_u - mean_v / shape
    slope = suv / svv
    return 1.0 / slope, mean_u - slope * mean_v


def squared_correlation(suu: Any, svv: Any, suv: Any) -> Any:
    """``r^2 = S_uv^2 / (S_uu S_vv)`` of the plotted points.

    Examples
    --------
    >>> squared_correlation(2.0, 8.0, 4.0)
    1.0
    """
    return suv * suv / (suu * svv)
