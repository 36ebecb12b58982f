r"""Exact population values ("anchors") of every registered estimator.

An estimator applied to ever larger samples of a law converges to a fixed pair
``(shape, scale)``: its *population value* under that law. For Weibull data every
estimator here converges to the true parameters; for anything else (the half-normal law of
``|w|`` at initialisation, above all) each estimator converges to its own value, and the
value is what a fitted number must be compared with. This module computes those values to
at least 10 significant digits.

Derivations (population scaled to 1; the fitted scale of ``sigma * X`` is ``sigma`` times it)
--------------------------------------------------------------------------------------------
**Probability-plot regression** with trim ``(a, b)``. As ``n -> inf`` the plotting positions
inside the window fill ``[a, b]`` uniformly, whatever the plotting-position formula (they
differ by ``O(1/n)``), and the ``i``-th order statistic tends to ``Q(p_i)``. The plotted
points therefore tend to the curve ``p -> (u(p), y(p))``, ``u = ln Q(p)``,
``y = ln(-ln(1 - p))``, with ``p ~ Uniform(a, b)``, and the least-squares line to the
population line of that curve. With ``E f = (b - a)^{-1} \int_a^b f(p) dp``,
``V_u = E u^2 - (E u)^2``, ``V_y = E y^2 - (E y)^2``, ``C = E uy - E u E y``:

* ``y_on_x``: ``shape = C / V_u``, ``ln scale = E u - E y / shape``;
* ``x_on_y``: ``shape = V_y / C``, ``ln scale = E u - (C / V_y) E y``.

The five integrals are computed with :func:`mpmath.quad` (tanh-sinh) at 30 digits and again
at 40; the stated error is the difference (below ``1e-25`` in practice). For a Weibull law
``u = y / k`` exactly, so both directions return ``(k, 1)``.

**Maximum likelihood** (location 0). The limit maximises the expected log-likelihood, i.e.
it is the Kullback-Leibler projection of the law onto the Weibull family. Profiling the
scale (``scale^k = E X^k``) leaves the score equation
``M'(k) / M(k) - 1/k - M'(0) = 0`` in ``k``, where ``M(t) = E X^t`` and
``M'(t) = E[X^t ln X]``. ``M`` is closed form for every population (see
:mod:`weibull_stats.validation.populations`), ``M'`` is its derivative by
:func:`mpmath.diff`, and the root is found by :func:`mpmath.findroot` at 30 digits (checked
at 40). For the half-normal ``M'(t)/M(t) = (ln 2 + psi((t+1)/2)) / 2``; for ``|Uniform|`` the
equation is ``k^2 - k - 1 = 0``, so the limit is the golden ratio.

**Log-moment estimator**: ``shape = pi / (sqrt 6 sd(ln X))``, ``scale = exp(E ln X +
gamma / shape)``. The cumulants of ``ln X`` are the derivatives of ``ln M(t)`` at 0. For the
half-normal ``E ln X = -(gamma + ln 2) / 2``, ``Var ln X = pi^2 / 8``, so ``shape = 2 / sqrt 3``
exactly.

**Quantile matching** at probabilities ``p_j``: the sample quantiles tend to ``Q(p_j)``, so
the limit is the estimator's own closed form applied to the exact quantiles (two
probabilities: ``shape = (y_2 - y_1) / ln(Q(p_2) / Q(p_1))``; more: least squares).

**Histogram mode** (1024 log10 bins over [-12, 2]). The counts divided by ``n`` tend to the
bin probabilities ``F(10^{e_{i+1}} / sigma) - F(10^{e_i} / sigma)``, so the limit is the
histogram fit applied to those exact probabilities (computed with :func:`mpmath.erf` at 30
digits; the weighted regression itself runs in float64, error about ``1e-13``). Unlike the
others this limit depends on ``sigma``: the bin grid is fixed in absolute units, so the
limit is periodic in ``log10 sigma`` with period one bin width (14/1024 decades) and is not
exact even for Weibull data (see :func:`histogram_sigma_sweep`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import mpmath as mp
import numpy as np

from weibull_stats.estimators.histogram import fit_histogram_counts, paper_edges
from weibull_stats.estimators.probability_plot import PLOTTING_POSITIONS
from weibull_stats.estimators.quantile import line_through_quantiles
from weibull_stats.validation.populations import HALFNORMAL, Population

#: Working precision (decimal digits) of the anchors, and of their cross-check.
DIGITS = 30
CHECK_DIGITS = 40

#: Option sets that matter, by estimator (the default first).
PROBABILITY_PLOT_TRIMS: tuple[tuple[float, float], ...] = ((0.1, 0.9), (0.05, 0.95), (0.01, 0.99))
DIRECTIONS: tuple[str, ...] = ("y_on_x", "x_on_y")
QUANTILE_PROBABILITIES: tuple[tuple[float, ...], ...] = (
    (0.1, 0.9),
    (0.05, 0.95),
    (0.01, 0.99),
    (0.25, 0.75),
    (0.1, 0.5, 0.9),
)
#: Registered estimators whose population values are derived here (the gate refuses others).
ANCHORED_ESTIMATORS: tuple[str, ...] = ("probability_plot", "histogram", "mle", "quantile", "log_moment")
#: sigma of the half-normal used for the histogram anchors (the usual init scale).
HISTOGRAM_SIGMA = 0.02


@dataclass(frozen=True, slots=True)
class Anchor:
    """Population value of one estimator with one option set under one population.

    Attributes
    ----------
    estimator : str
        Registry name.
    options : Mapping
        The estimator options the value belongs to (those that change it).
    population : str
        Population label (``"halfnormal"``, ``"weibull(k=1.5)"``, ...).
    shape : float
        Population shape.
    scale : float
        Population scale divided by the population's scale parameter (``sigma`` for the
        half-normal, the Weibull scale, the uniform bound).
    error : float
        Stated absolute error of ``shape`` and ``scale`` (difference between two working
        precisions, or the float64 rounding bound for the histogram).
    method : str
        How it was computed.
    sigma : float or None
        The absolute sigma the value belongs to (histogram mode only).
    """

    estimator: str
    options: Mapping[str, Any]
    population: str
    shape: float
    scale: float
    error: float
    method: str
    sigma: float | None = None
    note: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (``scale_over_sigma`` is ``scale``)."""

        def plain(value: Any) -> Any:
            if isinstance(value, tuple | list):
                return [plain(v) for v in value]
            if isinstance(value, Mapping):
                return {str(k): plain(v) for k, v in value.items()}
            return value

        return {
            "estimator": self.estimator,
            "options": plain(self.options),
            "population": self.population,
            "shape": self.shape,
            "scale_over_sigma": self.scale,
            "error": self.error,
            "method": self.method,
            "sigma": self.sigma,
            "note": self.note,
            "details": plain(self.details),
        }


# ---------------------------------------------------------------------- probability plot
def _pp_at(population: Population, trim: tuple[float, float], direction: str, digits: int) -> tuple[Any, Any]:
    with mp.workdps(digits):
        a, b = mp.mpf(trim[0]), mp.mpf(trim[1])
        width = b - a

        memo: dict[Any, tuple[Any, Any]] = {}

        def point(p: Any) -> tuple[Any, Any]:
            # the five quadratures visit the same nodes: evaluate each node once
            if p not in memo:
                memo[p] = (mp.log(population.quantile_mp(p)), mp.log(-mp.log1p(-p)))
            return memo[p]

        def u(p: Any) -> Any:
            return point(p)[0]

        def y(p: Any) -> Any:
            return point(p)[1]

        def mean(f: Callable[[Any], Any]) -> Any:
            return mp.quad(f, [a, b]) / width

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
        return +shape, mp.exp(log_scale)


@lru_cache(maxsize=256)
def probability_plot_limit(
    population: Population, trim: tuple[float, float] = (0.1, 0.9), direction: str = "y_on_x"
) -> tuple[float, float, float]:
    """``(shape, scale, error)``: the probability-plot fit's limit under ``population``.

    See the module docstring for the derivation; ``error`` is the larger difference of the
    two parameters between 30- and 40-digit quadrature.

    Examples
    --------
    >>> from weibull_stats.validation.populations import HALFNORMAL
    >>> shape, scale, error = probability_plot_limit(HALFNORMAL)
    >>> f"{shape:.10f} {scale:.10f}", error < 1e-20
    ('1.2054343190 0.8874870398', True)
    """
    trim = (float(trim[0]), float(trim[1]))
    k1, s1 = _pp_at(population, trim, direction, DIGITS)
    k2, s2 = _pp_at(population, trim, direction, CHECK_DIGITS)
    error = float(max(abs(k1 - k2), abs(s1 - s2)))
    return float(k1), float(s1), error


# ---------------------------------------------------------------------- maximum likelihood
def _mle_at(population: Population, digits: int) -> tuple[Any, Any]:
    with mp.workdps(digits):
        moment = population.power_moment_mp
        mean_log = mp.diff(moment, 0)

        def score(k: Any) -> Any:
            return mp.diff(moment, k) / moment(k) - 1 / k - mean_log

        # the score is increasing in k; bracket its root, then polish with the secant method
        low, high = mp.mpf("0.05"), mp.mpf(1)
        while score(high) < 0:
            low, high = high, 2 * high
        shape = mp.findroot(score, (low, high), solver="anderson")
        return shape, moment(shape) ** (1 / shape)


@lru_cache(maxsize=64)
def mle_limit(population: Population) -> tuple[float, float, float]:
    """``(shape, scale, error)``: the Kullback-Leibler projection onto the Weibull family.

    Examples
    --------
    >>> from weibull_stats.validation.populations import UNIFORM
    >>> shape, scale, error = mle_limit(UNIFORM)
    >>> round(shape, 12) == round((1 + 5 ** 0.5) / 2, 12)   # the golden ratio
    True
    """
    k1, s1 = _mle_at(population, DIGITS)
    k2, s2 = _mle_at(population, CHECK_DIGITS)
    return float(k1), float(s1), float(max(abs(k1 - k2), abs(s1 - s2)))


# ---------------------------------------------------------------------- log moments
def log_cumulants(population: Population, orders: int = 4, digits: int = DIGITS) -> tuple[float, ...]:
    """The first ``orders`` cumulants of ``ln X``: derivatives of ``ln M(t)`` at ``t = 0``."""
    with mp.workdps(digits):
        values = mp.diffs(lambda t: mp.log(population.power_moment_mp(t)), 0, orders)
        return tuple(float(v) for v in list(values)[1:])


def _log_moment_at(population: Population, digits: int) -> tuple[Any, Any]:
    with mp.workdps(digits):
        derivs = list(mp.diffs(lambda t: mp.log(population.power_moment_mp(t)), 0, 2))
        mean, var = derivs[1], derivs[2]
        shape = mp.pi / mp.sqrt(6 * var)
        return shape, mp.exp(mean + mp.euler / shape)


@lru_cache(maxsize=64)
def log_moment_limit(population: Population) -> tuple[float, float, float]:
    """``(shape, scale, error)`` of the log-moment estimator.

    Examples
    --------
    >>> from weibull_stats.validation.populations import HALFNORMAL
    >>> shape, scale, error = log_moment_limit(HALFNORMAL)
    >>> abs(shape - 2 / 3 ** 0.5) < 1e-14
    True
    """
    k1, s1 = _log_moment_at(population, DIGITS)
    k2, s2 = _log_moment_at(population, CHECK_DIGITS)
    return float(k1), float(s1), float(max(abs(k1 - k2), abs(s1 - s2)))


# ---------------------------------------------------------------------- quantile matching
@lru_cache(maxsize=128)
def quantile_limit(
    population: Population, probabilities: tuple[float, ...] = (0.1, 0.9)
) -> tuple[float, float, float]:
    """``(shape, scale, error)``: the quantile-matching fit to the exact quantiles.

    The quantiles are computed at 30 digits; the closed form runs in float64, whose
    rounding (about ``1e-15`` relative) is the stated error.
    """
    with mp.workdps(DIGITS):
        quantiles = np.array([float(population.quantile_mp(mp.mpf(p))) for p in probabilities])
    shape, scale = line_through_quantiles(tuple(float(p) for p in probabilities), quantiles)
    return shape, scale, 1e-14 * max(1.0, shape, scale)


# ---------------------------------------------------------------------- histogram mode
@lru_cache(maxsize=512)
def bin_probabilities(population: Population, sigma: float) -> np.ndarray:
    """Exact probabilities of the paper's 1024 log10 bins for ``sigma * X``."""
    edges = paper_edges()
    with mp.workdps(DIGITS):
        cdf = [population.cdf_mp(mp.power(10, mp.mpf(float(e))) / mp.mpf(sigma)) for e in edges]
        probs = np.array([float(cdf[i + 1] - cdf[i]) for i in range(edges.size - 1)])
    probs.setflags(write=False)
    return probs


def histogram_limit(
    population: Population,
    sigma: float = HISTOGRAM_SIGMA,
    trim: tuple[float, float] = (0.1, 0.9),
    direction: str = "y_on_x",
) -> tuple[float, float, float]:
    """``(shape, scale / sigma, error)``: the histogram fit to exact bin probabilities.

    The probabilities are scaled by ``2^50`` (the fit is invariant to the total) so the
    recorded counts are meaningful; the float64 regression's rounding bounds the error.
    """
    probs = bin_probabilities(population, float(sigma))
    fit = fit_histogram_counts(probs * 2.0**50, paper_edges(), trim=trim, direction=direction)
    return fit.shape, fit.scale / sigma, 1e-12


def histogram_sigma_sweep(
    population: Population = HALFNORMAL,
    sigma: float = HISTOGRAM_SIGMA,
    points: int = 33,
    trim: tuple[float, float] = (0.1, 0.9),
) -> list[tuple[float, float, float]]:
    """``(sigma_j, shape_j, scale_j / sigma_j)`` as sigma crosses one bin width.

    ``sigma_j = sigma * 10^(j w / (points - 1))``, ``w = 14 / 1024`` decades.
    """
    width = paper_edges()[1] - paper_edges()[0]
    out = []
    for j in range(points):
        s = float(sigma * 10.0 ** (j * width / (points - 1)))
        shape, scale, _ = histogram_limit(population, s, trim)
        out.append((s, shape, scale))
    return out


@lru_cache(maxsize=8)
def regular_sigma(
    population: Population = HALFNORMAL, sigma: float = HISTOGRAM_SIGMA, points: int = 64
) -> float:
    """The sigma within one bin width above ``sigma`` whose histogram limit is most regular.

    The histogram-mode limit jumps wherever a trim edge (0.1 or 0.9) crosses the exact
    mid-bin CDF of a bin, and near such a point the finite-n mean converges slowly (see
    :func:`weibull_stats.validation.asymptotic.histogram_bias`). This returns, among
    ``sigma * 10^(j w / points)``, the value whose mid-bin CDFs lie farthest (relative to
    their bin probabilities) from both edges (float64 bin probabilities suffice for the
    choice): the simulation confirmation of histogram mode runs there. ``sigma = 0.02``
    itself lies close to a jump (bin 687 has mid-CDF ``0.1 - 1.75e-4``).

    Examples
    --------
    >>> 0.02 <= regular_sigma() < 0.02 * 10 ** (14 / 1024)
    True
    """
    width = 14.0 / 1024.0
    best, best_score = sigma, -1.0
    for j in range(points):
        s = float(sigma * 10.0 ** (j * width / points))
        probs = np.diff(population.cdf(10.0 ** paper_edges() / s))
        weights = probs / probs.sum()
        mid = np.cumsum(weights) - 0.5 * weights
        score = min(
            float(np.min(np.abs(mid - edge)[weights > 0] / weights[weights > 0])) for edge in (0.1, 0.9)
        )
        if score > best_score:
            best, best_score = s, score
    return best


# ---------------------------------------------------------------------- catalogue
PP_METHOD = f"mpmath.quad tanh-sinh, {DIGITS} digits (checked at {CHECK_DIGITS})"


def estimator_anchors(estimator: str, population: Population = HALFNORMAL) -> list[Anchor]:
    """Every anchor of one estimator under ``population``, option sets that matter included.

    Raises
    ------
    ValueError
        If ``estimator`` has no anchor derivation.
    """
    anchors: list[Anchor] = []
    label = population.label
    if estimator == "probability_plot":
        for trim in PROBABILITY_PLOT_TRIMS:
            for direction in DIRECTIONS:
                shape, scale, error = probability_plot_limit(population, trim, direction)
                for position in PLOTTING_POSITIONS:
                    anchors.append(
                        Anchor(
                            estimator,
                            {"trim": trim, "plotting_position": position, "direction": direction},
                            label,
                            shape,
                            scale,
                            error,
                            PP_METHOD,
                            note="limit does not depend on the plotting position (finite-n bias does)",
                        )
                    )
    elif estimator == "histogram":
        for trim in PROBABILITY_PLOT_TRIMS:
            for direction in DIRECTIONS:
                shape, scale, error = histogram_limit(population, HISTOGRAM_SIGMA, trim, direction)
                anchors.append(
                    Anchor(
                        estimator,
                        {"trim": trim, "direction": direction, "bins": 1024, "edges_range": (-12.0, 2.0)},
                        label,
                        shape,
                        scale,
                        error,
                        "fit to exact bin probabilities (mpmath.erf, 30 digits; float64 regression)",
                        sigma=HISTOGRAM_SIGMA,
                        note="depends on sigma: periodic in log10(sigma) with period one bin width",
                    )
                )
    elif estimator == "mle":
        shape, scale, error = mle_limit(population)
        anchors.append(
            Anchor(
                estimator,
                {},
                label,
                shape,
                scale,
                error,
                f"score root by mpmath.findroot, {DIGITS} digits (checked at {CHECK_DIGITS})",
                note="Kullback-Leibler projection onto the Weibull family",
            )
        )
    elif estimator == "quantile":
        for probs in QUANTILE_PROBABILITIES:
            shape, scale, error = quantile_limit(population, probs)
            anchors.append(
                Anchor(
                    estimator,
                    {"probabilities": probs, "method": "linear"},
                    label,
                    shape,
                    scale,
                    error,
                    "closed form on exact quantiles (mpmath.erfinv)",
                )
            )
    elif estimator == "log_moment":
        shape, scale, error = log_moment_limit(population)
        anchors.append(
            Anchor(
                estimator,
                {},
                label,
                shape,
                scale,
                error,
                f"cumulants of ln X by mpmath.diffs, {DIGITS} digits (checked at {CHECK_DIGITS})",
            )
        )
    else:
        raise ValueError(f"no anchor derivation for estimator {estimator!r}")
    return anchors


def default_anchor(
    estimator: str, population: Population = HALFNORMAL, sigma: float = HISTOGRAM_SIGMA
) -> tuple[float, float]:
    """``(shape, scale / scale parameter)`` of ``estimator`` with its default options.

    Examples
    --------
    >>> from weibull_stats.validation.populations import HALFNORMAL
    >>> [round(v, 10) for v in default_anchor("probability_plot", HALFNORMAL)]
    [1.205434319, 0.8874870398]
    """
    if estimator == "probability_plot":
        shape, scale, _ = probability_plot_limit(population)
    elif estimator == "histogram":
        shape, scale, _ = histogram_limit(population, sigma)
    elif estimator == "mle":
        shape, scale, _ = mle_limit(population)
    elif estimator == "quantile":
        shape, scale, _ = quantile_limit(population)
    elif estimator == "log_moment":
        shape, scale, _ = log_moment_limit(population)
    else:
        raise ValueError(f"no anchor derivation for estimator {estimator!r}")
    return shape, scale


def all_anchors(estimators: Iterable[str], population: Population = HALFNORMAL) -> list[Anchor]:
    """:func:`estimator_anchors` for each name, in order."""
    return [a for name in estimators for a in estimator_anchors(name, population)]


def anchor_option_sets(estimator: str) -> Sequence[Mapping[str, Any]]:
    """Distinct option sets of ``estimator`` whose limits are listed (plotting positions merged)."""
    if estimator in ("probability_plot", "histogram"):
        return [{"trim": t, "direction": d} for t in PROBABILITY_PLOT_TRIMS for d in DIRECTIONS]
    if estimator == "quantile":
        return [{"probabilities": p} for p in QUANTILE_PROBABILITIES]
    return [{}]


def limit_for(
    estimator: str, population: Population, options: Mapping[str, Any], sigma: float = 1.0
) -> tuple[float, float]:
    """``(shape, scale)`` limit of ``estimator`` with one option set of :func:`anchor_option_sets`."""
    if estimator == "probability_plot":
        shape, scale, _ = probability_plot_limit(population, options["trim"], options["direction"])
    elif estimator == "histogram":
        shape, scale, _ = histogram_limit(population, sigma, options["trim"], options["direction"])
    elif estimator == "quantile":
        shape, scale, _ = quantile_limit(population, options["probabilities"])
    else:
        shape, scale = default_anchor(estimator, population)
    return shape, scale


def histogram_weibull_tolerance() -> float:
    """Relative tolerance of the histogram limit under Weibull data: the bin-width error.

    Placing every value at its bin's log-midpoint moves ``ln x`` by at most half a bin,
    ``h = ln(10) * 14 / 2048``; the fitted shape moves by ``O(h^2)`` (the errors average out
    to first order over many bins), bounded here generously by ``h / 4``.
    """
    return math.log(10.0) * 14.0 / 2048.0 / 4.0
