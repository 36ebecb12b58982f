"""weibull-stats: validated Weibull estimation of neural-network weight distributions.

The two-parameter Weibull law is ``F(x) = 1 - exp(-(x / scale) ** shape)``, the
parameterisation of ``scipy.stats.weibull_min(c=shape, scale=scale)``.

This module only re-exports, each name imported from its module on first use (so that
``import weibull_stats`` and the command line's ``--help`` load no scipy or pandas); modules
inside the package import the defining module, never ``weibull_stats`` itself (the layers are
in ``pyproject.toml`` and ``docs/developing.md``).
"""

import importlib
from typing import TYPE_CHECKING, Any

from weibull_stats._version import __version__

if TYPE_CHECKING:
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
    from weibull_stats.monitor.watch import Monitor, MonitorError, MonitorWarning
    from weibull_stats.report.export import results_table, to_latex, to_markdown
    from weibull_stats.report.fit_table import results_to_frame
    from weibull_stats.sample.checked import Sample, as_sample
    from weibull_stats.sample.degenerate import (
        DegenerateSampleWarning,
        FewResamplesWarning,
        degenerate_reason,
    )
    from weibull_stats.workflow import scan

#: The module defining each public name, imported on the name's first use (:func:`__getattr__`), so
#: that ``import weibull_stats`` (and the command line's ``--help``) loads no scipy, pandas or
#: matplotlib; the imports above are the same names for type checkers (a test checks both agree).
_HOMES: dict[str, tuple[str, ...]] = {
    "weibull_stats.core.constants": ("HALFNORMAL_ANCHOR_SCALE", "HALFNORMAL_ANCHOR_SHAPE",
                                     "UNIFORM_ANCHOR_SCALE", "UNIFORM_ANCHOR_SHAPE"),
    "weibull_stats.estimators.histogram": ("Log10Histogram", "fit_histogram", "fit_histogram_counts",
                                           "log10_histogram", "paper_edges"),
    "weibull_stats.estimators.log_moment": ("fit_log_moment",),
    "weibull_stats.estimators.mle": ("fit_mle",),
    "weibull_stats.estimators.probability_plot": ("fit_probability_plot",),
    "weibull_stats.estimators.quantile": ("fit_quantile",),
    "weibull_stats.estimators.registry": ("ESTIMATORS", "Estimator", "fit", "get_estimator"),
    "weibull_stats.estimators.results": ("WeibullFit",),
    "weibull_stats.inference.asymptotic_null": ("gof_asymptotic_pvalue", "gof_critical_values"),
    "weibull_stats.inference.bootstrap": ("BootstrapResult", "ConfidenceInterval", "Interval", "bootstrap"),
    "weibull_stats.inference.confidence": ("IntervalEstimate", "UnreliableIntervalWarning",
                                           "confidence_interval"),
    "weibull_stats.inference.decisions": ("AdjustedPValues", "EquivalenceResult", "EquivalenceTable",
                                          "adjust_pvalues", "equivalence", "equivalence_tests"),
    "weibull_stats.inference.gof": ("EffectSizes", "GoodnessOfFitResult", "goodness_of_fit"),
    "weibull_stats.inference.model_comparison": ("ModelComparison", "compare_models"),
    "weibull_stats.inference.published": ("published_band",),
    "weibull_stats.monitor.watch": ("Monitor", "MonitorError", "MonitorWarning"),
    "weibull_stats.report.export": ("results_table", "to_latex", "to_markdown"),
    "weibull_stats.report.fit_table": ("results_to_frame",),
    "weibull_stats.sample.checked": ("Sample", "as_sample"),
    "weibull_stats.sample.degenerate": ("DegenerateSampleWarning", "FewResamplesWarning",
                                        "degenerate_reason"),
    "weibull_stats.workflow": ("scan",),
}

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
    "Monitor",
    "MonitorError",
    "MonitorWarning",
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


def __getattr__(name: str) -> Any:
    """A public name, imported from its home on first use; a public subpackage, imported."""
    if name in PUBLIC_SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    home = next((module for module, names in _HOMES.items() if name in names), None)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    """The public names and subpackages, not the internal modules loaded with them."""
    return sorted([*__all__, *PUBLIC_SUBPACKAGES])
