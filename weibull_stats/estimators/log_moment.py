"""Log-moment estimator: closed form from the mean and spread of ln x."""

from __future__ import annotations

import math
from typing import Any

from weibull_stats._input import check_sample
from weibull_stats.estimators._streaming import log_moments
from weibull_stats.results import WeibullFit

EULER_GAMMA = 0.5772156649015329


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
    x : array_like or torch.Tensor
        Positive sample (any shape, flattened).
    values, nonfinite, zeros
        Bad-input policy, as in :func:`weibull_stats.fit_probability_plot`.

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
    sample = check_sample(x, values=values, nonfinite=nonfinite, zeros=zeros)
    n, mean, ss = log_moments(sample.data)
    sd = math.sqrt(ss / (n - 1))
    shape = math.pi / (sd * math.sqrt(6.0))
    return WeibullFit(
        shape=shape,
        scale=math.exp(mean + EULER_GAMMA / shape),
        estimator="log_moment",
        n=sample.n,
        n_used=int(n),
        options={"values": values, "nonfinite": nonfinite, "zeros": zeros},
        n_omitted=sample.n_omitted,
        details={"mean_log": mean, "sd_log": sd},
    )
