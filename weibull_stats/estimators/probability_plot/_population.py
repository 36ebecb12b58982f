"""The probability-plot fit's exact limit under a population: the validation suite's hook."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from weibull_stats.estimators._population_hook import PopulationHook
from weibull_stats.estimators.probability_plot._lines import PLOTTING_POSITIONS
from weibull_stats.weibull.law import plot_ordinates
from weibull_stats.weibull.lines import DIRECTIONS, plot_line

PROBABILITY_PLOT_TRIMS: tuple[tuple[float, float], ...] = ((0.1, 0.9), (0.05, 0.95), (0.01, 0.99))
PROBABILITY_PLOT_DIRECTIONS: tuple[str, ...] = DIRECTIONS


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
            memo[p] = (ctx.log(population.quantile_mp(p)), plot_ordinates(p, ctx))
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
    shape, log_scale = plot_line(eu, ey, var_u, var_y, cov, direction)
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
    reads=frozenset({"context", "integrate", "quantile_mp"}),
    bias_options=tuple({"plotting_position": position} for position in PLOTTING_POSITIONS),
)
