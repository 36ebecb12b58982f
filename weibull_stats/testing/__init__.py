"""Hypothesis strategies and invariant checks for Weibull estimators, for use in CI.

Users who build on weibull-stats (their own estimators, pipelines that fit weight matrices)
can reuse what our own test suite uses:

* strategies with *bounded* floats and sizes: :func:`weibull_samples`,
  :func:`weight_matrices`, :func:`tied_samples`;
* invariant checks that raise :class:`AssertionError` with a message naming the
  estimator, the property and the numbers: :func:`check_scale_equivariance`,
  :func:`check_power_equivariance`, :func:`check_permutation_invariance`,
  :func:`check_dtype_invariance`.

Every check takes an estimator as a registry name (``"mle"``), a registered
:class:`~weibull_stats.Estimator`, or any callable ``f(x, **options) -> WeibullFit``; a sample
``x`` it accepts; and ``**options``, passed to the estimator for both fits. It returns the two
fits it compared, and raises :class:`AssertionError` naming the estimator, the property and the
numbers where they differ by more than ``rtol``.

Which invariances hold exactly
------------------------------
Every registered estimator is scale equivariant (shape unchanged, scale multiplied by the
factor) and permutation invariant. Power equivariance, ``x -> x ** a`` giving
``shape / a`` and ``scale ** a``, holds for estimators that depend on the data only
through order statistics or ``ln x`` (probability plot, quantile matching with a pure
order-statistic ``method`` such as ``"lower"``, maximum likelihood, log moments). It does
not hold for the histogram mode (its bins are fixed in ``log10 x``; only factors that are
whole bin widths are exactly equivariant) nor for quantile matching with an interpolating
``method`` (the default ``"linear"`` interpolates in ``x``, not in ``ln x``).

Examples
--------
>>> from hypothesis import given, settings
>>> from weibull_stats.testing import check_scale_equivariance, weibull_samples
>>> @settings(max_examples=5, derandomize=True, database=None, deadline=None)
... @given(weibull_samples(max_size=200))
... def test_mle_scale(x):
...     check_scale_equivariance("mle", x)
>>> test_mle_scale()
"""

from weibull_stats.testing.invariants import (
    EstimatorLike,
    check_dtype_invariance,
    check_permutation_invariance,
    check_power_equivariance,
    check_scale_equivariance,
)
from weibull_stats.testing.strategies import tied_samples, weibull_samples, weight_matrices

__all__ = [
    "EstimatorLike",
    "check_dtype_invariance",
    "check_permutation_invariance",
    "check_power_equivariance",
    "check_scale_equivariance",
    "tied_samples",
    "weibull_samples",
    "weight_matrices",
]
