"""Sums of the Weibull-plot ordinates ``y_i = ln(-ln(1 - (i - 0.5)/n))`` over runs of ranks,
in O(runs) for a counts sample.

The effect sizes of a counts sample (:func:`weibull_stats.inference.gof.count_effect_sizes`) need, per
run of equal values holding the ranks ``a .. b``, the sum of ``y_i`` over the run, and the
totals of ``y`` and ``y^2``. The ordinates depend on ``n`` only, so the sums have a smooth
summand: with ``g(p) = ln s``, ``s = -ln(1 - p)``, the midpoint Euler-Maclaurin formula

``sum_{i=a}^{b} g((i - 1/2)/n) = n [G(b/n) - G((a-1)/n)] - [g'(b/n) - g'((a-1)/n)] / (24 n)
+ 7 [g'''(b/n) - g'''((a-1)/n)] / (5760 n^3) - ...``

holds with ``G' = g``, ``g' = 1 / (q s)`` and ``g''' = (2 s^2 - 3 s + 2) / (q^3 s^3)``,
``q = 1 - p``. The integral ``G(b/n) - G((a-1)/n)`` is not taken as a difference of
antiderivative values (that cancels: an error of ``n`` ulps per run) but by 8-point
Gauss-Legendre over the run, accurate to about 1e-16 where the run is at most half as wide as
its distance to either end. At least :data:`EDGE` ranks from either end the derivatives in
rank units are below ``1/EDGE`` and the next Euler-Maclaurin term is below 1e-17 of the
run's sum; pieces of runs in the :data:`EDGE` ranks at either end, runs shorter than
:data:`SHORT` and runs too wide for the quadrature are summed directly.
The total of ``y^2`` takes the same formula with the integral of ``g^2`` by quadrature.
:func:`direct_run_sums` is the obviously correct O(n) oracle.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import quad

#: Ranks at either end summed directly.
EDGE = 1024
#: Runs (pieces) shorter than this are summed directly.
SHORT = 32
#: Ranks per chunk of the direct pass.
CHUNK = 1 << 16


def _y(ranks: np.ndarray, n: int) -> np.ndarray:
    return np.log(-np.log1p(-(ranks.astype(np.float64) - 0.5) / n))


def direct_run_sums(counts: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``(run sums, total of y, total of y^2)`` by one chunked pass over the ranks (O(n))."""
    n = int(counts.sum())
    ends = np.cumsum(counts)
    starts = ends - counts
    runs = np.zeros(counts.size)
    total = total_sq = 0.0
    for a in range(0, n, CHUNK):
        b = min(n, a + CHUNK)
        y = _y(np.arange(a + 1, b + 1), n)
        total += float(y.sum())
        total_sq += float(np.multiply(y, y).sum())
        j0 = int(np.searchsorted(ends, a, side="right"))
        j1 = int(np.searchsorted(starts, b, side="left"))
        runs[j0:j1] += np.add.reduceat(y, np.maximum(starts[j0:j1] - a, 0))
    return runs, total, total_sq


def _s_q(k: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``s = -ln(1 - k/n)`` and ``q = 1 - k/n`` at integer ``k``, exact in both tails."""
    k = k.astype(np.float64)
    q = (n - k) / n
    s = np.where(k < 0.5 * n, -np.log1p(-k / n), -np.log(q))
    return s, q


#: Gauss-Legendre nodes and weights on [-1, 1] for the integral over one run.
NODES, WEIGHTS = np.polynomial.legendre.leggauss(8)


def _em_sums(first: np.ndarray, last: np.ndarray, n: int) -> np.ndarray:
    """Euler-Maclaurin sums of ``y`` over ranks ``first .. last`` (1-based, inclusive); the
    integral by 8-point Gauss-Legendre over each run (no cancellation between ``G`` values)."""
    k0, k1 = (first - 1).astype(np.float64), last.astype(np.float64)
    half = 0.5 * (k1 - k0) / n
    p = (0.5 * (k0 + k1) / n)[:, None] + half[:, None] * NODES
    q = (0.5 * ((n - k0) + (n - k1)) / n)[:, None] - half[:, None] * NODES
    s_nodes = np.where(p < 0.5, -np.log1p(-p), -np.log(q))
    integral = half * (np.log(s_nodes) @ WEIGHTS)
    s0, q0 = _s_q(first - 1, n)
    s1, q1 = _s_q(last, n)

    def d1(s: np.ndarray, q: np.ndarray) -> np.ndarray:
        return 1.0 / (q * s)

    def d3(s: np.ndarray, q: np.ndarray) -> np.ndarray:
        return (2 * s * s - 3 * s + 2) / (q * s) ** 3

    return (n * integral - (d1(s1, q1) - d1(s0, q0)) / (24 * n)
            + 7 * (d3(s1, q1) - d3(s0, q0)) / (5760 * n**3))


def _em_square_total(first: int, last: int, n: int) -> float:
    """Euler-Maclaurin sum of ``y^2`` over ranks ``first .. last``: quadrature of ``(ln s)^2
    e^(-s)`` in ``s`` and the derivative terms of ``h = g^2`` (``h' = 2 g g'``, ``h''' = 2 (g
    g''' + 3 g' g'')``, ``g'' = (s - 1) / (q s)^2``)."""
    (s0, s1), (q0, q1) = _s_q(np.array([first - 1, last]), n)
    integral, _ = quad(lambda s: math.log(s) ** 2 * math.exp(-s), s0, s1, epsabs=0.0, epsrel=2e-14,
                       limit=200)

    def derivatives(s: float, q: float) -> tuple[float, float]:
        g, g1 = math.log(s), 1.0 / (q * s)
        g2 = (s - 1.0) / (q * s) ** 2
        g3 = (2 * s * s - 3 * s + 2) / (q * s) ** 3
        return 2 * g * g1, 2 * (g * g3 + 3 * g1 * g2)

    a1, a3 = derivatives(float(s0), float(q0))
    b1, b3 = derivatives(float(s1), float(q1))
    return n * integral - (b1 - a1) / (24 * n) + 7 * (b3 - a3) / (5760 * n**3)


def run_sums(counts: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``(run sums, total of y, total of y^2)`` for a counts sample, O(runs) (see the module
    documentation); equal to :func:`direct_run_sums` to about 1e-12 relative.

    Examples
    --------
    >>> import numpy as np
    >>> counts = np.array([3000, 5, 90_000, 7000])
    >>> a, b = run_sums(counts), direct_run_sums(counts)
    >>> bool(np.allclose(a[0], b[0], rtol=1e-11)), bool(abs(a[2] - b[2]) < 1e-9 * b[2])
    (True, True)
    """
    n = int(counts.sum())
    if n <= 2 * EDGE + SHORT:
        return direct_run_sums(counts)
    last = np.cumsum(counts)
    first = last - counts + 1
    mid_first = np.maximum(first, EDGE + 1)
    mid_last = np.minimum(last, n - EDGE)
    # the formula where the piece is long, and narrow against its distance to either end
    # (Gauss-Legendre error below 1e-16 when the width is at most half that distance)
    width = mid_last - mid_first + 1
    em = (width >= SHORT) & (2 * width <= np.minimum(mid_first - 1, n - mid_last))
    runs = np.zeros(counts.size)
    runs[em] = _em_sums(mid_first[em], mid_last[em], n)
    # the rest, directly: whole runs that are not summed by the formula, and the edge parts
    # of those that are
    pieces = [(first[~em], last[~em], np.flatnonzero(~em)),
              (first[em], np.minimum(last[em], mid_first[em] - 1), np.flatnonzero(em)),
              (np.maximum(first[em], mid_last[em] + 1), last[em], np.flatnonzero(em))]
    lo = np.concatenate([p[0] for p in pieces])
    hi = np.concatenate([p[1] for p in pieces])
    owner = np.concatenate([p[2] for p in pieces])
    keep = hi >= lo
    lo, hi, owner = lo[keep], hi[keep], owner[keep]
    if lo.size:
        lengths = hi - lo + 1
        offsets = np.cumsum(lengths) - lengths
        ranks = np.repeat(lo - offsets, lengths) + np.arange(int(lengths.sum()))
        np.add.at(runs, owner, np.add.reduceat(_y(ranks, n), offsets))
    edges = np.concatenate([np.arange(1, EDGE + 1), np.arange(n - EDGE + 1, n + 1)])
    y_edges = _y(edges, n)
    total_sq = float(np.multiply(y_edges, y_edges).sum()) + _em_square_total(EDGE + 1, n - EDGE, n)
    return runs, float(runs.sum()), total_sq
