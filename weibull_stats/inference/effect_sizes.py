"""Effect sizes of a goodness-of-fit test: how far the data are from the Weibull law, at any ``n``.

At ``n = 10^7`` every p-value is about zero for real weights; the correlation and curvature
of the full Weibull plot and the KS distance to the fitted law do not grow with ``n``. Raw
samples from :data:`FUSED_FROM` values take every sum in one compiled pass
(:func:`weibull_stats.core.fused.edf_plot_sums`, which gives the test's statistic too).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from weibull_stats.core.fused import edf_plot_sums
from weibull_stats.estimators.probability_plot import hazen_block_ordinates, plotting_positions
from weibull_stats.estimators.results import WeibullFit
from weibull_stats.inference.edf import LARGE, count_edf_statistic, edf_statistic
from weibull_stats.sample.checked import Sample
from weibull_stats.sample.degenerate import distinct_up_to_three
from weibull_stats.weibull.law import plot_ordinates
from weibull_stats.weibull.rank_sums import run_sums

#: Sorted float32 or float64 samples from this size take the compiled pass (the numpy
#: formulas below it, bit for bit as before).
FUSED_FROM = LARGE


@dataclass(frozen=True, slots=True)
class EffectSizes:
    """Size of the departure from the Weibull law, meaningful at any ``n``.

    Computed on the full Weibull plot: ``y_i = ln(-ln(1 - p_i))`` against ``u_i = ln x_(i)``,
    Hazen positions ``p_i = (i - 0.5)/n``, every point.

    Attributes
    ----------
    correlation : float
        Probability-plot correlation coefficient of ``(u, y)``; 1 for a perfect Weibull plot.
    r2 : float
        Its square, the R² of the straight line.
    curvature : float
        With ``z`` the standardised ``u`` and ``y = a + b z + c z^2`` the least-squares
        quadratic, ``2 c / b``: the relative change of the local Weibull slope (the local
        shape) per standard deviation of ``ln x``. Negative: the local shape falls towards
        the upper tail, which is **heavier** than the Weibull law's (lognormal-like);
        positive: the upper tail is **lighter** (half-normal-like). 0 for a Weibull law.
    ks_distance : float
        ``sup |F_n - F|`` against the fitted law (the KS statistic, not its p-value).
    """

    correlation: float
    r2: float
    curvature: float
    ks_distance: float


def check_distinct(sample: Sample) -> None:
    """Raise unless ``sample`` has at least three distinct values."""
    distinct = distinct_up_to_three(sample)
    if distinct < 3:
        raise ValueError(
            f"`x` has {distinct} distinct values; goodness of fit needs at least 3 (two points are "
            "fitted exactly by a two-parameter law, and the curvature of the Weibull plot is undefined)"
        )


def effect_sizes(data: np.ndarray | Sample, fit: WeibullFit) -> EffectSizes:
    """:class:`EffectSizes` of sorted positive data (or of a :class:`~weibull_stats.Sample`)
    against ``fit``; a counts sample takes weighted sums over its distinct values. At least
    three distinct values are needed (the curvature is a quadratic's)."""
    if isinstance(data, Sample):
        check_distinct(data)
        if data.counts is not None:
            assert data.distinct is not None
            return count_effect_sizes(data.distinct, data.counts, fit)
        assert data.magnitudes is not None
        data = np.sort(data.magnitudes)
    sorted_x = data
    n = sorted_x.size
    if np.count_nonzero(sorted_x[1:] != sorted_x[:-1]) < 2:
        raise ValueError("`data` has fewer than 3 distinct values; effect sizes need at least 3")
    if n >= FUSED_FROM and sorted_x.dtype in (np.float32, np.float64):
        return effect_sizes_of_sums(edf_plot_sums(sorted_x, fit.shape, fit.scale,
                                                  ordinates=hazen_block_ordinates(n)), n)
    u = np.log(sorted_x, dtype=np.float64)
    y = plot_ordinates(plotting_positions(np.arange(1, n + 1), n, "hazen"))
    u -= u.mean()
    sd = math.sqrt(float(u @ u) / n)
    u /= sd  # z
    y_mean = float(y.mean())
    y -= y_mean
    syy = float(y @ y)
    szy = float(u @ y)
    z2 = u * u
    ks = float(edf_statistic(sorted_x, fit.shape, fit.scale, "ks")[0])
    return _effect_sizes(n, syy, szy, float(z2 @ u), float(z2 @ z2), float(z2 @ y), ks)


def effect_sizes_of_sums(sums: Mapping[str, float], n: int) -> EffectSizes:
    """:class:`EffectSizes` from the power sums of :func:`~weibull_stats.core.fused.edf_plot_sums`
    over ``n`` sorted values (its ``u`` is ``ln x`` shifted, which ``z`` does not see): the
    centred sums of :func:`effect_sizes` expanded in them, without a second pass."""
    mu, y_mean = sums["su"] / n, sums["sy"] / n
    suu, su, su3 = sums["suu"], sums["su"], sums["su3"]
    sd = math.sqrt((suu - n * mu * mu) / n)
    syy = sums["syy"] - n * y_mean * y_mean
    szy = (sums["suy"] - mu * sums["sy"]) / sd
    s3 = (su3 - 3.0 * mu * suu + 3.0 * mu * mu * su - n * mu**3) / sd**3
    s4 = (sums["su4"] - 4.0 * mu * su3 + 6.0 * mu * mu * suu - 4.0 * mu**3 * su + n * mu**4) / sd**4
    sz2y = (sums["suuy"] - 2.0 * mu * sums["suy"] + mu * mu * sums["sy"]) / (sd * sd) - y_mean * n
    return _effect_sizes(n, syy, szy, s3, s4, sz2y, sums["ks"])


def _effect_sizes(
    n: int, syy: float, szy: float, s3: float, s4: float, sz2y: float, ks: float
) -> EffectSizes:
    correlation = szy / math.sqrt(n * syy)
    # normal equations of y = a + b z + c z^2 with sum z = 0, sum z^2 = n
    matrix = np.array([[n, 0.0, n], [0.0, n, s3], [n, s3, s4]])
    _, b, c = np.linalg.solve(matrix, np.array([0.0, szy, sz2y]))
    return EffectSizes(
        correlation=correlation, r2=correlation**2, curvature=float(2.0 * c / b), ks_distance=ks
    )


def count_effect_sizes(distinct: np.ndarray, counts: np.ndarray, fit: WeibullFit) -> EffectSizes:
    """:class:`EffectSizes` of a counts sample in O(distinct values): weighted sums over the
    distinct values; ties are separate order statistics, each with its own plotting position,
    whose ordinates are summed per run by :func:`weibull_stats.weibull.rank_sums.run_sums`."""
    c = counts.astype(np.float64)
    n = int(counts.sum())
    u = np.log(distinct)
    u = u - float((c * u).sum()) / n
    sd = math.sqrt(float((c * u * u).sum()) / n)
    z = u / sd
    runs, total, total_sq = run_sums(counts)
    y_mean = total / n
    centred = runs - c * y_mean
    z2 = z * z
    ks = float(count_edf_statistic(distinct, counts, fit.shape, fit.scale, "ks")[0])
    syy = total_sq - n * y_mean * y_mean
    return _effect_sizes(n, syy, float((z * centred).sum()), float((c * z2 * z).sum()),
                         float((c * z2 * z2).sum()), float((z2 * centred).sum()), ks)


__all__ = ["FUSED_FROM", "EffectSizes", "check_distinct", "count_effect_sizes", "effect_sizes",
           "effect_sizes_of_sums"]
