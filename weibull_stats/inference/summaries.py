"""What each inference result shows (:class:`~weibull_stats.core.display.Summary`), for its reprs.

One function per result type (:class:`~weibull_stats.inference.bootstrap.BootstrapResult`,
:class:`~weibull_stats.inference.gof.GoodnessOfFitResult`,
:class:`~weibull_stats.inference.model_comparison.ModelComparison`), each the hook of that
class's display methods (:func:`weibull_stats.core.display.display_methods`); the display of a
fit, :func:`~weibull_stats.estimators.results.fit_summary`, lives beside ``WeibullFit``. They
read the result's fields only; the result types are named for the type checker alone (their
modules import this one). Digits follow the standard errors as for a fit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from weibull_stats.core.display import (
    Row,
    Summary,
    figure,
    fraction_near_one,
    level_text,
    options_text,
    pair_text,
)
from weibull_stats.core.formatting import pvalue_text
from weibull_stats.estimators.results import sampling_errors

if TYPE_CHECKING:  # pragma: no cover
    from weibull_stats.inference.bootstrap import BootstrapResult
    from weibull_stats.inference.gof import GoodnessOfFitResult
    from weibull_stats.inference.model_comparison import ModelComparison


def bootstrap_summary(result: BootstrapResult) -> Summary:
    """The display of a :class:`~weibull_stats.BootstrapResult`: estimates with their interval.

    The one-line ``repr`` gives the shape's interval, the table both.

    Examples
    --------
    >>> x = np.random.default_rng(0).weibull(1.5, size=2000) * 2.0
    >>> ws.bootstrap(x, "mle", n_resamples=99, rng=1)  # doctest: +ELLIPSIS
    BootstrapResult(mle: k=1.5... [1.4..., 1.5...], λ=2.0..., 95% percentile, B=99)
    """
    fit, ci, se = result.estimate, result.confidence_interval, result.standard_error
    shape = f"{figure(fit.shape, se.shape)} {pair_text(*ci.shape, se.shape)}"
    scale = f"{figure(fit.scale, se.scale)} {pair_text(*ci.scale, se.scale)}"
    how = f"{level_text(result.confidence_level)} {result.method}"
    # one line: the shape's interval (the figure compared with the anchors), the scale's in the table
    headline: tuple[Row, ...] = (("k", shape), ("λ", figure(fit.scale, se.scale)), ("", how),
                                 ("B", str(result.n_resamples)))
    rows: list[Row] = [
        ("shape k", shape),
        ("scale λ", scale),
        ("standard error", f"k {se.shape:.2g}, λ {se.scale:.2g}"),
        ("interval", f"{how}, {result.kind}, {result.n_resamples} resamples"),
    ]
    if result.acceleration is not None:
        rows.append(("acceleration", f"k {result.acceleration.shape:.3g}, λ {result.acceleration.scale:.3g}"))
    if result.route:
        rows.append(("drawn by", result.route))
    rows += [("n (used)", f"{fit.n} ({fit.n_used})"), ("seed", str(result.seed)),
             ("version", result.package_version)]
    return Summary("BootstrapResult", fit.estimator, headline, tuple(rows))


def _aic_text(comparison: ModelComparison) -> str:
    return ", ".join(f"{family} {delta:+.1f}" for family, delta in comparison.delta_aic.items()
                     if family != "weibull")


def _null_text(result: GoodnessOfFitResult) -> str:
    storage = result.null_model.get("storage", "unknown")
    kind = getattr(result, "null", "per-sample")
    if kind == "asymptotic":
        return f"asymptotic (Durbin's limit for {result.fit.estimator}; no Monte Carlo)"
    if kind == "shared":
        return (f"{result.n_mc_samples} samples of the standard law refitted by {result.fit.estimator}, "
                f"drawn as stored ({storage}); shared by every sample of this size")
    return f"{result.n_mc_samples} samples refitted by {result.fit.estimator}, drawn as stored ({storage})"


def gof_summary(result: GoodnessOfFitResult) -> Summary:
    """The display of a :class:`~weibull_stats.GoodnessOfFitResult`: statistic, p-value, effect sizes."""
    fit, effects = result.fit, result.effect_sizes
    shape_error, scale_error = sampling_errors(fit)
    name = result.statistic_name.upper()
    headline: tuple[Row, ...] = (
        (name, f"{result.statistic:.4g}"),
        ("", pvalue_text(result.pvalue, result.n_mc_samples, prefix=True, missing="no p-value")),
        ("M", str(result.n_mc_samples)),
        ("k", figure(fit.shape, shape_error)),
        ("best", result.model_comparison.best),
    )
    rows: list[Row] = [
        ("statistic", f"{name} {result.statistic:.6g}"),
        ("p-value", pvalue_text(result.pvalue, result.n_mc_samples, missing="not tested")),
        ("null", _null_text(result)),
        ("fit", f"k {figure(fit.shape, shape_error)}, λ {figure(fit.scale, scale_error)}, n {fit.n}"),
        ("plot r² / curvature", f"{fraction_near_one(effects.r2)} / {effects.curvature:+.3g}"),
        ("KS distance", f"{effects.ks_distance:.3g}"),
        ("best family (AIC)", result.model_comparison.best),
        ("ΔAIC vs weibull", _aic_text(result.model_comparison)),
        ("seed", str(result.seed)),
        ("version", result.package_version),
    ]
    return Summary("GoodnessOfFitResult", fit.estimator, headline, tuple(rows))


def comparison_summary(comparison: ModelComparison) -> Summary:
    """The display of a :class:`~weibull_stats.ModelComparison`: the best family, ΔAIC of the others."""
    others = [(family, f"{delta:+.1f}") for family, delta in comparison.delta_aic.items()
              if family != "weibull"]
    headline = (("best", comparison.best),
                *((f"ΔAIC {family}" if i == 0 else family, d) for i, (family, d) in enumerate(others)))
    rows: list[Row] = []
    reference = comparison["weibull"].aic
    for item in comparison.fits:
        parameters = options_text({k: figure(v) for k, v in item.parameters.items()})
        delta = item.aic - reference
        rows.append((item.family, f"ΔAIC {delta:+.1f}, log L {item.log_likelihood:.1f}; {parameters}"))
    rows.append(("best (lowest AIC)", comparison.best))
    return Summary("ModelComparison", f"n={comparison.n}", headline, tuple(rows))


__all__ = ["bootstrap_summary", "comparison_summary", "gof_summary"]
