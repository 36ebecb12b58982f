"""The typed registry of estimators that bootstrap, goodness of fit, validation, plots
and the scan all iterate over.

Adding an estimator is one function returning :class:`~weibull_stats.WeibullFit` and one
:class:`Estimator` entry in :data:`ESTIMATORS`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from weibull_stats.batched import (
    histogram_rows,
    log_moment_rows,
    mle_rows,
    probability_plot_rows,
    quantile_rows,
)
from weibull_stats.estimators import (
    fit_histogram,
    fit_log_moment,
    fit_mle,
    fit_probability_plot,
    fit_quantile,
)
from weibull_stats.resampling import BatchForm, HistogramPlan, ProbabilityPlotPlan, QuantilePlan
from weibull_stats.results import WeibullFit


@dataclass(frozen=True, slots=True)
class Estimator:
    """One registered estimator.

    Attributes
    ----------
    name : str
        Registry key, recorded in every result.
    function : callable
        ``function(x, /, **options) -> WeibullFit``.
    summary : str
        One line for tables and ``--help``.
    uses_order_statistics : bool
        True when the estimate depends on the data only through order statistics (a
        resample can then be represented by counts over the sorted sample).
    options : Mapping
        Option names and defaults, read from the function's keyword-only parameters.
    batch : BatchForm or None
        How the bootstrap and goodness-of-fit engine evaluates the estimator on many
        samples at once (:class:`weibull_stats.resampling.BatchForm`); ``None`` makes the
        engine loop over samples with ``function``.

    Examples
    --------
    >>> import numpy as np
    >>> from weibull_stats import ESTIMATORS
    >>> estimator = ESTIMATORS["quantile"]
    >>> dict(estimator.options)["probabilities"], estimator.uses_order_statistics
    ((0.1, 0.9), True)
    >>> x = np.random.default_rng(0).weibull(1.5, 1000)
    >>> estimator(x, probabilities=(0.25, 0.75)).options["probabilities"]
    (0.25, 0.75)
    """

    name: str
    function: Callable[..., WeibullFit]
    summary: str
    uses_order_statistics: bool
    options: Mapping[str, Any] = field(init=False)
    batch: BatchForm | None = None

    def __post_init__(self) -> None:
        params = inspect.signature(self.function).parameters.values()
        defaults = {p.name: p.default for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}
        object.__setattr__(self, "options", MappingProxyType(defaults))

    def __call__(self, x: Any, /, **options: Any) -> WeibullFit:
        check_options(self, options)
        return self.function(x, **options)


def check_options(estimator: Estimator, options: Mapping[str, Any]) -> None:
    """Raise a message naming any option that ``estimator`` does not take."""
    unknown = sorted(set(options) - set(estimator.options))
    if unknown:
        names = ", ".join(f"`{u}`" for u in unknown)
        valid = ", ".join(estimator.options)
        raise ValueError(f"unknown option {names} for estimator {estimator.name!r}; valid options: {valid}")


ESTIMATORS: Mapping[str, Estimator] = MappingProxyType(
    {
        e.name: e
        for e in (
            Estimator(
                "probability_plot",
                fit_probability_plot,
                "least squares on the Weibull plot of the order statistics (middle 80%)",
                True,
                batch=BatchForm(probability_plot_rows, ProbabilityPlotPlan),
            ),
            Estimator(
                "histogram",
                fit_histogram,
                "the probability-plot fit on a 1024-bin log10 histogram (the paper's library)",
                True,
                batch=BatchForm(histogram_rows, HistogramPlan),
            ),
            Estimator("mle", fit_mle, "maximum likelihood, location 0, profiled in the shape", False,
                      batch=BatchForm(mle_rows)),
            Estimator("quantile", fit_quantile, "quantile matching at probabilities 0.1 and 0.9", True,
                      batch=BatchForm(quantile_rows, QuantilePlan)),
            Estimator("log_moment", fit_log_moment, "closed form from the mean and sd of ln x", False,
                      batch=BatchForm(log_moment_rows)),
        )
    }
)


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
    x : array_like or torch.Tensor
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
