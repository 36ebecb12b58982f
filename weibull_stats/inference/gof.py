"""Goodness of fit of the Weibull law with estimated parameters, and effect sizes.

The p-value is right only if the null distribution of the statistic accounts for the
estimation: every Monte Carlo sample is drawn from the fitted law and **refitted with the
same estimator and options** before its statistic is computed (a parametric bootstrap).

.. warning::
   The tempting shortcut, plugging the fitted ``shape`` and ``scale`` into a test for a
   fully specified law (``scipy.stats.kstest(x, "weibull_min", args=(shape, 0, scale))``
   or tabulated Anderson-Darling critical values), treats estimated parameters as known.
   The fitted law is closer to the data than the true law is, so the statistic is too
   small, the p-values are too large and the test almost never rejects. Do not do it.

At ``n = 10^7`` every p-value is about zero for real weights, so the result also carries
effect sizes that do not grow with ``n`` (:class:`EffectSizes`) and a likelihood
comparison against other families (:mod:`weibull_stats.inference.model_comparison`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from weibull_stats._version import __version__
from weibull_stats.core.display import display_methods
from weibull_stats.core.formatting import jsonable, pvalue_at_floor
from weibull_stats.core.options import check_choice
from weibull_stats.core.progress import ProgressOption
from weibull_stats.core.seeds import seed_entropy
from weibull_stats.estimators.probability_plot import plotting_positions
from weibull_stats.estimators.registry import DEFAULT_ESTIMATOR
from weibull_stats.estimators.results import WeibullFit
from weibull_stats.inference.edf import STATISTICS, count_edf_statistic, edf_statistic
from weibull_stats.inference.engine import check_workers, resolve_estimator
from weibull_stats.inference.intervals import check_count
from weibull_stats.inference.model_comparison import ModelComparison, sample_comparison
from weibull_stats.inference.null_choice import NULLS, FoundNull, choose_null, null_statistics
from weibull_stats.inference.nulls import NullModel
from weibull_stats.inference.shared_null import SHARED_SEED
from weibull_stats.inference.summaries import gof_summary
from weibull_stats.sample.checked import Sample
from weibull_stats.sample.degenerate import distinct_up_to_three
from weibull_stats.weibull.law import plot_ordinates
from weibull_stats.weibull.rank_sums import run_sums


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


def _check_distinct(sample: Sample) -> None:
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
        _check_distinct(data)
        if data.counts is not None:
            assert data.distinct is not None
            return count_effect_sizes(data.distinct, data.counts, fit)
        assert data.magnitudes is not None
        data = np.sort(data.magnitudes)
    sorted_x = data
    n = sorted_x.size
    if np.count_nonzero(sorted_x[1:] != sorted_x[:-1]) < 2:
        raise ValueError("`data` has fewer than 3 distinct values; effect sizes need at least 3")
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


def observed_statistic(sample: Sample, fit: WeibullFit, statistic: str, sorted_x: np.ndarray | None = None
                       ) -> float:
    """The statistic of the data against ``fit``: O(d) on a counts sample (``sorted_x``: the
    sorted magnitudes when the caller has them)."""
    if sample.counts is not None:
        assert sample.distinct is not None
        return float(count_edf_statistic(sample.distinct, sample.counts, fit.shape, fit.scale, statistic)[0])
    assert sample.magnitudes is not None
    data = np.sort(sample.magnitudes) if sorted_x is None else sorted_x
    return float(edf_statistic(data, fit.shape, fit.scale, statistic)[0])


def fitted_test(sample: Sample, entry: Any, options: Mapping[str, Any], fit: WeibullFit, statistic: str,
                m: int, *, seed: int, workers: int, progress: ProgressOption = False, null: str = "auto",
                cache: Any = None, sorted_x: np.ndarray | None = None) -> tuple[float, FoundNull]:
    """The statistic of ``sample`` against ``fit`` (the estimator's fit of it, kernel
    ``options`` checked) and its p-value under the null ``null``: the test of
    :func:`goodness_of_fit` without the effect sizes and the model comparison (what a scan
    records of it)."""
    kind = choose_null(entry, options, sample, statistic, null, m)
    _check_distinct(sample)
    observed = observed_statistic(sample, fit, statistic, sorted_x)
    model = NullModel.of(sample.storage, sample.size, fit.shape, fit.scale)
    found = null_statistics(kind, entry, options, model, statistic, observed, m, seed=seed, workers=workers,
                            progress=progress, cache=cache)
    return observed, found


@dataclass(frozen=True, slots=True, eq=False)
class GoodnessOfFitResult:
    """Goodness-of-fit test of the Weibull law with parameters estimated by ``fit.estimator``.

    Attributes
    ----------
    statistic_name : str
        ``"ad"``, ``"cvm"`` or ``"ks"``.
    statistic : float
        Observed statistic against the fitted law.
    pvalue : float or None
        ``(b + 1) / (m + 1)``, ``b`` the null statistics at least as large as the observed
        one out of ``m = n_mc_samples``; ``None`` when ``n_mc_samples=0``. At its floor
        ``1/(m+1)`` (:attr:`pvalue_at_floor`) it is an upper bound, shown as ``≤ 1/(m+1)``.
    null_distribution : numpy.ndarray
        The ``m`` Monte Carlo statistics (each sample refitted with the same estimator).
    n_mc_samples : int
    fit : WeibullFit
        The fit on the data.
    effect_sizes : EffectSizes
    model_comparison : ModelComparison
    seed : int
        Entropy of the Monte Carlo streams.
    null_model : Mapping
        How the null samples were drawn: ``storage``, ``cells`` (16-bit storage: cells with
        positive probability) and ``excluded`` (``{"zero": mass, "overflow": mass}`` of the
        fitted law conditioned out, see :mod:`weibull_stats.inference.nulls`).
    null : {"per-sample", "shared", "asymptotic", "none"}
        Which null gave the p-value (:mod:`weibull_stats.inference.null_choice`): simulated
        from the fitted law, simulated once from the standard law for every sample of this
        size (equivariant estimators), the limiting law, or none (``n_mc_samples=0``).
    null_source : str or None
        For a shared null, ``"simulated"`` now or reused from ``"memory"`` or ``"disk"`` (not
        in :meth:`to_dict`, so that the same call writes the same bytes).
    """

    statistic_name: str
    statistic: float
    pvalue: float | None
    null_distribution: np.ndarray = field(repr=False)
    n_mc_samples: int
    fit: WeibullFit
    effect_sizes: EffectSizes
    model_comparison: ModelComparison
    seed: int
    null_model: Mapping[str, Any] = field(default_factory=dict)
    package_version: str = __version__
    null: str = "per-sample"
    null_source: str | None = None

    @property
    def pvalue_at_floor(self) -> bool:
        """Whether :attr:`pvalue` is ``1/(m+1)``: the observed statistic exceeded every null
        one, so the p-value is at most that (False without Monte Carlo samples)."""
        return pvalue_at_floor(self.pvalue, self.n_mc_samples)

    def to_dict(self, include_null: bool = False) -> dict[str, Any]:
        """JSON-compatible summary (the null distribution only when asked for);
        ``pvalue_at_floor`` says whether ``pvalue`` is the bound ``1/(m+1)``."""
        out: dict[str, Any] = {
            "statistic_name": self.statistic_name,
            "statistic": self.statistic,
            "pvalue": self.pvalue,
            "pvalue_at_floor": self.pvalue_at_floor,
            "n_mc_samples": self.n_mc_samples,
            "fit": self.fit.to_dict(),
            "effect_sizes": {
                "correlation": self.effect_sizes.correlation,
                "r2": self.effect_sizes.r2,
                "curvature": self.effect_sizes.curvature,
                "ks_distance": self.effect_sizes.ks_distance,
            },
            "model_comparison": self.model_comparison.to_dict(),
            "seed": self.seed,
            "null_model": dict(self.null_model),
            "null": self.null,
            "package_version": self.package_version,
        }
        if include_null:
            out["null_distribution"] = self.null_distribution.tolist()
        return jsonable(out)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Null distribution with the observed statistic, both in view (log axis when far
        apart), p-value in the title; returns the Figure
        (:func:`weibull_stats.plotting.plot_null_distribution`)."""
        # the plot layer sits above inference and matplotlib is optional: imported when a plot is
        # asked for (the one upward import the layer contract allows, in ignore_imports)
        from weibull_stats import plotting

        return plotting.plot_null_distribution(self, ax=ax, **kwargs)

    __repr__, __str__, _repr_html_, _repr_markdown_ = display_methods(gof_summary)


def goodness_of_fit(
    x: Any,
    estimator: Any = DEFAULT_ESTIMATOR,
    *,
    statistic: str = "ad",
    n_mc_samples: int = 999,
    rng: np.random.Generator | int | None = None,
    workers: int | None = None,
    progress: ProgressOption = None,
    null: str = "auto",
    cache: Any = None,
    **estimator_options: Any,
) -> GoodnessOfFitResult:
    """Test whether ``x`` follows a two-parameter Weibull law, parameters estimated.

    The law is ``F(x) = 1 - exp(-(x / scale) ** shape)`` (``scipy.stats.weibull_min``).

    Parameters
    ----------
    x : array_like, torch.Tensor or Sample
        Positive sample; the estimator's bad-input options apply.
    estimator : str or callable, default "probability_plot"
        Registered estimator that fits the data and every Monte Carlo sample (the default
        is every entry point's, :data:`~weibull_stats.estimators.registry.DEFAULT_ESTIMATOR`).
    statistic : {"ad", "cvm", "ks"}, default "ad"
        Anderson-Darling, Cramér-von Mises or Kolmogorov-Smirnov (see :func:`edf_statistic`).
    n_mc_samples : int, default 999
        Monte Carlo samples of the null distribution; 0 skips the test (no p-value) and
        keeps the effect sizes and model comparison, which is what matters at ``n = 10^7``.
    rng : numpy.random.Generator, int or None
        Seed of the Monte Carlo streams; the entropy is recorded as ``seed``. None: a fresh
        seed, except for a shared null, which then takes
        :data:`~weibull_stats.inference.shared_null.SHARED_SEED` so that every call shares it.
    workers : int or None
        Threads (default: every CPU); the result does not depend on it.
    progress : bool, None or ticker, default None
        A bar with the time left on stderr: None shows it when stderr is a terminal; an
        object with ``update(n)`` is told of each replicate instead
        (:mod:`weibull_stats.core.progress`).
    null : {"auto", "per-sample", "shared", "asymptotic"}, default "auto"
        The null law of the statistic (:mod:`weibull_stats.inference.null_choice`):
        ``"per-sample"`` simulates from this sample's fitted law; ``"shared"`` (estimators
        that declare themselves equivariant, float32 or float64 data) simulates once from the
        standard law per (estimator, options, n, storage, statistic, ``n_mc_samples``, seed)
        and keeps it in memory and on disk; ``"asymptotic"`` takes the limiting law (A² and
        W², estimators with an influence function; no Monte Carlo). ``"auto"``: the
        asymptotic null from :data:`~weibull_stats.inference.null_choice.ASYMPTOTIC_FROM`
        values, the shared one below it, per-sample for 16-bit data (their counts path) and
        for estimators that are not equivariant. ``null`` records the one used.
    cache : bool, path or None
        Disk cache of shared nulls: None the default folder
        (:mod:`weibull_stats.inference.shared_null`), False off, a path that folder.
    **estimator_options
        Options of the estimator.

    Returns
    -------
    GoodnessOfFitResult

    Notes
    -----
    ``x`` is checked once into a :class:`~weibull_stats.Sample` (or is one). Each Monte
    Carlo sample has the data's size and is drawn from the fitted law *as the data are
    stored* (:mod:`weibull_stats.inference.nulls`): for bfloat16 or float16 storage a multinomial over
    the format's cells, a count row whose statistic costs O(cells); for float32 ordered
    draws rounded to float32; for float64 ordered draws. A null that ignored storage would
    test the rounding, not the Weibull law, at the sizes of real weight matrices. Each
    sample is refitted with the same estimator and options (the estimator's kernel, all
    samples of a block at once) and its statistic is computed against its own fit. The p-value is
    ``(b + 1) / (m + 1)``. For ``estimator="mle"`` this is the procedure of
    ``scipy.stats.goodness_of_fit(weibull_min, x, known_params={"loc": 0})``. Do not plug
    fitted parameters into a test for a known law (see the module documentation).

    Examples
    --------
    >>> x = np.random.default_rng(0).weibull(1.5, size=200)
    >>> res = ws.goodness_of_fit(x, "mle", n_mc_samples=99, rng=1)
    >>> bool(res.pvalue > 0.05), res.null_distribution.shape
    (True, (99,))
    """
    entry = resolve_estimator(estimator)
    entry.check_names(estimator_options)
    check_choice(statistic, "statistic", STATISTICS)
    m = check_count(n_mc_samples, "n_mc_samples", minimum=0)
    n_workers = check_workers(workers)
    sample, own = entry.sample(x, estimator_options)
    kind = choose_null(entry, own, sample, statistic, null, m)  # a null that does not hold: before the fit
    # a shared null is keyed by its seed: without one, every call shares the one of SHARED_SEED
    seed = SHARED_SEED if rng is None and kind == "shared" else seed_entropy(rng)
    _check_distinct(sample)
    fit = entry.function(sample, **estimator_options)
    sorted_x = None if sample.magnitudes is None else np.sort(sample.magnitudes)
    observed, found = fitted_test(sample, entry, own, fit, statistic, m, seed=seed, workers=n_workers,
                                  progress=progress, null=null, cache=cache, sorted_x=sorted_x)
    model = NullModel.of(sample.storage, sample.size, fit.shape, fit.scale)
    return GoodnessOfFitResult(
        statistic_name=statistic,
        statistic=observed,
        pvalue=found.pvalue,
        null_distribution=found.statistics,
        n_mc_samples=found.samples,
        fit=fit,
        effect_sizes=effect_sizes(sample if sorted_x is None else sorted_x, fit),
        model_comparison=sample_comparison(sample),
        seed=seed,
        null_model={"storage": model.storage, "cells": model.cells, "excluded": dict(model.excluded)},
        null=found.kind,
        null_source=found.source,
    )


__all__ = [
    "NULLS",
    "STATISTICS",
    "EffectSizes",
    "GoodnessOfFitResult",
    "count_edf_statistic",
    "edf_statistic",
    "effect_sizes",
    "goodness_of_fit",
]
