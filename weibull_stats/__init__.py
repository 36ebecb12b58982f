"""weibull-stats: validated Weibull estimation of neural-network weight distributions.

The two-parameter Weibull law is ``F(x) = 1 - exp(-(x / scale) ** shape)``, the
parameterisation of ``scipy.stats.weibull_min(c=shape, scale=scale)``.
"""

from weibull_stats._version import __version__
from weibull_stats.estimators import (
    Log10Histogram,
    fit_histogram,
    fit_histogram_counts,
    fit_log_moment,
    fit_mle,
    fit_probability_plot,
    fit_quantile,
    log10_histogram,
    paper_edges,
)
from weibull_stats.registry import ESTIMATORS, Estimator, fit, get_estimator
from weibull_stats.results import WeibullFit, results_to_frame

#: Population value of the default (middle-80%, Hazen, y on x) probability-plot fit
#: under HalfNormal(sigma): shape, and scale / sigma. See ``weibull_stats.validation``.
HALFNORMAL_ANCHOR_SHAPE = 1.2054343190
HALFNORMAL_ANCHOR_SCALE = 0.8874870398

__all__ = [
    "ESTIMATORS",
    "Estimator",
    "HALFNORMAL_ANCHOR_SCALE",
    "HALFNORMAL_ANCHOR_SHAPE",
    "Log10Histogram",
    "WeibullFit",
    "__version__",
    "fit",
    "fit_histogram",
    "fit_histogram_counts",
    "fit_log_moment",
    "fit_mle",
    "fit_probability_plot",
    "fit_quantile",
    "get_estimator",
    "log10_histogram",
    "paper_edges",
    "results_to_frame",
]
