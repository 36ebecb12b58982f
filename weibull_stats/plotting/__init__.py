"""Every plot of the package; matplotlib is imported only when a plot is drawn.

Every function returns the :class:`matplotlib.figure.Figure` it drew on (with ``ax``
given, that axes' figure), so figures compose in notebooks and save with
:func:`save_figure` (PNG at 200 dpi and PDF by default; SVG on request).

- fits (:mod:`~weibull_stats.plotting.probability`, :mod:`~weibull_stats.plotting.diagnostics`):
  the Weibull probability plot on a probability-scaled axis with a pointwise band; Q-Q, P-P,
  CDF and histogram diagnostics; ``WeibullFit.plot(x, kind=...)`` dispatches to them.
- inference (:mod:`~weibull_stats.plotting.inference`): bootstrap distributions, GoF null
  distributions.
- scans (:mod:`~weibull_stats.plotting.scan`, :mod:`~weibull_stats.plotting.scan_shape`): shape
  by layer (by matrix where no matrix has a layer) with the anchor and published bands,
  by expert and layer for a mixture of experts (:mod:`~weibull_stats.plotting.scan_experts`),
  probability plots per kind, trajectories.
"""

from weibull_stats.plotting._base import (
    DEFAULT_DPI,
    DEFAULT_FORMATS,
    FORMATS,
    MAX_POINTS,
    kind_order,
    save_figure,
)
from weibull_stats.plotting.diagnostics import (
    PLOT_KINDS,
    plot_cdf,
    plot_diagnostics,
    plot_fit,
    plot_hist,
    plot_pp,
    plot_qq,
)
from weibull_stats.plotting.inference import plot_bootstrap_distribution, plot_null_distribution
from weibull_stats.plotting.probability import plot_probability
from weibull_stats.plotting.scan import (
    plot_scan_probability,
    plot_scan_shape_by_layer,
    plot_scan_shape_by_matrix,
    plot_scan_trajectory,
)
from weibull_stats.plotting.scan_experts import plot_scan_shape_by_expert

#: Old private spelling, kept for callers inside the package.
_kind_order = kind_order

__all__ = [
    "DEFAULT_DPI",
    "DEFAULT_FORMATS",
    "FORMATS",
    "MAX_POINTS",
    "PLOT_KINDS",
    "kind_order",
    "plot_bootstrap_distribution",
    "plot_cdf",
    "plot_diagnostics",
    "plot_fit",
    "plot_hist",
    "plot_null_distribution",
    "plot_pp",
    "plot_probability",
    "plot_qq",
    "plot_scan_probability",
    "plot_scan_shape_by_expert",
    "plot_scan_shape_by_layer",
    "plot_scan_shape_by_matrix",
    "plot_scan_trajectory",
    "save_figure",
]
