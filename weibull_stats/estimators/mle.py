"""Maximum likelihood with the location fixed at zero, profiled in the shape."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from weibull_stats._input import check_sample
from weibull_stats.estimators._streaming import CHUNK, chunks, log_moments
from weibull_stats.results import WeibullFit

MAX_ITERATIONS = 100
RELATIVE_TOLERANCE = 1e-13


#: Samples up to this size keep ``t = ln x - max ln x`` in memory between iterations;
#: larger ones recompute it chunk by chunk (cheaper than faulting in a large array).
CACHE_LIMIT = 1 << 21


class _LogSample:
    """``t = ln x - top`` (``top = max ln x``) served in chunks, in float64."""

    def __init__(self, data: np.ndarray, top: float) -> None:
        self.data = data
        self.top = top
        self.chunk = CHUNK
        size = min(data.size, CHUNK)
        self.t = np.empty(size)
        self.e = np.empty(size)
        self.cached: np.ndarray | None = None
        if data.size <= CACHE_LIMIT:
            self.cached = np.log(data, dtype=np.float64)
            self.cached -= top

    def weighted_moments(self, shape: float) -> tuple[float, float, float]:
        """``(sum e, sum e t, sum e t^2)`` with ``e = exp(shape * t) <= 1``, one chunked pass."""
        s0 = s1 = s2 = 0.0
        for a, b in chunks(0, self.data.size, self.chunk):
            m = b - a
            e = self.e[:m]
            if self.cached is not None:
                t = self.cached[a:b]
            else:
                t = self.t[:m]
                np.log(self.data[a:b], out=t, dtype=np.float64)
                t -= self.top
            np.multiply(t, shape, out=e)
            np.exp(e, out=e)
            s0 += float(e.sum())
            e *= t  # pairwise sums of in-place products (BLAS dot threads, see window_sums)
            s1 += float(e.sum())
            e *= t
            s2 += float(e.sum())
        return s0, s1, s2


def _profile_root(
    sample: _LogSample, mean_t: float, start: float
) -> tuple[float, int, bool, tuple[float, float, float]]:
    """Root in ``k`` of the profile score ``g(k) = S1/S0 - 1/k - mean(t)``.

    ``g`` is strictly increasing (``g'(k) = Var_w(t) + 1/k^2``), tends to ``-inf`` as
    ``k -> 0`` and to ``max(t) - mean(t) > 0`` as ``k -> inf``, so the root is unique.
    Newton steps are kept inside a bracket that every evaluation narrows; a step that
    leaves the bracket is replaced by bisection in ``log k``. The moments returned are
    those at the returned ``k``.
    """
    low, high = 0.0, math.inf
    k = start
    moments = sample.weighted_moments(k)
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
        moments = sample.weighted_moments(k)
        if step <= RELATIVE_TOLERANCE * k:
            return k, iteration, True, moments
    return k, MAX_ITERATIONS, False, moments


def observed_information_se(
    moments: tuple[float, float, float], shape: float, scale: float, top: float, n: int
) -> tuple[float, float]:
    """Standard errors of ``(shape, scale)`` from the inverse observed information.

    With ``z_i = (x_i / scale) ** shape`` and ``u_i = ln(x_i / scale)`` the Hessian of
    ``l = n ln k - n k ln lam + (k - 1) sum ln x - sum z`` is
    ``l_kk = -n/k^2 - sum z u^2``,
    ``l_kl = -n/lam + (sum z + k sum z u) / lam``,
    ``l_ll = n k/lam^2 - k (k + 1) sum z / lam^2``.
    The sums come from the profile moments ``(S0, S1, S2)`` at ``shape`` (sums of
    ``e = exp(k t)``, ``e t``, ``e t^2`` with ``t = ln x - top``): with ``d = top - ln lam``
    and ``c = exp(k d)``, ``z = c e`` and ``u = t + d``, so no further pass is needed.

    Examples
    --------
    >>> import math
    >>> import numpy as np
    >>> x = np.random.default_rng(0).weibull(1.0, 10_000)
    >>> fit = fit_mle(x)  # standard errors near 0.78 k / sqrt(n) and 1.05 lam / (k sqrt(n))
    >>> round(fit.shape_se * math.sqrt(x.size) / fit.shape, 2), round(fit.scale_se * 100 / fit.scale, 2)
    (0.78, 1.05)
    """
    s0, s1, s2 = moments
    d = top - math.log(scale)
    c = math.exp(shape * d)
    s_z = c * s0
    s_zu = c * (s1 + d * s0)
    s_zuu = c * (s2 + 2.0 * d * s1 + d * d * s0)
    # l_kl = a / lam and l_ll = b / lam^2: the powers of lam cancel in the inverse, which
    # keeps data near the float64 limits (scale 1e-300 or 1e300) finite
    h_kk = -n / shape**2 - s_zuu
    a = -n + s_z + shape * s_zu
    b = n * shape - shape * (shape + 1.0) * s_z
    det = h_kk * b - a * a
    if not det > 0:
        return math.nan, math.nan
    return math.sqrt(-b / det), scale * math.sqrt(-h_kk / det)


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
    1e-6 or 1e3 give the same shape), with float64 sums. Each iteration is one chunked
    pass; large samples recompute ``ln x`` per chunk instead of holding a float64 copy.

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
    top = math.log(float(sample.data.max()))
    logs = _LogSample(sample.data, top)
    start = math.pi / math.sqrt(6.0 * ss_log / n)
    shape, iterations, converged, moments = _profile_root(logs, mean_log - top, start)
    scale = math.exp(top + math.log(moments[0] / n) / shape)
    shape_se, scale_se = observed_information_se(moments, shape, scale, top, int(n))
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
