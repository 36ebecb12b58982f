r"""Exact limits of the fits of data *as stored*: a law rounded to bfloat16 or float16 cells.

Real weights are stored in bf16. A value ``w`` of ``sigma * X`` is kept as the bf16 number
``g`` it rounds to (round to nearest, ties to even), so the stored magnitudes follow a
*discrete* law: the cell of ``g`` is the interval ``(m_-, m_+)`` between the midpoints to
its neighbours (the reals that round to ``g``; which cell a midpoint itself belongs to has
probability 0), and ``P(g) = F(m_+ / sigma) - F(m_- / sigma)`` with ``F`` the continuous
law's distribution function. bf16 cells are relative (128 per octave), so the rounded law
of ``sigma * X`` is the rounded law of ``X`` only when ``sigma`` is a power of two: its fits
move with ``sigma``'s position between two powers of two, periodically in ``log2 sigma``.

The default fit of the rounded law, derived
-------------------------------------------
Sort ``n`` stored values; the ``i``-th order statistic at plotting position
``p_i = (i - 1/2) / n`` (any plotting position: they differ by ``O(1/n)``) tends to the
discrete quantile ``Q_d(p) = g_j`` for ``F_j < p < F_{j+1}``, where ``F_j = F(m_j / sigma)``
are the continuous CDF at the cell edges (a step function). The least-squares sums of the
fit over the window ``p in [a, b]``, divided by ``n``, tend to integrals over ``[a, b]`` of
``u = ln Q_d(p)``, ``u^2``, ``u y``, ``y`` and ``y^2`` with ``y(p) = ln(-ln(1 - p))``, exactly as
for a continuous law (:mod:`weibull_stats.validation.anchors`); only ``u`` is now piecewise
constant. Split ``[a, b]`` at the ``F_j`` inside it (about 475 cells for the half-normal in
bf16): on a piece ``[l, r]`` of cell ``j``,

* ``int u = u_j (r - l)``, ``int u^2 = u_j^2 (r - l)``, ``int u y = u_j int_l^r y``;
* ``int_l^r y dp`` and ``int_l^r y^2 dp`` are smooth integrals over a short interval, done
  by Gauss-Legendre quadrature (:func:`mpmath.quad`, ``method="gauss-legendre"``, which
  raises the degree until two degrees agree at the working precision).

The probability-plot hook (:func:`~weibull_stats.estimators.probability_plot._population.
probability_plot_population`) does exactly this through :meth:`RoundedPopulation.integrate`,
which splits at the cell edges; the value is computed at 30 and at 40 digits and the
difference stated. ``tests/test_stored.py`` checks it against an independent float64 sum
that uses the closed form ``int y dp = [-e^{-t} ln t - E_1(t)]`` in ``t = -ln(1 - p)`` and
against seeded simulations of bf16-rounded samples.

Why bf16 storage moves k
------------------------
Rounding replaces ``ln x`` by ``ln g``: within a cell of relative width ``h`` (``2^-8`` to
``2^-7``, by the mantissa) the error is a sawtooth whose mean over the cell vanishes only to
first order. Its second-order part, of order ``h^2`` times the slope of the log-density
across the cell, and the partial cells cut by the trim edges ``p = 0.1, 0.9`` are what is
left after the regression averages over about 475 cells: a shift of order ``h^2 / 12``,
``1e-6`` to ``1e-5``, that depends on where the cell edges fall, so on ``sigma`` modulo
powers of two. :func:`stored_anchor_table` gives it exactly over one octave of sigma
(``validation/results/stored_anchors.md``): ``delta k`` runs from ``-1.02e-5`` to ``-3.0e-6``,
and at ``sigma = 0.02`` it is ``-7.19e-6``: the "about -6e-6" that issue 9 measured from
three seeds at ``n = 4096^2`` (the paired Monte Carlo SE of one such seed is about ``1e-6``).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ml_dtypes
import mpmath as mp
import numpy as np
import pandas as pd

from weibull_stats.core.seeds import generator
from weibull_stats.estimators import PopulationHook
from weibull_stats.estimators.registry import declared_estimator, get_estimator
from weibull_stats.sample.checked import counts_sample
from weibull_stats.validation.anchors import CHECK_DIGITS, DIGITS, exact_limit, population_hook
from weibull_stats.validation.populations import HALFNORMAL, Population
from weibull_stats.weibull.cells import rounding_cells, storage_grid

#: Storage grids a population can be rounded to, by name.
STORAGE_DTYPES: dict[str, Any] = {"bfloat16": ml_dtypes.bfloat16, "float16": np.float16}
#: Plotting positions covered by a rounded population's cell table.
COVERAGE: tuple[float, float] = (1e-3, 1.0 - 1e-3)


def round_to_storage(x: np.ndarray, storage: str = "bfloat16") -> np.ndarray:
    """``x`` (float64) rounded to nearest, ties to even, in one step, as a ``storage`` array.

    A cast of float64 to bfloat16 goes through float32 (double rounding: values within
    ``2^-24`` of a bf16 midpoint can go the wrong way); this rounds the float64 value to
    the storage grid directly, which is what the rounded law describes.

    Examples
    --------
    >>> x = np.array([1 + 2**-8 + 2**-40, 1 + 2**-8])   # just above a midpoint, and on it
    >>> round_to_storage(x).astype(np.float64).tolist() == [1 + 2**-7, 1.0]
    True
    """
    dtype = np.dtype(STORAGE_DTYPES[storage])
    bits = int(ml_dtypes.finfo(dtype).nmant) + 1
    tiny = float(ml_dtypes.finfo(dtype).smallest_normal)
    x = np.asarray(x, dtype=np.float64)
    _, exponent = np.frexp(x)
    # below the normal range the grid spacing is fixed: round on that grid instead
    exponent = np.maximum(exponent, int(np.frexp(tiny)[1]))
    rounded = np.ldexp(np.rint(np.ldexp(x, bits - exponent)), exponent - bits)
    return rounded.astype(dtype)


@dataclass(frozen=True, slots=True)
class RoundedPopulation:
    """The law of ``sigma * X`` rounded to a 16-bit storage grid, standardised by ``sigma``.

    Has the methods the validation hooks use (``quantile_mp``, ``integrate``, ``context``,
    ``sigma``) so an estimator's exact-limit hook computes the limit on stored data. Only
    plotting positions in :data:`COVERAGE` are covered (enough for trims up to 0.001).

    Attributes
    ----------
    base : Population
        The continuous law ``X`` (scale 1).
    storage : {"bfloat16", "float16"}
    sigma : float
        The absolute scale: where ``sigma`` sits between powers of two matters.

    Examples
    --------
    >>> from weibull_stats.validation.anchors import probability_plot_limit
    >>> shape, scale, error = probability_plot_limit(RoundedPopulation(HALFNORMAL, "bfloat16", 0.02))
    >>> round(shape, 5), error < 1e-20
    (1.20543, True)
    """

    base: Population
    storage: str = "bfloat16"
    sigma: float = 1.0

    def __post_init__(self) -> None:
        storage_grid(self.storage)  # checks the name
        if not (math.isfinite(self.sigma) and self.sigma > 0):
            raise ValueError(f"`sigma` must be a positive finite number; got {self.sigma!r}")

    @property
    def label(self) -> str:
        return f"{self.base.label}@{self.storage}(sigma={self.sigma:.10g})"

    @property
    def kind(self) -> str:
        return self.base.kind

    def at_sigma(self, sigma: float) -> RoundedPopulation:
        return RoundedPopulation(self.base, self.storage, float(sigma))

    @property
    def context(self) -> Any:
        """The :mod:`mpmath` context (precision set by the caller)."""
        return mp.mp

    def cells(self) -> tuple[list[Any], list[Any]]:
        """``(values, edge_cdf)`` at the working precision: stored values ``g_j / sigma`` of
        the covered cells and the continuous CDF at their edges (one more than values)."""
        return _cells(self, mp.mp.dps)

    def quantile_mp(self, p: Any) -> Any:
        """``Q_d(p) / sigma``: the stored value whose cell holds plotting position ``p``."""
        values, edge_cdf = self.cells()
        j = bisect.bisect_left(edge_cdf, p) - 1
        if not 0 <= j < len(values):
            raise ValueError(f"plotting position {p} is outside the covered range {COVERAGE}")
        return values[j]

    def integrate(self, f: Callable[[Any], Any], a: Any, b: Any) -> Any:
        """``int_a^b f(p) dp`` split at the cell edges: Gauss-Legendre on each piece."""
        _, edge_cdf = self.cells()
        inner = edge_cdf[bisect.bisect_right(edge_cdf, a) : bisect.bisect_left(edge_cdf, b)]
        return mp.quad(f, [a, *inner, b], method="gauss-legendre")


#: What a rounded law offers an exact-limit hook (its public attributes).
ROUNDED_LAW_OFFERS: frozenset[str] = frozenset(n for n in dir(RoundedPopulation) if not n.startswith("_"))


def evaluable_on_rounded_law(hook: PopulationHook) -> bool:
    """True when ``hook`` reads only what a :class:`RoundedPopulation` offers (its declared
    ``reads``): the quantile function, not the CDF or the power moments.

    Examples
    --------
    >>> from weibull_stats.estimators.registry import ESTIMATORS
    >>> [name for name, e in ESTIMATORS.items() if evaluable_on_rounded_law(e.population)]
    ['probability_plot', 'quantile']
    """
    return hook.reads <= ROUNDED_LAW_OFFERS


@lru_cache(maxsize=256)
def _cells(population: RoundedPopulation, digits: int) -> tuple[list[Any], list[Any]]:
    sigma = population.sigma
    grid, boundaries = rounding_cells(population.storage)
    low, high = population.base.quantile(np.array(COVERAGE)) * sigma
    first = max(int(np.searchsorted(grid, low)) - 2, 1)
    last = min(int(np.searchsorted(grid, high)) + 2, grid.size - 2)
    values = grid[first : last + 1]
    edges = boundaries[first : last + 2]  # the midpoints to the neighbours, exact in float64
    with mp.workdps(digits):
        s = mp.mpf(sigma)
        cdf = [population.base.cdf_mp(mp.mpf(float(e)) / s) for e in edges]
        scaled = [mp.mpf(float(v)) / s for v in values]
    return scaled, cdf


#: The rounded law as counts: each cell's probability times 2^52 (cells below 2^-52 are left
#: out: a change of the limit far below the 10^-4 an interval at n = 10^6 resolves).
LAW_COUNTS = 2.0**52


def discrete_limit(estimator: str, law: Any, sigma: float, storage: str) -> tuple[float, float]:
    """The limit of ``estimator``'s default fit under ``sigma * law`` rounded to ``storage``.

    The rounded law is discrete: the stored values ``g_j`` with the probabilities
    ``F(e_{j+1} / sigma) - F(e_j / sigma)`` of their cells (edges ``e`` halfway between
    neighbours). Every registered estimator is a functional of the empirical distribution,
    continuous at such a law for its default options, so its limit is the estimator applied
    to the law itself: a counts sample whose counts are the cell probabilities times
    :data:`LAW_COUNTS`, fitted with the options the hook declares for it (``law_options``).
    For the probability plot and quantile matching it agrees with the quadrature limit of
    :class:`~weibull_stats.validation.stored.RoundedPopulation` (``tests/test_coverage.py``);
    :mod:`weibull_stats.validation.coverage` uses it for the estimators whose population
    hook needs more than the quantile function.

    Examples
    --------
    >>> from weibull_stats.validation.populations import weibull
    >>> shape, scale = discrete_limit("mle", weibull(1.5), 1.0, "bfloat16")
    >>> round(shape, 3), round(scale, 3)
    (1.5, 1.0)
    """
    return fit_of_counts(estimator, law_counts(law, sigma, storage), storage)


def law_counts(law: Any, sigma: float, storage: str) -> np.ndarray:
    """The law of ``sigma * law`` rounded to ``storage`` as counts of the 2^16 bit patterns:
    each cell's probability times :data:`LAW_COUNTS`, rounded (pattern 0, +0, holds nothing;
    the masses that round to zero or overflow go to the end cells).

    Examples
    --------
    >>> from weibull_stats.validation.populations import HALFNORMAL
    >>> counts = law_counts(HALFNORMAL, 0.02, "bfloat16")
    >>> counts.size, bool(abs(counts.sum() / LAW_COUNTS - 1) < 1e-12)
    (65536, True)
    """
    grid, boundaries = rounding_cells(storage)
    edges = np.concatenate([[0.0], boundaries[1:-1], [np.inf]])
    with np.errstate(over="ignore"):  # F at the top edges is 1 (x^k overflows to inf there)
        cdf = law.cdf(edges / sigma)
    cdf[-1] = 1.0
    patterns = np.zeros(1 << 16, dtype=np.int64)
    patterns[1 : 1 + grid.size] = np.rint(np.diff(cdf) * LAW_COUNTS).astype(np.int64)
    return patterns


def pattern_sample(patterns: np.ndarray, storage: str) -> Any:
    """A counts :class:`~weibull_stats.sample.checked.Sample` of positive ``storage`` values
    from the counts of their 2^16 bit patterns."""
    total = int(patterns.sum())
    return counts_sample(patterns, storage, storage, total, {"masked": 0, "nonfinite": 0, "zeros": 0},
                         {"values": "magnitudes", "nonfinite": "error", "zeros": "error"}, "law", 1)


def fit_of_counts(estimator: str, patterns: np.ndarray, storage: str) -> tuple[float, float]:
    """``estimator``'s default fit of a discrete law given as pattern counts, with the options
    its population hook declares for laws (``law_options``): the limit of its fits of samples
    of that law (every registered estimator is a functional of the empirical distribution,
    continuous at such a law)."""
    options = population_hook(estimator).law_options
    fit = get_estimator(estimator)(pattern_sample(patterns, storage), **options)
    return float(fit.shape), float(fit.scale)


def draw_patterns(patterns: np.ndarray, storage: str, rng: np.random.Generator, n: int) -> Any:
    """A sample of ``n`` values of the discrete law ``patterns`` (pattern counts): a multinomial
    draw over its cells, O(cells) whatever ``n``, as a counts sample."""
    cells = np.flatnonzero(patterns)
    drawn = np.zeros_like(patterns)
    drawn[cells] = rng.multinomial(n, patterns[cells] / patterns[cells].sum())
    return pattern_sample(drawn, storage)


def octave_sigmas(points: int = 17, octave: int = -6) -> list[float]:
    """``sigma_j = 2^(octave + j / (points - 1))``, ``j = 0 .. points - 1``: one octave."""
    return [2.0 ** (octave + j / (points - 1)) for j in range(points)]


def stored_anchor_table(
    sigmas: list[float] | None = None,
    *,
    population: Population = HALFNORMAL,
    storage: str = "bfloat16",
    extra: tuple[float, ...] = (0.02,),
) -> pd.DataFrame:
    """Exact default-fit limit of the rounded law over one octave of sigma, beside the
    continuous anchor (the estimator that declares ``package_anchor``: the probability plot).

    Columns: ``sigma``, ``octave_position`` (``log2 sigma`` mod 1), the stored limit
    ``shape``, ``scale_over_sigma`` and their stated ``error`` (30 vs 40 digits), the
    continuous limit and the differences ``delta_shape = shape - continuous_shape`` and
    ``delta_scale``. ``extra`` sigmas (default 0.02, the usual init scale) are appended.
    """
    sigmas = list(octave_sigmas() if sigmas is None else sigmas) + list(extra)
    name = declared_estimator("package_anchor").name
    defaults = population_hook(name).option_sets[0]
    k0, s0, _ = exact_limit(name, population, **defaults)
    records = []
    for sigma in sigmas:
        rounded = RoundedPopulation(population, storage, float(sigma))
        shape, scale, error = exact_limit(name, rounded, **defaults)
        records.append(
            {
                "population": population.label,
                "storage": storage,
                "sigma": float(sigma),
                "octave_position": math.log2(sigma) - math.floor(math.log2(sigma) + 1e-12),
                "shape": shape,
                "scale_over_sigma": scale,
                "error": error,
                "continuous_shape": k0,
                "continuous_scale_over_sigma": s0,
                "delta_shape": shape - k0,
                "delta_scale": scale - s0,
                "method": f"sum over {storage} cells, Gauss-Legendre per cell, {DIGITS} digits "
                f"(checked at {CHECK_DIGITS})",
            }
        )
    return pd.DataFrame.from_records(records)


def stored_simulation(
    sigma: float,
    n: int,
    reps: int,
    *,
    seed: int,
    storage: str = "bfloat16",
) -> pd.DataFrame:
    """Seeded default fits of ``N(0, sigma^2)`` weights stored in ``storage``, paired with
    the fits of the same draws in float64.

    One row per replicate: ``shape_stored`` and ``scale_stored`` (the public fit of the
    package-anchor estimator, :func:`weibull_stats.fit_probability_plot`, on the stored
    ``ml_dtypes`` array, ``values="weights"``),
    ``shape_float64``, ``scale_float64`` (the same draws unrounded) and the paired
    difference ``delta_shape``, whose mean tends to the exact ``delta_shape`` of
    :func:`stored_anchor_table` with a Monte Carlo error far below the fit's own spread.
    """
    fit = declared_estimator("package_anchor")
    records = []
    for r in range(reps):
        rng = generator(seed, "stored-anchor", storage, sigma.hex(), n, r)
        x = rng.normal(0.0, sigma, n)
        stored = fit(round_to_storage(x, storage), values="weights")
        plain = fit(x, values="weights")
        records.append(
            {
                "sigma": sigma,
                "n": n,
                "replicate": r,
                "shape_stored": stored.shape,
                "scale_stored": stored.scale / sigma,
                "shape_float64": plain.shape,
                "scale_float64": plain.scale / sigma,
                "delta_shape": stored.shape - plain.shape,
                "delta_scale": (stored.scale - plain.scale) / sigma,
            }
        )
    return pd.DataFrame.from_records(records)
