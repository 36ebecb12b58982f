"""Asymptotic standard errors of every registered estimator against seeded simulations of
their spread, on float64 and on bfloat16-stored (counts) samples; where they break down;
and the interval entry point ``ws.confidence_interval``."""

from __future__ import annotations

import math
import warnings

import ml_dtypes
import numpy as np
import pytest

import weibull_stats as ws
from weibull_stats.estimators.probability_plot._asymptotic import quantile_process_se
from weibull_stats.estimators.registry import ESTIMATORS
from weibull_stats.validation.asymptotic import probability_plot_sd
from weibull_stats.validation.populations import HALFNORMAL

N, REPS = 4000, 300
#: Tolerance in Monte Carlo standard errors of the simulated sd (with R replicates the sd of a
#: normal sample has relative standard error 1 / sqrt(2 (R - 1))), plus the Monte Carlo error
#: of the mean of the estimated errors, combined in quadrature.
Z = 3.5


@pytest.fixture(scope="module")
def weibull_reps() -> np.ndarray:
    """REPS samples of N values of Weibull(1.3, 0.02): a true law, so the MLE's
    model-based errors apply too."""
    return 0.02 * np.random.default_rng(20260512).weibull(1.3, size=(REPS, N))


def _spread_and_errors(entry: ws.Estimator, data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    results = [entry.asymptotic(ws.as_sample(row), **entry.check()) for row in data]  # type: ignore[misc]
    estimates = np.array([[r.fit.shape, math.log(r.fit.scale)] for r in results])
    errors = np.array([[r.shape_se, r.log_scale_se] for r in results])
    return estimates.std(axis=0, ddof=1), errors.mean(axis=0), errors.std(axis=0, ddof=1) / math.sqrt(REPS)


@pytest.mark.parametrize("storage", ["float64", "bfloat16"])
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_asymptotic_error_matches_simulated_spread(name: str, storage: str, weibull_reps: np.ndarray) -> None:
    data = weibull_reps if storage == "float64" else weibull_reps.astype(ml_dtypes.bfloat16)
    entry = ESTIMATORS[name]
    assert entry.asymptotic is not None, f"{name} has no asymptotic hook"
    if storage == "bfloat16":
        assert ws.as_sample(data[0]).form == "counts"
    spread, error, error_mc = _spread_and_errors(entry, data)
    tolerance = Z * np.sqrt((spread / math.sqrt(2 * (REPS - 1))) ** 2 + error_mc**2)
    assert np.all(np.abs(error - spread) <= tolerance), (name, storage, spread, error, tolerance)


@pytest.mark.parametrize("direction", ["y_on_x", "x_on_y"])
@pytest.mark.parametrize(("trim", "plotting_position"), [((0.1, 0.9), "hazen"), ((0.05, 0.5), "blom"),
                                                          ((0.2, 0.95), "weibull")])
def test_probability_plot_error_on_halfnormal_matches_population_value(
    trim: tuple[float, float], plotting_position: str, direction: str
) -> None:
    """The sample-based error converges to the population influence-function sd of
    :mod:`weibull_stats.validation.asymptotic` (quadrature on the exact quantile function):
    at n = 10^5 its own relative sampling error is about 1%; 5% allows for that and the O(1/n)
    terms."""
    n = 100_000
    x = np.abs(np.random.default_rng(7).normal(0.0, 0.02, n))
    res = ESTIMATORS["probability_plot"].asymptotic(  # type: ignore[misc]
        ws.as_sample(x), trim=trim, plotting_position=plotting_position, direction=direction)
    population = probability_plot_sd(HALFNORMAL, trim, direction)
    assert res.shape_se * math.sqrt(n) == pytest.approx(population.shape_sd, rel=0.05)
    assert res.log_scale_se * math.sqrt(n) == pytest.approx(population.log_scale_sd, rel=0.05)


def test_probability_plot_grid_and_full_window_agree() -> None:
    """Reading the quantile function on the GRID ranks instead of every window rank changes
    the error by far less than its own sampling error."""
    n = 200_000
    x = np.sort(np.random.default_rng(3).weibull(1.2, n))
    lo, hi = 20_001, 180_000
    every = np.arange(lo, hi + 1)
    grid = np.unique(np.rint(np.linspace(lo, hi, 1 << 12)).astype(np.int64))
    full = quantile_process_se(n, every, np.log(x[every - 1]), "hazen", "y_on_x")
    coarse = quantile_process_se(n, grid, np.log(x[grid - 1]), "hazen", "y_on_x")
    np.testing.assert_allclose(coarse, full, rtol=2e-3)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_asymptotic_fit_equals_the_estimator_fit(name: str) -> None:
    entry = ESTIMATORS[name]
    for x in (np.random.default_rng(1).weibull(1.4, 3000),
              np.random.default_rng(1).weibull(1.4, 3000).astype(ml_dtypes.bfloat16)):
        res = entry.asymptotic(ws.as_sample(x), **entry.check())  # type: ignore[misc]
        assert res.fit == entry(x)


def test_small_sample_warns_and_records_the_reason() -> None:
    x = np.random.default_rng(0).weibull(1.5, 60)
    with pytest.warns(ws.UnreliableIntervalWarning, match="only 48 values entered the fit"):
        res = ws.confidence_interval(x)
    assert res.warning is not None and "use the bootstrap" in res.warning


def test_heavy_ties_warn() -> None:
    """Values on a grid of 12 levels: the quantile function is a staircase."""
    x = np.round(np.random.default_rng(0).weibull(1.5, 10_000) * 4.0) / 4.0 + 0.25
    with pytest.warns(ws.UnreliableIntervalWarning, match="distinct values entered the fit"):
        ws.confidence_interval(x, "mle")


def test_zero_sparsity_is_an_error() -> None:
    # flat around p = 0.1; values off the bf16 grid, so the sample is raw (a sample on a 16-bit
    # grid takes a bandwidth of at least one cell instead: tests/test_sandwich.py)
    x = np.repeat([1.1, 2.3, 3.7, 4.9], [1500, 2000, 1000, 500])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="sparsity estimate at probabilities"):
            ws.confidence_interval(x, "quantile")


def test_confidence_interval_asymptotic_is_wald_on_shape_and_log_scale() -> None:
    x = np.random.default_rng(5).weibull(1.5, 20_000) * 3.0
    res = ws.confidence_interval(x, "log_moment", confidence_level=0.9)
    z = 1.6448536269514722  # scipy.special.ndtri(0.95)
    low = res.estimate.shape - z * res.standard_error.shape
    assert res.confidence_interval.shape.low == pytest.approx(low)
    assert math.log(res.confidence_interval.scale.high) == pytest.approx(
        math.log(res.estimate.scale) + z * res.log_scale_se)
    assert res.method == "asymptotic" and res.seed is None and res.warning is None
    assert isinstance(res.confidence_interval, ws.ConfidenceInterval)
    assert repr(res).startswith("IntervalEstimate(log_moment: k=")
    row = res.to_row()
    assert row["interval_method"] == "asymptotic" and row["confidence_level"] == 0.9


def test_confidence_interval_bootstrap_records_its_method() -> None:
    x = np.random.default_rng(5).weibull(1.5, 2000)
    res = ws.confidence_interval(x, "mle", method="bootstrap", n_resamples=99, rng=3)
    boot = ws.bootstrap(x, "mle", n_resamples=99, rng=3)
    assert res.confidence_interval == boot.confidence_interval
    assert res.method == "bootstrap" and res.seed == boot.seed and res.bootstrap is not None


def test_confidence_interval_options_are_checked() -> None:
    x = np.random.default_rng(5).weibull(1.5, 2000)
    with pytest.raises(ValueError, match="`method` must be one of"):
        ws.confidence_interval(x, method="wald")
    with pytest.raises(ValueError, match="unknown option `bandwidth`"):
        ws.confidence_interval(x, "quantile", bandwidth="bofinger")
    with pytest.raises(ValueError, match="`bandwidth` must be one of"):
        ws.confidence_interval(x, "quantile", asymptotic_options={"bandwidth": "silverman"})
    res = ws.confidence_interval(x, "quantile", asymptotic_options={"bandwidth": "bofinger"})
    assert "bofinger" in res.detail
