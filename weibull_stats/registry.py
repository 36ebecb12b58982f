"""The registry of estimators that bootstrap, goodness of fit, validation, plots and the
scan all iterate over.

Each entry is an estimator module's ``ESTIMATOR``
(:class:`~weibull_stats.estimators._core.Estimator`): its public one-sample function, its
kernel on a batch of samples, its option check and, where it has one, its resampling fast
path. Adding an estimator is its module, one line in :data:`ESTIMATORS` and its tests.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import numpy as np

from weibull_stats.batch import Batch, CountRows, Lines
from weibull_stats.batched import histogram_rows, mle_rows, probability_plot_rows, quantile_rows
from weibull_stats.estimators import fit_histogram, fit_mle, fit_probability_plot, fit_quantile
from weibull_stats.estimators._core import Estimator
from weibull_stats.estimators.log_moment import ESTIMATOR as LOG_MOMENT
from weibull_stats.resampling import HistogramPlan, ProbabilityPlotPlan, QuantilePlan
from weibull_stats.results import WeibullFit
from weibull_stats.sample import Sample


# ============================================================================================
# TEMPORARY ADAPTERS (issue 9): the four estimators not yet rewritten into the shape of
# estimators/log_moment.py. Each adapter is an Estimator whose kernel wraps the old
# ``weibull_stats.batched.*_rows`` (count rows expanded with np.repeat, O(n) per row), whose
# plan is the old plan class of ``weibull_stats.resampling`` and whose function accepts a
# Sample. The integrator replaces this whole block with
#     from weibull_stats.estimators.<name> import ESTIMATOR as <NAME>
# and then deletes batched.py and the old plans.
# ============================================================================================
def _expanded_rows(batch: Batch) -> list[np.ndarray]:
    """Groups of equal-size raw rows of ``batch`` (count rows expanded); one group per size."""
    if not isinstance(batch, CountRows):
        return [batch.values]
    rows = [np.repeat(batch.values, c) for c in batch.counts]
    return [np.stack(rows)] if len({r.size for r in rows}) == 1 else [r[None, :] for r in rows]


def _adapt_kernel(rows_function: Callable[..., np.ndarray]) -> Callable[..., Lines]:
    def kernel(batch: Batch, /, **options: Any) -> Lines:
        pairs = np.concatenate([rows_function(group, **options) for group in _expanded_rows(batch)])
        ok = np.isfinite(pairs).all(axis=1)
        reasons = {int(i): "the fit is undefined on this row" for i in np.flatnonzero(~ok)}
        return Lines(shape=pairs[:, 0], scale=pairs[:, 1], n_used=np.asarray(batch.sizes, dtype=np.int64),
                     converged=ok, reasons=reasons)

    return kernel


def _adapt_function(function: Callable[..., WeibullFit]) -> Callable[..., WeibullFit]:
    @functools.wraps(function)
    def fit(x: Any, /, **options: Any) -> WeibullFit:
        if not isinstance(x, Sample):
            return function(x, **options)
        data = x.magnitudes if x.magnitudes is not None else x.sorted_magnitudes()
        result = function(data, **options)
        if x.n != x.size:
            result = replace(result, n=x.n, n_omitted=dict(x.n_omitted))
        return result

    return fit


def _own_options(**options: Any) -> dict[str, Any]:
    return dict(options)


def _adapter(name: str, function: Callable[..., WeibullFit], rows: Callable[..., np.ndarray], summary: str,
             order_statistics: bool, plan: Any = None) -> Estimator:
    return Estimator(name, _adapt_function(function), _adapt_kernel(rows), _own_options, summary,
                     order_statistics=order_statistics, plan=plan)


PROBABILITY_PLOT = _adapter(
    "probability_plot", fit_probability_plot, probability_plot_rows,
    "least squares on the Weibull plot of the order statistics (middle 80%)", True, ProbabilityPlotPlan)
HISTOGRAM = _adapter(
    "histogram", fit_histogram, histogram_rows,
    "the probability-plot fit on a 1024-bin log10 histogram (the paper's library)", True, HistogramPlan)
MLE = _adapter("mle", fit_mle, lambda rows, **_: mle_rows(rows),
               "maximum likelihood, location 0, profiled in the shape", False)
QUANTILE = _adapter("quantile", fit_quantile, quantile_rows,
                    "quantile matching at probabilities 0.1 and 0.9", True, QuantilePlan)
# ============================================================================================
# END OF TEMPORARY ADAPTERS
# ============================================================================================

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
