"""Histogram mode's exact limit under a population: the validation suite's hook.

The binning matters at the 1e-7 level. ``binning="float64"`` compares float64 ``log10 x``
with the edges: a continuous value is in bin ``i`` when ``10^{e_i} <= x < 10^{e_{i+1}}``
(float64 ``log10`` is within 1e-16 of exact). ``binning="paper"`` rounds ``x`` to float32
and takes float32 ``log10``, whose result is quantised to a float32 ulp (up to 9.5e-7 near
-12): the boundary between two bins is the float32 rounding boundary (the midpoint of two
float32 neighbours) where that logarithm first reaches the edge, up to 1.2e-6 away from
``10^{e_i}`` relative. The limit moves by under 1e-7 relative (measured: shape 8e-8, scale
5e-8 over four decades of sigma). Both limits are exact here: the paper's boundaries are
found from numpy's float32 ``log10`` on this machine (:func:`paper_boundaries`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from weibull_stats.estimators._population_hook import PopulationHook
from weibull_stats.estimators.histogram._bins import BINNINGS, paper_edges
from weibull_stats.estimators.histogram._lines import fit_histogram_counts
from weibull_stats.estimators.probability_plot import PROBABILITY_PLOT_POPULATION

#: Half-width of a paper bin in ln x, over 4: the bound on the binned limit's relative
#: error under Weibull data (every value sits at its bin's log-midpoint; the errors cancel
#: to first order over many bins, leaving ``O(h^2)``, bounded generously by ``h / 4``).
HISTOGRAM_WEIBULL_TOLERANCE = float(np.log(10.0)) * 14.0 / 2048.0 / 4.0


#: float32 neighbours searched on each side of ``float32(10^e)`` for the paper's boundary
#: (float32 log10's ulp spans at most ~40 float32 values of x on the paper's grid)
_SEARCH_ULPS = 256


def paper_boundaries(edges: np.ndarray) -> np.ndarray:
    """Where ``binning="paper"`` switches bins, in x: for each edge ``e`` (the last one
    closed) the midpoint of the two float32 neighbours between which numpy's float32
    ``log10``, widened to float64, first reaches ``e`` (first exceeds it for the last edge).

    A continuous value is rounded to float32 first (round to nearest), so the boundary in x
    is that midpoint, exact in float64. float32 ``log10`` must be non-decreasing around each
    edge (checked).

    Examples
    --------
    >>> b = paper_boundaries(paper_edges())
    >>> bool(np.all(np.abs(b / 10.0 ** paper_edges() - 1) < 2e-6))
    True
    """
    centre = (10.0 ** edges).astype(np.float32)
    up, down = [centre], [centre]
    for _ in range(_SEARCH_ULPS):
        up.append(np.nextafter(up[-1], np.float32(np.inf)))
        down.append(np.nextafter(down[-1], np.float32(0.0)))
    window = np.ascontiguousarray(np.stack(down[::-1] + up[1:], axis=1))  # (edges, 2 * ulps + 1)
    with np.errstate(divide="ignore", over="ignore"):
        logs = np.log10(window).astype(np.float64)
    if not np.all(np.diff(logs, axis=1) >= 0):
        raise ValueError("float32 log10 is not monotone near an edge: the paper's bins are not intervals")
    reached = logs >= edges[:, None]
    reached[-1] = logs[-1] > edges[-1]  # the last bin is closed
    first = np.argmax(reached, axis=1)
    if np.any(first == 0) or not np.all(reached[:, -1]):
        raise ValueError("the paper's bin boundary lies outside the searched float32 window")
    rows = np.arange(edges.size)
    return 0.5 * (window[rows, first - 1].astype(np.float64) + window[rows, first].astype(np.float64))


@lru_cache(maxsize=512)
def bin_probabilities(population: Any, digits: int, binning: str = "float64") -> np.ndarray:
    """The probabilities ``F(t_{i+1} / sigma) - F(t_i / sigma)`` of the paper's bins under
    ``population`` (``population.cdf_mp`` at the working precision, ``digits``: its key in the
    cache), ``t_i = 10^{e_i}`` for ``binning="float64"`` and :func:`paper_boundaries` for
    ``binning="paper"``; float64, read-only."""
    ctx = population.context
    sigma = ctx.mpf(population.sigma)
    if binning == "paper":
        bounds = [ctx.mpf(float(b)) for b in paper_boundaries(paper_edges())]
    else:
        bounds = [ctx.power(10, ctx.mpf(float(e))) for e in paper_edges()]
    cdf = [population.cdf_mp(b / sigma) for b in bounds]
    probs = np.array([float(cdf[i + 1] - cdf[i]) for i in range(len(cdf) - 1)])
    probs.setflags(write=False)
    return probs


def histogram_population(
    population: Any,
    /,
    *,
    trim: tuple[float, float] = (0.1, 0.9),
    direction: str = "y_on_x",
    binning: str = "float64",
) -> tuple[float, float]:
    """Limit of histogram mode: the fit to the exact paper-bin probabilities.

    The counts divided by ``n`` tend to ``F(t_{i+1} / sigma) - F(t_i / sigma)``
    (``population.cdf_mp`` at the working precision), ``t_i = 10^{e_i}`` for
    ``binning="float64"`` and :func:`paper_boundaries` for ``binning="paper"``; they are
    scaled by ``2^50`` (the fit is invariant to the total) and fitted in float64. Depends on
    ``population.sigma``.

    The default is the nominal edges (``"float64"``), which is what the tabulated anchors
    and the validation suite's bin probabilities use; the estimator's default
    ``binning="paper"`` has a limit within 1e-7 relative of it (module documentation).
    """
    if binning not in BINNINGS:
        raise ValueError(f"`binning` must be one of {', '.join(map(repr, BINNINGS))}; got {binning!r}")
    probs = bin_probabilities(population, population.context.dps, binning)
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
    reads=frozenset({"context", "sigma", "cdf_mp"}),
    # the law's mass below the edges' 1e-12 (about 4e-11 for sigma = 0.02) is left out, as a
    # sample of up to 10^6 values almost surely has none there
    law_options={"outside": "omit"},
)
