"""Degenerate samples: every registered estimator warns in the same situations, on raw and
counts samples; the rules' boundaries; the MLE at n = 2; no flood from the inference layer."""

from __future__ import annotations

import warnings

import ml_dtypes
import numpy as np
import pytest

import weibull_stats as ws
from weibull_stats.sample.degenerate import EPSILON, MIN_VALUES, NEAR_CONSTANT_STEPS, degenerate_reason


def _bf16_narrow() -> np.ndarray:
    # 51 consecutive bfloat16 values from 1 (step 2^-7): relative spread 0.28 < 64 * 2^-7
    values = (1.0 + np.arange(51) * 2.0**-7).astype(ml_dtypes.bfloat16)
    return np.repeat(values, 3)


#: (situation, data, message): each is degenerate by exactly one rule.
SITUATIONS = [
    ("few_values", np.random.default_rng(0).weibull(1.5, MIN_VALUES - 1), r"has 9 usable values"),
    ("two_distinct", np.repeat([1.0, 2.0], [40, 60]), r"has 2 distinct values"),
    ("near_constant_float64", 1.0 + 1e-16 * np.arange(40), r"near-constant: .* float64 epsilons"),
    ("near_constant_bfloat16", _bf16_narrow(), r"near-constant: .* bfloat16 epsilons"),
]


def _sample(data: np.ndarray, form: str) -> ws.Sample:
    return ws.as_sample(data, form=form)


@pytest.mark.parametrize("form", ["raw", "counts"])
@pytest.mark.parametrize("name", list(ws.ESTIMATORS))
@pytest.mark.parametrize(("situation", "data", "message"), SITUATIONS, ids=[s[0] for s in SITUATIONS])
def test_every_estimator_warns_in_the_same_situations(
    name: str, form: str, situation: str, data: np.ndarray, message: str
) -> None:
    sample = _sample(data, form)
    with pytest.warns(ws.DegenerateSampleWarning, match=message) as caught:
        try:
            fit = ws.ESTIMATORS[name](sample)
        except ValueError:  # an estimator may refuse the sample after warning (2 values in a trim)
            fit = None
    assert len([w for w in caught if issubclass(w.category, ws.DegenerateSampleWarning)]) == 1
    if fit is not None:
        assert fit.details["degenerate"] == degenerate_reason(sample)
        assert ws.WeibullFit.from_dict(fit.to_dict()) == fit


@pytest.mark.parametrize("form", ["raw", "counts"])
@pytest.mark.parametrize("name", list(ws.ESTIMATORS))
def test_a_sound_sample_does_not_warn(name: str, form: str) -> None:
    sample = _sample(np.random.default_rng(1).weibull(1.2, 2000), form)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ws.DegenerateSampleWarning)
        fit = ws.ESTIMATORS[name](sample)
    assert "degenerate" not in fit.details


def test_rule_boundaries() -> None:
    x = np.random.default_rng(2).weibull(1.5, MIN_VALUES)
    assert degenerate_reason(ws.as_sample(x)) is None
    assert "9 usable values" in str(degenerate_reason(ws.as_sample(x[:-1])))
    three = np.repeat([1.0, 1.5, 2.0], 5)
    assert degenerate_reason(ws.as_sample(three, form="raw")) is None
    assert degenerate_reason(ws.as_sample(three[5:], form="raw")) is not None
    # a third value found only after the probe of the first 4096 raw values
    late = np.concatenate([np.repeat([1.0, 2.0], 3000), [1.5]])
    assert degenerate_reason(ws.as_sample(late, form="raw")) is None
    # spread just above and just below NEAR_CONSTANT_STEPS float64 epsilons
    steps = NEAR_CONSTANT_STEPS * EPSILON["float64"]
    above = 1.0 + np.linspace(0.0, 1.01 * steps, 20)
    below = 1.0 + np.linspace(0.0, 0.99 * steps, 20)
    assert degenerate_reason(ws.as_sample(above / above[-1])) is None
    assert "near-constant" in str(degenerate_reason(ws.as_sample(below / below[-1])))


def test_issue_examples_warn() -> None:
    # issue 10, item 9: two distinct values and data constant to 1e-15 gave shapes with no warning
    with pytest.warns(ws.DegenerateSampleWarning, match="2 distinct values"):
        ws.fit_log_moment(np.array([1.0, 2.0] * 10))
    with pytest.warns(ws.DegenerateSampleWarning, match="near-constant"):
        fit = ws.fit_mle(1.0 + 1e-15 * np.arange(10))
    assert fit.shape > 1e13


def test_mle_of_two_values_is_an_interior_maximum() -> None:
    # converged=True is right at n = 2: the likelihood has an interior maximum (it is bounded
    # for any two distinct values); the warning says the fit interpolates two points
    x = np.array([1.0, 2.0])
    with pytest.warns(ws.DegenerateSampleWarning, match="2 usable values"):
        fit = ws.fit_mle(x)
    assert fit.converged
    k = fit.shape
    score = (x**k * np.log(x)).sum() / (x**k).sum() - 1.0 / k - np.log(x).mean()
    assert abs(score) < 1e-12
    assert np.isfinite(fit.shape_se) and np.isfinite(fit.scale_se)  # information positive definite

    def profile(shape: float) -> float:
        scale = np.mean(x**shape) ** (1.0 / shape)
        return float(np.sum(np.log(shape / scale) + (shape - 1) * np.log(x / scale) - (x / scale) ** shape))

    assert profile(k) > max(profile(k * 0.999), profile(k * 1.001))


def test_resamples_and_null_samples_do_not_warn() -> None:
    # the bootstrap and goodness of fit fit the data once (one warning); their resamples and
    # Monte Carlo samples go through the kernels and never warn
    x = np.random.default_rng(3).weibull(1.5, 8)
    with pytest.warns(ws.DegenerateSampleWarning) as caught:
        ws.bootstrap(x, "mle", n_resamples=99, rng=0)
    assert len(caught) == 1
    with pytest.warns(ws.DegenerateSampleWarning) as caught:
        ws.goodness_of_fit(x, "mle", n_mc_samples=19, rng=0)
    assert len(caught) == 1


def test_compare_models_warns() -> None:
    with pytest.warns(ws.DegenerateSampleWarning, match="model comparison"):
        ws.compare_models(np.random.default_rng(4).weibull(1.5, 5))


# ---------------------------------------------------------------------- issue 20, item 10
def test_min_size_below_one_is_refused() -> None:
    for bad in (0, -3, 1.5, True):
        with pytest.raises(ValueError, match=r"^`min_size` must be an int >= 1; got "):
            ws.as_sample(np.array([1.0, 2.0, 3.0]), min_size=bad)
    with pytest.raises(ValueError, match=r"`x` is empty; a Weibull fit needs at least 1 values"):
        ws.as_sample(np.array([]), min_size=1)


@pytest.mark.parametrize("estimator", ["mle", "probability_plot", "log_moment"])
def test_two_distinct_values_warn_in_the_interval_field(estimator: str) -> None:
    # many copies of two values: a tight interval around a shape the data cannot determine
    x = np.repeat([1.0, 2.0], 500)
    reason = "`x` has 2 distinct values (at least 3 are needed to estimate a Weibull shape)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        asymptotic = ws.confidence_interval(x, estimator)
        boot = ws.confidence_interval(x, estimator, method="bootstrap", n_resamples=49, rng=0)
    for result in (asymptotic, boot):
        assert result.warning is not None and result.warning.startswith(reason), result.warning
        assert result.to_row()["interval_warning"] == result.warning
    sound = ws.confidence_interval(np.random.default_rng(0).weibull(1.5, 2000), estimator, method="bootstrap",
                                   n_resamples=49, rng=0)
    assert sound.warning is None
