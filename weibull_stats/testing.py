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
:class:`~weibull_stats.Estimator`, or any callable ``f(x, **options) -> WeibullFit``, and
returns the two fits it compared.

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

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from weibull_stats.registry import get_estimator
from weibull_stats.results import WeibullFit

__all__ = [
    "check_dtype_invariance",
    "check_permutation_invariance",
    "check_power_equivariance",
    "check_scale_equivariance",
    "tied_samples",
    "weibull_samples",
    "weight_matrices",
]

EstimatorLike = str | Callable[..., WeibullFit]


# --------------------------------------------------------------------------- strategies
def _bounded(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)


def _draw_weibull(
    draw: Callable[[st.SearchStrategy[Any]], Any],
    shape: tuple[float, float],
    scale: tuple[float, float],
    min_size: int,
    max_size: int,
) -> np.ndarray:
    k = draw(_bounded(*shape))
    log_scale = draw(_bounded(math.log10(scale[0]), math.log10(scale[1])))
    size = draw(st.integers(min_value=min_size, max_value=max_size))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    return np.random.default_rng(seed).weibull(k, size) * 10.0**log_scale


def _usable(x: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(x)) and np.all(x > 0) and np.unique(x).size >= 3)


@st.composite
def weibull_samples(
    draw: Callable[[st.SearchStrategy[Any]], Any],
    *,
    shape: tuple[float, float] = (0.3, 5.0),
    scale: tuple[float, float] = (1e-6, 1e6),
    min_size: int = 20,
    max_size: int = 1000,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Weibull samples with shape and scale drawn from bounded ranges.

    The shape is drawn uniformly from ``shape``, the scale log-uniformly from ``scale``,
    the size from ``[min_size, max_size]``, and the values from
    ``numpy.random.default_rng(seed).weibull`` with a drawn seed (so Hypothesis shrinks
    sizes and parameters, and every example is reproducible).

    Parameters
    ----------
    shape : (float, float), default (0.3, 5.0)
        Bounds of the Weibull shape.
    scale : (float, float), default (1e-6, 1e6)
        Bounds of the Weibull scale (both positive).
    min_size, max_size : int, default 20 and 1000
        Bounds of the sample size.
    dtype : numpy dtype, default float64
        dtype of the returned array (values are drawn in float64 and rounded).

    Returns
    -------
    hypothesis.strategies.SearchStrategy of numpy.ndarray
        One-dimensional, finite, strictly positive, at least 3 distinct values.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=3, derandomize=True, database=None)
    ... @given(weibull_samples(min_size=30, max_size=40, dtype=np.float32))
    ... def test(x):
    ...     assert x.dtype == np.float32 and 30 <= x.size <= 40 and (x > 0).all()
    >>> test()
    """
    x = _draw_weibull(draw, shape, scale, min_size, max_size).astype(dtype)
    assume(_usable(x))
    return x


@st.composite
def tied_samples(
    draw: Callable[[st.SearchStrategy[Any]], Any],
    *,
    mantissa_bits: tuple[int, int] = (1, 7),
    shape: tuple[float, float] = (0.3, 5.0),
    scale: tuple[float, float] = (1e-6, 1e6),
    min_size: int = 20,
    max_size: int = 1000,
) -> np.ndarray:
    """Weibull samples with heavy ties, like bfloat16 weights.

    A :func:`weibull_samples` draw in float32 is truncated to ``b`` explicit mantissa bits
    (``b`` drawn from ``mantissa_bits``; bfloat16 has 7), which leaves only a few
    distinct values per octave; returned as float64.

    Parameters
    ----------
    mantissa_bits : (int, int), default (1, 7)
        Bounds of the number of mantissa bits kept (0 to 23).
    shape, scale, min_size, max_size
        As in :func:`weibull_samples`.

    Returns
    -------
    hypothesis.strategies.SearchStrategy of numpy.ndarray
        float64, strictly positive, at least 3 distinct values.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=3, derandomize=True, database=None)
    ... @given(tied_samples(mantissa_bits=(2, 2), min_size=500, max_size=500, shape=(1, 1)))
    ... def test(x):
    ...     assert np.unique(x).size < 100
    >>> test()
    """
    bits = draw(st.integers(min_value=mantissa_bits[0], max_value=mantissa_bits[1]))
    x = _draw_weibull(draw, shape, scale, min_size, max_size).astype(np.float32)
    mask = np.uint32(0xFFFFFFFF ^ ((1 << (23 - bits)) - 1))
    tied = (x.view(np.uint32) & mask).view(np.float32).astype(np.float64)
    assume(_usable(tied))
    return tied


@st.composite
def weight_matrices(
    draw: Callable[[st.SearchStrategy[Any]], Any],
    *,
    rows: tuple[int, int] = (4, 64),
    columns: tuple[int, int] = (5, 64),
    sigma: tuple[float, float] = (1e-4, 1.0),
    dtype: Any = np.float64,
) -> np.ndarray:
    """Signed Gaussian weight matrices ``N(0, sigma^2)``, like a layer at initialisation.

    Fit them with ``values="weights"`` (magnitudes ``|w|``).

    Parameters
    ----------
    rows, columns : (int, int), default (4, 64) and (5, 64)
        Bounds of the matrix dimensions.
    sigma : (float, float), default (1e-4, 1.0)
        Bounds of the standard deviation, drawn log-uniformly.
    dtype : numpy dtype, default float64

    Returns
    -------
    hypothesis.strategies.SearchStrategy of numpy.ndarray
        Two-dimensional, finite, no zeros, at least 3 distinct magnitudes.

    Examples
    --------
    >>> import numpy as np
    >>> import weibull_stats as ws
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=3, derandomize=True, database=None)
    ... @given(weight_matrices())
    ... def test(w):
    ...     assert w.ndim == 2 and (w < 0).any()
    ...     assert ws.fit_mle(w, values="weights").shape > 0
    >>> test()
    """
    r = draw(st.integers(min_value=rows[0], max_value=rows[1]))
    c = draw(st.integers(min_value=columns[0], max_value=columns[1]))
    log_sigma = draw(_bounded(math.log10(sigma[0]), math.log10(sigma[1])))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    w = np.random.default_rng(seed).normal(0.0, 10.0**log_sigma, (r, c)).astype(dtype)
    assume(bool(np.all(w != 0)) and (w < 0).any() and _usable(np.abs(w)))
    return w


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
    estimator : str or callable
        Registry name, :class:`~weibull_stats.Estimator` or ``f(x, **options)``.
    x : array_like
        Sample the estimator accepts.
    factor : float, default ``10 ** 0.875``
        Positive multiplier. The default is 64 bin widths of the paper's log10 histogram
        (``14 / 1024 * 64 = 0.875`` decades), so the histogram mode is equivariant too.
    rtol : float, default 1e-9
        Relative tolerance on shape and on ``scale(factor * x) / factor``.
    **options
        Passed to the estimator for both fits.

    Returns
    -------
    (WeibullFit, WeibullFit)
        The fits of ``x`` and of ``factor * x``.

    Raises
    ------
    AssertionError
        Naming the estimator, the property and the numbers.

    Examples
    --------
    >>> import numpy as np
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
    estimator : str or callable
        Registry name, :class:`~weibull_stats.Estimator` or ``f(x, **options)``.
    x : array_like
        Sample the estimator accepts.
    power : float, default 2.0
        Positive exponent ``a``.
    rtol : float, default 1e-9
        Relative tolerance on ``shape * power`` and on ``scale ** (1 / power)``.
    **options
        Passed to the estimator for both fits.

    Returns
    -------
    (WeibullFit, WeibullFit)
        The fits of ``x`` and of ``x ** power``.

    Raises
    ------
    AssertionError
        Naming the estimator, the property and the numbers.

    Examples
    --------
    >>> import numpy as np
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
    estimator : str or callable
        Registry name, :class:`~weibull_stats.Estimator` or ``f(x, **options)``.
    x : array_like
        Sample the estimator accepts (flattened before shuffling).
    rng : numpy.random.Generator, int or None, default 0
        Source of the permutation, normalised with :func:`numpy.random.default_rng`.
    rtol : float, default 1e-12
        Relative tolerance (sums in another order round differently).
    **options
        Passed to the estimator for both fits.

    Returns
    -------
    (WeibullFit, WeibullFit)
        The fits of ``x`` and of the shuffled values.

    Raises
    ------
    AssertionError
        Naming the estimator, the property and the numbers.

    Examples
    --------
    >>> import numpy as np
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
    estimator : str or callable
        Registry name, :class:`~weibull_stats.Estimator` or ``f(x, **options)``.
    x : array_like
        Sample the estimator accepts; it must stay valid after rounding to ``dtype``.
    dtype : numpy dtype, default float32
        float32 or float16.
    rtol : float, default 1e-9
        Relative tolerance on shape and scale.
    **options
        Passed to the estimator for both fits.

    Returns
    -------
    (WeibullFit, WeibullFit)
        The fits of the ``dtype`` array and of its float64 copy.

    Raises
    ------
    AssertionError
        Naming the estimator, the property and the numbers.

    Examples
    --------
    >>> import numpy as np
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
