"""Hypothesis strategies with bounded floats and sizes (needs the ``testing`` extra)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

__all__ = ["tied_samples", "weibull_samples", "weight_matrices"]


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
