r"""Confidence intervals for any registered estimator: asymptotic (default) or bootstrap.

:func:`confidence_interval` is the one entry point. ``method="asymptotic"`` uses the
estimator's own large-sample standard errors (its ``asymptotic`` hook: influence functions
on the sample's quantile function, the MLE's sandwich, the sparsity function, the delta
method; see each estimator's ``_asymptotic`` code), computed from the fit's own sort or
counts, so an interval costs little more than the fit. ``method="bootstrap"`` runs
:func:`weibull_stats.bootstrap`. Both return an :class:`IntervalEstimate` holding the same
:class:`~weibull_stats.ConfidenceInterval` the bootstrap gives, with the method recorded.

The asymptotic interval at level ``1 - alpha`` is the Wald interval
``shape +- z se(shape)`` with ``z = Phi^-1(1 - alpha/2)`` for the shape, and
``exp(ln scale +- z se(ln scale))`` for the scale, so the scale interval is positive and
equivariant under a change of units.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import ndtri

from weibull_stats._version import __version__
from weibull_stats.core.display import Row, Summary, display_methods, figure, level_text, pair_text
from weibull_stats.core.formatting import jsonable
from weibull_stats.core.options import check_choice
from weibull_stats.estimators import UnreliableIntervalWarning, reliability_reason
from weibull_stats.estimators.registry import DEFAULT_ESTIMATOR
from weibull_stats.estimators.results import INTERVAL_COLUMNS, WeibullFit
from weibull_stats.inference.bootstrap import BootstrapResult, bootstrap
from weibull_stats.inference.engine import resolve_estimator
from weibull_stats.inference.intervals import ConfidenceInterval, Interval, ShapeScale, check_level

#: Interval methods of :func:`confidence_interval`.
INTERVAL_METHODS: tuple[str, ...] = ("asymptotic", "bootstrap")


def interval_summary(result: IntervalEstimate) -> Summary:
    """The display of an :class:`IntervalEstimate`: the shape's interval on one line."""
    fit, ci, se = result.estimate, result.confidence_interval, result.standard_error
    shape = f"{figure(fit.shape, se.shape)} {pair_text(*ci.shape, se.shape)}"
    scale = f"{figure(fit.scale, se.scale)} {pair_text(*ci.scale, se.scale)}"
    how = f"{level_text(result.confidence_level)} {result.method}"
    headline: tuple[Row, ...] = (("k", shape), ("λ", figure(fit.scale, se.scale)), ("", how))
    rows: list[Row] = [
        ("shape k", shape),
        ("scale λ", scale),
        ("standard error", f"k {se.shape:.2g}, ln λ {result.log_scale_se:.2g}"),
        ("interval", f"{how}: {result.detail}"),
        ("n (used)", f"{fit.n} ({fit.n_used})"),
    ]
    if result.seed is not None:
        rows.append(("seed", str(result.seed)))
    if result.warning:
        rows.append(("warning", result.warning))
    return Summary("IntervalEstimate", fit.estimator, headline, tuple(rows))


@dataclass(frozen=True, slots=True)
class IntervalEstimate:
    """A fit with confidence intervals for its shape and scale, and how they were made.

    Attributes
    ----------
    estimate : WeibullFit
        The estimator's fit of the data.
    confidence_interval : ConfidenceInterval
        ``.shape`` and ``.scale`` intervals (the type :func:`~weibull_stats.bootstrap` gives).
    standard_error : ShapeScale
        Standard errors of shape and scale (asymptotic: ``scale * se(ln scale)``; bootstrap:
        the sd of the bootstrap distribution).
    log_scale_se : float
        Standard error of ``ln scale``.
    method : {"asymptotic", "bootstrap"}
    detail : str
        How: the estimator's first-order method, or the bootstrap's interval and resamples.
    confidence_level : float
    seed : int or None
        The bootstrap's seed (None for asymptotic intervals, which draw nothing).
    warning : str or None
        Why the interval is not to be trusted for this sample, when it is not
        (:func:`interval_warning`): a degenerate sample (also warned as
        :class:`~weibull_stats.DegenerateSampleWarning` by the fit), and for an asymptotic
        interval too few values or distinct values for first-order theory (also warned as
        :class:`UnreliableIntervalWarning`).
    bootstrap : BootstrapResult or None
        The bootstrap result behind a bootstrap interval.
    package_version : str

    Examples
    --------
    >>> x = np.random.default_rng(0).weibull(1.5, 10_000) * 2.0
    >>> ws.confidence_interval(x, "mle")  # doctest: +ELLIPSIS
    IntervalEstimate(mle: k=1.5... [1.4..., 1.5...], λ=2.0..., 95% asymptotic)
    """

    estimate: WeibullFit
    confidence_interval: ConfidenceInterval
    standard_error: ShapeScale
    log_scale_se: float
    method: str
    detail: str
    confidence_level: float
    seed: int | None = None
    warning: str | None = None
    bootstrap: BootstrapResult | None = field(default=None, repr=False)
    package_version: str = __version__

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible summary (the bootstrap distribution left out)."""
        ci = self.confidence_interval
        return jsonable({
            "estimate": self.estimate.to_dict(),
            "shape": {"low": ci.shape.low, "high": ci.shape.high},
            "scale": {"low": ci.scale.low, "high": ci.scale.high},
            "standard_error": {"shape": self.standard_error.shape, "scale": self.standard_error.scale,
                               "log_scale": self.log_scale_se},
            "method": self.method,
            "detail": self.detail,
            "confidence_level": self.confidence_level,
            "seed": self.seed,
            "warning": self.warning,
            "package_version": self.package_version,
        })

    def to_row(self) -> dict[str, Any]:
        """The fit's tidy row with the interval columns, the errors and the method."""
        ci = self.confidence_interval
        row = self.estimate.to_row()
        row.update(dict(zip(INTERVAL_COLUMNS, (ci.shape.low, ci.shape.high, ci.scale.low, ci.scale.high,
                                                self.confidence_level), strict=True)))
        row.update({"shape_se": self.standard_error.shape, "scale_se": self.standard_error.scale,
                    "log_scale_se": self.log_scale_se, "interval_method": self.method,
                    "interval_detail": self.detail, "interval_warning": self.warning, "seed": self.seed})
        return row

    __repr__, __str__, _repr_html_, _repr_markdown_ = display_methods(interval_summary)


def wald_interval(
    estimate: WeibullFit, shape_se: float, log_scale_se: float, level: float
) -> ConfidenceInterval:
    """``shape +- z se`` and ``exp(ln scale +- z se(ln scale))`` at ``level``.

    Examples
    --------
    >>> fit = WeibullFit(shape=1.2, scale=0.02, estimator="mle", n=1000, n_used=1000)
    >>> ci = wald_interval(fit, 0.01, 0.02, 0.95)
    >>> round(ci.shape.low, 4), round(ci.scale.high / fit.scale, 4)
    (1.1804, 1.0400)
    """
    z = float(ndtri(0.5 + level / 2.0))
    log_scale = math.log(estimate.scale)
    return ConfidenceInterval(
        Interval(estimate.shape - z * shape_se, estimate.shape + z * shape_se),
        Interval(math.exp(log_scale - z * log_scale_se), math.exp(log_scale + z * log_scale_se)),
    )


def confidence_interval(
    x: Any,
    estimator: Any = DEFAULT_ESTIMATOR,
    *,
    method: str = "asymptotic",
    confidence_level: float = 0.95,
    asymptotic_options: Mapping[str, Any] | None = None,
    n_resamples: int = 999,
    bootstrap_method: str = "percentile",
    kind: str = "nonparametric",
    rng: Any = None,
    workers: int | None = None,
    **estimator_options: Any,
) -> IntervalEstimate:
    """Confidence intervals for the Weibull shape and scale of any registered estimator.

    The law is ``F(x) = 1 - exp(-(x / scale) ** shape)`` (``scipy.stats.weibull_min``).

    Parameters
    ----------
    x : array_like, torch.Tensor or Sample
        Positive sample (any shape, flattened; bfloat16 included); the estimator's
        bad-input options apply.
    estimator : str or callable, default "probability_plot"
        A registered estimator: its name, its entry or its function.
    method : {"asymptotic", "bootstrap"}, default "asymptotic"
        Large-sample (Wald) intervals from the estimator's own standard errors, or
        :func:`~weibull_stats.bootstrap` intervals.
    confidence_level : float, default 0.95
    asymptotic_options : Mapping, optional
        Options of the estimator's standard errors (quantile matching: ``bandwidth``,
        ``"hall_sheather"`` (default) or ``"bofinger"``; maximum likelihood: ``errors``,
        ``"sandwich"`` (default, any law) or ``"observed"``, the inverse observed information,
        the reliability-style Fisher interval that assumes Weibull data).
    n_resamples, bootstrap_method, kind, rng, workers
        For ``method="bootstrap"``: :func:`~weibull_stats.bootstrap`'s ``n_resamples``,
        ``method`` (``"percentile"``, ``"basic"``, ``"bca"``), ``kind``, ``rng``, ``workers``.
    **estimator_options
        Options of the estimator (``trim``, ``direction``, ``values="weights"``, ...).

    Returns
    -------
    IntervalEstimate

    Warns
    -----
    UnreliableIntervalWarning
        Asymptotic intervals of a fit of fewer than 100 values, or of fewer than 30
        distinct values (heavy ties): first-order theory does not hold there (see
        :mod:`weibull_stats.estimators._asymptotic`); the reason is recorded as ``warning``.

    Notes
    -----
    Asymptotic intervals cost the fit plus O(:data:`~weibull_stats.estimators.
    probability_plot._asymptotic.GRID`) for the order-statistic fits, one more pass over
    ``ln x`` for the log-moment fit and for the MLE's sandwich. Every estimator's default
    errors come from the data's own influence function, so the interval covers the
    estimator's population value under any law with the needed moments, Weibull or not (the
    MLE: the sandwich ``A^-1 B A^-1`` of the Weibull score; ``errors="observed"`` assumes
    Weibull data).

    Examples
    --------
    >>> w = np.random.default_rng(0).normal(0.0, 0.02, 100_000)
    >>> res = ws.confidence_interval(w, values="weights")
    >>> low, high = res.confidence_interval.shape
    >>> bool(low < 1.2054 < high), res.method
    (True, 'asymptotic')
    >>> boot = ws.confidence_interval(w, method="bootstrap", n_resamples=99, rng=1, values="weights")
    >>> boot.method, boot.detail
    ('bootstrap', 'percentile, 99 nonparametric resamples')
    """
    entry = resolve_estimator(estimator)
    entry.check_names(estimator_options)
    check_choice(method, "method", INTERVAL_METHODS)
    level = check_level(confidence_level)
    if method == "bootstrap":
        if asymptotic_options:
            raise ValueError("`asymptotic_options` apply to method='asymptotic' only")
        boot = bootstrap(x, entry, n_resamples=n_resamples, method=bootstrap_method, confidence_level=level,
                         kind=kind, rng=rng, workers=workers, **estimator_options)
        return IntervalEstimate(
            estimate=boot.estimate, confidence_interval=boot.confidence_interval,
            standard_error=boot.standard_error,
            log_scale_se=_log_scale_sd(boot), method="bootstrap",
            detail=f"{boot.method}, {boot.n_resamples} {boot.kind} resamples", confidence_level=level,
            seed=boot.seed, warning=interval_warning(boot.estimate), bootstrap=boot)
    if entry.asymptotic is None:
        raise ValueError(f"estimator {entry.name!r} has no asymptotic standard errors; "
                         "use method='bootstrap'")
    sample, own = entry.sample(x, estimator_options)
    result = entry.asymptotic(sample, **own, **dict(asymptotic_options or {}))
    fit = result.fit
    reason = reliability_reason(fit.n_used, result.distinct_used) or result.warning
    if not asymptotic_options:  # the study's caveats describe the default errors
        found = [c.text for c in entry.caveats if c.applies(sample.size, sample.storage)]
        reason = "; ".join(part for part in (reason, *found) if part) or None
    if reason is not None:
        warnings.warn(f"{entry.name} asymptotic interval: {reason}", UnreliableIntervalWarning, stacklevel=2)
    return IntervalEstimate(
        estimate=fit, confidence_interval=wald_interval(fit, result.shape_se, result.log_scale_se, level),
        standard_error=ShapeScale(result.shape_se, fit.scale * result.log_scale_se),
        log_scale_se=result.log_scale_se, method="asymptotic", detail=result.method, confidence_level=level,
        warning=interval_warning(fit, reason))


def interval_warning(fit: WeibullFit, reason: str | None = None) -> str | None:
    """Why an interval around ``fit`` is not to be trusted, or None: the fit's degenerate
    sample (``details["degenerate"]``, :mod:`weibull_stats.sample.degenerate`: a sample of two
    distinct values gives a tight interval around a shape the data cannot determine), then
    the interval's own ``reason``.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     fit = ws.fit_mle(np.repeat([1.0, 2.0], 500))
    >>> interval_warning(fit)
    '`x` has 2 distinct values (at least 3 are needed to estimate a Weibull shape)'
    """
    reasons = [text for text in (fit.details.get("degenerate"), reason) if text]
    return "; ".join(dict.fromkeys(reasons)) or None


def _log_scale_sd(result: BootstrapResult) -> float:
    """The sd of the bootstrap ``ln scale`` (0 for a single resample)."""
    logs = np.log(result.bootstrap_distribution[:, 1])
    return float(logs.std(ddof=1)) if logs.size > 1 else 0.0


__all__ = ["INTERVAL_METHODS", "IntervalEstimate", "UnreliableIntervalWarning", "confidence_interval",
           "interval_summary", "interval_warning", "wald_interval"]
