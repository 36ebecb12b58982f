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

A raw sample is sorted once (in its own dtype) and the fit takes its order statistics from
the sorted copy (:attr:`Sample.ordered <weibull_stats.Sample>`); for a large one, one
compiled pass gives the statistic and every sum of the effect sizes
(:func:`weibull_stats.core.fused.edf_plot_sums`), reusing the plot ordinates of the
probability plot's window when its fit just computed them, and the model comparison's
maximum-likelihood iteration starts from the test's fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from weibull_stats._version import __version__
from weibull_stats.core.display import display_methods
from weibull_stats.core.formatting import jsonable, pvalue_at_floor
from weibull_stats.core.fused import edf_plot_sums
from weibull_stats.core.options import check_choice
from weibull_stats.core.progress import ProgressOption
from weibull_stats.core.seeds import seed_entropy
from weibull_stats.estimators.probability_plot import (
    PLOTTING_POSITIONS,
    hazen_block_ordinates,
    last_window_ordinates,
)
from weibull_stats.estimators.registry import DEFAULT_ESTIMATOR
from weibull_stats.estimators.results import WeibullFit
from weibull_stats.inference.edf import STATISTICS, count_edf_statistic, edf_statistic
from weibull_stats.inference.effect_sizes import (
    FUSED_FROM,
    EffectSizes,
    check_distinct,
    count_effect_sizes,
    effect_sizes,
    effect_sizes_of_sums,
)
from weibull_stats.inference.engine import check_workers, resolve_estimator
from weibull_stats.inference.intervals import check_count
from weibull_stats.inference.model_comparison import ModelComparison, sample_comparison
from weibull_stats.inference.null_choice import NULLS, FoundNull, choose_null, null_statistics
from weibull_stats.inference.nulls import NullModel
from weibull_stats.inference.shared_null import SHARED_SEED
from weibull_stats.inference.summaries import gof_summary
from weibull_stats.sample.checked import Sample


def _shared_sums(sorted_x: np.ndarray | None, fit: WeibullFit) -> dict[str, float] | None:
    """The statistics and effect-size sums of a large sorted raw sample in one pass (None for
    a counts sample or a small one, whose own paths are O(distinct values) or cheap); the plot
    ordinates of a probability plot's window are reused when its fit just computed them."""
    if sorted_x is None or sorted_x.size < FUSED_FROM or sorted_x.dtype not in (np.float32, np.float64):
        return None
    window = last_window_ordinates(sorted_x.size, PLOTTING_POSITIONS["hazen"])
    ordinates = hazen_block_ordinates(sorted_x.size, window)
    return edf_plot_sums(sorted_x, fit.shape, fit.scale, ordinates=ordinates)


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
                cache: Any = None, sorted_x: np.ndarray | None = None, observed: float | None = None
                ) -> tuple[float, FoundNull]:
    """The statistic of ``sample`` against ``fit`` (the estimator's fit of it, kernel
    ``options`` checked) and its p-value under the null ``null``: the test of
    :func:`goodness_of_fit` without the effect sizes and the model comparison (what a scan
    records of it). ``observed``: the statistic when the caller has computed it."""
    kind = choose_null(entry, options, sample, statistic, null, m)
    check_distinct(sample)
    if observed is None:
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
    check_distinct(sample)
    sorted_x = None if sample.magnitudes is None else np.sort(sample.magnitudes)
    if sorted_x is not None:  # sorted once: the fit takes its order statistics from it
        sample = replace(sample, magnitudes=sorted_x, ordered=True, owned=False)
    fit = entry.function(sample, **estimator_options)
    sums = _shared_sums(sorted_x, fit)
    observed, found = fitted_test(sample, entry, own, fit, statistic, m, seed=seed, workers=n_workers,
                                  progress=progress, null=null, cache=cache, sorted_x=sorted_x,
                                  observed=None if sums is None else sums[statistic])
    if sums is not None:
        effects = effect_sizes_of_sums(sums, sample.size)
    else:
        effects = effect_sizes(sample if sorted_x is None else sorted_x, fit)
    model = NullModel.of(sample.storage, sample.size, fit.shape, fit.scale)
    return GoodnessOfFitResult(
        statistic_name=statistic,
        statistic=observed,
        pvalue=found.pvalue,
        null_distribution=found.statistics,
        n_mc_samples=found.samples,
        fit=fit,
        effect_sizes=effects,
        model_comparison=sample_comparison(sample, start=fit.shape if np.isfinite(fit.shape) else None),
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
    "count_effect_sizes",
    "edf_statistic",
    "effect_sizes",
    "goodness_of_fit",
]
