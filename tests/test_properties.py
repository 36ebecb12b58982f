"""Hypothesis properties for EVERY registered estimator, through ``weibull_stats.testing``.

The loop is over the registry, so a newly registered estimator is covered automatically;
an estimator for which a property does not hold exactly must be listed below with the
reason.

* Scale equivariance (shape unchanged, scale multiplied) and permutation invariance hold
  for every estimator. The histogram mode is scale equivariant for factors that are whole
  bin widths; the default factor of the check is 64 widths of the paper's 14/1024-decade
  bins, and the histogram is given edges on the same grid wide enough for the strategy's
  range (1e-40 .. 1e40) so that no value falls outside.
* Power equivariance ``x -> x^a`` (``shape / a``, ``scale^a``) holds exactly for the
  probability plot, maximum likelihood, log moments, and quantile matching with a pure
  order-statistic quantile method (``"lower"``). It does NOT hold for the histogram mode
  (fixed bins in log10 x: powering moves values between bins differently from the grid)
  nor for the default interpolated quantiles (linear in x, not in ln x).
* dtype invariance: the same numbers stored as float32 or float16 give the float64 fit
  within 1e-9 relative (only the order of float64 operations differs; float16 takes the
  counting path of the probability plot instead of a sort).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, reject
from hypothesis import strategies as st

import weibull_stats as ws
from weibull_stats.testing import (
    check_dtype_invariance,
    check_permutation_invariance,
    check_power_equivariance,
    check_scale_equivariance,
    tied_samples,
    weibull_samples,
    weight_matrices,
)

NAMES = list(ws.ESTIMATORS)
#: log10 edges on the paper's grid (multiples of 14/1024 = 7/512 decades), -40 .. 40
WIDE_EDGES = -40.0 + (7.0 / 512.0) * np.arange(5853)
OPTIONS: dict[str, dict[str, Any]] = {"histogram": {"edges": WIDE_EDGES}}
#: estimators with the option that makes power equivariance exact, or absent if it cannot hold
POWER_OPTIONS: dict[str, dict[str, Any]] = {
    "probability_plot": {},
    "mle": {},
    "log_moment": {},
    "quantile": {"method": "lower"},
}


def fittable(name: str, x: np.ndarray, **options: Any) -> None:
    """Reject examples the estimator refuses (too few distinct values in the window)."""
    try:
        ws.fit(x, name, **{**OPTIONS.get(name, {}), **options})
    except ValueError:
        reject()


def test_every_estimator_has_a_power_decision() -> None:
    """A new estimator must be added to POWER_OPTIONS or documented here as not equivariant."""
    assert set(NAMES) == set(POWER_OPTIONS) | {"histogram"}


@pytest.mark.parametrize("name", NAMES)
@given(x=weibull_samples())
def test_scale_equivariance(name: str, x: np.ndarray) -> None:
    fittable(name, x)
    check_scale_equivariance(name, x, **OPTIONS.get(name, {}))


@pytest.mark.parametrize("name", NAMES)
@given(x=tied_samples())
def test_scale_equivariance_with_ties(name: str, x: np.ndarray) -> None:
    fittable(name, x)
    check_scale_equivariance(name, x, **OPTIONS.get(name, {}))


@pytest.mark.parametrize("name", list(POWER_OPTIONS))
@given(x=weibull_samples(scale=(1e-3, 1e3)), power=st.floats(min_value=0.5, max_value=2.0))
def test_power_equivariance(name: str, x: np.ndarray, power: float) -> None:
    fittable(name, x, **POWER_OPTIONS[name])
    check_power_equivariance(name, x, power=power, **POWER_OPTIONS[name])


@pytest.mark.parametrize("name", NAMES)
@given(x=st.one_of(weibull_samples(), tied_samples()), seed=st.integers(0, 2**32 - 1))
def test_permutation_invariance(name: str, x: np.ndarray, seed: int) -> None:
    fittable(name, x)
    check_permutation_invariance(name, x, rng=seed, rtol=1e-11, **OPTIONS.get(name, {}))


@pytest.mark.parametrize("name", NAMES)
@given(x=weibull_samples(dtype=np.float32))
def test_dtype_invariance_float32(name: str, x: np.ndarray) -> None:
    fittable(name, x)
    check_dtype_invariance(name, x, dtype=np.float32, **OPTIONS.get(name, {}))


@pytest.mark.parametrize("name", NAMES)
@given(x=weibull_samples(shape=(0.8, 5.0), scale=(1e-2, 1e2), dtype=np.float16))
def test_dtype_invariance_float16(name: str, x: np.ndarray) -> None:
    fittable(name, x)
    check_dtype_invariance(name, x, dtype=np.float16, **OPTIONS.get(name, {}))


@pytest.mark.parametrize("name", NAMES)
@given(w=weight_matrices())
def test_signed_weights_fit_magnitudes(name: str, w: np.ndarray) -> None:
    """values="weights" fits |w|: the same fit for w, -w and |w| (magnitudes)."""
    fittable(name, np.abs(w))
    a = ws.fit(w, name, values="weights", **OPTIONS.get(name, {}))
    b = ws.fit(-w, name, values="weights", **OPTIONS.get(name, {}))
    c = ws.fit(np.abs(w), name, **OPTIONS.get(name, {}))
    assert (a.shape, a.scale) == (b.shape, b.scale) == (c.shape, c.scale)


def test_checks_fail_loudly() -> None:
    """The invariant checks raise AssertionError naming the estimator and the property."""

    def biased(x: Any, **options: Any) -> ws.WeibullFit:
        fit = ws.fit_mle(x, **options)
        return ws.WeibullFit(shape=fit.shape + float(np.max(x)) * 1e-3, scale=fit.scale, estimator="biased",
                             n=fit.n, n_used=fit.n_used)

    x = np.random.default_rng(0).weibull(1.0, 100)
    with pytest.raises(AssertionError, match=r"biased: scale equivariance \(factor 7\.49.*\) failed: shape "):
        check_scale_equivariance(biased, x)
    with pytest.raises(AssertionError, match=r"histogram: power equivariance \(power 2\.0\) failed: shape"):
        check_power_equivariance("histogram", np.random.default_rng(1).weibull(1.0, 5000) * 0.1)
    with pytest.raises(AssertionError, match=r"quantile: power equivariance \(power 3\.0\) failed"):
        check_power_equivariance("quantile", x, power=3.0)

    def narrow_log_moment(x: Any, **options: Any) -> ws.WeibullFit:
        """Takes ln x in the input's own dtype: not dtype invariant."""
        shape = float(np.pi / (np.std(np.log(np.asarray(x)), ddof=1) * np.sqrt(6)))
        return ws.WeibullFit(shape=shape, scale=1.0, estimator="narrow", n=x.size, n_used=x.size)

    message = r"narrow_log_moment: dtype invariance \(float16 vs float64\) failed"
    with pytest.raises(AssertionError, match=message):
        check_dtype_invariance(narrow_log_moment, x, dtype=np.float16)
    check_dtype_invariance("mle", x, dtype=np.float16)
