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

Where the derivations live
--------------------------
Each estimator declares its limit as a hook, ``hook(population, **options) -> (shape,
scale)``, with the option sets to tabulate (a
:class:`~weibull_stats.estimators._population_hook.PopulationHook` in the estimator's own module);
this module only iterates: it sets the working precision, evaluates each hook at
:data:`DIGITS` and :data:`CHECK_DIGITS` (once for hooks finished in float64), and builds
the anchor table. It never branches on an estimator's name. A population rounded to
a storage grid (:mod:`weibull_stats.validation.stored`) goes through the same hooks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import mpmath as mp
import numpy as np

from weibull_stats.estimators import PopulationHook
from weibull_stats.estimators.histogram import bin_probabilities as histogram_bin_probabilities
from weibull_stats.estimators.histogram import mid_bin_cdf, paper_edges
from weibull_stats.estimators.registry import ESTIMATORS
from weibull_stats.validation.anchor_record import Anchor
from weibull_stats.validation.populations import HALFNORMAL, Population

#: Working precision (decimal digits) of the anchors, and of their cross-check.
DIGITS = 30
CHECK_DIGITS = 40

#: Registered estimators whose population values are derived (the gate refuses others).
ANCHORED_ESTIMATORS: tuple[str, ...] = tuple(
    name for name, entry in ESTIMATORS.items() if entry.population is not None
)
#: sigma of the half-normal used for the anchors of sigma-dependent estimators (histogram).
HISTOGRAM_SIGMA = 0.02


def population_hook(estimator: str) -> PopulationHook:
    """The exact-limit hook ``estimator`` declares in its module (``ESTIMATORS[name].population``).

    Raises
    ------
    ValueError
        If ``estimator`` declares no hook.
    """
    entry = ESTIMATORS.get(estimator)
    hook = None if entry is None else entry.population
    if hook is None:
        raise ValueError(f"no anchor derivation for estimator {estimator!r}")
    return hook


@lru_cache(maxsize=2048)
def _exact(
    estimator: str, population: Any, options: tuple[tuple[str, Any], ...]
) -> tuple[float, float, float]:
    hook = population_hook(estimator)
    with mp.workdps(DIGITS):
        k1, s1 = hook(population, **dict(options))
    if hook.float64_error is not None:
        shape, scale = float(k1), float(s1)
        return shape, scale, hook.float64_error(shape, scale)
    with mp.workdps(CHECK_DIGITS):
        k2, s2 = hook(population, **dict(options))
    return float(k1), float(s1), float(max(abs(k1 - k2), abs(s1 - s2)))


def exact_limit(estimator: str, population: Any, /, **options: Any) -> tuple[float, float, float]:
    """``(shape, scale / sigma, error)``: the limit of ``estimator`` with ``options``.

    ``error`` is the larger difference of the two parameters between :data:`DIGITS` and
    :data:`CHECK_DIGITS` working precision, or the hook's stated float64 bound. Cached.

    Examples
    --------
    >>> from weibull_stats.validation.populations import HALFNORMAL
    >>> shape, scale, error = exact_limit("log_moment", HALFNORMAL)
    >>> abs(shape - 2 / 3 ** 0.5) < 1e-14, error < 1e-20
    (True, True)
    """
    return _exact(estimator, population, tuple(options.items()))


def _at_sigma(hook: PopulationHook, population: Any, sigma: float) -> Any:
    return population.at_sigma(sigma) if hook.absolute_scale else population


# ---------------------------------------------------------------------- named limits
def probability_plot_limit(
    population: Any, trim: tuple[float, float] = (0.1, 0.9), direction: str = "y_on_x"
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
    return exact_limit("probability_plot", population, trim=trim, direction=direction)


def mle_limit(population: Population) -> tuple[float, float, float]:
    """``(shape, scale, error)``: the Kullback-Leibler projection onto the Weibull family.

    Examples
    --------
    >>> from weibull_stats.validation.populations import UNIFORM
    >>> shape, scale, error = mle_limit(UNIFORM)
    >>> round(shape, 12) == round((1 + 5 ** 0.5) / 2, 12)   # the golden ratio
    True
    """
    return exact_limit("mle", population)


def log_moment_limit(population: Population) -> tuple[float, float, float]:
    """``(shape, scale, error)`` of the log-moment estimator.

    Examples
    --------
    >>> from weibull_stats.validation.populations import HALFNORMAL
    >>> shape, scale, error = log_moment_limit(HALFNORMAL)
    >>> abs(shape - 2 / 3 ** 0.5) < 1e-14
    True
    """
    return exact_limit("log_moment", population)


def quantile_limit(
    population: Population, probabilities: tuple[float, ...] = (0.1, 0.9)
) -> tuple[float, float, float]:
    """``(shape, scale, error)``: the quantile-matching fit to the exact quantiles.

    The quantiles are computed at 30 digits; the closed form runs in float64, whose
    rounding (about ``1e-15`` relative) is the stated error.
    """
    return exact_limit("quantile", population, probabilities=tuple(probabilities))


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
    return exact_limit("histogram", population.at_sigma(float(sigma)), trim=tuple(trim), direction=direction)


# ---------------------------------------------------------------------- histogram mode
def bin_probabilities(population: Population, sigma: float) -> np.ndarray:
    """Exact probabilities of the paper's 1024 log10 bins for ``sigma * X``, at :data:`DIGITS`
    (those of histogram mode's limit, :func:`weibull_stats.estimators.histogram.bin_probabilities`)."""
    with mp.workdps(DIGITS):
        return histogram_bin_probabilities(population.at_sigma(float(sigma)), DIGITS)


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
        mid = mid_bin_cdf(probs)
        score = min(
            float(np.min(np.abs(mid - edge)[weights > 0] / weights[weights > 0])) for edge in (0.1, 0.9)
        )
        if score > best_score:
            best, best_score = s, score
    return best


# ---------------------------------------------------------------------- catalogue
def estimator_anchors(estimator: str, population: Population = HALFNORMAL) -> list[Anchor]:
    """Every anchor of one estimator under ``population``, option sets that matter included.

    Iterates the option sets the estimator's hook declares; estimators whose limit depends
    on the absolute scale are evaluated at :data:`HISTOGRAM_SIGMA` (recorded as ``sigma``).

    Raises
    ------
    ValueError
        If ``estimator`` has no anchor derivation.
    """
    hook = population_hook(estimator)
    sigma = HISTOGRAM_SIGMA if hook.absolute_scale else None
    at = _at_sigma(hook, population, HISTOGRAM_SIGMA)
    method = hook.method.format(digits=DIGITS, check_digits=CHECK_DIGITS)
    anchors: list[Anchor] = []
    for options in hook.option_sets:
        shape, scale, error = exact_limit(estimator, at, **options)
        for listed in hook.table_options(options):
            anchors.append(
                Anchor(
                    estimator,
                    listed,
                    population.label,
                    shape,
                    scale,
                    error,
                    method,
                    sigma=sigma,
                    note=hook.note,
                )
            )
    return anchors


def default_anchor(
    estimator: str, population: Population = HALFNORMAL, sigma: float = HISTOGRAM_SIGMA
) -> tuple[float, float]:
    """``(shape, scale / scale parameter)`` of ``estimator`` with its default options.

    ``sigma`` matters only to estimators whose limit depends on the absolute scale.

    Examples
    --------
    >>> from weibull_stats.validation.populations import HALFNORMAL
    >>> [round(v, 10) for v in default_anchor("probability_plot", HALFNORMAL)]
    [1.205434319, 0.8874870398]
    """
    hook = population_hook(estimator)
    shape, scale, _ = exact_limit(estimator, _at_sigma(hook, population, sigma), **hook.option_sets[0])
    return shape, scale


def all_anchors(estimators: Iterable[str], population: Population = HALFNORMAL) -> list[Anchor]:
    """:func:`estimator_anchors` for each name, in order."""
    return [a for name in estimators for a in estimator_anchors(name, population)]


def anchor_option_sets(estimator: str) -> Sequence[Mapping[str, Any]]:
    """Distinct option sets of ``estimator`` whose limits are listed (plotting positions merged)."""
    return [dict(options) for options in population_hook(estimator).option_sets]


def limit_for(
    estimator: str, population: Population, options: Mapping[str, Any], sigma: float = 1.0
) -> tuple[float, float]:
    """``(shape, scale)`` limit of ``estimator`` with one option set of :func:`anchor_option_sets`.

    ``sigma`` is the absolute scale, read only by sigma-dependent estimators.
    """
    hook = population_hook(estimator)
    shape, scale, _ = exact_limit(estimator, _at_sigma(hook, population, sigma), **options)
    return shape, scale


def recovery_tolerance(estimator: str) -> float:
    """Allowed relative error of ``estimator``'s limit under true Weibull data (0: exact)."""
    return population_hook(estimator).weibull_tolerance


def depends_on_sigma(estimator: str) -> bool:
    """True when ``estimator``'s limit depends on the absolute scale, not only on the law."""
    return population_hook(estimator).absolute_scale


@lru_cache(maxsize=512)
def finite_n_bias(estimator: str, population: Any, n: int) -> tuple[float, float] | None:
    """Predicted ``O(1/n)`` bias of ``(shape, scale / sigma)`` with the default options.

    The bias the estimator's hook declares (``PopulationHook.bias``), evaluated at
    :data:`DIGITS`; None where none is derived (the simulation study then reports the
    measured bias alone). Histogram mode's boundary-bin effect depends on the absolute
    sigma: see :func:`weibull_stats.validation.asymptotic.histogram_bias`.

    Examples
    --------
    >>> from weibull_stats.validation.populations import HALFNORMAL
    >>> round(finite_n_bias("log_moment", HALFNORMAL, 1000)[0] / (2.25 * 2 / 3 ** 0.5 / 1000), 8)
    1.0
    >>> finite_n_bias("mle", HALFNORMAL, 1000) is None
    True
    """
    hook = population_hook(estimator)
    if hook.bias is None:
        return None
    with mp.workdps(DIGITS):
        return hook.bias(population, n)
