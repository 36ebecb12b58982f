r"""The maximum-likelihood fit's standard errors: the sandwich, from per-observation Weibull
scores (the default), and the inverse observed information (``errors="observed"``).

Derivation
----------
In the parameters ``theta = (k, eta)``, ``eta = ln lam``, one value's Weibull log density is
``l = ln k - k eta + (k - 1) ln x - z`` with ``u = ln x - eta`` and ``z = exp(k u)``. Its score
and Hessian are

* ``s_k = 1/k + u - z u``,  ``s_eta = k (z - 1)``;
* ``l_kk = -1/k^2 - z u^2``,  ``l_k,eta = -1 + z + k z u``,  ``l_eta,eta = -k^2 z``.

Whatever law the data follow (with ``E z^2 u^2 < inf``), the MLE converges to the root
``theta*`` of ``E s(theta) = 0`` (the Kullback-Leibler projection onto the Weibull family) and
``sqrt(n) (theta_hat - theta*)`` is asymptotically normal with covariance ``A^-1 B A^-1``,
``A = -E Hessian``, ``B = E s s'`` (Huber 1967; White 1982). The sandwich replaces both by
their sample means at the estimate: ``A`` is the observed information per value, ``B`` the
empirical covariance of the scores. Under Weibull data ``A = B`` and the sandwich tends to the
inverse observed information ``A^-1 / n`` (the reliability-style Fisher interval, kept as
``errors="observed"``); under another law it does not, by a factor that does not shrink with
``n``.

Every sum is a sum over values of a function of ``u``: a raw sample takes one more chunked
float64 pass over ``ln x`` at the estimate, a counts sample (16-bit storage) weighted sums over
its distinct values, O(distinct), the same counts the fit used.
"""

from __future__ import annotations

import math

import numpy as np

from weibull_stats.estimators._streaming import CHUNK, chunks
from weibull_stats.sample.checked import Sample

#: The MLE's standard errors: the sandwich (any law; the default) or the inverse observed
#: information (valid when the data are Weibull).
ERRORS: tuple[str, ...] = ("sandwich", "observed")

SANDWICH_METHOD = ("sandwich A^-1 B A^-1 of the Weibull score (observed information, "
                   "empirical score covariance)")
OBSERVED_METHOD = "inverse observed information of (shape, ln scale) (assumes Weibull data)"

#: Number of the per-value sums :func:`score_sums` returns.
_SUMS = 9


def _sums_of(u: np.ndarray, weights: np.ndarray | None, shape: float) -> np.ndarray:
    """``sum w * (1, u, u^2, z, z u, z u^2, z^2, z^2 u, z^2 u^2)`` with ``z = exp(shape u)``."""
    z = np.exp(shape * u)
    zu = z * u
    terms = (np.ones_like(u), u, u * u, z, zu, zu * u, z * z, z * zu, zu * zu)
    if weights is None:
        return np.array([float(t.sum()) for t in terms])
    return np.array([float((t * weights).sum()) for t in terms])


def score_sums(sample: Sample, shape: float, log_scale: float) -> np.ndarray:
    """The nine sums over the values behind the sandwich, at ``(shape, ln scale)``: of
    ``1, u, u^2, z, z u, z u^2, z^2, z^2 u, z^2 u^2`` (``u = ln x - ln scale``, ``z = exp(k u)``).

    A raw sample is read in fixed chunks, a counts sample over its distinct values with the
    counts as weights, so both forms of the same data give the same sums up to rounding.
    """
    if sample.magnitudes is None:
        assert sample.distinct is not None and sample.counts is not None
        u = np.log(sample.distinct.astype(np.float64)) - log_scale
        return _sums_of(u, sample.counts.astype(np.float64), shape)
    values = sample.magnitudes
    total = np.zeros(_SUMS)
    for a, b in chunks(0, values.size, CHUNK):
        total += _sums_of(np.log(values[a:b], dtype=np.float64) - log_scale, None, shape)
    return total


def sandwich_covariance(sums: np.ndarray, shape: float) -> np.ndarray:
    """Covariance ``A^-1 B A^-1 / n`` of ``(shape, ln scale)`` from :func:`score_sums`
    (``A``: minus the mean Hessian, ``B``: the empirical covariance of the scores)."""
    n, s_u, s_uu, s_z, s_zu, s_zuu, s_zz, s_zzu, s_zzuu = (float(v) for v in sums)
    k = shape
    hessian = np.array([[-n / k**2 - s_zuu, -n + s_z + k * s_zu],
                        [-n + s_z + k * s_zu, -k * k * s_z]]) / n
    # sums of the score products: s_k = 1/k + u - z u, s_eta = k (z - 1)
    kk = n / k**2 + 2.0 * s_u / k - 2.0 * s_zu / k + s_uu - 2.0 * s_zuu + s_zzuu
    ee = k * k * (s_zz - 2.0 * s_z + n)
    ke = k * (s_z / k - n / k + 2.0 * s_zu - s_u - s_zzu)
    mean = np.array([n / k + s_u - s_zu, k * (s_z - n)]) / n
    scores = np.array([[kk, ke], [ke, ee]]) / n - np.outer(mean, mean)
    inverse = np.linalg.inv(-hessian)
    return inverse @ scores @ inverse.T / n


def sandwich_se(sample: Sample, shape: float, scale: float) -> tuple[float, float]:
    """``(se shape, se ln scale)`` of the MLE from the sandwich (see the module docstring);
    ``nan`` where the observed information is not positive definite.

    Examples
    --------
    >>> import weibull_stats as ws
    >>> x = np.random.default_rng(0).weibull(1.5, 100_000)  # Weibull data: near the information's
    >>> fit = ws.fit_mle(x)
    >>> se = sandwich_se(ws.as_sample(x), fit.shape, fit.scale)
    >>> bool(0.74 < se[0] * 100_000 ** 0.5 / 1.5 < 0.82)  # 0.78 k / sqrt(n) under Weibull
    True
    """
    sums = score_sums(sample, shape, math.log(scale))
    with np.errstate(all="ignore"):
        try:
            cov = sandwich_covariance(sums, shape)
        except np.linalg.LinAlgError:
            return math.nan, math.nan
    if not (np.all(np.isfinite(cov)) and cov[0, 0] > 0 and cov[1, 1] > 0):
        return math.nan, math.nan
    return float(math.sqrt(cov[0, 0])), float(math.sqrt(cov[1, 1]))


def information_se_rows(
    moments: tuple[np.ndarray, np.ndarray, np.ndarray],
    shape: np.ndarray,
    scale: np.ndarray,
    top: np.ndarray,
    n: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`observed_information_se`: ``nan`` where the information is not
    positive definite."""
    s0, s1, s2 = moments
    d = top - np.log(scale)
    c = np.exp(shape * d)
    s_z = c * s0
    s_zu = c * (s1 + d * s0)
    s_zuu = c * (s2 + 2.0 * d * s1 + d * d * s0)
    # l_kl = a / lam and l_ll = b / lam^2: the powers of lam cancel in the inverse, which
    # keeps data near the float64 limits (scale 1e-300 or 1e300) finite
    h_kk = -n / shape**2 - s_zuu
    a = -n + s_z + shape * s_zu
    b = n * shape - shape * (shape + 1.0) * s_z
    det = h_kk * b - a * a
    ok = det > 0
    safe = np.where(ok, det, 1.0)
    return (np.where(ok, np.sqrt(np.where(ok, -b / safe, 1.0)), np.nan),
            np.where(ok, scale * np.sqrt(np.where(ok, -h_kk / safe, 1.0)), np.nan))


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
    >>> import weibull_stats as ws
    >>> x = np.random.default_rng(0).weibull(1.0, 10_000)
    >>> fit = ws.fit_mle(x)  # standard errors near 0.78 k / sqrt(n) and 1.05 lam / (k sqrt(n))
    >>> round(fit.shape_se * math.sqrt(x.size) / fit.shape, 2), round(fit.scale_se * 100 / fit.scale, 2)
    (0.78, 1.05)
    """
    arrays = tuple(np.array([float(m)]) for m in moments)
    shape_se, scale_se = information_se_rows(
        (arrays[0], arrays[1], arrays[2]), np.array([float(shape)]), np.array([float(scale)]),
        np.array([float(top)]), np.array([float(n)]),
    )
    return float(shape_se[0]), float(scale_se[0])
