"""Exact anchors: independent closed forms, float64 quadrature, and Weibull recovery."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

import weibull_stats as ws
from weibull_stats.core.constants import ANCHORS, DEFAULT_ANCHOR
from weibull_stats.validation import anchors
from weibull_stats.validation.anchors import finite_n_bias
from weibull_stats.validation.asymptotic import probability_plot_sd
from weibull_stats.validation.populations import (
    HALFNORMAL,
    UNIFORM,
    Population,
    truncated_halfnormal,
    weibull,
)

EULER = 0.5772156649015329
#: The option sets each estimator declares for its anchor table.
OPTION_SETS = {name: [dict(o) for o in e.population.option_sets] for name, e in ws.ESTIMATORS.items()}


def test_package_constants_reproduced_to_ten_digits():
    shape, scale, error = anchors.probability_plot_limit(HALFNORMAL)
    assert abs(shape - ws.HALFNORMAL_ANCHOR_SHAPE) < 5e-11
    assert abs(scale - ws.HALFNORMAL_ANCHOR_SCALE) < 5e-11
    assert error < 1e-20


@pytest.mark.parametrize("name", sorted(ANCHORS))
def test_every_declared_anchor_is_the_quadrature_of_its_population(name):
    # core/constants declares the anchors a scan reports k - k0 against (below the validation
    # layer); each is the default probability-plot limit under the population of its name
    anchor = ANCHORS[name]
    shape, scale = anchors.default_anchor("probability_plot", Population(name))
    assert abs(shape - anchor.shape) < 5e-11
    assert abs(scale - anchor.scale) < 5e-11
    assert anchor.label.startswith(anchor.law) and f"{anchor.shape:.4f}" in anchor.label


def test_the_uniform_anchor_is_the_fit_of_uniform_magnitudes():
    # independent of the quadrature: the fit of a large |Uniform(-a, a)| sample lands on it
    x = np.random.default_rng(1).uniform(-0.3, 0.3, 2_000_000)
    fit = ws.fit_probability_plot(x)
    assert fit.shape == pytest.approx(ws.UNIFORM_ANCHOR_SHAPE, abs=3e-3)
    assert fit.scale / 0.3 == pytest.approx(ws.UNIFORM_ANCHOR_SCALE, rel=2e-3)
    assert ANCHORS[DEFAULT_ANCHOR].shape == ws.HALFNORMAL_ANCHOR_SHAPE


def _pp_scipy(ppf, trim, direction):
    """Float64 oracle: scipy.integrate.quad of the five moments of (ln Q(p), ln(-ln(1-p)))."""
    a, b = trim

    def mean(f):
        return integrate.quad(f, a, b, epsabs=0, epsrel=1e-13, limit=200)[0] / (b - a)

    def u(p):
        return math.log(ppf(p))

    def y(p):
        return math.log(-math.log1p(-p))

    eu, ey = mean(u), mean(y)
    vu = mean(lambda p: (u(p) - eu) ** 2)
    vy = mean(lambda p: (y(p) - ey) ** 2)
    c = mean(lambda p: (u(p) - eu) * (y(p) - ey))
    if direction == "y_on_x":
        k = c / vu
        return k, math.exp(eu - ey / k)
    return vy / c, math.exp(eu - c / vy * ey)


@pytest.mark.parametrize("options", OPTION_SETS["probability_plot"])
def test_probability_plot_matches_scipy_quadrature(options):
    trim, direction = options["trim"], options["direction"]
    expected = _pp_scipy(stats.halfnorm.ppf, trim, direction)
    shape, scale, _ = anchors.probability_plot_limit(HALFNORMAL, trim, direction)
    assert shape == pytest.approx(expected[0], rel=1e-9)
    assert scale == pytest.approx(expected[1], rel=1e-9)


def test_probability_plot_other_populations_match_scipy():
    for population, ppf in (
        (UNIFORM, lambda p: p),
        (truncated_halfnormal(2.0), lambda p: stats.truncnorm(-2, 2).ppf(0.5 + p / 2)),
    ):
        shape, scale, _ = anchors.probability_plot_limit(population)
        expected = _pp_scipy(ppf, (0.1, 0.9), "y_on_x")
        assert (shape, scale) == pytest.approx(expected, rel=1e-8)


def test_mle_halfnormal_matches_digamma_closed_form():
    # score: (ln 2 + psi((k+1)/2)) / 2 - 1/k + (gamma + ln 2) / 2 = 0  (E|Z|^k, E ln|Z| closed form)
    def score(k):
        return (math.log(2) + special.digamma((k + 1) / 2)) / 2 - 1 / k + (EULER + math.log(2)) / 2

    k = optimize.brentq(score, 0.5, 3.0, xtol=1e-15)
    scale = (2 ** (k / 2) * special.gamma((k + 1) / 2) / math.sqrt(math.pi)) ** (1 / k)
    shape, fitted_scale, error = anchors.mle_limit(HALFNORMAL)
    assert shape == pytest.approx(k, rel=1e-12)
    assert fitted_scale == pytest.approx(scale, rel=1e-12)
    assert error < 1e-20
    assert round(shape, 3) == 1.263  # DESIGN §9: every MLE tool returns about 1.263


def test_mle_uniform_is_golden_ratio():
    golden = (1 + math.sqrt(5)) / 2
    shape, scale, _ = anchors.mle_limit(UNIFORM)
    assert shape == pytest.approx(golden, rel=1e-14)
    assert scale == pytest.approx((1 / (golden + 1)) ** (1 / golden), rel=1e-13)


def test_log_moment_halfnormal_closed_form():
    shape, scale, _ = anchors.log_moment_limit(HALFNORMAL)
    assert shape == pytest.approx(2 / math.sqrt(3), rel=1e-14)
    # E ln|Z| = -(gamma + ln 2) / 2
    assert scale == pytest.approx(math.exp(-(EULER + math.log(2)) / 2 + EULER / shape), rel=1e-13)


@pytest.mark.parametrize("probabilities", [o["probabilities"] for o in OPTION_SETS["quantile"]])
def test_quantile_matches_scipy_quantiles(probabilities):
    q = stats.halfnorm.ppf(probabilities)
    y = np.log(-np.log1p(-np.asarray(probabilities)))
    slope, intercept = np.polyfit(y, np.log(q), 1)
    shape, scale, _ = anchors.quantile_limit(HALFNORMAL, probabilities)
    assert shape == pytest.approx(1 / slope, rel=1e-10)
    assert scale == pytest.approx(math.exp(intercept), rel=1e-10)


def test_histogram_limit_matches_float64_bin_probabilities():
    edges = ws.paper_edges()
    cdf = special.erf(10.0**edges / 0.02 / math.sqrt(2))
    fit = ws.fit_histogram_counts(np.diff(cdf) * 1e12, edges)
    shape, scale, _ = anchors.histogram_limit(HALFNORMAL, 0.02)
    assert shape == pytest.approx(fit.shape, rel=1e-9)
    assert scale == pytest.approx(fit.scale / 0.02, rel=1e-9)


def test_histogram_limit_moves_with_sigma_as_published():
    # DESIGN §9: with noise-free counts k moves between about 1.2040 and 1.2070
    sweep = anchors.histogram_sigma_sweep(points=17)
    shapes = [k for _, k, _ in sweep]
    assert 1.2035 <= min(shapes) < 1.2045 and 1.2065 < max(shapes) <= 1.2072
    assert shapes[0] == pytest.approx(shapes[-1], abs=1e-9)  # periodic in one bin width


@pytest.mark.parametrize("estimator", list(ws.ESTIMATORS))
@pytest.mark.parametrize("true_shape", [0.7, 2.0])
def test_every_anchor_returns_true_weibull_parameters(estimator, true_shape):
    tolerance = anchors.recovery_tolerance(estimator) or 1e-10
    for options in anchors.anchor_option_sets(estimator):
        shape, scale = anchors.limit_for(estimator, weibull(true_shape), options)
        assert shape / true_shape == pytest.approx(1.0, abs=tolerance)
        assert scale == pytest.approx(1.0, abs=tolerance)


def test_every_registered_estimator_has_anchors():
    for name in ws.ESTIMATORS:
        found = anchors.estimator_anchors(name)
        assert found and all(a.estimator == name and a.population == "halfnormal" for a in found)
        assert all(a.error <= 1e-10 * max(1.0, a.shape) for a in found)
    pp = anchors.estimator_anchors("probability_plot")
    assert len(pp) == 3 * 2 * 4
    assert pp[0].to_dict()["scale_over_sigma"] == pytest.approx(ws.HALFNORMAL_ANCHOR_SCALE, abs=5e-11)


def test_anchor_errors_are_named():
    with pytest.raises(ValueError, match="no anchor derivation for estimator 'nope'"):
        anchors.estimator_anchors("nope")
    with pytest.raises(ValueError, match="no anchor derivation for estimator 'nope'"):
        anchors.default_anchor("nope")
    with pytest.raises(ValueError, match="`kind` must be one of"):
        Population("cauchy")
    with pytest.raises(ValueError, match="population 'weibull' needs a positive `parameter`"):
        Population("weibull")
    with pytest.raises(ValueError, match="population 'halfnormal' takes no `parameter`"):
        Population("halfnormal", 1.0)


def test_populations_are_consistent():
    for population in (HALFNORMAL, UNIFORM, weibull(1.3), truncated_halfnormal(2.0)):
        p = np.array([0.05, 0.3, 0.7, 0.95])
        q = population.quantile(p)
        assert [float(population.cdf_mp(v)) for v in q] == pytest.approx(p, rel=1e-12)
        step = 1e-6
        numeric = (np.log(population.quantile(p + step)) - np.log(population.quantile(p - step))) / (2 * step)
        assert population.dlog_quantile(p) == pytest.approx(numeric, rel=1e-6)
        mean = float(population.power_moment_mp(1))
        draws = population.sample(np.random.default_rng(0), (200_000,))
        assert draws.mean() == pytest.approx(mean, abs=5 * draws.std() / math.sqrt(draws.size))


def test_probability_plot_asymptotic_sd_matches_simulation():
    # seeded: 1000 fits at n = 4000; the sd estimate has relative MC SE 1/sqrt(2 * 999) = 2.2%
    n, reps = 4000, 1000
    rng = np.random.default_rng(11)
    fits = [ws.fit_probability_plot(np.abs(rng.standard_normal(n))) for _ in range(reps)]
    shapes = np.array([f.shape for f in fits])
    log_scales = np.log([f.scale for f in fits])
    sd = probability_plot_sd(HALFNORMAL)
    rel_se = 1 / math.sqrt(2 * (reps - 1))
    assert shapes.std(ddof=1) * math.sqrt(n) == pytest.approx(sd.shape_sd, rel=3 * rel_se + 0.01)
    assert log_scales.std(ddof=1) * math.sqrt(n) == pytest.approx(sd.log_scale_sd, rel=3 * rel_se + 0.01)


def test_predicted_finite_n_biases_match_simulation():
    n, reps = 100, 4000
    x = np.abs(np.random.default_rng(12).standard_normal((reps, n)))
    derived = [name for name, e in ws.ESTIMATORS.items() if e.population.bias is not None]
    assert derived == ["quantile", "log_moment"]
    for name in derived:
        predicted = finite_n_bias(name, HALFNORMAL, n)
        shapes = np.array([ws.fit(row, name).shape for row in x])
        limit = anchors.default_anchor(name)[0]
        se = shapes.std(ddof=1) / math.sqrt(reps)
        assert abs(shapes.mean() - limit - predicted[0]) < 3 * se
        assert abs(predicted[0]) > 3 * se  # the bias is real at this n: the correction matters
    assert finite_n_bias("log_moment", HALFNORMAL, 1000)[0] == pytest.approx(2.25 * (2 / math.sqrt(3)) / 1000,
                                                                             rel=1e-9)
    assert finite_n_bias("mle", HALFNORMAL, 1000) is None


def test_numbers_quoted_in_docs_are_current():
    text = (Path(__file__).resolve().parent.parent / "docs" / "validation.md").read_text()
    quoted = {
        "1.2054343190": anchors.probability_plot_limit(HALFNORMAL)[0],
        "1.2627569592": anchors.mle_limit(HALFNORMAL)[0],
        "1.1547005384": anchors.log_moment_limit(HALFNORMAL)[0],
        "1.3751188054": anchors.probability_plot_limit(UNIFORM)[0],
        "0.6073655966": anchors.probability_plot_limit(UNIFORM)[1],
        "1.2271737112": anchors.probability_plot_limit(truncated_halfnormal(2.0))[0],
        "0.8303102521": anchors.probability_plot_limit(truncated_halfnormal(2.0))[1],
    }
    for text_value, value in quoted.items():
        assert text_value in text
        assert f"{value:.10f}" == text_value


def test_histogram_boundary_bias_and_regular_sigma():
    from weibull_stats.validation.asymptotic import histogram_bias

    probs = np.asarray(anchors.bin_probabilities(HALFNORMAL, 0.02))
    mid = np.cumsum(probs) / probs.sum() - 0.5 * probs / probs.sum()
    assert mid[687] - 0.1 == pytest.approx(-1.75e-4, abs=1e-6)  # sigma = 0.02 sits next to a jump
    near_jump = histogram_bias(HALFNORMAL, 0.02, 1_000_000)[0]
    assert -1e-3 < near_jump < -2e-4
    assert abs(histogram_bias(HALFNORMAL, 0.02, 10**12)[0]) < 1e-12  # the limit is reached
    regular = anchors.regular_sigma()
    assert 0.02 < regular < 0.02 * 10 ** (14 / 1024)
    assert abs(histogram_bias(HALFNORMAL, regular, 1_000_000)[0]) < 1e-6
