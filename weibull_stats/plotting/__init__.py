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
- training (:mod:`~weibull_stats.plotting.training` and the modules it draws from), for a
  results table or scan/monitor folder with several steps: k by layer and step (heatmap),
  per-kind median k and λ against step, the depth profile at the first and last step, λ with
  a fitted growth law; :func:`plot_training` draws all four.
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
from weibull_stats.plotting.training import TRAINING_FIGURES, plot_training, training_figures
from weibull_stats.plotting.training_growth import plot_training_growth
from weibull_stats.plotting.training_panels import (
    plot_training_depth,
    plot_training_heatmap,
    plot_training_medians,
)

#: Old private spelling, kept for callers inside the package.
_kind_order = kind_order

__all__ = [
    "DEFAULT_DPI",
    "DEFAULT_FORMATS",
    "FORMATS",
    "MAX_POINTS",
    "PLOT_KINDS",
    "TRAINING_FIGURES",
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
    "plot_training",
    "plot_training_depth",
    "plot_training_growth",
    "plot_training_heatmap",
    "plot_training_medians",
    "save_figure",
    "training_figures",
]
