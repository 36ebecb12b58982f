"""Data near float64's limits (issue 20, item 10): no numpy warning escapes, and data spanning
600 orders of magnitude are tested like any other.

The oracles are equivariances, not stored numbers: a bootstrap of ``c x`` is ``c`` times the
bootstrap of ``x`` (same seed, same resampled indices); ``x = y^a`` is Weibull(k / a, λ^a) when
``y`` is Weibull(k, λ), and the probability-plot fit, the EDF statistics and the log-normal and
Weibull likelihoods follow the power exactly (the likelihoods by the Jacobian of ``y -> y^a``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import weibull_stats as ws


def spanning(orders: float = 598.0, n: int = 1000) -> tuple[np.ndarray, np.ndarray, float]:
    """``(x, y, a)`` with ``x = y^a`` spanning ``orders`` decades, centred (in logs) on 1."""
    y = np.random.default_rng(20).weibull(2.0, n)
    y = y / math.sqrt(y.min() * y.max())
    a = orders / 2 / math.log10(y.max())
    return np.exp(a * np.log(y)), y, a


@pytest.mark.parametrize("kind", ["nonparametric", "parametric"])
@pytest.mark.parametrize("estimator", ["mle", "probability_plot", "quantile", "log_moment"])
def test_a_bootstrap_of_1e300_data_warns_nothing(estimator: str, kind: str) -> None:
    x = np.random.default_rng(7).weibull(1.5, 500)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "overflow encountered in square" was one
        big = ws.bootstrap(x * 1e300, estimator, n_resamples=99, rng=3, kind=kind)
        base = ws.bootstrap(x, estimator, n_resamples=99, rng=3, kind=kind)
    assert math.isfinite(big.standard_error.scale) and big.standard_error.scale > 0
    assert big.standard_error.scale == pytest.approx(base.standard_error.scale * 1e300, rel=1e-9)
    assert big.standard_error.shape == pytest.approx(base.standard_error.shape, rel=1e-9)


def test_data_spanning_600_orders_of_magnitude_are_tested() -> None:
    x, y, a = spanning()
    assert math.log10(x.max()) - math.log10(x.min()) > 590
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # log(0) of null samples that underflowed was one
        wide = ws.goodness_of_fit(x, "probability_plot", n_mc_samples=49, rng=0)
        narrow = ws.goodness_of_fit(y, "probability_plot", n_mc_samples=49, rng=0)
    assert wide.fit.shape * a == pytest.approx(narrow.fit.shape, rel=1e-9)
    assert wide.statistic == pytest.approx(narrow.statistic, rel=1e-6)
    assert wide.pvalue is not None and 0.0 < wide.pvalue <= 1.0
    assert np.isfinite(wide.null_distribution).all()
    assert wide.null_model["excluded"]["zero"] > 0  # the fitted law does reach below float64's range


def test_the_model_comparison_of_data_spanning_600_orders_follows_the_power() -> None:
    x, y, a = spanning()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wide = {f.family: f for f in ws.compare_models(x).fits}
        narrow = {f.family: f for f in ws.compare_models(y).fits}
    jacobian = float(np.sum(math.log(a) + (a - 1.0) * np.log(y)))  # ln |dx/dy| summed
    for family in ("weibull", "lognormal"):
        expected = narrow[family].log_likelihood - jacobian
        assert wide[family].log_likelihood == pytest.approx(expected, rel=1e-9)
    assert all(math.isfinite(f.log_likelihood) for f in wide.values())


def test_a_refit_failure_says_why() -> None:
    from weibull_stats.estimators._core import Estimator
    from weibull_stats.sample.batch import Lines

    def never(batch, **_: object) -> Lines:
        nan = np.full(batch.batch, np.nan)
        return Lines(nan, nan, batch.sizes, np.zeros(batch.batch, dtype=bool))

    mle = ws.ESTIMATORS["mle"]
    broken = Estimator("mle", mle.function, never, mle.check, "MLE whose kernel fails", False)
    why = (r"could not be refitted by 'mle': its fit of a sample drawn from the law \(shape 1\.\d+, "
           r"scale 1\.\d+\) was undefined \(too few distinct values in its fitted range, or no convergence\)")
    with pytest.raises(ValueError, match=why):
        ws.goodness_of_fit(np.random.default_rng(1).weibull(1.5, 50) * 1.5, broken, n_mc_samples=9, rng=0)
