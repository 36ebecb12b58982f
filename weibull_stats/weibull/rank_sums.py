"""Sums of the Weibull-plot ordinates over rank ranges in O(1), by Euler–Maclaurin.

A sample in counts form (distinct values and their counts) needs, for every run of equal
values, the sum of the plot ordinates ``f(i) = g(p_i)``, ``g(p) = ln(-ln(1 - p))``,
``p_i = (i - a) / D``, ``D = n + 1 - 2a``, over the run's ranks inside a window of ranks, and
``sum f`` and ``sum f^2`` over the whole window.
Summing rank by rank costs O(window) per sample; here every such sum costs O(1), so a
count row costs O(distinct values) whatever ``n``. The probability plot's count rows
(:mod:`weibull_stats.estimators.probability_plot._counts`, any plotting position, the trim
window) and the effect sizes of goodness of fit (:func:`run_sums`: Hazen positions, every
rank) both take their sums here.

Derivation
----------
With ``t = -ln(1 - p)`` (so ``dp = e^{-t} dt``), ``g = ln t`` has the antiderivative

    ``G(p) = -(1 - p) ln t - E1(t)``,     ``dG/dp = ln t - 1/t + 1/t = g``,

(``E1`` the exponential integral, ``dE1/dt = -e^{-t}/t``), and the derivatives
``g' = e^t / t``, ``g'' = e^{2t} (1/t - 1/t^2)``, ``g''' = e^{3t} (2/t - 3/t^2 + 2/t^3)``.
The midpoint form of the Euler–Maclaurin formula gives, for ranks ``a..b``,

    ``sum_{i=a}^{b} f(i) = H(b + 1/2) - H(a - 1/2)``,
    ``H(x) = D G(p(x)) - f'(x) / 24 + 7 f'''(x) / 5760``,   ``f^{(k)}(x) = g^{(k)}(p(x)) / D^k``,

with remainder below ``31 / 967680 |f^{(5)}|`` summed over the range. ``f^{(5)}`` grows
like ``(x - a)^{-5}`` near ``p = 0`` and like ``(D - x + a)^{-5}`` near ``p = 1``, so the first and
the last :data:`EXACT` ranks of the window are summed term by term and the formula is used
only between them, where the remainder is below ``1e-17``. ``sum f^2`` uses the same formula
for ``f^2`` (``(f^2)' = 2 f f'``, ``(f^2)''' = 2 f f''' + 6 f' f''``) with the integral
``D \\int g^2 dp = D \\int (ln t)^2 e^{-t} dt`` by adaptive quadrature (relative error about
1e-14), which has no elementary antiderivative.

Each evaluation carries an absolute error of a few ``eps * D``, the same order as summing
``D`` terms in float64: the fitted line agrees with term-by-term summation to about 1e-13
relative (tested against the raw-data fit). A run's sum, as the difference of two such
values, has the same absolute error, a few ``eps * n``: :func:`direct_run_sums` is the O(n)
oracle, and the path of samples too small for the closed form.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from weibull_stats.weibull.law import plot_ordinates

#: Ranks at each end of the window summed term by term.
EXACT = 4096
#: Windows of at least this many ranks use the closed form; shorter ones are summed exactly.
CLOSED_FORM_MIN = 4 * EXACT


def ordinates(ranks: np.ndarray, a: float, denom: float) -> np.ndarray:
    """``f(i) = ln(-ln(1 - p_i))`` for 1-based ``ranks`` (float64), ``p_i = (i - a) / denom``."""
    return plot_ordinates((np.asarray(ranks, dtype=np.float64) - a) / denom)


def _derivatives(x: np.ndarray, a: float, denom: float) -> tuple[np.ndarray, ...]:
    """``(p, t, g, f', f'', f''')`` at real positions ``x`` (``f^{(k)} = g^{(k)} / D^k``)."""
    p = (x - a) / denom
    t = -np.log1p(-p)
    e = np.exp(t) / denom  # e^t / D
    g = np.log(t)
    f1 = e / t
    f2 = e * e * (1.0 / t - 1.0 / (t * t))
    f3 = e * e * e * (2.0 / t - 3.0 / (t * t) + 2.0 / (t * t * t))
    return p, t, g, f1, f2, f3


def _antiderivative(x: np.ndarray, a: float, denom: float) -> np.ndarray:
    """``H(x) = D G(p(x)) - f'(x)/24 + 7 f'''(x)/5760``."""
    from scipy import special  # imported on first use: importing the estimators loads no scipy

    p, t, g, f1, _, f3 = _derivatives(x, a, denom)
    big_g = -(1.0 - p) * g - special.exp1(t)
    return denom * big_g - f1 / 24.0 + 7.0 * f3 / 5760.0


def _square_corrections(x: float, a: float, denom: float) -> float:
    """``-(f^2)'(x)/24 + 7 (f^2)'''(x)/5760`` at one position."""
    _, _, g, f1, f2, f3 = _derivatives(np.array([x]), a, denom)
    first = 2.0 * g * f1
    third = 2.0 * g * f3 + 6.0 * f1 * f2
    return float(-first[0] / 24.0 + 7.0 * third[0] / 5760.0)


def _square_integral(x0: float, x1: float, a: float, denom: float) -> float:
    """``\\int_{x0}^{x1} f(x)^2 dx = D \\int (ln t)^2 e^{-t} dt`` over the matching ``t``."""
    from scipy import integrate  # imported on first use: importing the estimators loads no scipy

    t0 = -math.log1p(-(x0 - a) / denom)
    t1 = -math.log1p(-(x1 - a) / denom)
    value, _ = integrate.quad(lambda t: math.log(t) ** 2 * math.exp(-t), t0, t1,
                              epsabs=0.0, epsrel=2e-14, limit=200)
    return denom * value


def window_prefix(
    n: int, lo: int, hi: int, a: float, positions: np.ndarray
) -> tuple[np.ndarray, float, float]:
    """``(Q[positions], sum f, sum f^2)`` over the window ranks ``lo..hi`` of a sample of ``n``.

    ``Q[t]`` is the sum of the ordinates of the first ``t`` window ranks (``0 <= t <= W``,
    ``W = hi - lo + 1 >= CLOSED_FORM_MIN``); ``positions`` is any integer array. O(size of
    ``positions``) plus O(:data:`EXACT`).

    Examples
    --------
    >>> n, lo, hi = 100_000, 10_001, 90_000
    >>> exact = np.concatenate([[0.0], np.cumsum(ordinates(np.arange(lo, hi + 1), 0.5, n))])
    >>> q, sv, svv = window_prefix(n, lo, hi, 0.5, np.array([0, 5000, 40_000, 80_000]))
    >>> bool(np.allclose(q, exact[[0, 5000, 40_000, 80_000]], rtol=0, atol=1e-8))
    True
    """
    denom = n + 1 - 2 * a
    width = hi - lo + 1
    head_prefix, tail_prefix, h_head, q_tail_start, squares = _window_parts(n, lo, hi, a)
    t = np.asarray(positions, dtype=np.int64)
    out = np.empty(t.shape)
    in_head = t <= EXACT
    in_tail = t >= width - EXACT
    in_middle = ~(in_head | in_tail)
    out[in_head] = head_prefix[t[in_head]]
    out[in_tail] = q_tail_start + tail_prefix[t[in_tail] - (width - EXACT)]
    if in_middle.any():
        x = (lo - 1 + t[in_middle]).astype(np.float64) + 0.5  # after rank lo - 1 + t
        out[in_middle] = float(head_prefix[-1]) + (_antiderivative(x, a, denom) - h_head)
    total = q_tail_start + float(tail_prefix[-1])
    return out, total, squares


@lru_cache(maxsize=64)
def _window_parts(n: int, lo: int, hi: int, a: float) -> tuple[np.ndarray, np.ndarray, float, float, float]:
    """What :func:`window_prefix` needs that depends only on the window, not on the row:
    the exact prefixes of the first and last :data:`EXACT` ranks, ``H`` where the closed form
    starts, ``Q`` where the exact tail starts, and ``sum f^2`` (kept for the next row of the
    same size: a resampling run asks for it once per batch)."""
    denom = n + 1 - 2 * a
    head = ordinates(np.arange(lo, lo + EXACT), a, denom)
    tail = ordinates(np.arange(hi - EXACT + 1, hi + 1), a, denom)
    head_prefix = np.concatenate([[0.0], np.cumsum(head)])
    tail_prefix = np.concatenate([[0.0], np.cumsum(tail)])
    x_head = lo + EXACT - 0.5  # the closed form covers ranks lo + EXACT .. hi - EXACT
    x_tail = hi - EXACT + 0.5
    h_head, h_tail = _antiderivative(np.array([x_head, x_tail]), a, denom).tolist()
    q_tail_start = float(head_prefix[-1]) + (h_tail - h_head)  # Q at window offset W - EXACT
    squares = float(np.dot(head, head) + np.dot(tail, tail))
    squares += _square_integral(x_head, x_tail, a, denom)
    squares += _square_corrections(x_tail, a, denom) - _square_corrections(x_head, a, denom)
    head_prefix.setflags(write=False)
    tail_prefix.setflags(write=False)
    return head_prefix, tail_prefix, h_head, q_tail_start, squares


#: Ranks per chunk of the direct pass.
CHUNK = 1 << 16


def direct_run_sums(counts: np.ndarray) -> tuple[np.ndarray, float, float]:
    """``(run sums, total of y, total of y^2)`` of the Hazen ordinates ``y_i = ln(-ln(1 - (i -
    0.5) / n))`` of a counts sample, by one chunked pass over the ranks (O(n)): run ``j`` holds
    the ranks of the ``j``-th distinct value.

    Examples
    --------
    >>> runs, total, _ = direct_run_sums(np.array([1, 2]))
    >>> bool(np.allclose(runs, [ordinates(np.array([1]), 0.5, 3).sum(),
    ...                         ordinates(np.array([2, 3]), 0.5, 3).sum()], rtol=1e-15, atol=0))
    True
    """
    n = int(counts.sum())
    ends = np.cumsum(counts)
    starts = ends - counts
    runs = np.zeros(counts.size)
    total = total_sq = 0.0
    for a, b in ((a, min(n, a + CHUNK)) for a in range(0, n, CHUNK)):
        y = ordinates(np.arange(a + 1, b + 1), 0.5, n)
        total += float(y.sum())
        total_sq += float(np.multiply(y, y).sum())
        j0 = int(np.searchsorted(ends, a, side="right"))
        j1 = int(np.searchsorted(starts, b, side="left"))
        runs[j0:j1] += np.add.reduceat(y, np.maximum(starts[j0:j1] - a, 0))
    return runs, total, total_sq


def run_sums(counts: np.ndarray) -> tuple[np.ndarray, float, float]:
    """:func:`direct_run_sums` in O(runs) by :func:`window_prefix` over every rank (Hazen
    positions), for samples of at least :data:`CLOSED_FORM_MIN` values; directly below.

    Examples
    --------
    >>> counts = np.array([3000, 5, 90_000, 7000])
    >>> (a, sa, qa), (b, sb, qb) = run_sums(counts), direct_run_sums(counts)
    >>> bool(np.all(np.abs(a - b) < 32 * np.finfo(float).eps * counts.sum())), abs(qa - qb) < 1e-12 * qb
    (True, True)
    """
    n = int(counts.sum())
    if n < CLOSED_FORM_MIN:
        return direct_run_sums(counts)
    prefix, total, total_sq = window_prefix(n, 1, n, 0.5, np.cumsum(counts))
    return np.diff(prefix, prepend=0.0), total, total_sq
