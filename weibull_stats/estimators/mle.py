"""Maximum likelihood with the location fixed at zero, profiled in the shape."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from weibull_stats._input import check_sample
from weibull_stats.estimators._streaming import log_moments
from weibull_stats.results import WeibullFit

MAX_ITERATIONS = 100
RELATIVE_TOLERANCE = 1e-13


def _weighted_moments(t: np.ndarray, shape: float, buffer: np.ndarray) -> tuple[float, float, float]:
    """``(sum e, sum e t, sum e t^2)`` with ``e = exp(shape * t)``, ``t <= 0``."""
    np.multiply(t, shape, out=buffer)
    np.exp(buffer, out=buffer)
    return float(buffer.sum()), float(np.dot(buffer, t)), float(np.dot(buffer * t, t))


def _profile_root(t: np.ndarray, mean_t: float, start: float) -> tuple[float, int, bool, tuple[float, float, float]]:
    """Root in ``k`` of the profile score ``g(k) = S1/S0 - 1/k - mean(t)``.

    ``g`` is strictly increasing (``g'(k) = Var_w(t) + 1/k^2``), tends to ``-inf`` as
    ``k -> 0`` and to ``max(t) - mean(t) > 0`` as ``k -> inf``, so the root is unique.
    Newton steps are kept inside a bracket that every evaluation narrows; a step that
    leaves the bracket is replaced by bisection in ``log k``.
    """
    buffer = np.empty_like(t)
    low, high = 0.0, math.inf
    k = start
    moments = _weighted_moments(t, k, buffer)
    for iteration in range(1, MAX_ITERATIONS + 1):
        s0, s1, s2 = moments
        mean_w = s1 / s0
        g = mean_w - 1.0 / k - mean_t
        if g == 0.0:
            return k, iteration, True, moments
        if g < 0:
            low = k
        else:
            high = k
        derivative = max(s2 / s0 - mean_w * mean_w, 0.0) + 1.0 / (k * k)
        candidate = k - g / derivative
        if not (low < candidate < high) or not math.isfinite(candidate):
            if math.isinf(high):
                candidate = 2.0 * k
            elif low == 0.0:
                candidate = 0.5 * k
            else:
                candidate = math.sqrt(low * high)
        step = abs(candidate - k)
        k = candidate
        moments = _weighted_moments(t, k, buffer)
        if step <= RELATIVE_TOLERANCE * k:
            return k, iteration, True, moments
    return k, MAX_ITERATIONS, False, moments


def observed_information_se(
    log_x: np.ndarray, shape: float, scale: float, n: int
) -> tuple[float, float]:
    """Standard errors of ``(shape, scale)`` from the inverse observed information.

    With ``z_i = (x_i / scale) ** shape`` and ``u_i = ln(x_i / scale)`` the Hessian of
    ``l = n ln k - n k ln lam + (k - 1) sum ln x - sum z`` is
    ``l_kk = -n/k^2 - sum z u^2``,
    ``l_kl = -n/lam + (sum z + k sum z u) / lam``,
    ``l_ll = n k/lam^2 - k (k + 1) sum z / lam^2``.
    """
    u = log_x - math.log(scale)
    z = np.exp(shape * u)
    s_z = float(z.sum())
    s_zu = float(np.dot(z, u))
    s_zuu = float(np.dot(z * u, u))
    h_kk = -n / shape**2 - s_zuu
    h_kl = (-n + s_z + shape * s_zu) / scale
    h_ll = (n * shape - shape * (shape + 1.0) * s_z) / scale**2
    det = h_kk * h_ll - h_kl * h_kl
    if not det > 0:
        return math.nan, math.nan
    return math.sqrt(-h_ll / det), math.sqrt(-h_kk / det)


def fit_mle(
    x: Any,
    /,
    *,
    values: str = "magnitudes",
    nonfinite: str = "error",
    zeros: str = "error",
) -> WeibullFit:
    """Maximum-likelihood Weibull fit with location fixed at 0.

    Maximises ``sum ln f(x_i)`` for ``f(x) = (k/lam) (x/lam)^(k-1) exp(-(x/lam)^k)``, the
    density of ``scipy.stats.weibull_min(c=shape, scale=scale)``.

    Parameters
    ----------
    x : array_like or torch.Tensor
        Positive sample (any shape, flattened; any float dtype).
    values : {"magnitudes", "weights"}, default "magnitudes"
        ``"weights"`` fits ``|x|``; with ``"magnitudes"`` a negative value is an error.
    nonfinite, zeros : {"error", "omit"}, default "error"
        What to do with NaN/inf values and with zeros; omissions are counted in the result.

    Returns
    -------
    WeibullFit
        ``shape``, ``scale``, ``shape_se`` and ``scale_se`` (inverse observed information),
        ``iterations`` and ``converged``.

    Notes
    -----
    The scale has the closed form ``lam(k) = (mean x^k)^(1/k)`` for a given shape, so the
    likelihood is profiled to the one-dimensional score equation
    ``sum x^k ln x / sum x^k - 1/k - mean(ln x) = 0``, which has exactly one root. It is
    solved by safeguarded Newton iteration from the log-moment estimate, on
    ``t = ln x - max ln x`` so that ``x^k`` never overflows or loses scale (data scaled by
    1e-6 or 1e3 give the same shape), with float64 sums. Each iteration is one pass.

    Examples
    --------
    >>> import numpy as np
    >>> import weibull_stats as ws
    >>> x = np.random.default_rng(1).weibull(0.8, size=50_000) * 3.0
    >>> fit = ws.fit_mle(x)
    >>> round(fit.shape, 2), round(fit.scale, 1), fit.converged
    (0.8, 3.0, True)
    """
    sample = check_sample(x, values=values, nonfinite=nonfinite, zeros=zeros)
    n, mean_log, ss_log = log_moments(sample.data)
    log_x = np.log(sample.data, dtype=np.float64)
    top = float(log_x.max())
    t = log_x - top
    mean_t = mean_log - top
    start = math.pi / math.sqrt(6.0 * ss_log / n)
    shape, iterations, converged, (s0, _, _) = _profile_root(t, mean_t, start)
    scale = math.exp(top + math.log(s0 / n) / shape)
    shape_se, scale_se = observed_information_se(log_x, shape, scale, int(n))
    return WeibullFit(
        shape=shape,
        scale=scale,
        estimator="mle",
        n=sample.n,
        n_used=int(n),
        options={"values": values, "nonfinite": nonfinite, "zeros": zeros},
        converged=converged,
        n_omitted=sample.n_omitted,
        shape_se=shape_se,
        scale_se=scale_se,
        iterations=iterations,
    )
