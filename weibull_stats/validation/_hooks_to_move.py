r"""Each estimator's exact-population hook, written once, waiting to move into its module.

Issue 9 item 1: the hooks the validation suite needs for an estimator's exact population
value belong in the estimator's own module, so that no other module branches on its name.
The estimator modules are being rewritten in parallel, so the hooks live here for now, one
self-contained section per estimator. **Integrator:** move each section into its
estimator module (``ESTIMATOR = Estimator(..., population=<NAME>_POPULATION)``), move
:class:`PopulationHook` into ``weibull_stats/estimators/_core.py``, and replace
:func:`weibull_stats.validation.anchors.population_hook` by
``ESTIMATORS[name].population``.

The contract
------------
``hook(population, /, **options) -> (shape, scale)``: the limit of the estimator with those
options on samples of ``population.sigma * X`` as ``n -> inf``, ``scale`` divided by
``population.sigma``. ``population`` is any object with the methods of
:class:`weibull_stats.validation.populations.Population` that a hook uses
(``quantile_mp``, ``cdf_mp``, ``power_moment_mp``, ``integrate(f, a, b)``, ``sigma``,
``context``: the :mod:`mpmath` context the exact methods compute in, at the precision the
caller set). Hooks never import :mod:`mpmath` (a dev dependency, off the runtime path) nor
anything from :mod:`weibull_stats.validation`: all numerics come through the population.
Values are returned at the working precision (``mpmath.mpf``) where the derivation is
exact, so the caller can compare two precisions; hooks that finish in float64 say so with
``float64_error``.

The derivations are in :mod:`weibull_stats.validation.anchors`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import numpy as np

from weibull_stats.estimators.histogram import fit_histogram_counts, paper_edges
from weibull_stats.estimators.probability_plot import PLOTTING_POSITIONS
from weibull_stats.estimators.quantile import line_through_quantiles

# ====================================================================== to estimators/_core.py


def _same(options: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [options]


@dataclass(frozen=True, slots=True)
class PopulationHook:
    """What an estimator declares so the validation suite can compute its exact limit.

    Calling it is calling ``function``: ``hook(population, **options) -> (shape, scale)``.

    Attributes
    ----------
    function : callable
        ``function(population, /, **options) -> (shape, scale / population.sigma)``.
    option_sets : tuple of Mapping
        The option sets whose limits are tabulated, the default first.
    method : str
        How the value is computed (one line for the anchor table).
    note : str
        Caveat shown beside the value.
    table_options : callable
        ``table_options(option_set) -> [options, ...]``: the option mappings listed in the
        anchor table for one option set (options that do not change the limit, such as
        the plotting position, are listed once per value; descriptive entries added).
    float64_error : callable or None
        None when the value is exact at the working precision (the caller evaluates it at
        two precisions and states the difference); otherwise ``float64_error(shape, scale)``
        is the stated rounding bound of a value finished in float64 (evaluated once).
    absolute_scale : bool
        True when the limit depends on ``population.sigma`` (a grid fixed in absolute
        units), not only on the standardised law.
    weibull_tolerance : float
        Allowed relative error of the limit under true Weibull data (0: exact recovery).
    """

    function: Callable[..., tuple[Any, Any]]
    option_sets: tuple[Mapping[str, Any], ...] = (MappingProxyType({}),)
    method: str = ""
    note: str = ""
    table_options: Callable[[Mapping[str, Any]], list[Mapping[str, Any]]] = field(default=_same)
    float64_error: Callable[[float, float], float] | None = None
    absolute_scale: bool = False
    weibull_tolerance: float = 0.0

    def __call__(self, population: Any, /, **options: Any) -> tuple[Any, Any]:
        return self.function(population, **options)


# ====================================================================== probability_plot
PROBABILITY_PLOT_TRIMS: tuple[tuple[float, float], ...] = ((0.1, 0.9), (0.05, 0.95), (0.01, 0.99))
PROBABILITY_PLOT_DIRECTIONS: tuple[str, ...] = ("y_on_x", "x_on_y")


def probability_plot_population(
    population: Any, /, *, trim: tuple[float, float] = (0.1, 0.9), direction: str = "y_on_x"
) -> tuple[Any, Any]:
    """Limit of the probability-plot fit: the least-squares line of ``p -> (u(p), y(p))``.

    ``u = ln Q(p)``, ``y = ln(-ln(1 - p))``, ``p ~ Uniform(trim)``; the five means are
    ``population.integrate`` over the window (one quadrature for a smooth law, one per
    storage cell for a rounded one). The plotting position does not enter the limit.
    """
    ctx = population.context
    a, b = ctx.mpf(float(trim[0])), ctx.mpf(float(trim[1]))
    width = b - a
    memo: dict[Any, tuple[Any, Any]] = {}

    def point(p: Any) -> tuple[Any, Any]:
        # the five quadratures visit the same nodes: evaluate each node once
        if p not in memo:
            memo[p] = (ctx.log(population.quantile_mp(p)), ctx.log(-ctx.log1p(-p)))
        return memo[p]

    def u(p: Any) -> Any:
        return point(p)[0]

    def y(p: Any) -> Any:
        return point(p)[1]

    def mean(f: Callable[[Any], Any]) -> Any:
        return population.integrate(f, a, b) / width

    eu, ey = mean(u), mean(y)
    var_u = mean(lambda p: (u(p) - eu) ** 2)
    var_y = mean(lambda p: (y(p) - ey) ** 2)
    cov = mean(lambda p: (u(p) - eu) * (y(p) - ey))
    if direction == "y_on_x":
        shape = cov / var_u
        log_scale = eu - ey / shape
    else:
        shape = var_y / cov
        log_scale = eu - cov / var_y * ey
    return +shape, ctx.exp(log_scale)


def _probability_plot_rows(options: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        {"trim": options["trim"], "plotting_position": position, "direction": options["direction"]}
        for position in PLOTTING_POSITIONS
    ]


PROBABILITY_PLOT_POPULATION = PopulationHook(
    probability_plot_population,
    tuple(
        MappingProxyType({"trim": t, "direction": d})
        for t in PROBABILITY_PLOT_TRIMS
        for d in PROBABILITY_PLOT_DIRECTIONS
    ),
    method="mpmath.quad tanh-sinh, {digits} digits (checked at {check_digits})",
    note="limit does not depend on the plotting position (finite-n bias does)",
    table_options=_probability_plot_rows,
)


# ====================================================================== histogram
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


# ====================================================================== mle
def mle_population(population: Any, /) -> tuple[Any, Any]:
    """Limit of the MLE: the root of the profile score ``M'(k)/M(k) - 1/k - M'(0) = 0``.

    ``M(t) = E X^t`` is ``population.power_moment_mp``; its derivative by ``diff``; the
    score increases in ``k``: bracket the root, then ``findroot`` (Anderson's method).
    """
    ctx = population.context
    moment = population.power_moment_mp
    mean_log = ctx.diff(moment, 0)

    def score(k: Any) -> Any:
        return ctx.diff(moment, k) / moment(k) - 1 / k - mean_log

    low, high = ctx.mpf("0.05"), ctx.mpf(1)
    while score(high) < 0:
        low, high = high, 2 * high
    shape = ctx.findroot(score, (low, high), solver="anderson")
    return shape, moment(shape) ** (1 / shape)


MLE_POPULATION = PopulationHook(
    mle_population,
    method="score root by mpmath.findroot, {digits} digits (checked at {check_digits})",
    note="Kullback-Leibler projection onto the Weibull family",
)


# ====================================================================== quantile
QUANTILE_PROBABILITIES: tuple[tuple[float, ...], ...] = (
    (0.1, 0.9),
    (0.05, 0.95),
    (0.01, 0.99),
    (0.25, 0.75),
    (0.1, 0.5, 0.9),
)


def quantile_population(
    population: Any, /, *, probabilities: tuple[float, ...] = (0.1, 0.9)
) -> tuple[float, float]:
    """Limit of quantile matching: its closed form on the exact quantiles (float64)."""
    ctx = population.context
    quantiles = np.array([float(population.quantile_mp(ctx.mpf(p))) for p in probabilities])
    return line_through_quantiles(tuple(float(p) for p in probabilities), quantiles)


def _quantile_error(shape: float, scale: float) -> float:
    # the float64 closed form: relative rounding about 1e-15, stated 1e-14
    return 1e-14 * max(1.0, shape, scale)


def _quantile_rows(options: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [{"probabilities": options["probabilities"], "method": "linear"}]


QUANTILE_POPULATION = PopulationHook(
    quantile_population,
    tuple(MappingProxyType({"probabilities": p}) for p in QUANTILE_PROBABILITIES),
    method="closed form on exact quantiles (mpmath.erfinv)",
    table_options=_quantile_rows,
    float64_error=_quantile_error,
)


# ====================================================================== log_moment
def log_moment_population(population: Any, /) -> tuple[Any, Any]:
    """Limit of the log-moment fit from the cumulants of ``ln X`` (derivatives of ``ln M``)."""
    ctx = population.context
    derivs = list(ctx.diffs(lambda t: ctx.log(population.power_moment_mp(t)), 0, 2))
    mean, var = derivs[1], derivs[2]
    shape = ctx.pi / ctx.sqrt(6 * var)
    return shape, ctx.exp(mean + ctx.euler / shape)


LOG_MOMENT_POPULATION = PopulationHook(
    log_moment_population,
    method="cumulants of ln X by mpmath.diffs, {digits} digits (checked at {check_digits})",
)


# ====================================================================== the lookup to replace
#: Integrator: delete this table once each hook sits in its module (``ESTIMATORS[name].population``).
POPULATION_HOOKS: Mapping[str, PopulationHook] = MappingProxyType(
    {
        "probability_plot": PROBABILITY_PLOT_POPULATION,
        "histogram": HISTOGRAM_POPULATION,
        "mle": MLE_POPULATION,
        "quantile": QUANTILE_POPULATION,
        "log_moment": LOG_MOMENT_POPULATION,
    }
)
