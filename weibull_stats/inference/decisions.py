r"""Equivalence decisions against a band of reference values, and multiple-testing corrections.

At ``n = 10^7`` every point hypothesis about ``k`` is rejected; the question a paper asks is
whether ``k`` lies within a band: the estimator's own anchor ``+- delta``, or a published
range (:func:`~weibull_stats.inference.published.resolve_band`). Two one-sided tests (TOST;
Schuirmann 1987) at level ``alpha`` with a normal estimate ``k_hat`` of standard error ``se``
and band ``[L, U]``:

* ``p_inside = max(1 - Phi((k_hat - L) / se), Phi((k_hat - U) / se))``: the p-value of
  ``H0: k outside [L, U]``; ``p_inside < alpha`` iff the ``1 - 2 alpha`` interval
  ``k_hat +- z_{1-alpha} se`` lies inside the band: verdict ``"inside"``;
* ``p_outside = min(1 - Phi((k_hat - U) / se), Phi((k_hat - L) / se))``: the p-value of
  ``H0: k in [L, U]``; ``p_outside < alpha`` iff that interval lies entirely above ``U`` or
  below ``L``: verdict ``"outside"``;
* otherwise ``"undecided"`` (the data cannot tell at this level). The two rejections
  exclude each other.

:func:`equivalence_tests` is the vectorised form (arrays of estimates and standard errors,
one band or one per element) for the hundreds of matrices of a scan; :func:`equivalence`
decides for one fit. :func:`adjust_pvalues` corrects a scan's p-values (goodness of fit,
equivalence) with statsmodels' ``multipletests`` (Benjamini–Hochberg by default).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr

from weibull_stats.core.constants import HALFNORMAL_ANCHOR_SHAPE
from weibull_stats.estimators.results import WeibullFit
from weibull_stats.inference.bootstrap import BootstrapResult
from weibull_stats.inference.confidence import IntervalEstimate
from weibull_stats.inference.intervals import check_between
from weibull_stats.inference.published import NOT_COMPARABLE, follows_protocol, resolve_band

#: The three verdicts.
VERDICTS: tuple[str, ...] = ("inside", "outside", "undecided")


def _check_alpha(level: Any) -> float:
    return check_between(level, "level", high=0.5)


def _check_band(low: np.ndarray, high: np.ndarray) -> None:
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        raise ValueError("`band` must be finite")
    if np.any(low > high):
        raise ValueError(f"`band` must have low <= high; got low {np.asarray(low).tolist()}, "
                         f"high {np.asarray(high).tolist()}")


@dataclass(frozen=True, slots=True)
class EquivalenceTable:
    """TOST decisions for many estimates (one per matrix of a scan).

    Attributes
    ----------
    verdict : numpy.ndarray
        ``"inside"``, ``"outside"`` or ``"undecided"`` per estimate (``""`` where the
        estimate or its error is not finite).
    pvalue_inside, pvalue_outside : numpy.ndarray
        p-values of ``H0: outside the band`` and of ``H0: inside the band``.
    low, high : numpy.ndarray
        The band of each estimate.
    level : float
    """

    verdict: np.ndarray
    pvalue_inside: np.ndarray
    pvalue_outside: np.ndarray
    low: np.ndarray
    high: np.ndarray
    level: float

    def counts(self) -> dict[str, int]:
        """How many estimates got each verdict."""
        return {v: int(np.count_nonzero(self.verdict == v)) for v in VERDICTS}


def equivalence_tests(
    estimates: Any, standard_errors: Any, band: Any, *, level: float = 0.05
) -> EquivalenceTable:
    """TOST verdicts of arrays of estimates with their standard errors against ``band``.

    Parameters
    ----------
    estimates, standard_errors : array_like
        Same shape; errors positive (a non-finite entry gets verdict ``""`` and ``nan``
        p-values, never a silent decision).
    band : (low, high)
        Scalars, or arrays broadcasting against ``estimates`` (one band per matrix kind).
    level : float, default 0.05
        ``alpha`` of each one-sided test.

    Returns
    -------
    EquivalenceTable

    Examples
    --------
    >>> table = equivalence_tests([1.195, 1.30, 1.203], [0.002, 0.01, 0.01], (1.186, 1.204))
    >>> table.verdict.tolist()
    ['inside', 'outside', 'undecided']
    """
    alpha = _check_alpha(level)
    k = np.asarray(estimates, dtype=np.float64)
    se = np.asarray(standard_errors, dtype=np.float64)
    if k.shape != se.shape:
        raise ValueError(f"`estimates` {k.shape} and `standard_errors` {se.shape} differ in shape")
    if np.any(se[np.isfinite(se)] <= 0):
        raise ValueError("`standard_errors` must be positive")
    low, high = (np.broadcast_to(np.asarray(b, dtype=np.float64), k.shape) for b in band)
    _check_band(low, high)
    ok = np.isfinite(k) & np.isfinite(se)
    with np.errstate(invalid="ignore", divide="ignore"):
        above_low = 1.0 - ndtr((k - low) / se)  # H0: k <= L
        below_high = ndtr((k - high) / se)  # H0: k >= U
        p_inside = np.maximum(above_low, below_high)
        p_outside = np.minimum(1.0 - ndtr((k - high) / se), ndtr((k - low) / se))
    verdict = np.where(p_inside < alpha, "inside", np.where(p_outside < alpha, "outside", "undecided"))
    nan = np.float64(np.nan)
    return EquivalenceTable(
        verdict=np.where(ok, verdict, ""), pvalue_inside=np.where(ok, p_inside, nan),
        pvalue_outside=np.where(ok, p_outside, nan), low=np.array(low), high=np.array(high), level=alpha)


@dataclass(frozen=True, slots=True)
class EquivalenceResult:
    """The TOST decision for one fit's shape.

    Attributes
    ----------
    verdict : {"inside", "outside", "undecided"}
    estimate, standard_error : float
        The shape and its standard error.
    band : (float, float)
    band_source : str
        Where the band came from (given, the anchor ``+- delta``, a published kind).
    level : float
    pvalue_inside, pvalue_outside : float
        See :func:`equivalence_tests`.
    estimator : str
    interval_method : str
        Where the standard error came from.
    """

    verdict: str
    estimate: float
    standard_error: float
    band: tuple[float, float]
    band_source: str
    level: float
    pvalue_inside: float
    pvalue_outside: float
    estimator: str
    interval_method: str

    def __repr__(self) -> str:
        return (f"EquivalenceResult({self.estimator}: {self.verdict}, k={self.estimate:.5g} "
                f"(se {self.standard_error:.2g}), band=[{self.band[0]:.5g}, {self.band[1]:.5g}], "
                f"alpha={self.level:g})")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dictionary."""
        return {"verdict": self.verdict, "estimate": self.estimate, "standard_error": self.standard_error,
                "band": list(self.band), "band_source": self.band_source, "level": self.level,
                "pvalue_inside": self.pvalue_inside, "pvalue_outside": self.pvalue_outside,
                "estimator": self.estimator, "interval_method": self.interval_method}


def _shape_and_error(result: Any) -> tuple[WeibullFit, float, str]:
    if isinstance(result, IntervalEstimate):
        return result.estimate, result.standard_error.shape, result.method
    if isinstance(result, BootstrapResult):
        return result.estimate, result.standard_error.shape, "bootstrap"
    if isinstance(result, WeibullFit):
        if result.shape_se is None:
            raise ValueError(f"a {result.estimator} fit has no standard error; pass "
                             "weibull_stats.confidence_interval(x, ...) instead of the fit")
        return result, result.shape_se, "observed information"
    raise ValueError("`result` must be an IntervalEstimate, a BootstrapResult or a WeibullFit with "
                     f"standard errors; got {type(result).__name__}")


def equivalence(
    result: Any,
    band: Sequence[float] | None = None,
    *,
    anchor: float | None = None,
    delta: float | None = None,
    kind: str | None = None,
    layout: str = "all",
    level: float = 0.05,
) -> EquivalenceResult:
    """TOST decision whether a fit's shape lies inside a band of reference values.

    Parameters
    ----------
    result : IntervalEstimate, BootstrapResult or WeibullFit
        The estimate and its standard error (:func:`~weibull_stats.confidence_interval`).
    band : (low, high), optional
        The band itself. Otherwise one of:
    anchor, delta : float, optional
        The band ``anchor +- delta``; ``anchor`` defaults to the HalfNormal anchor ``k0 =
        1.2054343190`` for fits on the published protocol (others must give their own,
        e.g. ``weibull_stats.validation.anchors.default_anchor(name)[0]``).
    kind : str, optional
        The published band of a matrix kind
        (:func:`~weibull_stats.inference.published.resolve_band`), for a fit on the published
        protocol only (estimator and options: ``Estimator.published_protocol``).
    layout : str, default "all"
        With ``kind``: the attention layout whose models the band is drawn from.
    level : float, default 0.05
        Level of each of the two one-sided tests: ``inside`` when the ``1 - 2 level``
        interval of the shape lies within the band.

    Returns
    -------
    EquivalenceResult
        The verdict (``inside``, ``outside`` or ``undecided``), the two p-values and the
        band with where it came from.

    Examples
    --------
    >>> w = np.random.default_rng(0).normal(0.0, 0.02, 1_000_000)
    >>> ci = ws.confidence_interval(w, values="weights")
    >>> ws.equivalence(ci, delta=0.01).verdict, ws.equivalence(ci, kind="q").verdict
    ('inside', 'outside')
    """
    fit, se, how = _shape_and_error(result)
    shape, name = fit.shape, fit.estimator
    on_protocol = follows_protocol(name, fit.options)
    given = sum(x is not None for x in (band, delta, kind))
    if given != 1:
        raise ValueError("give exactly one of `band`, `delta` (with an optional `anchor`) or `kind`")
    if anchor is not None and delta is None:
        raise ValueError("`anchor` needs `delta`: the band is anchor +- delta")
    if band is not None:
        low, high = (float(b) for b in band)
        source = "given"
    elif kind is not None:
        if not on_protocol:
            raise ValueError(f"`kind`: the published bands are {NOT_COMPARABLE} ({name} with "
                             f"{dict(fit.options)}); pass `band` or `anchor` and `delta` instead")
        published = resolve_band(layout, kind)
        if not published.found:
            raise ValueError(f"`kind`: {published.text}")
        low, high = published.bounds
        source = f"published {kind} band {published.text}, DATABASE v9.1"
    else:
        assert delta is not None
        if not (math.isfinite(float(delta)) and float(delta) > 0):
            raise ValueError(f"`delta` must be positive; got {delta!r}")
        if anchor is None:
            if not on_protocol:
                raise ValueError(f"the HalfNormal anchor k0 describes the published protocol, not {name!r} "
                                 "with these options; pass "
                                 f"anchor=weibull_stats.validation.anchors.default_anchor({name!r})[0]")
            anchor = HALFNORMAL_ANCHOR_SHAPE
        low, high = float(anchor) - float(delta), float(anchor) + float(delta)
        source = f"anchor {float(anchor):.10g} +- {float(delta):g}"
    table = equivalence_tests([shape], [se], (low, high), level=level)
    return EquivalenceResult(
        verdict=str(table.verdict[0]), estimate=shape, standard_error=se, band=(low, high),
        band_source=source, level=table.level, pvalue_inside=float(table.pvalue_inside[0]),
        pvalue_outside=float(table.pvalue_outside[0]), estimator=name, interval_method=how)


@dataclass(frozen=True, slots=True)
class AdjustedPValues:
    """p-values corrected for multiple testing.

    Attributes
    ----------
    adjusted : numpy.ndarray
        Adjusted p-values (``nan`` where the input was ``nan``).
    rejected : numpy.ndarray
        Rejections at ``alpha`` after the correction (False where the input was ``nan``).
    method : str
        statsmodels' ``multipletests`` method (``"fdr_bh"``: Benjamini–Hochberg).
    alpha : float
        The false discovery rate (or family-wise level) of ``rejected``.
    n_tests : int
        Finite p-values that entered the correction.
    """

    adjusted: np.ndarray
    rejected: np.ndarray
    method: str
    alpha: float
    n_tests: int


def adjust_pvalues(pvalues: Any, method: str = "fdr_bh", *, alpha: float = 0.05) -> AdjustedPValues:
    """Correct p-values for multiple testing with ``statsmodels.stats.multitest.multipletests``.

    ``nan`` entries (matrices without a p-value) are left out of the correction and stay
    ``nan``; they are not counted as tests.

    Examples
    --------
    >>> res = adjust_pvalues([0.01, 0.04, 0.03, 0.5, float("nan")])
    >>> [round(float(p), 4) for p in res.adjusted[:4]], res.rejected.tolist(), res.n_tests
    ([0.04, 0.0533, 0.0533, 0.5], [True, False, False, False, False], 4)
    """
    # statsmodels is imported when first used: it adds about a second to `import weibull_stats`
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(pvalues, dtype=np.float64).reshape(-1)
    finite = np.isfinite(p)
    if np.any((p[finite] < 0) | (p[finite] > 1)):
        raise ValueError("`pvalues` must lie in [0, 1]")
    alpha = check_between(alpha, "alpha")
    adjusted = np.full(p.shape, np.nan)
    rejected = np.zeros(p.shape, dtype=bool)
    if finite.any():
        reject, corrected, _, _ = multipletests(p[finite], alpha=alpha, method=method)
        adjusted[finite] = corrected
        rejected[finite] = reject
    return AdjustedPValues(adjusted=adjusted, rejected=rejected, method=method, alpha=alpha,
                           n_tests=int(finite.sum()))


__all__ = ["VERDICTS", "AdjustedPValues", "EquivalenceResult", "EquivalenceTable", "adjust_pvalues",
           "equivalence", "equivalence_tests"]
