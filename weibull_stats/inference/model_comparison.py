"""Log-likelihood, AIC and BIC of the Weibull law against other positive families.

Every family is fitted by maximum likelihood with location 0, in closed form or by a
one-dimensional Newton iteration, in one or two passes over the data:

* Weibull: the registered maximum-likelihood estimator (``maximum_likelihood=True``);
  ``l = n ln k - n k ln lam + (k - 1) sum ln x - sum (x / lam)^k``.
* lognormal: ``mu = mean ln x``, ``sigma^2 = mean (ln x - mu)^2``;
  ``l = -sum ln x - n ln sigma - n/2 ln(2 pi) - n/2`` (``scipy.stats.lognorm(s=sigma,
  scale=exp(mu))``).
* gamma: shape ``a`` solves ``ln a - digamma(a) = ln mean x - mean ln x``, scale
  ``theta = mean x / a``; ``l = (a - 1) sum ln x - n a - n a ln theta - n lnGamma(a)``
  (``scipy.stats.gamma(a, scale=theta)``).
* half-normal: ``sigma^2 = mean x^2``; ``l = n/2 ln(2/pi) - n ln sigma - n/2``
  (``scipy.stats.halfnorm(scale=sigma)``).

``AIC = 2 p - 2 l`` and ``BIC = p ln n - 2 l`` with ``p`` free parameters.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from weibull_stats.core import fused
from weibull_stats.core.display import display_methods
from weibull_stats.estimators import sample_batch
from weibull_stats.estimators.registry import declared_estimator
from weibull_stats.inference.summaries import comparison_summary
from weibull_stats.sample.batch import RawRows
from weibull_stats.sample.checked import Sample, as_sample
from weibull_stats.sample.degenerate import DegenerateSampleWarning, degenerate_reason

FAMILIES: tuple[str, ...] = ("weibull", "lognormal", "gamma", "halfnormal")
#: Raw float32 or float64 samples from this size take their sums in one compiled pass
#: (:func:`weibull_stats.core.fused.log_sums`; the same sums to rounding).
FUSED_FROM = 1 << 16
#: ... while ``x / 2^e`` and its square stay normal floats: beyond, the numpy path frames the logarithms.
#: Raw samples from this size start the maximum-likelihood iteration from the fit of a
#: systematic subsample of about :data:`SUBSAMPLE_SIZE` values.
SUBSAMPLE_FROM = 1 << 22
SUBSAMPLE_SIZE = 1 << 18
_FUSED_RANGE = 2.0**450


@dataclass(frozen=True, slots=True)
class FamilyFit:
    """One family fitted by maximum likelihood (location 0).

    Attributes
    ----------
    family : str
        ``"weibull"``, ``"lognormal"``, ``"gamma"`` or ``"halfnormal"``.
    parameters : Mapping
        The fitted parameters in scipy's naming (``c``/``s``/``a`` and ``scale``).
    log_likelihood, aic, bic : float
    n_parameters : int
    """

    family: str
    parameters: Mapping[str, float]
    log_likelihood: float
    aic: float
    bic: float
    n_parameters: int


@dataclass(frozen=True, slots=True)
class ModelComparison:
    """Fits of every family in :data:`FAMILIES`, best (lowest AIC) first in ``ranking``.

    Attributes
    ----------
    fits : tuple of FamilyFit
        In the order of :data:`FAMILIES`.
    n : int
        Values used.
    """

    fits: tuple[FamilyFit, ...]
    n: int
    __repr__, __str__, _repr_html_, _repr_markdown_ = display_methods(comparison_summary)

    def __getitem__(self, family: str) -> FamilyFit:
        for item in self.fits:
            if item.family == family:
                return item
        raise KeyError(f"no family {family!r}; families: {', '.join(FAMILIES)}")

    @property
    def best(self) -> str:
        """Family with the lowest AIC."""
        return min(self.fits, key=lambda f: f.aic).family

    @property
    def delta_aic(self) -> dict[str, float]:
        """AIC of each family minus the Weibull AIC (positive: worse than Weibull)."""
        reference = self["weibull"].aic
        return {f.family: f.aic - reference for f in self.fits}

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "best": self.best,
            "families": {
                f.family: {
                    "parameters": dict(f.parameters),
                    "log_likelihood": f.log_likelihood,
                    "aic": f.aic,
                    "bic": f.bic,
                    "n_parameters": f.n_parameters,
                }
                for f in self.fits
            },
        }


def _gamma_shape(s: float) -> float:
    """Root of ``ln a - digamma(a) = s`` (``s > 0``) by Newton from Minka's start."""
    from scipy.special import polygamma, psi  # imported on use: the command line's --help loads no scipy

    a = (3.0 - s + math.sqrt((s - 3.0) ** 2 + 24.0 * s)) / (12.0 * s)
    for _ in range(100):
        f = math.log(a) - float(psi(a)) - s
        derivative = 1.0 / a - float(polygamma(1, a))
        step = f / derivative
        a_new = a - step
        if a_new <= 0:
            a_new = 0.5 * a
        if abs(a_new - a) <= 1e-14 * a:
            return a_new
        a = a_new
    return a


def _family(name: str, parameters: dict[str, float], ll: float, p: int, n: int) -> FamilyFit:
    return FamilyFit(name, parameters, ll, 2.0 * p - 2.0 * ll, p * math.log(n) - 2.0 * ll, p)


def compare_models(x: Any, /, **policy: Any) -> ModelComparison:
    """Maximum-likelihood fits of Weibull, lognormal, gamma and half-normal laws.

    Parameters
    ----------
    x : array_like or Sample
        Positive sample. A counts sample is handled by weighted sums over its distinct
        values, O(distinct values).
    **policy
        ``values``, ``nonfinite``, ``zeros`` as for the estimators (a :class:`Sample` given
        without them is used under its own policy).

    Returns
    -------
    ModelComparison

    Examples
    --------
    >>> from weibull_stats.inference.model_comparison import compare_models
    >>> x = np.abs(np.random.default_rng(0).normal(size=5000))
    >>> compare_models(x).best
    'halfnormal'
    """
    sample = x if isinstance(x, Sample) and not policy else as_sample(x, **policy)
    reason = degenerate_reason(sample)
    if reason is not None:
        warnings.warn(f"{reason}; the model comparison is not reliable", DegenerateSampleWarning,
                      stacklevel=2)
    return sample_comparison(sample)


def sample_comparison(sample: Sample, *, start: float | None = None) -> ModelComparison:
    """:func:`compare_models` of a checked sample, without its degenerate-sample warning (for
    callers that have warned already, such as :func:`~weibull_stats.goodness_of_fit`).

    ``start``: a shape to start the maximum-likelihood iteration from (such as the fit a
    goodness-of-fit test made); the root, and so every number, is the same without it. A raw
    sample of :data:`SUBSAMPLE_FROM` values or more first fits every m-th value from it."""
    kernel = declared_estimator("maximum_likelihood").kernel
    batch = sample_batch(sample)
    if sample.magnitudes is not None and sample.magnitudes.size >= SUBSAMPLE_FROM:
        # start from the fit of every m-th value (about SUBSAMPLE_SIZE of them): a start that
        # close saves the long iteration's first passes (the root is the same)
        every = sample.magnitudes.size // SUBSAMPLE_SIZE
        rough = kernel(RawRows(np.ascontiguousarray(sample.magnitudes[::every])[None, :]), start=start)
        start = float(rough.shape[0]) if bool(rough.defined[0]) else start
    lines = kernel(batch) if start is None else kernel(batch, start=start)
    if not bool(lines.defined[0]):
        raise ValueError(lines.reasons.get(0, "the Weibull fit is undefined"))
    shape, scale = float(lines.shape[0]), float(lines.scale[0])
    exponent = frame_exponent(scale)
    lam = math.ldexp(scale, -exponent)
    sums: tuple[int, float, float, float, float, float] | None
    if sample.counts is not None:
        assert sample.distinct is not None
        sums = _count_sums(np.ldexp(sample.distinct, -exponent), sample.counts, shape, lam)
    else:
        assert sample.magnitudes is not None
        sums = _fused_sums(sample.magnitudes, shape, scale, exponent)
        if sums is None:
            magnitudes = sample.magnitudes.astype(np.float64, copy=False)
            sums = _raw_sums(np.ldexp(magnitudes, -exponent), shape, lam, _frame_logs(magnitudes, exponent))
    return _compare(*sums, shape, lam, exponent)


def _fused_sums(magnitudes: np.ndarray, k: float, scale: float, exponent: int
                ) -> tuple[int, float, float, float, float, float] | None:
    """:func:`_raw_sums` of a large float32 or float64 sample in one compiled pass without a
    float64 copy, or None where the numpy path applies (small or other samples, or data whose
    framed values or squares would leave the normal floats).

    ``sum (x / lam)^k`` at the maximum-likelihood fit is ``n``: the kernel's scale is
    ``lam(k) = (mean x^k)^(1/k)`` at its shape (the profile), so it is taken as ``n`` (the numpy
    path's sum equals it to rounding)."""
    n = magnitudes.size
    if n < FUSED_FROM or magnitudes.dtype not in (np.float32, np.float64) or abs(exponent) > 900:
        return None
    factor = math.ldexp(1.0, -exponent)
    if magnitudes.dtype == np.float64:
        low, high = float(magnitudes.min()) * factor, float(magnitudes.max()) * factor
        if not 1.0 / _FUSED_RANGE < low <= high < _FUSED_RANGE:
            return None
    log_scale = math.log(scale)
    s1, s2, sx, sxx = fused.log_sums(magnitudes, log_scale, factor)
    mean_u = s1 / n  # u = ln x - ln scale = ln(x / 2^e) - ln lam
    sum_log = s1 + n * math.log(math.ldexp(scale, -exponent))
    return n, sum_log, sx / n, float(n), s2 / n - mean_u * mean_u, sxx


def frame_exponent(scale: float) -> int:
    """``e`` with ``2^e`` nearest ``scale`` in ratio: the data are compared as ``x / 2^e``.

    Dividing by a power of two is exact, and it keeps ``x^2``, ``mean x`` and the logarithms
    of data near the float64 limits (``1e-200``, ``1e200``) in range and at full precision;
    every family is a scale family, so the log-likelihoods of ``x`` are those of ``x / 2^e``
    minus ``n e ln 2`` and the scale parameters are multiplied back by ``2^e``.

    Examples
    --------
    >>> frame_exponent(1.2), frame_exponent(1e-200), frame_exponent(3e200)
    (0, -664, 666)
    """
    return round(math.log2(scale))


def _frame_logs(magnitudes: np.ndarray, exponent: int) -> np.ndarray | None:
    """``ln(x / 2^exponent)`` computed as ``ln x - exponent ln 2`` where some ``x / 2^exponent``
    is not a normal float64 (data spanning more orders of magnitude than float64 holds either
    side of the scale), else None (the logarithms of the framed data are exact enough)."""
    if exponent == 0 or magnitudes.size == 0:
        return None
    low, high = float(magnitudes.min()), float(magnitudes.max())
    tiny, huge = np.finfo(np.float64).tiny, np.finfo(np.float64).max
    if math.ldexp(low, -exponent) >= tiny and math.ldexp(high, -exponent) <= huge:
        return None
    return np.log(magnitudes) - exponent * math.log(2.0)


def _raw_sums(data: np.ndarray, k: float, lam: float, log_x: np.ndarray | None = None
              ) -> tuple[int, float, float, float, float, float]:
    """``n``, ``sum ln x``, ``mean x``, ``sum (x/lam)^k``, ``mean (ln x - mean ln x)^2``, ``sum x^2``
    of float64 ``data`` (already in the frame of :func:`frame_exponent`; ``log_x``, their
    logarithms where :func:`_frame_logs` computed them)."""
    n = data.size
    if log_x is None:
        log_x = np.log(data)
    sum_log = float(log_x.sum())
    mean_log = sum_log / n
    z = float(np.exp(k * (log_x - math.log(lam))).sum())
    return (n, sum_log, float(data.mean()), z, float(np.mean((log_x - mean_log) ** 2)),
            float(np.dot(data, data)))


def _count_sums(values: np.ndarray, counts: np.ndarray, k: float, lam: float
                ) -> tuple[int, float, float, float, float, float]:
    """:func:`_raw_sums` of a counts sample as weighted sums over its distinct values."""
    c = counts.astype(np.float64)
    n = int(counts.sum())
    log_x = np.log(values)
    sum_log = float((c * log_x).sum())
    mean_log = sum_log / n
    z = float((c * np.exp(k * (log_x - math.log(lam)))).sum())
    return (n, sum_log, float((c * values).sum()) / n, z, float((c * (log_x - mean_log) ** 2).sum()) / n,
            float((c * values * values).sum()))


def _compare(n: int, sum_log: float, mean_x: float, z: float, var_log: float, sum_sq: float, k: float,
             lam: float, exponent: int) -> ModelComparison:
    """The four fits from the sums of ``x / 2^exponent``, restored to the units of ``x``."""
    from scipy.special import gammaln  # imported on use: the command line's --help loads no scipy

    mean_log = sum_log / n
    ll_weibull = n * math.log(k) - n * k * math.log(lam) + (k - 1.0) * sum_log - z

    sigma_log = math.sqrt(var_log)
    ll_lognormal = -sum_log - n * math.log(sigma_log) - 0.5 * n * math.log(2 * math.pi) - 0.5 * n

    a = _gamma_shape(math.log(mean_x) - mean_log)
    theta = mean_x / a
    ll_gamma = (a - 1.0) * sum_log - n * a - n * a * math.log(theta) - n * float(gammaln(a))

    sigma_half = math.sqrt(sum_sq / n)
    ll_half = 0.5 * n * math.log(2.0 / math.pi) - n * math.log(sigma_half) - 0.5 * n

    jacobian = n * exponent * math.log(2.0)  # ln f_x(x) = ln f_y(x / 2^e) - e ln 2, per value
    ll_weibull, ll_lognormal, ll_gamma, ll_half = (
        ll - jacobian for ll in (ll_weibull, ll_lognormal, ll_gamma, ll_half))
    return ModelComparison(
        fits=(
            _family("weibull", {"c": k, "scale": math.ldexp(lam, exponent)}, ll_weibull, 2, n),
            _family("lognormal", {"s": sigma_log, "scale": math.ldexp(math.exp(mean_log), exponent)},
                    ll_lognormal, 2, n),
            _family("gamma", {"a": a, "scale": math.ldexp(theta, exponent)}, ll_gamma, 2, n),
            _family("halfnormal", {"scale": math.ldexp(sigma_half, exponent)}, ll_half, 1, n),
        ),
        n=n,
    )
