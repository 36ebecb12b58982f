"""Goodness of fit: statistics against scipy, p-values against scipy's refitting test,
size under the null, effect sizes, model comparison, errors and the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

import weibull_stats as ws
from weibull_stats.cli import main
from weibull_stats.inference.gof import edf_statistic, effect_sizes
from weibull_stats.inference.model_comparison import compare_models


def weibull_sample(n: int, shape: float = 1.3, scale: float = 2.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).weibull(shape, size=n) * scale


@pytest.mark.parametrize("statistic", ["ad", "cvm", "ks"])
def test_edf_statistics_equal_scipy_with_known_parameters(statistic: str) -> None:
    # scipy.stats.goodness_of_fit with every parameter known computes the statistic directly
    x = weibull_sample(200, seed=3)
    known = {"c": 1.2, "loc": 0.0, "scale": 2.1}
    reference = stats.goodness_of_fit(stats.weibull_min, x, known_params=known, statistic=statistic,
                                      n_mc_samples=9, rng=np.random.default_rng(0)).statistic
    got = edf_statistic(np.sort(x), 1.2, 2.1, statistic)[0]
    assert got == pytest.approx(reference, rel=1e-10)


def binomial_bound(p1: float, m1: int, p2: float, m2: int, z: float = 4.0) -> float:
    """z standard errors of the difference of two Monte Carlo p-values."""
    p = 0.5 * (p1 + p2)
    return z * math.sqrt(max(p * (1 - p), 0.01) * (1 / m1 + 1 / m2))


def test_mle_pvalue_agrees_with_scipy_goodness_of_fit() -> None:
    # Both refit the MLE (loc 0) on every Monte Carlo sample; the p-values differ only by
    # Monte Carlo error, bounded by 4 binomial standard errors of the difference.
    x = weibull_sample(60, shape=1.1, seed=14)
    ours = ws.goodness_of_fit(x, "mle", statistic="ad", n_mc_samples=999, rng=1, workers=1)
    m_scipy = 199
    theirs = stats.goodness_of_fit(stats.weibull_min, x, known_params={"loc": 0}, statistic="ad",
                                   n_mc_samples=m_scipy, rng=np.random.default_rng(2))
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-3)
    assert abs(ours.pvalue - theirs.pvalue) < binomial_bound(ours.pvalue, 999, theirs.pvalue, m_scipy)


@pytest.mark.slow
@pytest.mark.parametrize("statistic", ["ad", "cvm", "ks"])
def test_mle_pvalue_agrees_with_scipy_goodness_of_fit_long(statistic: str) -> None:
    x = weibull_sample(150, shape=0.9, seed=15)
    ours = ws.goodness_of_fit(x, "mle", statistic=statistic, n_mc_samples=1999, rng=3)
    theirs = stats.goodness_of_fit(stats.weibull_min, x, known_params={"loc": 0}, statistic=statistic,
                                   n_mc_samples=999, rng=np.random.default_rng(4))
    assert abs(ours.pvalue - theirs.pvalue) < binomial_bound(ours.pvalue, 1999, theirs.pvalue, 999, z=3.5)


def rejection_rate(name: str, statistic: str, reps: int, n: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    rejected = 0
    for _ in range(reps):
        x = rng.weibull(1.4, size=n) * 3.0
        res = ws.goodness_of_fit(x, name, statistic=statistic, n_mc_samples=99, rng=rng, workers=1)
        rejected += res.pvalue <= 0.1
    return rejected / reps


@pytest.mark.parametrize(("name", "statistic"), [("mle", "ad"), ("probability_plot", "cvm")])
def test_size_under_the_null_is_alpha(name: str, statistic: str) -> None:
    # With m = 99, P(p <= 0.1) = 10/100 exactly under the null; 4 binomial SEs.
    reps = 150
    rate = rejection_rate(name, statistic, reps=reps, n=40, seed=7)
    assert abs(rate - 0.1) < 4 * math.sqrt(0.1 * 0.9 / reps)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mle", "probability_plot", "quantile", "log_moment", "histogram"])
def test_size_under_the_null_long(name: str) -> None:
    reps = 1000
    rate = rejection_rate(name, "ad", reps=reps, n=100, seed=8)
    assert abs(rate - 0.1) < 3.5 * math.sqrt(0.1 * 0.9 / reps)


def test_pvalue_is_b_plus_one_over_m_plus_one_and_deterministic() -> None:
    x = weibull_sample(80, seed=5)
    res = ws.goodness_of_fit(x, "probability_plot", statistic="ks", n_mc_samples=199, rng=11, workers=1)
    b = int(np.count_nonzero(res.null_distribution >= res.statistic))
    assert res.pvalue == (b + 1) / 200
    again = ws.goodness_of_fit(x, "probability_plot", statistic="ks", n_mc_samples=199, rng=11, workers=2)
    assert np.array_equal(res.null_distribution, again.null_distribution) and res.seed == 11
    assert res.fit.estimator == "probability_plot"
    json.dumps(res.to_dict())


def test_rejects_halfnormal_as_weibull_at_moderate_n() -> None:
    x = np.abs(np.random.default_rng(0).normal(size=3000))
    res = ws.goodness_of_fit(x, "mle", n_mc_samples=99, rng=0)
    assert res.pvalue == 0.01
    assert res.model_comparison.best == "halfnormal"


def test_without_monte_carlo_only_effect_sizes() -> None:
    res = ws.goodness_of_fit(weibull_sample(500), n_mc_samples=0)
    assert res.pvalue is None and res.null_distribution.size == 0


def test_effect_sizes_signs_and_scale_free() -> None:
    rng = np.random.default_rng(1)
    n = 200_000
    weibull = np.sort(rng.weibull(1.3, n))
    half = np.sort(np.abs(rng.normal(size=n)))
    lognormal = np.sort(rng.lognormal(size=n))
    e_w = effect_sizes(weibull, ws.fit_mle(weibull))
    e_h = effect_sizes(half, ws.fit_mle(half))
    e_l = effect_sizes(lognormal, ws.fit_mle(lognormal))
    # Weibull data: straight plot. The curvature's sd at this n is far below 0.01.
    assert abs(e_w.curvature) < 0.01 and e_w.correlation > 0.9995
    assert e_h.curvature > 0.03  # lighter upper tail than the Weibull law
    assert e_l.curvature < -0.1  # heavier upper tail
    assert e_l.r2 < e_h.r2 < e_w.r2
    scaled = effect_sizes(half * 1e-3, ws.fit_mle(half * 1e-3))
    assert scaled.curvature == pytest.approx(e_h.curvature, rel=1e-9)
    # KS distance: scipy's KS statistic against the fitted law
    fit = ws.fit_mle(half)
    reference = stats.kstest(half, stats.weibull_min(fit.shape, scale=fit.scale).cdf).statistic
    assert e_h.ks_distance == pytest.approx(reference, rel=1e-9)


def test_model_comparison_equals_scipy_maximum_likelihood() -> None:
    x = weibull_sample(2000, seed=6)
    comparison = compare_models(x)
    references = {
        "weibull": (stats.weibull_min, 2),
        "lognormal": (stats.lognorm, 2),
        "gamma": (stats.gamma, 2),
        "halfnormal": (stats.halfnorm, 1),
    }
    for family, (dist, p) in references.items():
        params = dist.fit(x, floc=0)
        ll = float(dist.logpdf(x, *params).sum())
        got = comparison[family]
        assert got.log_likelihood == pytest.approx(ll, rel=1e-7, abs=1e-6)
        assert got.aic == pytest.approx(2 * p - 2 * ll, rel=1e-7)
        assert got.bic == pytest.approx(p * math.log(x.size) - 2 * ll, rel=1e-7)
    assert comparison.best == "weibull" and comparison.delta_aic["weibull"] == 0.0
    with pytest.raises(KeyError, match="no family 'pareto'"):
        comparison["pareto"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"statistic": "chi2"}, "`statistic` must be one of 'ad', 'cvm', 'ks'"),
        ({"n_mc_samples": -1}, "`n_mc_samples` must be an int >= 0; got -1"),
        ({"estimator": "bayes"}, "unknown estimator 'bayes'"),
        ({"workers": -2}, "`workers` must be a positive int or None; got -2"),
        ({"probabilities": (0.2, 0.8)}, "unknown option `probabilities` for estimator 'probability_plot'"),
    ],
)
def test_errors_name_the_argument(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ws.goodness_of_fit(weibull_sample(50), **kwargs)


def test_cli_gof_same_seed_same_bytes(tmp_path, capsys) -> None:
    path = tmp_path / "w.npy"
    np.save(path, np.random.default_rng(0).normal(0, 0.02, 400))
    argv = ["gof", str(path), "--estimator", "mle", "--statistic", "cvm", "--seed", "5",
            "--n-mc-samples", "99", "--values", "weights", "--format", "json"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert main(argv) == 0
    assert capsys.readouterr().out == first
    payload = json.loads(first)
    assert payload["statistic_name"] == "cvm" and 0 < payload["pvalue"] <= 1
    assert set(payload["effect_sizes"]) == {"correlation", "r2", "curvature", "ks_distance"}
    assert set(payload["model_comparison"]["families"]) == {"weibull", "lognormal", "gamma", "halfnormal"}
    assert main(["gof", str(path), "--values", "weights", "--n-mc-samples", "0"]) == 0
    assert "p = n/a" in capsys.readouterr().out
    assert main(["gof", str(path), "--n-mc-samples", "9", "--values", "magnitudes"]) == 1
    assert "negative values out of 400" in capsys.readouterr().err


def test_monte_carlo_samples_that_cannot_be_refitted_are_an_error() -> None:
    from weibull_stats.estimators._core import Estimator
    from weibull_stats.sample.batch import Lines

    def never(batch, **_: object) -> Lines:
        nan = np.full(batch.batch, np.nan)
        return Lines(nan, nan, batch.sizes, np.zeros(batch.batch, dtype=bool))

    mle = ws.ESTIMATORS["mle"]
    broken = Estimator("mle", mle.function, never, mle.check, "MLE whose kernel fails", False)
    with pytest.raises(ValueError, match="19 of 19 Monte Carlo samples could not be refitted by 'mle'"):
        ws.goodness_of_fit(weibull_sample(50), broken, n_mc_samples=19, rng=0)


# ---------------------------------------------------------------------- scale safety (issue 10, item 8)
SCALE_FACTORS = [1e-300, 1e-200, 1e200, 1e300]


@pytest.mark.parametrize("factor", SCALE_FACTORS)
@pytest.mark.parametrize("estimator", ["mle", "probability_plot", "quantile", "log_moment"])
def test_goodness_of_fit_is_scale_invariant(estimator: str, factor: float) -> None:
    # The statistic, the p-value, the effect sizes and the model ranking do not depend on the
    # units. Every estimator and statistic works on ln x, whose float64 value at x ~ factor
    # carries an absolute error up to |ln factor| * eps / 2 (at 1e300: 7.7e-14) that the data
    # at 1 do not have; fits and statistics are smooth in the logarithms, so they may differ
    # by that error times a condition number of order 10 (observed: at most 35 for any
    # statistic, over every case here): allowed rtol = 64 |ln factor| eps. The histogram's
    # absolute bin grid is not scale-equivariant and is left out.
    x = weibull_sample(200, shape=1.5, scale=1.0, seed=11)
    rtol = 64 * abs(math.log(factor)) * np.finfo(float).eps
    for statistic in ("ad", "cvm", "ks"):
        base = ws.goodness_of_fit(x, estimator, statistic=statistic, n_mc_samples=99, rng=1)
        scaled = ws.goodness_of_fit(x * factor, estimator, statistic=statistic, n_mc_samples=99, rng=1)
        assert scaled.statistic == pytest.approx(base.statistic, rel=rtol)
        assert scaled.pvalue == base.pvalue
        np.testing.assert_allclose(scaled.null_distribution, base.null_distribution, rtol=rtol)
        for name in ("correlation", "r2", "curvature", "ks_distance"):
            assert getattr(scaled.effect_sizes, name) == pytest.approx(getattr(base.effect_sizes, name),
                                                                        rel=rtol)
        assert scaled.model_comparison.best == base.model_comparison.best
        # a log-likelihood of x is about -n ln factor: an AIC difference of two of them is exact
        # to a few of their ulps, 2 n |ln factor| eps each
        aic_tolerance = 4 * x.size * abs(math.log(factor)) * np.finfo(float).eps
        for family, delta in base.model_comparison.delta_aic.items():
            assert scaled.model_comparison.delta_aic[family] == pytest.approx(delta, abs=aic_tolerance)
        for fit in scaled.model_comparison.fits:
            assert all(math.isfinite(v) for v in fit.parameters.values())


def test_model_comparison_restores_the_units() -> None:
    # the comparison runs on x / 2^e; log-likelihoods shift by -n ln c, scales multiply by c
    x = weibull_sample(500, seed=12)
    factor = 1e-200
    base, scaled = compare_models(x), compare_models(x * factor)
    for a, b in zip(base.fits, scaled.fits, strict=True):
        assert b.log_likelihood == pytest.approx(a.log_likelihood - x.size * math.log(factor), rel=1e-12)
        assert b.parameters["scale"] == pytest.approx(a.parameters["scale"] * factor, rel=1e-12)


def test_null_model_conditions_out_float64_underflow() -> None:
    # a law with mass below half the smallest float64 subnormal: the data hold no zeros, so the
    # null samples are drawn conditioned on a positive value (before: zeros in the null samples)
    from weibull_stats.inference.nulls import NullModel

    model = NullModel.of("float64", 1000, 0.05, 1e-300)
    # P(X <= 2^-1075) = 1 - exp(-(2^-1075 / 1e-300)^0.05), the power taken in logarithms
    expected = -math.expm1(-math.exp(0.05 * (-1075 * math.log(2.0) - math.log(1e-300))))
    assert model.excluded["zero"] == pytest.approx(expected, rel=1e-12)
    assert model.excluded["zero"] > 0.06
    rows = model.draw(np.random.default_rng(0), 4).values
    assert np.all(rows > 0) and np.all(np.isfinite(rows))


def test_goodness_of_fit_of_two_distinct_values_is_a_clear_error() -> None:
    for x in (np.array([1.0, 2.0]), np.repeat([1.0, 2.0], 30)):
        with pytest.raises(ValueError, match="2 distinct values; goodness of fit needs at least 3"):
            ws.goodness_of_fit(x, "mle", n_mc_samples=19, rng=0)
    with pytest.raises(ValueError, match="fewer than 3 distinct"):
        effect_sizes(np.repeat([1.0, 2.0], 5), ws.fit_mle(weibull_sample(50)))


def test_goodness_of_fit_of_three_values_is_defined_with_a_warning() -> None:
    with pytest.warns(ws.DegenerateSampleWarning, match="3 usable values"):
        res = ws.goodness_of_fit(np.array([0.5, 1.0, 2.0]), "mle", n_mc_samples=19, rng=0)
    assert 0 < res.pvalue <= 1 and math.isfinite(res.effect_sizes.curvature)
    assert res.fit.details["degenerate"].startswith("`x` has 3 usable values")
