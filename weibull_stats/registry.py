"""The registry of estimators that bootstrap, goodness of fit, validation, plots and the
scan all iterate over.

Each entry is an estimator module's ``ESTIMATOR``
(:class:`~weibull_stats.estimators._core.Estimator`): its public one-sample function, its
kernel on a batch of samples, its option check and, where it has one, its resampling fast
path. Adding an estimator is its module, one line in :data:`ESTIMATORS` and its tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from weibull_stats.estimators._core import Estimator
from weibull_stats.estimators.histogram import ESTIMATOR as HISTOGRAM
from weibull_stats.estimators.log_moment import ESTIMATOR as LOG_MOMENT
from weibull_stats.estimators.mle import ESTIMATOR as MLE
from weibull_stats.estimators.probability_plot import ESTIMATOR as PROBABILITY_PLOT
from weibull_stats.estimators.quantile import ESTIMATOR as QUANTILE
from weibull_stats.results import WeibullFit

ESTIMATORS: Mapping[str, Estimator] = MappingProxyType(
    {e.name: e for e in (PROBABILITY_PLOT, HISTOGRAM, MLE, QUANTILE, LOG_MOMENT)}
)


def check_options(estimator: Estimator, options: Mapping[str, Any]) -> None:
    """Raise a message naming any option that ``estimator`` does not take."""
    estimator.check_names(options)


def get_estimator(name: str) -> Estimator:
    """The registered estimator called ``name``; a clear error listing the names otherwise.

    Examples
    --------
    >>> get_estimator("mle").options["zeros"]
    'error'
    >>> get_estimator("gmm")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown estimator 'gmm'; registered estimators: probability_plot, histogram, ...
    """
    try:
        return ESTIMATORS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown estimator {name!r}; registered estimators: {', '.join(ESTIMATORS)}"
        ) from None


def fit(x: Any, /, estimator: str = "probability_plot", **options: Any) -> WeibullFit:
    """Fit a two-parameter Weibull law with a registered estimator.

    Parameters
    ----------
    x : array_like, torch.Tensor or Sample
        Positive sample, any shape and float dtype (``values="weights"`` fits ``|x|``).
    estimator : str, default "probability_plot"
        A key of :data:`ESTIMATORS`.
    **options
        The estimator's options; an unknown name is an error.

    Returns
    -------
    WeibullFit

    Examples
    --------
    >>> import numpy as np
    >>> import weibull_stats as ws
    >>> w = np.random.default_rng(0).normal(0.0, 0.02, 100_000)
    >>> fit = ws.fit(w, "probability_plot", values="weights")
    >>> round(fit.shape, 2)
    1.2
    """
    return get_estimator(estimator)(x, **options)
