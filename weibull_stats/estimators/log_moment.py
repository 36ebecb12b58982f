"""Log-moment estimator: closed form from the mean and spread of ln x."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from weibull_stats.batch import Batch, CountRows, Lines
from weibull_stats.estimators._core import Estimator, PopulationHook, one_fit
from weibull_stats.estimators._streaming import count_log_moments, raw_log_moments
from weibull_stats.results import WeibullFit
from weibull_stats.sample import as_sample

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
    values: str = "magnitudes",
    nonfinite: str = "error",
    zeros: str = "error",
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
    >>> import numpy as np
    >>> import weibull_stats as ws
    >>> x = np.random.default_rng(3).weibull(1.2, size=500_000) * 0.5
    >>> fit = ws.fit_log_moment(x)
    >>> round(fit.shape, 2), round(fit.scale, 2)
    (1.2, 0.5)
    """
    sample = as_sample(x, values=values, nonfinite=nonfinite, zeros=zeros)
    return one_fit("log_moment", log_moment_kernel, sample, check_options())



# ---------------------------------------------------------------------- validation hook
def log_moment_population(population: Any, /) -> tuple[Any, Any]:
    """Limit of the log-moment fit from the cumulants of ``ln X`` (derivatives of ``ln M``)."""
    ctx = population.context
    derivs = list(ctx.diffs(lambda t: ctx.log(population.power_moment_mp(t)), 0, 2))
    mean, var = derivs[1], derivs[2]
    shape = ctx.pi / ctx.sqrt(6 * var)
    return shape, ctx.exp(mean + ctx.euler / shape)


LOG_MOMENT_POPULATION = PopulationHook(
    log_moment_population,
    method="cumulants of ln X by mpmath.diffs, {digits} digits (checked at {check_digits})",
)


ESTIMATOR = Estimator(
    "log_moment",
    fit_log_moment,
    log_moment_kernel,
    check_options,
    "closed form from the mean and sd of ln x",
    order_statistics=False,
    population=LOG_MOMENT_POPULATION,
)
