"""weibull-stats: validated Weibull estimation of neural-network weight distributions.

The two-parameter Weibull law is ``F(x) = 1 - exp(-(x / scale) ** shape)``, the
parameterisation of ``scipy.stats.weibull_min(c=shape, scale=scale)``.

This module only re-exports; modules inside the package import the defining module, never
``weibull_stats`` itself (the layers are in ``pyproject.toml`` and ``docs/developing.md``).
"""

from weibull_stats._version import __version__
from weibull_stats.core.constants import (
    HALFNORMAL_ANCHOR_SCALE,
    HALFNORMAL_ANCHOR_SHAPE,
    UNIFORM_ANCHOR_SCALE,
    UNIFORM_ANCHOR_SHAPE,
)
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
from weibull_stats.estimators.registry import ESTIMATORS, Estimator, fit, get_estimator
from weibull_stats.estimators.results import WeibullFit
from weibull_stats.inference.asymptotic_null import gof_asymptotic_pvalue, gof_critical_values
from weibull_stats.inference.bootstrap import BootstrapResult, ConfidenceInterval, Interval, bootstrap
from weibull_stats.inference.confidence import (
    IntervalEstimate,
    UnreliableIntervalWarning,
    confidence_interval,
)
from weibull_stats.inference.decisions import (
    AdjustedPValues,
    EquivalenceResult,
    EquivalenceTable,
    adjust_pvalues,
    equivalence,
    equivalence_tests,
)
from weibull_stats.inference.gof import EffectSizes, GoodnessOfFitResult, goodness_of_fit
from weibull_stats.inference.model_comparison import ModelComparison, compare_models
from weibull_stats.inference.published import published_band
from weibull_stats.report.export import results_table, to_latex, to_markdown
from weibull_stats.report.fit_table import results_to_frame
from weibull_stats.sample.checked import Sample, as_sample
from weibull_stats.sample.degenerate import DegenerateSampleWarning, FewResamplesWarning, degenerate_reason
from weibull_stats.workflow import scan

#: The subpackages a user imports from; everything else under ``weibull_stats`` is internal.
PUBLIC_SUBPACKAGES = ("checkpoints", "plotting", "testing", "validation")

__all__ = [
    "ESTIMATORS",
    "HALFNORMAL_ANCHOR_SCALE",
    "HALFNORMAL_ANCHOR_SHAPE",
    "UNIFORM_ANCHOR_SCALE",
    "UNIFORM_ANCHOR_SHAPE",
    "AdjustedPValues",
    "BootstrapResult",
    "ConfidenceInterval",
    "DegenerateSampleWarning",
    "EffectSizes",
    "EquivalenceResult",
    "EquivalenceTable",
    "Estimator",
    "FewResamplesWarning",
    "GoodnessOfFitResult",
    "Interval",
    "IntervalEstimate",
    "Log10Histogram",
    "ModelComparison",
    "Sample",
    "UnreliableIntervalWarning",
    "WeibullFit",
    "__version__",
    "adjust_pvalues",
    "as_sample",
    "bootstrap",
    "compare_models",
    "confidence_interval",
    "degenerate_reason",
    "equivalence",
    "equivalence_tests",
    "fit",
    "fit_histogram",
    "fit_histogram_counts",
    "fit_log_moment",
    "fit_mle",
    "fit_probability_plot",
    "fit_quantile",
    "get_estimator",
    "gof_asymptotic_pvalue",
    "gof_critical_values",
    "goodness_of_fit",
    "log10_histogram",
    "paper_edges",
    "published_band",
    "results_table",
    "results_to_frame",
    "scan",
    "to_latex",
    "to_markdown",
]


def __dir__() -> list[str]:
    """The public names and subpackages, not the internal modules loaded with them."""
    return sorted([*__all__, *PUBLIC_SUBPACKAGES])
