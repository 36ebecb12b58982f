"""Bootstrap confidence intervals for the shape and scale of any registered estimator.

:func:`bootstrap` (exported as ``weibull_stats.bootstrap``; the module has a different name
so that no submodule can shadow that function) fits the data, draws the resamples with the
engine of :mod:`weibull_stats.inference.engine` and returns a frozen :class:`BootstrapResult` that
keeps the bootstrap distribution, so the interval method, the level or the number of resamples
can change without drawing again.

The intervals (percentile, basic, BCa) are those of :mod:`weibull_stats.inference.intervals`; the BCa
acceleration comes from a grouped jackknife (:func:`jackknife_acceleration`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from weibull_stats._version import __version__
from weibull_stats.core.display import display_methods
from weibull_stats.core.formatting import jsonable
from weibull_stats.core.options import check_choice
from weibull_stats.core.progress import ProgressOption
from weibull_stats.core.seeds import seed_entropy
from weibull_stats.estimators import Estimator
from weibull_stats.estimators.registry import DEFAULT_ESTIMATOR, get_estimator
from weibull_stats.estimators.results import WeibullFit
from weibull_stats.inference.engine import (
    BLOCK,
    JACKKNIFE_GROUPS,
    acceleration,
    check_workers,
    jackknife_estimates,
    resample_function,
    resolve_estimator,
    route,
    run_blocks,
)
from weibull_stats.inference.intervals import (
    ConfidenceInterval,
    Interval,
    ShapeScale,
    check_count,
    check_level,
    interval,
    interval_probabilities,
)
from weibull_stats.inference.summaries import bootstrap_summary
from weibull_stats.sample.checked import Sample
from weibull_stats.sample.degenerate import FewResamplesWarning, few_resamples_reason

METHODS: tuple[str, ...] = ("percentile", "basic", "bca")
KINDS: tuple[str, ...] = ("nonparametric", "parametric")
#: Random stream of each kind of resample (see :func:`weibull_stats.inference.engine.run_blocks`).
PURPOSES: dict[str, str] = {"nonparametric": "bootstrap", "parametric": "parametric"}


def jackknife_acceleration(
    estimator: Any, x: Any, options: Mapping[str, Any], seed: int
) -> ShapeScale:
    """BCa acceleration of shape and scale by the grouped (delete-a-group) jackknife.

    The ``n`` values are split at random into ``G = min(n, JACKKNIFE_GROUPS)`` groups of
    equal size (within one); with ``theta_g`` the estimate without group ``g`` and ``d_g =
    mean(theta) - theta_g``, the acceleration is ``sum d^3 / (6 (sum d^2)^(3/2))`` (Efron
    1987). It costs ``G`` fits whatever ``n`` (one kernel call on ``G`` count rows for a
    counts sample: O(G d)), where the ordinary jackknife costs ``n`` (scipy's BCa); with one
    value per group (``n <= G``) it is the ordinary jackknife.

    ``x`` is the data or its :class:`~weibull_stats.Sample`; ``options`` the estimator's
    options (policy included).
    """
    entry = resolve_estimator(estimator)
    sample, own = entry.sample(x, options)
    return _acceleration(entry, sample, own, seed)


def _acceleration(entry: Estimator, sample: Sample, own: Mapping[str, Any], seed: int) -> ShapeScale:
    accel = acceleration(jackknife_estimates(entry, sample, own, seed))
    return ShapeScale(float(accel[0]), float(accel[1]))


@dataclass(frozen=True, slots=True, eq=False)
class BootstrapResult:
    """Bootstrap distribution and confidence intervals of a Weibull fit.

    Attributes
    ----------
    estimate : WeibullFit
        The fit on the data.
    confidence_interval : ConfidenceInterval
        ``.shape`` and ``.scale``, each an :class:`Interval` ``(low, high)``.
    bootstrap_distribution : numpy.ndarray
        ``(n_resamples, 2)`` estimates: column 0 shape, column 1 scale.
    standard_error : ShapeScale
        Standard deviations (``ddof=1``) of the bootstrap distribution.
    method, confidence_level, kind, n_resamples
        As passed to :func:`bootstrap`.
    seed : int
        Entropy of every random stream used: ``bootstrap(x, ..., rng=seed)`` reproduces it.
    segments : tuple of (int, int)
        ``(first block, resamples)`` of each call that drew resamples (one, or more after
        :meth:`extend`); blocks hold ``BLOCK`` resamples.
    acceleration : ShapeScale or None
        BCa acceleration (grouped jackknife), when computed.
    options : Mapping
        Every estimator option used (defaults included), for :meth:`extend`.
    route : str
        How the resamples were drawn (multinomial counts, order-statistic plan, index
        resampling, or parametric drawn as stored).
    """

    estimate: WeibullFit
    confidence_interval: ConfidenceInterval
    bootstrap_distribution: np.ndarray = field(repr=False)
    standard_error: ShapeScale
    method: str
    confidence_level: float
    kind: str
    n_resamples: int
    seed: int
    segments: tuple[tuple[int, int], ...] = ((0, 0),)
    acceleration: ShapeScale | None = None
    options: Mapping[str, Any] = field(default_factory=dict, repr=False)
    route: str = ""
    package_version: str = __version__

    def with_method(
        self, method: str, *, confidence_level: float | None = None, x: Any = None
    ) -> BootstrapResult:
        """The same bootstrap distribution with another interval method or level.

        ``method="bca"`` needs the acceleration: when this result has none, pass the data
        ``x`` and it is computed (grouped jackknife, no resampling).
        """
        check_choice(method, "method", METHODS)
        level = self.confidence_level if confidence_level is None else check_level(confidence_level)
        acceleration = self.acceleration
        if method == "bca" and acceleration is None:
            if x is None:
                raise ValueError("`x` is needed to compute the BCa acceleration of this result")
            entry, sample, own = _prepare(x, self)
            acceleration = _acceleration(entry, sample, own, self.seed)
        return _finish(self.estimate, self.bootstrap_distribution, method, level, self.kind, self.seed,
                       self.segments, acceleration, self.options, self.route)

    def extend(self, x: Any, n_more: int, *, workers: int | None = None, progress: ProgressOption = None
               ) -> BootstrapResult:
        """Add ``n_more`` resamples (new blocks of the same seed) and recompute the interval.

        ``x`` must be the data of the original call.
        """
        n_more = check_count(n_more, "n_more")
        entry, sample, own = _prepare(x, self)
        fresh = entry.function(sample, **self.options)
        if (fresh.shape, fresh.scale) != (self.estimate.shape, self.estimate.scale):
            raise ValueError("`x` is not the data of this result: its fit differs from `estimate`")
        first = max(start + math.ceil(count / BLOCK) for start, count in self.segments)
        function = resample_function(entry, sample, own, self.estimate, self.kind)
        more = run_blocks(function, n_more, seed=self.seed, purpose=PURPOSES[self.kind], first_block=first,
                          workers=check_workers(workers), progress=progress)
        _check_finite(more, self.estimate.estimator)
        distribution = np.concatenate([self.bootstrap_distribution, more], axis=0)
        return _finish(self.estimate, distribution, self.method, self.confidence_level, self.kind, self.seed,
                       (*self.segments, (first, n_more)), self.acceleration, self.options, self.route)

    def to_dict(self, include_distribution: bool = False) -> dict[str, Any]:
        """JSON-compatible summary (the bootstrap distribution only when asked for)."""
        out: dict[str, Any] = {
            "estimate": self.estimate.to_dict(),
            "shape": {"low": self.confidence_interval.shape.low, "high": self.confidence_interval.shape.high},
            "scale": {"low": self.confidence_interval.scale.low, "high": self.confidence_interval.scale.high},
            "standard_error": {"shape": self.standard_error.shape, "scale": self.standard_error.scale},
            "method": self.method,
            "confidence_level": self.confidence_level,
            "kind": self.kind,
            "n_resamples": self.n_resamples,
            "seed": self.seed,
            "segments": [list(s) for s in self.segments],
            "acceleration": None if self.acceleration is None else self.acceleration._asdict(),
            "route": self.route,
            "package_version": self.package_version,
        }
        if include_distribution:
            out["bootstrap_distribution"] = self.bootstrap_distribution.tolist()
        return jsonable(out)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Histograms of the bootstrap shapes and scales with the estimate and the interval;
        returns the Figure (:func:`weibull_stats.plotting.plot_bootstrap_distribution`)."""
        # the plot layer sits above inference and matplotlib is optional: imported when a plot is
        # asked for (the one upward import the layer contract allows, in ignore_imports)
        from weibull_stats import plotting

        return plotting.plot_bootstrap_distribution(self, ax=ax, **kwargs)

    __repr__, __str__, _repr_html_, _repr_markdown_ = display_methods(bootstrap_summary)


def _prepare(x: Any, result: BootstrapResult) -> tuple[Estimator, Sample, dict[str, Any]]:
    entry = get_estimator(result.estimate.estimator)
    sample, own = entry.sample(x, result.options)
    return entry, sample, own


def _check_finite(distribution: np.ndarray, name: str) -> None:
    bad = int(np.count_nonzero(~np.isfinite(distribution).all(axis=1)))
    if bad:
        raise ValueError(
            f"{bad} of {distribution.shape[0]} bootstrap estimates of {name!r} are undefined "
            "(resamples with too few distinct values in the fitted range, or no convergence)"
        )


def _warn_few_resamples(distribution: np.ndarray, estimate: WeibullFit, method: str, level: float,
                        accel: ShapeScale) -> None:
    """:class:`~weibull_stats.FewResamplesWarning` when the smallest tail probability of either
    interval needs more resamples than there are
    (:func:`weibull_stats.sample.degenerate.few_resamples_reason`)."""
    tails = [interval_probabilities(distribution[:, j], value, method, level, a)
             for j, (value, a) in enumerate(((estimate.shape, accel.shape), (estimate.scale, accel.scale)))]
    tail = float(min(min(p[0], 1.0 - p[1]) for p in tails))
    reason = few_resamples_reason(int(distribution.shape[0]), tail, method)
    if reason is not None:
        warnings.warn(reason, FewResamplesWarning, stacklevel=4)


def _standard_errors(distribution: np.ndarray) -> np.ndarray:
    """Standard deviations of the columns of the bootstrap ``distribution``.

    A column of estimates near float64's limits (scales of 1e300 data) would overflow when
    squared; such a column's deviation is taken relative to its largest magnitude and
    multiplied back, so the standard error stays finite and no overflow warning escapes.
    Other columns are computed directly (the same numbers as always).
    """
    ddof = 1 if distribution.shape[0] > 1 else 0
    with np.errstate(over="ignore"):
        se = distribution.std(axis=0, ddof=ddof)
    for j in np.flatnonzero(~np.isfinite(se) & np.isfinite(distribution).all(axis=0)):
        peak = float(np.abs(distribution[:, j]).max())
        se[j] = float((distribution[:, j] / peak).std(ddof=ddof)) * peak
    return se


def _finish(
    estimate: WeibullFit,
    distribution: np.ndarray,
    method: str,
    level: float,
    kind: str,
    seed: int,
    segments: tuple[tuple[int, int], ...],
    acceleration: ShapeScale | None,
    options: Mapping[str, Any],
    route_taken: str = "",
) -> BootstrapResult:
    accel = acceleration if acceleration is not None else ShapeScale(0.0, 0.0)
    _warn_few_resamples(distribution, estimate, method, level, accel)
    shape_ci = interval(distribution[:, 0], estimate.shape, method, level, accel.shape)
    scale_ci = interval(distribution[:, 1], estimate.scale, method, level, accel.scale)
    se = _standard_errors(distribution)
    distribution = distribution.copy()
    distribution.flags.writeable = False
    return BootstrapResult(
        estimate=estimate,
        confidence_interval=ConfidenceInterval(shape_ci, scale_ci),
        bootstrap_distribution=distribution,
        standard_error=ShapeScale(float(se[0]), float(se[1])),
        method=method,
        confidence_level=level,
        kind=kind,
        n_resamples=int(distribution.shape[0]),
        seed=seed,
        segments=segments,
        acceleration=acceleration,
        options=dict(options),
        route=route_taken,
    )


def bootstrap(
    x: Any,
    estimator: Any = DEFAULT_ESTIMATOR,
    *,
    n_resamples: int = 999,
    method: str = "percentile",
    confidence_level: float = 0.95,
    kind: str = "nonparametric",
    rng: np.random.Generator | int | None = None,
    workers: int | None = None,
    progress: ProgressOption = None,
    **estimator_options: Any,
) -> BootstrapResult:
    """Bootstrap confidence intervals for the Weibull shape and scale.

    The law is ``F(x) = 1 - exp(-(x / scale) ** shape)`` (``scipy.stats.weibull_min``).

    Parameters
    ----------
    x : array_like, torch.Tensor or Sample
        Positive sample (any shape, flattened); the estimator's bad-input options apply.
    estimator : str or callable, default "probability_plot"
        A registered estimator: its name, its :class:`~weibull_stats.Estimator` entry or its
        function (``weibull_stats.fit_mle``).
    n_resamples : int, default 999
        Bootstrap replicates. An interval endpoint at tail probability ``p`` needs
        ``(n_resamples + 1) p >= 1`` (39 for a 95% percentile interval; BCa checks its
        adjusted tails); fewer warn :class:`~weibull_stats.FewResamplesWarning`, since the
        interval then cannot reach its level (one resample gives a zero-width interval).
    method : {"percentile", "basic", "bca"}, default "percentile"
        Percentile interval, basic (reverse percentile) interval ``(2 t - q_hi, 2 t - q_lo)``,
        or bias-corrected and accelerated (acceleration by the grouped jackknife, see
        :func:`jackknife_acceleration`).
    confidence_level : float, default 0.95
    kind : {"nonparametric", "parametric"}, default "nonparametric"
        Resample the data, or simulate samples of size ``n`` from the fitted Weibull law
        and refit each with the same estimator and options.
    rng : numpy.random.Generator, int or None
        Seed of every random stream; the entropy used is recorded as ``seed``.
    workers : int or None
        Threads (default: every CPU). The result does not depend on it.
    progress : bool, None or ticker, default None
        A bar with the time left on stderr: None shows it when stderr is a terminal; an
        object with ``update(n)`` is told of each replicate instead
        (:mod:`weibull_stats.core.progress`).
    **estimator_options
        Options of the estimator (``trim``, ``values="weights"``, ...).

    Returns
    -------
    BootstrapResult

    Notes
    -----
    ``x`` is checked once into a :class:`~weibull_stats.Sample` (or is one); the fit, the
    resamples and the jackknife all use that sample. A counts sample (16-bit storage, or
    data on a 16-bit grid) is resampled as ``Multinomial(n, counts / n)`` count rows over its
    distinct values, O(distinct values) per resample whatever ``n``. A raw sample uses the
    estimator's order-statistic fast path (multinomial counts over the sorted data drawn by
    a splitting tree, gamma gaps or multinomial bin counts) from the size where that is
    faster, else ``(batch, n)`` index resamples fitted at once by the estimator's kernel. All routes are exact
    bootstraps; they use the random streams differently, so the bootstrap distribution for
    a given seed depends on the route, which the result records. A resample whose estimate
    is undefined is an error that gives the count, never a silent ``nan``.

    The parametric bootstrap draws samples of the data's size from the fitted law *as the
    data are stored* (:mod:`weibull_stats.inference.nulls`: a multinomial over the cells of a 16-bit
    format, or ordered draws rounded to float32) and refits each with the same estimator
    and options.

    BCa needs the acceleration: :func:`jackknife_acceleration` (grouped jackknife, ``G =
    50`` fits of ``n - n/G`` values, whatever ``n``).

    Examples
    --------
    >>> x = np.random.default_rng(0).weibull(1.5, size=2000) * 2.0
    >>> res = ws.bootstrap(x, "probability_plot", n_resamples=199, rng=1)
    >>> low, high = res.confidence_interval.shape
    >>> bool(low < res.estimate.shape < high), res.bootstrap_distribution.shape
    (True, (199, 2))
    """
    entry = resolve_estimator(estimator)
    entry.check_names(estimator_options)
    n_resamples = check_count(n_resamples, "n_resamples")
    check_choice(method, "method", METHODS)
    check_choice(kind, "kind", KINDS)
    level = check_level(confidence_level)
    n_workers = check_workers(workers)
    seed = seed_entropy(rng)
    sample, own = entry.sample(x, estimator_options)
    estimate = entry.function(sample, **estimator_options)
    options = {**entry.options, **estimator_options}
    function = resample_function(entry, sample, own, estimate, kind)
    distribution = run_blocks(function, n_resamples, seed=seed, purpose=PURPOSES[kind], workers=n_workers,
                              progress=progress, description=f"bootstrap {entry.name}")
    _check_finite(distribution, entry.name)
    accel = _acceleration(entry, sample, own, seed) if method == "bca" else None
    return _finish(estimate, distribution, method, level, kind, seed, ((0, n_resamples),), accel, options,
                   route(entry, sample, own, kind, function))


__all__ = [
    "JACKKNIFE_GROUPS",
    "BootstrapResult",
    "ConfidenceInterval",
    "Interval",
    "ShapeScale",
    "bootstrap",
    "jackknife_acceleration",
]
