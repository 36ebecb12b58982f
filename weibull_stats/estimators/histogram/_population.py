"""Histogram mode's exact limit under a population: the validation suite's hook."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from weibull_stats.estimators._core import PopulationHook
from weibull_stats.estimators.histogram._bins import paper_edges
from weibull_stats.estimators.histogram._lines import fit_histogram_counts
from weibull_stats.estimators.probability_plot import PROBABILITY_PLOT_POPULATION

#: Half-width of a paper bin in ln x, over 4: the bound on the binned limit's relative
#: error under Weibull data (every value sits at its bin's log-midpoint; the errors cancel
#: to first order over many bins, leaving ``O(h^2)``, bounded generously by ``h / 4``).
HISTOGRAM_WEIBULL_TOLERANCE = float(np.log(10.0)) * 14.0 / 2048.0 / 4.0


@lru_cache(maxsize=512)
def _paper_bin_probabilities(population: Any, digits: int) -> np.ndarray:
    ctx = population.context
    sigma = ctx.mpf(population.sigma)
    cdf = [population.cdf_mp(ctx.power(10, ctx.mpf(float(e))) / sigma) for e in paper_edges()]
    probs = np.array([float(cdf[i + 1] - cdf[i]) for i in range(len(cdf) - 1)])
    probs.setflags(write=False)
    return probs


def histogram_population(
    population: Any, /, *, trim: tuple[float, float] = (0.1, 0.9), direction: str = "y_on_x"
) -> tuple[float, float]:
    """Limit of histogram mode: the fit to the exact paper-bin probabilities.

    The counts divided by ``n`` tend to ``F(10^{e_{i+1}} / sigma) - F(10^{e_i} / sigma)``
    (``population.cdf_mp`` at the working precision); they are scaled by ``2^50`` (the fit
    is invariant to the total) and fitted in float64. Depends on ``population.sigma``.
    """
    probs = _paper_bin_probabilities(population, population.context.dps)
    fit = fit_histogram_counts(probs * 2.0**50, paper_edges(), trim=trim, direction=direction)
    return fit.shape, fit.scale / population.sigma


def _histogram_error(shape: float, scale: float) -> float:
    # the float64 weighted regression over ~700 bins: rounding about 1e-13, stated 1e-12
    return 1e-12


def _histogram_rows(options: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [{**options, "bins": 1024, "edges_range": (-12.0, 2.0)}]


HISTOGRAM_POPULATION = PopulationHook(
    histogram_population,
    PROBABILITY_PLOT_POPULATION.option_sets,
    method="fit to exact bin probabilities (mpmath.erf, 30 digits; float64 regression)",
    note="depends on sigma: periodic in log10(sigma) with period one bin width",
    table_options=_histogram_rows,
    float64_error=_histogram_error,
    absolute_scale=True,
    weibull_tolerance=HISTOGRAM_WEIBULL_TOLERANCE,
)
