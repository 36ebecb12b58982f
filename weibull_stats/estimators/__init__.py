"""The estimators: each one function returning a :class:`~weibull_stats.WeibullFit`."""

from weibull_stats.estimators._asymptotic import UnreliableIntervalWarning, reliability_reason
from weibull_stats.estimators._core import Estimator, PopulationHook, sample_batch
from weibull_stats.estimators.histogram import (
    Log10Histogram,
    fit_histogram,
    fit_histogram_counts,
    log10_histogram,
    paper_edges,
)
from weibull_stats.estimators.log_moment import fit_log_moment
from weibull_stats.estimators.mle import fit_mle
from weibull_stats.estimators.probability_plot import fit_probability_plot
from weibull_stats.estimators.quantile import fit_quantile

__all__ = [
    "Estimator",
    "Log10Histogram",
    "PopulationHook",
    "UnreliableIntervalWarning",
    "fit_histogram",
    "fit_histogram_counts",
    "fit_log_moment",
    "fit_mle",
    "fit_probability_plot",
    "fit_quantile",
    "log10_histogram",
    "paper_edges",
    "reliability_reason",
    "sample_batch",
]
