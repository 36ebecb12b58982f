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
comparison against other families (:mod:`weibull_stats.model_comparison`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from weibull_stats._input import check_choice, check_sample
from weibull_stats._version import __version__
from weibull_stats.batched import POLICY_OPTIONS, fit_options
from weibull_stats.bootstrapping import batch_rows, check_count, resolve_estimator
from weibull_stats.model_comparison import ModelComparison, compare_models
from weibull_stats.registry import check_options
from weibull_stats.resampling import (
    STREAM_NULL,
    BlockFunction,
    batched,
    check_workers,
    run_blocks,
    seed_entropy,
    weibull_rows,
)
from weibull_stats.results import WeibullFit, _jsonable

STATISTICS: tuple[str, ...] = ("ad", "cvm", "ks")


def edf_statistic(sorted_x: np.ndarray, shape: Any, scale: Any, statistic: str) -> np.ndarray:
    """EDF statistic of each row of ``sorted_x`` against ``Weibull(shape, scale)``.

    ``sorted_x`` is ``(n,)`` or ``(batch, n)``, sorted along the last axis; ``shape`` and
    ``scale`` broadcast against the batch. With ``z_i = F(x_(i))``:

    * ``ad``: ``A^2 = -n - sum_i (2i - 1)/n [ln z_i + ln(1 - z_(n+1-i))]``;
    * ``cvm``: ``W^2 = 1/(12 n) + sum_i (z_i - (2i - 1)/(2n))^2``;
    * ``ks``: ``D = max_i max(i/n - z_i, z_i - (i - 1)/n)``,

    the definitions of ``scipy.stats.goodness_of_fit``. ``ln z`` and ``ln(1 - z)`` are
    taken from ``t = (x / scale)^shape`` as ``ln(-expm1(-t))`` and ``-t``, exact in both tails.
    """
    x = np.atleast_2d(sorted_x)
    n = x.shape[1]
    k = np.reshape(np.asarray(shape, dtype=np.float64), (-1, 1))
    lam = np.reshape(np.asarray(scale, dtype=np.float64), (-1, 1))
    t = np.exp(k * (np.log(x, dtype=np.float64) - np.log(lam)))
    i = np.arange(1, n + 1, dtype=np.float64)
    if statistic == "ad":
        with np.errstate(divide="ignore"):
            log_cdf = np.log(-np.expm1(-t))
        value = -n - np.sum((2 * i - 1) / n * (log_cdf - t[:, ::-1]), axis=1)
    else:
        cdf = -np.expm1(-t)
        if statistic == "cvm":
            value = 1.0 / (12 * n) + np.sum((cdf - (2 * i - 1) / (2 * n)) ** 2, axis=1)
        else:
            value = np.maximum((i / n - cdf).max(axis=1), (cdf - (i - 1) / n).max(axis=1))
    return value if np.ndim(sorted_x) > 1 else value[:1]


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


def effect_sizes(sorted_x: np.ndarray, fit: WeibullFit) -> EffectSizes:
    """:class:`EffectSizes` of sorted positive data against ``fit``."""
    n = sorted_x.size
    u = np.log(sorted_x, dtype=np.float64)
    y = np.log(-np.log1p(-(np.arange(1, n + 1, dtype=np.float64) - 0.5) / n))
    u -= u.mean()
    sd = math.sqrt(float(u @ u) / n)
    u /= sd  # z
    y_mean = float(y.mean())
    y -= y_mean
    syy = float(y @ y)
    szy = float(u @ y)
    correlation = szy / math.sqrt(n * syy)
    z2 = u * u
    s3 = float(z2 @ u)
    s4 = float(z2 @ z2)
    sz2y = float(z2 @ y)
    # normal equations of y = a + b z + c z^2 with sum z = 0, sum z^2 = n
    matrix = np.array([[n, 0.0, n], [0.0, n, s3], [n, s3, s4]])
    _, b, c = np.linalg.solve(matrix, np.array([0.0, szy, sz2y]))
    ks = float(edf_statistic(sorted_x, fit.shape, fit.scale, "ks")[0])
    return EffectSizes(
        correlation=correlation, r2=correlation**2, curvature=float(2.0 * c / b), ks_distance=ks
    )


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
        one out of ``m = n_mc_samples``; ``None`` when ``n_mc_samples=0``.
    null_distribution : numpy.ndarray
        The ``m`` Monte Carlo statistics (each sample refitted with the same estimator).
    n_mc_samples : int
    fit : WeibullFit
        The fit on the data.
    effect_sizes : EffectSizes
    model_comparison : ModelComparison
    seed : int
        Entropy of the Monte Carlo streams.
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
    package_version: str = __version__

    def to_dict(self, include_null: bool = False) -> dict[str, Any]:
        """JSON-compatible summary (the null distribution only when asked for)."""
        out: dict[str, Any] = {
            "statistic_name": self.statistic_name,
            "statistic": self.statistic,
            "pvalue": self.pvalue,
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
            "package_version": self.package_version,
        }
        if include_null:
            out["null_distribution"] = self.null_distribution.tolist()
        return _jsonable(out)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Null distribution with the observed statistic
        (:func:`weibull_stats.plotting.plot_null_distribution`)."""
        from weibull_stats import plotting

        return plotting.plot_null_distribution(self, ax=ax, **kwargs)

    def _repr_html_(self) -> str:
        p = "n/a" if self.pvalue is None else f"{self.pvalue:.4g}"
        rows = [
            ("estimator", self.fit.estimator),
            (self.statistic_name, f"{self.statistic:.6g}"),
            ("p-value", f"{p} ({self.n_mc_samples} Monte Carlo samples)"),
            ("R² / curvature", f"{self.effect_sizes.r2:.6f} / {self.effect_sizes.curvature:+.4f}"),
            ("KS distance", f"{self.effect_sizes.ks_distance:.4g}"),
            ("best family (AIC)", self.model_comparison.best),
        ]
        body = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>" for k, v in rows)
        return f"<table><caption>GoodnessOfFitResult</caption>{body}</table>"


def null_function(
    fit_rows: Any, n: int, shape: float, scale: float, options: Mapping[str, Any], statistic: str
) -> BlockFunction:
    """Block function of the null: simulate from the fitted law, refit, compute the statistic."""

    def block(generator: np.random.Generator, size: int) -> np.ndarray:
        parts = []
        for count in batched(size, n):
            rows = np.sort(weibull_rows(generator, count, n, shape, scale), axis=1)
            fits = fit_rows(rows, **options)
            out = np.full(count, np.nan)
            ok = np.isfinite(fits).all(axis=1)
            if ok.any():
                out[ok] = edf_statistic(rows[ok], fits[ok, 0], fits[ok, 1], statistic)
            parts.append(out)
        return np.concatenate(parts)

    return block


def goodness_of_fit(
    x: Any,
    estimator: Any = "mle",
    *,
    statistic: str = "ad",
    n_mc_samples: int = 999,
    rng: np.random.Generator | int | None = None,
    workers: int | None = None,
    progress: bool = False,
    **estimator_options: Any,
) -> GoodnessOfFitResult:
    """Test whether ``x`` follows a two-parameter Weibull law, parameters estimated.

    The law is ``F(x) = 1 - exp(-(x / scale) ** shape)`` (``scipy.stats.weibull_min``).

    Parameters
    ----------
    x : array_like or torch.Tensor
        Positive sample; the estimator's bad-input options apply.
    estimator : str or callable, default "mle"
        Registered estimator that fits the data and every Monte Carlo sample.
    statistic : {"ad", "cvm", "ks"}, default "ad"
        Anderson-Darling, Cramér-von Mises or Kolmogorov-Smirnov (see :func:`edf_statistic`).
    n_mc_samples : int, default 999
        Monte Carlo samples of the null distribution; 0 skips the test (no p-value) and
        keeps the effect sizes and model comparison, which is what matters at ``n = 10^7``.
    rng : numpy.random.Generator, int or None
        Seed of the Monte Carlo streams; the entropy is recorded as ``seed``.
    workers : int or None
        Threads (default: every CPU); the result does not depend on it.
    progress : bool, default False
        Show a progress bar on stderr.
    **estimator_options
        Options of the estimator.

    Returns
    -------
    GoodnessOfFitResult

    Notes
    -----
    Each Monte Carlo sample has size ``n`` and is drawn from the fitted law; it is refitted
    with the same estimator and options (the batched form of the estimator, all samples of a
    block at once) and its statistic is computed against its own fit. The p-value is
    ``(b + 1) / (m + 1)``. For ``estimator="mle"`` this is the procedure of
    ``scipy.stats.goodness_of_fit(weibull_min, x, known_params={"loc": 0})``. Do not plug
    fitted parameters into a test for a known law (see the module documentation).

    Examples
    --------
    >>> import numpy as np
    >>> import weibull_stats as ws
    >>> x = np.random.default_rng(0).weibull(1.5, size=200)
    >>> res = ws.goodness_of_fit(x, "mle", n_mc_samples=99, rng=1)
    >>> bool(res.pvalue > 0.05), res.null_distribution.shape
    (True, (99,))
    """
    entry = resolve_estimator(estimator)
    check_options(entry, estimator_options)
    check_choice(statistic, "statistic", STATISTICS)
    m = check_count(n_mc_samples, "n_mc_samples", minimum=0)
    n_workers = check_workers(workers)
    entropy = seed_entropy(rng)
    fit = entry(x, **estimator_options)
    options = {**entry.options, **estimator_options}
    policy = {k: options[k] for k in POLICY_OPTIONS if k in options}
    data = np.sort(check_sample(x, **policy).data)
    observed = float(edf_statistic(data, fit.shape, fit.scale, statistic)[0])
    null = np.empty(0)
    pvalue: float | None = None
    if m:
        function = null_function(batch_rows(entry, options), data.size, fit.shape, fit.scale,
                                 fit_options(options), statistic)
        null = run_blocks(function, m, entropy=entropy, stream=STREAM_NULL, workers=n_workers,
                          progress=progress, description=f"goodness of fit {entry.name}")
        bad = int(np.count_nonzero(~np.isfinite(null)))
        if bad:
            raise ValueError(
                f"{bad} of {m} Monte Carlo samples could not be refitted by {entry.name!r}; "
                "the null distribution is incomplete"
            )
        pvalue = (int(np.count_nonzero(null >= observed)) + 1) / (m + 1)
        null.flags.writeable = False
    return GoodnessOfFitResult(
        statistic_name=statistic,
        statistic=observed,
        pvalue=pvalue,
        null_distribution=null,
        n_mc_samples=m,
        fit=fit,
        effect_sizes=effect_sizes(data, fit),
        model_comparison=compare_models(data),
        seed=entropy,
    )
