"""The bad-input policy (DESIGN §7): every message of ``sample.py``, the estimators and the
registry pinned by ``pytest.raises(match=...)``, and the documented ``omit`` options."""

from __future__ import annotations

import re

import numpy as np
import pytest

import weibull_stats as ws
from weibull_stats.core.options import check_choice, check_trim
from weibull_stats.sample.checked import as_sample as check_sample
from weibull_stats.sample.storage import to_array as to_numpy

ESTIMATORS = list(ws.ESTIMATORS)


def with_bad(values: list[float]) -> np.ndarray:
    """A clean Weibull sample of 20 values with ``values`` appended."""
    return np.concatenate([np.random.default_rng(0).weibull(1.5, 20) + 0.01, values])


@pytest.mark.parametrize("name", ESTIMATORS)
def test_nonfinite_values_named_and_counted(name: str) -> None:
    x = with_bad([np.nan, np.nan, np.inf, -np.inf])
    with pytest.raises(ValueError, match=r"`x` has 4 non-finite values out of 24 \(2 NaN, 2 infinite\); "
                       r"pass nonfinite='omit'"):
        ws.fit(x, name)
    fit = ws.fit(x, name, nonfinite="omit")
    assert fit.n == 24 and fit.n_omitted["nonfinite"] == 4 and fit.options["nonfinite"] == "omit"
    expected = ws.fit(x[:20], name)
    assert (fit.shape, fit.scale) == (expected.shape, expected.scale)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_negative_values_named_and_counted(name: str) -> None:
    x = with_bad([-0.5, -1.0, -2.0])
    with pytest.raises(ValueError, match=r"`x` has 3 negative values out of 23; magnitudes are expected "
                       r"\(pass values='weights' to fit \|x\|\)"):
        ws.fit(x, name, values="magnitudes")
    fit = ws.fit(x, name)  # values="weights" by default
    assert fit.options["values"] == "weights"
    expected = ws.fit(np.abs(x), name, values="magnitudes")
    assert (fit.shape, fit.scale, fit.n) == (expected.shape, expected.scale, expected.n)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_zeros_named_and_counted(name: str) -> None:
    x = with_bad([0.0, 0.0, -0.0])
    with pytest.raises(ValueError, match=r"`x` has 3 zeros out of 23; a Weibull fit takes log\(x\) "
                       r"\(pass zeros='omit' to drop them\)"):
        ws.fit(x, name, zeros="error")
    fit = ws.fit(x, name)  # zeros="omit" by default
    assert fit.n == 23 and fit.n_omitted["zeros"] == 3 and fit.n_used <= 20
    expected = ws.fit(x[:20], name, zeros="error")
    assert (fit.shape, fit.scale) == (expected.shape, expected.scale)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_empty_and_constant_and_too_few(name: str) -> None:
    with pytest.raises(ValueError, match=r"`x` is empty; a Weibull fit needs at least \d+ values"):
        ws.fit(np.array([]), name)
    with pytest.raises(ValueError, match=r"`x` is constant \(all 7 values equal 0\.25\); a Weibull shape "
                       "cannot be estimated"):
        ws.fit(np.full(7, 0.25), name)
    # histogram mode bins any number of values; one value is then a constant sample
    message = (r"`x` is constant \(all 1 values equal 1\.0\)" if name == "histogram"
               else r"`x` has 1 usable values out of 3; at least 2 are needed")
    with pytest.raises(ValueError, match=message):
        ws.fit([np.nan, 1.0, np.nan], name, nonfinite="omit")


def test_weights_policy_counts_zeros_after_abs() -> None:
    w = np.array([-0.3, 0.0, 0.2, -0.1, 0.5, 0.7])
    with pytest.raises(ValueError, match=r"`x` has 1 zeros out of 6"):
        ws.fit_mle(w, values="weights", zeros="error")
    with pytest.raises(ValueError, match=r"`x` has 1 non-finite values out of 7 \(1 NaN, 0 infinite\)"):
        ws.fit_mle(np.append(w, np.nan))  # nonfinite="error" by default


def test_choice_messages() -> None:
    x = np.random.default_rng(1).weibull(2.0, 50)
    for option in ("values", "nonfinite", "zeros"):
        with pytest.raises(ValueError, match=rf"`{option}` must be one of '.*'; got 'bogus'"):
            ws.fit_mle(x, **{option: "bogus"})
    with pytest.raises(ValueError, match=r"`plotting_position` must be one of 'hazen', 'weibull', "
                       r"'bernard', 'blom'; got 'gringorten'"):
        ws.fit_probability_plot(x, plotting_position="gringorten")
    with pytest.raises(ValueError, match=r"`direction` must be one of 'y_on_x', 'x_on_y'; got 'both'"):
        ws.fit_probability_plot(x, direction="both")
    with pytest.raises(ValueError, match=r"`direction` must be one of 'y_on_x', 'x_on_y'; got 1"):
        ws.fit_histogram_counts(np.ones(4), np.arange(5.0), direction=1)
    with pytest.raises(ValueError, match=r"`outside` must be one of 'error', 'omit'; got 'clip'"):
        ws.fit_histogram(x, outside="clip")
    with pytest.raises(ValueError, match=r"`method` must be one of 'inverted_cdf', .*; got 'cubic'"):
        ws.fit_quantile(x, method="cubic")
    assert check_choice("a", "name", ("a", "b")) == "a"


@pytest.mark.parametrize("bad", [0.5, "ab", (0.1,), (0.1, 0.5, 0.9)])
def test_trim_shape_message(bad: object) -> None:
    with pytest.raises(
        ValueError,
        match=re.escape(f"`trim` must be a pair (low, high) of probabilities; got {bad!r}"),
    ):
        check_trim(bad)


@pytest.mark.parametrize("bad", [(0.9, 0.1), (-0.1, 0.9), (0.1, 1.5), (0.5, 0.5)])
def test_trim_range_message(bad: tuple[float, float]) -> None:
    with pytest.raises(ValueError, match=r"`trim` must satisfy 0 <= low < high <= 1; got \(.*\)"):
        ws.fit_probability_plot(np.arange(1.0, 20.0), trim=bad)
    with pytest.raises(ValueError, match=r"`trim` must satisfy 0 <= low < high <= 1"):
        ws.fit_histogram(np.arange(1.0, 20.0), trim=bad)


def test_probability_plot_window_messages() -> None:
    with pytest.raises(ValueError, match=r"too few points after trimming: 1 of 10 values have hazen plotting "
                       r"positions in \[0\.4, 0\.5\]; at least 3 are needed"):
        ws.fit_probability_plot(np.arange(1.0, 11.0), trim=(0.4, 0.5))
    with pytest.raises(ValueError, match=r"too few points after trimming: 0 of 4 values"):
        ws.fit_probability_plot(np.arange(1.0, 5.0), trim=(0.4, 0.5))
    x = np.array([1.0] + [2.0] * 20 + [3.0])
    with pytest.raises(ValueError, match=r"the trim window holds 18 points with a single distinct value; "
                       "widen `trim` or check the data"):
        ws.fit_probability_plot(x)


def test_quantile_messages() -> None:
    x = np.random.default_rng(2).weibull(1.0, 100)
    with pytest.raises(ValueError, match=r"`probabilities` needs at least 2 values; got 1"):
        ws.fit_quantile(x, probabilities=(0.5,))
    with pytest.raises(
        ValueError,
        match=r"`probabilities` must lie strictly "
        r"between 0 and 1; got \(0\.0, 0\.5\)",
    ):
        ws.fit_quantile(x, probabilities=(0.0, 0.5))
    with pytest.raises(ValueError, match=r"`probabilities` must be strictly increasing; got \(0\.9, 0\.1\)"):
        ws.fit_quantile(x, probabilities=(0.9, 0.1))
    with pytest.raises(ValueError, match=r"`probabilities` must be a sequence of floats; got 0\.5"):
        ws.fit_quantile(x, probabilities=0.5)
    tied = np.array([1.0] * 50 + [2.0] * 3)
    with pytest.raises(
        ValueError,
        match=r"sample quantiles at \(0\.1, 0\.9\) are not increasing \(\[1\.0, 1\.0\]\); "
        "the data have too few distinct values",
    ):
        ws.fit_quantile(tied)


def test_histogram_messages() -> None:
    edges = np.linspace(-3, 1, 41)
    with pytest.raises(
        ValueError,
        match=r"`edges` must be a 1-D array of at lea"
        r"st 2 log10 bin edges; got shape \(1,\)",
    ):
        ws.fit_histogram_counts(np.ones(0), [1.0])
    with pytest.raises(ValueError, match=r"`edges` must be finite and strictly increasing"):
        ws.fit_histogram_counts(np.ones(3), [0.0, 2.0, 1.0, 3.0])
    with pytest.raises(ValueError, match=r"`edges` must be finite and strictly increasing"):
        ws.log10_histogram(np.ones(3), edges=[0.0, np.nan])
    with pytest.raises(ValueError, match=r"`counts` has 39 bins but `edges` describes 40"):
        ws.fit_histogram_counts(np.ones(39), edges)
    with pytest.raises(ValueError, match=r"`counts` must be finite and non-negative"):
        ws.fit_histogram_counts(np.r_[np.ones(39), -1.0], edges)
    with pytest.raises(ValueError, match=r"the histogram is empty: all bin counts are zero"):
        ws.fit_histogram_counts(np.zeros(40), edges)
    with pytest.raises(ValueError, match=r"too few bins after trimming: 1 non-empty bins have mid-bin CDF in "
                       r"\[0\.1, 0\.9\]; at least 3 are needed \(use finer edges\)"):
        ws.fit_histogram_counts(np.r_[np.zeros(39), 5.0], edges)
    x = np.r_[np.random.default_rng(3).weibull(1.0, 100) * 0.1 + 1e-3, 1e-5, 1e-6, 50.0]
    with pytest.raises(
        ValueError,
        match=r"`x` has 3 values out of 103 outside the histogram edges \[1e-3, 1e1\] "
        r"\(2 below, 1 above\); pass outside='omit'",
    ):
        ws.fit_histogram(x, edges=edges)
    fit = ws.fit_histogram(x, edges=edges, outside="omit")
    assert fit.details["n_below"] == 2 and fit.details["n_above"] == 1 and fit.n == 103
    expected = ws.fit_histogram(x[:100], edges=edges)
    assert (fit.shape, fit.scale) == (expected.shape, expected.scale)


def test_registry_messages() -> None:
    x = np.random.default_rng(4).weibull(1.0, 100)
    with pytest.raises(
        ValueError,
        match=r"unknown estimator 'gmm'; register"
        r"ed estimators: probability_plot, ",
    ):
        ws.fit(x, "gmm")
    with pytest.raises(ValueError, match=r"unknown estimator \['mle'\]"):
        ws.get_estimator(["mle"])  # type: ignore[arg-type]
    with pytest.raises(
        ValueError,
        match=r"unknown option `tirm` for estimator 'probability_plot'; valid options: "
        "trim, plotting_position, direction",
    ):
        ws.fit(x, "probability_plot", tirm=(0.1, 0.9))
    with pytest.raises(ValueError, match=r"unknown option `alpha`, `beta` for estimator 'mle'"):
        ws.ESTIMATORS["mle"](x, beta=1, alpha=2)


def test_conversion_messages() -> None:
    with pytest.raises(TypeError, match=r"`x` must hold real floating-point numbers; got dtype bool"):
        check_sample(np.array([True, False, True]))
    with pytest.raises(TypeError, match=r"`x` must hold real floating-point numbers; got dtype complex128"):
        ws.fit_mle(np.array([1 + 1j, 2.0]))
    with pytest.raises(TypeError, match=r"`x` must hold real floating-point numbers; got dtype <U1"):
        ws.fit_mle(["a", "b"])
    with pytest.raises(TypeError, match=r"`x` could not be converted to a numeric array: "):
        ws.fit_mle([[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match=r"`counts` must hold real floating-point numbers"):
        ws.fit_histogram_counts(["a"] * 3, [0.0, 1.0, 2.0, 3.0])
    assert to_numpy([1, 2, 3]).dtype == np.float64


def test_fast_path_leaves_input_untouched() -> None:
    """The estimators never modify the caller's array (sorting works on a copy)."""
    x = np.random.default_rng(5).weibull(1.0, 1000)
    w = np.random.default_rng(5).normal(size=1000)
    x0, w0 = x.copy(), w.copy()
    for name in ESTIMATORS:
        ws.fit(x, name)
        ws.fit(w, name, values="weights")
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_bfloat16_tensors_follow_the_same_policy(name: str) -> None:
    """bfloat16 tensors (counted, not sorted, where possible) give the same messages and omissions."""
    torch = pytest.importorskip("torch")
    clean = torch.tensor(with_bad([]), dtype=torch.bfloat16)
    bad = torch.cat([clean, torch.tensor([float("nan"), 0.0, -0.0], dtype=torch.bfloat16)])
    with pytest.raises(ValueError, match=r"`x` has 1 non-finite values out of 23 \(1 NaN, 0 infinite\)"):
        ws.fit(bad, name)
    with pytest.raises(ValueError, match=r"`x` has 2 zeros out of 23"):
        ws.fit(bad, name, nonfinite="omit", zeros="error")
    fit = ws.fit(bad, name, nonfinite="omit")  # zeros="omit" by default
    assert fit.n == 23 and dict(fit.n_omitted) == {"masked": 0, "nonfinite": 1, "zeros": 2}
    expected = ws.fit(clean.float().numpy(), name)
    assert (fit.shape, fit.scale) == pytest.approx((expected.shape, expected.scale), rel=1e-12)
    with pytest.raises(ValueError, match=r"`x` has 1 negative values out of 21"):
        ws.fit(torch.cat([clean, -clean[:1]]), name, values="magnitudes")
    with pytest.raises(ValueError, match=r"`x` is constant \(all 4 values equal 0\.5\)"):
        ws.fit(torch.tensor([0.5, -0.5, 0.5, 0.5], dtype=torch.bfloat16), name)


def test_a_sample_carries_its_policy() -> None:
    # checked once with zeros="error": fits, bootstrap and GoF take the sample as it is
    w = np.random.default_rng(3).normal(0.0, 0.02, 2000)
    sample = ws.as_sample(w, zeros="error")
    assert ws.as_sample(sample) is sample and ws.as_sample(sample, zeros="error") is sample
    fit = ws.fit(sample, "mle")
    assert fit.options["zeros"] == "error" and fit == ws.fit(w, "mle", zeros="error")
    with pytest.raises(ValueError, match=r"`x` is a Sample checked with \{'values': 'weights', 'nonfinite': "
                       r"'error', 'zeros': 'error'\}; it cannot be used with .*'values': 'magnitudes'"):
        ws.fit(sample, "mle", values="magnitudes")
