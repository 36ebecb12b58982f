r"""Log-moment estimator: closed form from the mean and spread of ln x.

Asymptotic errors (delta method)
--------------------------------
With ``m`` and ``s^2`` the sample mean and variance of ``ln x`` and ``mu_j`` its central
moments, ``Var s^2 = (mu_4 - mu_2^2) / n``, ``Cov(m, s^2) = mu_3 / n``. ``shape = pi /
(sqrt 6 s)`` gives ``d shape = -shape d s^2 / (2 mu_2)``, and ``ln scale = m + gamma /
shape`` gives ``d ln scale = dm + gamma d s^2 / (2 shape mu_2)``, so

* ``Var shape = shape^2 (mu_4 / mu_2^2 - 1) / (4 n)``;
* ``Var ln scale = (mu_2 + gamma^2 (mu_4 / mu_2^2 - 1) / (4 shape^2) + gamma mu_3 / (shape mu_2)) / n``,

with the sample central moments in place of ``mu_j`` (one more chunked pass over ``ln x``
for a raw sample, O(distinct values) for a counts one). These hold for any law with a
finite fourth moment of ``ln x``, not only for Weibull data. The fourth moment makes the
shape's error converge slowly when ``ln x`` has a heavy lower tail (values near zero):
:func:`log_moment_asymptotic` needs a larger ``n`` than the others for the same accuracy.

Finite-n bias (the validation suite's :func:`log_moment_bias`)
-------------------------------------------------------------
``shape = pi / (sqrt 6 s)`` with ``s^2`` the unbiased sample variance of ``ln x``. A
second-order expansion of ``(s^2)^(-1/2)`` around ``sigma^2`` with
``Var s^2 = (mu_4 - sigma^4) / n + O(n^-2)`` gives
``E shape = shape (1 + (3/8) (mu_4 / sigma^4 - 1) / n) + O(n^-2)``. With cumulants
``kappa_r`` of ``ln X``, ``mu_4 / sigma^4 = kappa_4 / kappa_2^2 + 3``; for the half-normal
``kappa_2 = pi^2/8``, ``kappa_4 = pi^4/16``, so the bias is ``2.25 shape / n``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from weibull_stats.core.options import DEFAULT_POLICY
from weibull_stats.estimators._asymptotic import AsymptoticFit, distinct_values
from weibull_stats.estimators._core import Estimator, one_fit
from weibull_stats.estimators._influence import always, log_moment_influence
from weibull_stats.estimators._population_hook import KnownLimit, PopulationHook
from weibull_stats.estimators._streaming import CHUNK, chunks, count_log_moments, raw_log_moments
from weibull_stats.estimators.results import WeibullFit
from weibull_stats.sample.batch import Batch, CountRows, Lines
from weibull_stats.sample.checked import Sample, as_sample

EULER_GAMMA = 0.5772156649015329


def check_options() -> dict[str, Any]:
    """The log-moment estimator has no options of its own."""
    return {}


def log_moment_kernel(batch: Batch, /) -> Lines:
    """Shape and scale of every row from the mean and sd (``ddof=1``) of ``ln x``.

    Raw rows take one chunked float64 pass over ``ln x``; count rows take O(distinct)
    weighted sums over the grid.
    """
    if isinstance(batch, CountRows):
        n, mean, ss = count_log_moments(batch.values, batch.counts)
    else:
        n, mean, ss = raw_log_moments(batch.values)
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = np.sqrt(ss / (n - 1))
        shape = math.pi / (sd * math.sqrt(6.0))
        scale = np.exp(mean + EULER_GAMMA / shape)
    reasons = {int(i): "`x` has a single distinct value; a Weibull shape cannot be estimated"
               for i in np.flatnonzero(~(ss > 0))}
    return Lines(shape=shape, scale=scale, n_used=n.astype(np.int64), converged=np.ones(n.size, dtype=bool),
                 diagnostics={"mean_log": mean, "sd_log": sd}, reasons=reasons)


def fit_log_moment(
    x: Any,
    /,
    *,
    values: str = DEFAULT_POLICY["values"],
    nonfinite: str = DEFAULT_POLICY["nonfinite"],
    zeros: str = DEFAULT_POLICY["zeros"],
) -> WeibullFit:
    """Weibull fit from the first two moments of ``ln x``; one pass, no sort.

    If ``x ~ Weibull(shape, scale)`` then ``ln x = ln scale + G / shape`` with ``G`` the
    standard minimum-Gumbel variable (mean ``-gamma``, variance ``pi^2 / 6``). Hence

    ``shape = pi / (sd * sqrt(6))`` and ``scale = exp(mean + gamma / shape)``,

    with ``mean`` and ``sd`` the sample mean and standard deviation (``ddof=1``) of ``ln x``.

    Parameters
    ----------
    x : array_like, torch.Tensor or Sample
        Positive sample (any shape, flattened).
    values, nonfinite, zeros
        Bad-input policy, as in :func:`weibull_stats.as_sample`.

    Returns
    -------
    WeibullFit

    Examples
    --------
    >>> x = np.random.default_rng(3).weibull(1.2, size=500_000) * 0.5
    >>> fit = ws.fit_log_moment(x)
    >>> round(fit.shape, 2), round(fit.scale, 2)
    (1.2, 0.5)
    """
    sample = as_sample(x, values=values, nonfinite=nonfinite, zeros=zeros)
    return one_fit("log_moment", log_moment_kernel, sample, check_options())


def _central_moments(sample: Sample, mean: float) -> tuple[float, float, float]:
    """Sample central moments ``(mu_2, mu_3, mu_4)`` of ``ln x`` about ``mean`` (divisor ``n``)."""
    if sample.magnitudes is None:
        assert sample.distinct is not None and sample.counts is not None
        t = np.log(sample.distinct) - mean
        weights = sample.counts / float(sample.counts.sum())
        t2 = t * t
        return float(weights @ t2), float(weights @ (t2 * t)), float(weights @ (t2 * t2))
    x = sample.magnitudes
    sums = np.zeros(3)
    for a, b in chunks(0, x.size, CHUNK):
        t = np.log(x[a:b], dtype=np.float64)
        t -= mean
        t2 = t * t
        sums += (t2.sum(), (t2 * t).sum(), (t2 * t2).sum())
    mu2, mu3, mu4 = (sums / x.size).tolist()
    return mu2, mu3, mu4


def log_moment_asymptotic(sample: Sample, /) -> AsymptoticFit:
    """The fit with its delta-method errors (see the module docstring).

    Examples
    --------
    >>> x = np.random.default_rng(0).weibull(2.0, 100_000)
    >>> res = log_moment_asymptotic(ws.as_sample(x))  # Weibull: sd(shape) = 1.05 shape / sqrt(n)
    >>> bool(1.0 < res.shape_se * 100_000 ** 0.5 / res.fit.shape < 1.1)
    True
    """
    fit = one_fit("log_moment", log_moment_kernel, sample, check_options())
    mu2, mu3, mu4 = _central_moments(sample, float(fit.details["mean_log"]))
    n, k = sample.size, fit.shape
    excess = mu4 / (mu2 * mu2) - 1.0
    shape_var = k * k * excess / (4.0 * n)
    log_scale_var = (mu2 + EULER_GAMMA**2 * excess / (4.0 * k * k) + EULER_GAMMA * mu3 / (k * mu2)) / n
    return AsymptoticFit(fit, math.sqrt(shape_var), math.sqrt(max(log_scale_var, 0.0)),
                         "delta method on the sample moments of ln x",
                         distinct_values(sample.magnitudes, sample.distinct))


# ---------------------------------------------------------------------- validation hook
def log_moment_population(population: Any, /) -> tuple[Any, Any]:
    """Limit of the log-moment fit from the cumulants of ``ln X`` (derivatives of ``ln M``)."""
    ctx = population.context
    derivs = list(ctx.diffs(lambda t: ctx.log(population.power_moment_mp(t)), 0, 2))
    mean, var = derivs[1], derivs[2]
    shape = ctx.pi / ctx.sqrt(6 * var)
    return shape, ctx.exp(mean + ctx.euler / shape)


def log_moment_bias(population: Any, n: int, /) -> tuple[float, float]:
    """Leading ``O(1/n)`` biases of the log-moment ``(shape, scale / scale parameter)``.

    Shape: see the module docstring. Scale: ``ln scale = m + gamma / shape`` with ``m`` the
    sample mean of ``ln x``; to second order
    ``E d ln scale = -gamma b_k / k^2 + gamma V_k / k^3`` and
    ``Var d ln scale = kappa_2 / n + gamma^2 V_k / k^4 + gamma kappa_3 / (k kappa_2 n)``,
    where ``b_k`` is the shape bias, ``V_k = k^2 (mu_4 / sigma^4 - 1) / (4 n)`` the shape
    variance and ``Cov(m, shape) = -k kappa_3 / (2 kappa_2 n)``; then
    ``E scale = scale (1 + E d ln scale + Var d ln scale / 2)``. The cumulants and the limit
    are computed at the caller's working precision (``population`` as for
    :func:`log_moment_population`), the rest in float64.
    """
    ctx = population.context
    derivs = list(ctx.diffs(lambda t: ctx.log(population.power_moment_mp(t)), 0, 4))
    kappa = [float(v) for v in derivs[1:]]
    limit_shape, limit_scale = log_moment_population(population)
    shape, scale = float(limit_shape), float(limit_scale)
    kurtosis = kappa[3] / kappa[1] ** 2 + 3.0
    bias_k = shape * 0.375 * (kurtosis - 1.0) / n
    var_k = shape**2 * (kurtosis - 1.0) / (4.0 * n)
    mean_shift = -EULER_GAMMA * bias_k / shape**2 + EULER_GAMMA * var_k / shape**3
    var_log_scale = (kappa[1] / n + EULER_GAMMA**2 * var_k / shape**4
                     + EULER_GAMMA * kappa[2] / (shape * kappa[1] * n))
    return bias_k, scale * (mean_shift + 0.5 * var_log_scale)


LOG_MOMENT_POPULATION = PopulationHook(
    log_moment_population,
    method="cumulants of ln X by mpmath.diffs, {digits} digits (checked at {check_digits})",
    reads=frozenset({"context", "power_moment_mp"}),
    bias=log_moment_bias,
    known=(KnownLimit("shape", 2 / math.sqrt(3), 1e-14, "shape = 2 / sqrt(3) exactly under HalfNormal"),),
)


ESTIMATOR = Estimator(
    "log_moment",
    fit_log_moment,
    log_moment_kernel,
    check_options,
    "closed form from the mean and sd of ln x",
    order_statistics=False,
    population=LOG_MOMENT_POPULATION,
    asymptotic=log_moment_asymptotic,
    equivariant=always,
    influence=log_moment_influence,
)
