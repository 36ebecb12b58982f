"""Invariant checks for Weibull estimators: each raises AssertionError naming what failed.

Plain functions of a sample (no Hypothesis needed): call them inside your own property
tests, for example with the strategies of :mod:`weibull_stats.testing.strategies`. The public
names are those of :mod:`weibull_stats.testing`.
What every check takes and returns is said once, in :mod:`weibull_stats.testing`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from weibull_stats.estimators.registry import get_estimator
from weibull_stats.estimators.results import WeibullFit

EstimatorLike = str | Callable[..., WeibullFit]


# --------------------------------------------------------------------------- checks
def _resolve(estimator: EstimatorLike) -> tuple[str, Callable[..., WeibullFit]]:
    if isinstance(estimator, str):
        return estimator, get_estimator(estimator)
    return str(getattr(estimator, "name", getattr(estimator, "__name__", repr(estimator)))), estimator


def _assert_close(name: str, prop: str, what: str, got: float, expected: float, rtol: float) -> None:
    difference = abs(got - expected) / abs(expected) if expected != 0 else abs(got)
    if not difference <= rtol:
        raise AssertionError(
            f"{name}: {prop} failed: {what} is {got!r}, expected {expected!r} "
            f"(relative difference {difference:.3g} > rtol {rtol:.3g})"
        )


def check_scale_equivariance(
    estimator: EstimatorLike, x: Any, *, factor: float = 10.0**0.875, rtol: float = 1e-9, **options: Any
) -> tuple[WeibullFit, WeibullFit]:
    """Assert that fitting ``factor * x`` keeps the shape and multiplies the scale.

    Parameters
    ----------
    estimator, x, **options
        As in every check of :mod:`weibull_stats.testing`: the estimator, a sample it accepts,
        and the options passed to it for both fits.
    factor : float, default ``10 ** 0.875``
        Positive multiplier. The default is 64 bin widths of the paper's log10 histogram
        (``14 / 1024 * 64 = 0.875`` decades), so the histogram mode is equivariant too.
    rtol : float, default 1e-9
        Relative tolerance on shape and on ``scale(factor * x) / factor``.

    Returns
    -------
    (WeibullFit, WeibullFit)
        The fits of ``x`` and of ``factor * x``.

    Examples
    --------
    >>> x = np.random.default_rng(0).weibull(1.5, 500)
    >>> a, b = check_scale_equivariance("probability_plot", x, factor=1e3)
    >>> bool(abs(b.scale / a.scale - 1e3) < 1e-6)
    True
    """
    name, fit = _resolve(estimator)
    array = np.asarray(x)
    base = fit(array, **options)
    scaled = fit(array * np.asarray(factor, dtype=array.dtype), **options)
    prop = f"scale equivariance (factor {factor!r})"
    _assert_close(name, prop, "shape", scaled.shape, base.shape, rtol)
    _assert_close(name, prop, "scale / factor", scaled.scale / factor, base.scale, rtol)
    return base, scaled


def check_power_equivariance(
    estimator: EstimatorLike, x: Any, *, power: float = 2.0, rtol: float = 1e-9, **options: Any
) -> tuple[WeibullFit, WeibullFit]:
    """Assert that fitting ``x ** power`` gives ``shape / power`` and ``scale ** power``.

    If ``X ~ Weibull(k, lam)`` then ``X ** a ~ Weibull(k / a, lam ** a)``; an estimator that
    depends on the data only through the order statistics or ``ln x`` inherits this
    exactly. It does not hold for the histogram mode or for interpolated quantiles (see
    the module documentation).

    Parameters
    ----------
    estimator, x, **options
        As in every check: the estimator, a sample it accepts, and its options.
    power : float, default 2.0
        Positive exponent ``a``.
    rtol : float, default 1e-9
        Relative tolerance on ``shape * power`` and on ``scale ** (1 / power)``.

    Returns
    -------
    (WeibullFit, WeibullFit)
        The fits of ``x`` and of ``x ** power``.

    Examples
    --------
    >>> x = np.random.default_rng(0).weibull(1.5, 500)
    >>> a, b = check_power_equivariance("mle", x, power=0.5)
    >>> round(b.shape / a.shape, 6)
    2.0
    """
    name, fit = _resolve(estimator)
    array = np.asarray(x, dtype=np.float64)
    base = fit(array, **options)
    powered = fit(array**power, **options)
    prop = f"power equivariance (power {power!r})"
    _assert_close(name, prop, "shape * power", powered.shape * power, base.shape, rtol)
    _assert_close(name, prop, "scale ** (1 / power)", powered.scale ** (1.0 / power), base.scale, rtol)
    return base, powered


def check_permutation_invariance(
    estimator: EstimatorLike, x: Any, *, rng: np.random.Generator | int | None = 0, rtol: float = 1e-12,
    **options: Any,
) -> tuple[WeibullFit, WeibullFit]:
    """Assert that the fit does not depend on the order of the values.

    Parameters
    ----------
    estimator, x, **options
        As in every check; ``x`` is flattened before shuffling.
    rng : numpy.random.Generator, int or None, default 0
        Source of the permutation, normalised with :func:`numpy.random.default_rng`.
    rtol : float, default 1e-12
        Relative tolerance (sums in another order round differently).

    Returns
    -------
    (WeibullFit, WeibullFit)
        The fits of ``x`` and of the shuffled values.

    Examples
    --------
    >>> x = np.random.default_rng(0).weibull(0.7, 300)
    >>> a, b = check_permutation_invariance("log_moment", x, rng=1)
    """
    rng = np.random.default_rng(rng)
    name, fit = _resolve(estimator)
    array = np.asarray(x).reshape(-1)
    base = fit(array, **options)
    shuffled = fit(rng.permutation(array), **options)
    _assert_close(name, "permutation invariance", "shape", shuffled.shape, base.shape, rtol)
    _assert_close(name, "permutation invariance", "scale", shuffled.scale, base.scale, rtol)
    return base, shuffled


def check_dtype_invariance(
    estimator: EstimatorLike, x: Any, *, dtype: Any = np.float32, rtol: float = 1e-9, **options: Any
) -> tuple[WeibullFit, WeibullFit]:
    """Assert that the same values give the same fit whether stored in ``dtype`` or float64.

    ``x`` is rounded to ``dtype`` once; the fit of that array is compared with the fit of
    the same numbers widened to float64. Estimators compute in float64 whatever the input
    dtype, so only the order of float64 operations may differ: the default tolerance is
    1e-9. (Rounding float64 data to float32 changes every value by up to ``2**-24``
    relative and so the fit by about that much; that is a change of data, not of dtype.)

    Parameters
    ----------
    estimator, x, **options
        As in every check; ``x`` must stay valid after rounding to ``dtype``.
    dtype : numpy dtype, default float32
        float32 or float16.
    rtol : float, default 1e-9
        Relative tolerance on shape and scale.

    Returns
    -------
    (WeibullFit, WeibullFit)
        The fits of the ``dtype`` array and of its float64 copy.

    Examples
    --------
    >>> x = np.random.default_rng(0).weibull(1.2, 400)
    >>> a, b = check_dtype_invariance("probability_plot", x, dtype=np.float16)
    """
    name, fit = _resolve(estimator)
    narrow = np.asarray(x).astype(dtype)
    base = fit(narrow, **options)
    wide = fit(narrow.astype(np.float64), **options)
    prop = f"dtype invariance ({np.dtype(dtype).name} vs float64)"
    _assert_close(name, prop, "shape", base.shape, wide.shape, rtol)
    _assert_close(name, prop, "scale", base.scale, wide.scale, rtol)
    return base, wide
