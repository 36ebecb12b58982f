"""Slow, obviously correct reference implementations: the oracles for the fast estimators.

Each function follows the definition in DESIGN §3 literally, on plain full float64 arrays
with boolean masks and library least squares (``numpy.linalg.lstsq``, ``numpy.polyfit``,
``scipy.optimize``), with no chunking, shifting, counting or caching. They return
``(shape, scale)`` or ``(shape, scale, r2)`` tuples so that no code is shared with the
package under test.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import optimize

#: ``a`` of the plotting positions ``(i - a) / (n + 1 - 2a)``, written out again here.
PLOTTING_A = {"hazen": 0.5, "weibull": 0.0, "bernard": 0.3, "blom": 0.375}


def as_float64(x: Any) -> np.ndarray:
    """Flattened float64 copy (torch tensors via ``float()``, which is exact for bf16)."""
    if type(x).__module__.startswith("torch"):
        x = x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=np.float64).reshape(-1)


def _ols(u: np.ndarray, v: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float]:
    """Slope and intercept of ``v = slope * u + intercept`` by (weighted) ``lstsq``."""
    design = np.column_stack([u, np.ones_like(u)])
    if weights is not None:
        root = np.sqrt(weights)
        design = design * root[:, None]
        v = v * root
    (slope, intercept), *_ = np.linalg.lstsq(design, v, rcond=None)
    return float(slope), float(intercept)


def line(
    u: np.ndarray, v: np.ndarray, direction: str, weights: np.ndarray | None = None
) -> tuple[float, ...]:
    """``(shape, scale, r2)`` of the Weibull-plot line, ``u = ln x``, ``v = ln(-ln(1 - p))``."""
    w = np.ones_like(u) if weights is None else weights
    mu, mv = np.average(u, weights=w), np.average(v, weights=w)
    r2 = np.sum(w * (u - mu) * (v - mv)) ** 2 / (np.sum(w * (u - mu) ** 2) * np.sum(w * (v - mv) ** 2))
    if direction == "y_on_x":
        slope, intercept = _ols(u, v, weights)
        return slope, math.exp(-intercept / slope), float(r2)
    slope, intercept = _ols(v, u, weights)
    return 1.0 / slope, math.exp(intercept), float(r2)


def probability_plot(
    x: Any,
    trim: tuple[float, float] = (0.1, 0.9),
    plotting_position: str = "hazen",
    direction: str = "y_on_x",
) -> tuple[float, ...]:
    """Sort, plotting positions for every rank, boolean mask on the trim, least squares."""
    data = np.sort(as_float64(x))
    n = data.size
    a = PLOTTING_A[plotting_position]
    p = (np.arange(1, n + 1) - a) / (n + 1 - 2 * a)
    keep = (p >= trim[0]) & (p <= trim[1])
    return line(np.log(data[keep]), np.log(-np.log1p(-p[keep])), direction)


def histogram_counts(
    counts: Any, edges: Any, trim: tuple[float, float] = (0.1, 0.9), direction: str = "y_on_x"
) -> tuple[float, ...]:
    """Count-weighted least squares over bins whose mid-bin empirical CDF is in the trim."""
    c = np.asarray(counts, dtype=np.float64)
    e = np.asarray(edges, dtype=np.float64)
    below = np.concatenate([[0.0], np.cumsum(c)[:-1]])
    f_mid = (below + c / 2) / c.sum()
    keep = (f_mid >= trim[0]) & (f_mid <= trim[1]) & (c > 0)
    u = np.log(10.0) * (e[:-1] + e[1:])[keep] / 2
    return line(u, np.log(-np.log1p(-f_mid[keep])), direction, weights=c[keep])


def log10_counts(x: Any, edges: Any) -> np.ndarray:
    """``numpy.histogram`` of float64 ``log10 x`` over ``edges``."""
    counts, _ = np.histogram(np.log10(as_float64(x)), bins=np.asarray(edges, dtype=np.float64))
    return counts


def mle(x: Any) -> tuple[float, float]:
    """Root of the profile score by ``scipy.optimize.brentq``; scale in closed form.

    ``g(k) = sum x^k ln x / sum x^k - 1/k - mean ln x`` (``x`` divided by its maximum so
    that ``x^k`` cannot overflow; ``g`` does not change under scaling of ``x``).
    """
    data = as_float64(x)
    y = data / data.max()
    log_y = np.log(y)

    def score(k: float) -> float:
        power = y**k
        return float(np.sum(power * log_y) / np.sum(power) - 1.0 / k - np.mean(log_y))

    low, high = 0.5, 2.0
    while score(low) > 0:
        low /= 2
    while score(high) < 0:
        high *= 2
    shape = optimize.brentq(score, low, high, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)
    scale = data.max() * np.mean(y**shape) ** (1.0 / shape)
    return float(shape), float(scale)


def loglik(x: Any, shape: float, scale: float) -> float:
    """Weibull log-likelihood, written out (``loc = 0``)."""
    data = as_float64(x)
    z = data / scale
    return float(np.sum(np.log(shape / scale) + (shape - 1) * np.log(z) - z**shape))


def quantile(
    x: Any, probabilities: tuple[float, ...] = (0.1, 0.9), method: str = "linear"
) -> tuple[float, float]:
    """Sample quantiles by ``numpy.quantile``; ``ln q`` on ``ln(-ln(1 - p))`` by ``polyfit``."""
    q = np.quantile(as_float64(x), probabilities, method=method)  # type: ignore[call-overload]
    y = np.log(-np.log1p(-np.asarray(probabilities)))
    slope, intercept = np.polyfit(y, np.log(q), 1)
    return 1.0 / float(slope), math.exp(float(intercept))


def log_moment(x: Any) -> tuple[float, float]:
    """``shape = pi / (sd sqrt 6)``, ``scale = exp(mean + gamma / shape)`` of ``ln x``."""
    logs = np.log(as_float64(x))
    shape = math.pi / (np.std(logs, ddof=1) * math.sqrt(6))
    return float(shape), float(math.exp(np.mean(logs) + np.euler_gamma / shape))
