"""Bootstrap engine: batched forms, fast paths against index resampling, intervals,
coverage, determinism, reuse, errors and the CLI."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import weibull_stats as ws
from weibull_stats.cli import main
from weibull_stats.core.seeds import generator, seed_entropy
from weibull_stats.estimators.histogram import histogram_kernel, histogram_plan
from weibull_stats.estimators.probability_plot import ProbabilityPlotPlan, probability_plot_kernel
from weibull_stats.estimators.quantile import QuantilePlan
from weibull_stats.estimators.registry import ESTIMATORS
from weibull_stats.inference.bootstrap import JACKKNIFE_GROUPS, jackknife_acceleration, resolve_estimator
from weibull_stats.inference.engine import plan_for
from weibull_stats.inference.intervals import interval_probabilities
from weibull_stats.sample.batch import CountRows, RawRows


def weibull_sample(n: int, shape: float = 1.3, scale: float = 2.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).weibull(shape, size=n) * scale


# ---------------------------------------------------------------------- batched forms
ROW_CASES = [
    ("probability_plot", {}),
    ("probability_plot", {"trim": (0.05, 0.95), "plotting_position": "weibull", "direction": "x_on_y"}),
    ("histogram", {}),
    ("histogram", {"trim": (0.2, 0.8), "direction": "x_on_y"}),
    ("mle", {}),
    ("quantile", {}),
    ("quantile", {"probabilities": (0.05, 0.5, 0.95), "method": "hazen"}),
    ("log_moment", {}),
]


@pytest.mark.parametrize(("name", "options"), ROW_CASES)
def test_kernel_equals_estimator_row_by_row(name: str, options: dict) -> None:
    # the kernel on raw rows and on count rows (the same rows counted) is the one-sample fit
    rng = np.random.default_rng(11)
    grid = np.sort(rng.weibull(0.9, size=120)) * 0.03
    counts = rng.integers(0, 6, size=(6, grid.size))
    rows = rng.weibull(0.9, size=(6, 301)) * 0.03
    entry = ESTIMATORS[name]
    own = entry.split(options)[1]
    expanded = [np.repeat(grid, c) for c in counts]
    for batch, samples in ((RawRows(rows), list(rows)), (CountRows(grid, counts), expanded)):
        got = entry.kernel(batch, **own).pairs
        for row, (shape, scale) in zip(samples, got, strict=True):
            expected = entry(row, **options)
            assert shape == pytest.approx(expected.shape, rel=1e-9)
            assert scale == pytest.approx(expected.scale, rel=1e-9)


def test_kernels_mark_undefined_rows_nan_with_their_reason() -> None:
    rows = np.ones((2, 20))
    rows[1] = np.arange(1.0, 21.0)
    lines = probability_plot_kernel(RawRows(rows), trim=(0.1, 0.9), plotting_position="hazen",
                                    direction="y_on_x")
    assert np.isnan(lines.pairs[0]).all() and np.isfinite(lines.pairs[1]).all()
    assert "single distinct value" in lines.reasons[0] and 1 not in lines.reasons


# ---------------------------------------------------------------------- fast paths
@pytest.mark.parametrize(
    ("n", "options"),
    [
        (37, {}),
        (1000, {"trim": (0.05, 0.95), "plotting_position": "weibull"}),
        (161_083, {"direction": "x_on_y"}),  # dyadic blocks of many sizes, leaves cut by the window
        (1 << 18, {"trim": (0.0, 1.0)}),  # one block: the popcount tree all the way
    ],
)
def test_probability_plot_fast_path_equals_index_resampling(n: int, options: dict) -> None:
    x = np.sort(weibull_sample(n, seed=n))
    plan = ProbabilityPlotPlan(x, **options)
    for seed in range(3):
        counts = plan.counts(np.random.default_rng(seed))
        assert counts.sum() == n and counts.min() >= 0
        idx = np.repeat(np.arange(n), counts)  # the resample's sorted indices
        expected = ws.fit_probability_plot(x[idx], **options)
        shape, scale = plan.nonparametric(np.random.default_rng(seed), 1)[0]
        assert shape == pytest.approx(expected.shape, rel=1e-12)
        assert scale == pytest.approx(expected.scale, rel=1e-12)


@pytest.mark.parametrize(
    "options",
    [{}, {"method": "hazen"}, {"method": "inverted_cdf", "probabilities": (0.1, 0.5, 0.9)},
     {"method": "midpoint", "probabilities": (0.25, 0.999)}],
)
def test_quantile_fast_path_equals_index_resampling(options: dict) -> None:
    n = 1001
    x = np.sort(weibull_sample(n, seed=4))
    plan = QuantilePlan(x, **options)
    order = plan.order_indices(np.random.default_rng(9), 5)
    fast = plan.nonparametric(np.random.default_rng(9), 5)
    positions = plan.positions
    for r in range(5):
        idx = np.empty(n, dtype=np.intp)
        # order statistic at sorted position p is order[r, j]; fill the ranks between
        # consecutive needed positions with the lower one, which keeps idx sorted
        for j, p in enumerate(positions):
            stop = positions[j + 1] if j + 1 < positions.size else n
            start = 0 if j == 0 else p
            idx[start:stop] = order[r, j]
        expected = ws.fit_quantile(np.sort(x[idx]), **options)
        assert fast[r, 0] == pytest.approx(expected.shape, rel=1e-12)
        assert fast[r, 1] == pytest.approx(expected.scale, rel=1e-12)


def test_histogram_counts_path_equals_index_resampling() -> None:
    x = weibull_sample(5000, seed=8) * 0.01
    rng = np.random.default_rng(2)
    idx = rng.integers(0, x.size, size=(4, x.size))
    options = ESTIMATORS["histogram"].check(edges=None, trim=(0.1, 0.9), direction="y_on_x", outside="error")
    got = histogram_kernel(RawRows(x[idx]), **options).pairs
    for i in range(4):
        expected = ws.fit_histogram(x[idx[i]])
        assert got[i, 0] == pytest.approx(expected.shape, rel=1e-10)
        assert got[i, 1] == pytest.approx(expected.scale, rel=1e-10)


def reference_bootstrap(x: np.ndarray, name: str, size: int, seed: int) -> np.ndarray:
    """The obviously correct bootstrap: one index resample and one fit at a time."""
    rng = np.random.default_rng(seed)
    out = np.empty((size, 2))
    for i in range(size):
        fit = ESTIMATORS[name](np.sort(x[rng.integers(0, x.size, x.size)]))
        out[i] = fit.shape, fit.scale
    return out


@pytest.mark.parametrize("name", ["probability_plot", "quantile", "histogram"])
def test_fast_path_matches_index_resampling_in_distribution(name: str) -> None:
    # Same law, independent draws: means and sds agree within Monte Carlo error
    # (difference of two means: 4 standard errors; sds: 4 * sd * sqrt(1/(2B) + 1/(2B))).
    x = weibull_sample(5000, seed=21) * 0.05  # above every plan's min_n: the fast path runs
    size = 1000
    fast = ws.bootstrap(x, name, n_resamples=size, rng=5, workers=1).bootstrap_distribution
    slow = reference_bootstrap(x, name, size, seed=6)
    for column in range(2):
        a, b = fast[:, column], slow[:, column]
        se_mean = math.sqrt(a.var() / size + b.var() / size)
        assert abs(a.mean() - b.mean()) < 4 * se_mean
        se_sd = b.std() * math.sqrt(1.0 / size)
        assert abs(a.std() - b.std()) < 4 * se_sd


# ---------------------------------------------------------------------- intervals and reuse
def test_percentile_and_basic_intervals_from_the_distribution() -> None:
    x = weibull_sample(300)
    res = ws.bootstrap(x, "mle", n_resamples=400, rng=3, workers=1)
    dist = res.bootstrap_distribution
    low, high = np.quantile(dist[:, 0], [0.025, 0.975])
    assert res.confidence_interval.shape == (low, high)
    basic = res.with_method("basic")
    assert basic.confidence_interval.shape.low == pytest.approx(2 * res.estimate.shape - high)
    assert basic.confidence_interval.shape.high == pytest.approx(2 * res.estimate.shape - low)
    assert np.array_equal(basic.bootstrap_distribution, dist)
    narrow = res.with_method("percentile", confidence_level=0.5)
    assert narrow.confidence_interval.scale.low > res.confidence_interval.scale.low
    assert res.standard_error.shape == pytest.approx(dist[:, 0].std(ddof=1))


def test_bca_acceleration_is_the_ordinary_jackknife_for_small_n() -> None:
    x = weibull_sample(JACKKNIFE_GROUPS - 10, seed=2)
    entry = resolve_estimator("log_moment")
    accel = jackknife_acceleration(entry, x, {}, seed=0)
    loo = np.array([[f.shape, f.scale] for f in (ws.fit_log_moment(np.delete(x, i)) for i in range(x.size))])
    d = loo.mean(axis=0) - loo
    expected = (d**3).sum(axis=0) / (6 * ((d**2).sum(axis=0)) ** 1.5)
    assert accel == pytest.approx(tuple(expected), rel=1e-9)


def test_bca_needs_the_data_when_the_result_has_no_acceleration() -> None:
    x = weibull_sample(200)
    res = ws.bootstrap(x, "log_moment", n_resamples=200, rng=1, workers=1)
    with pytest.raises(ValueError, match="`x` is needed to compute the BCa acceleration"):
        res.with_method("bca")
    bca = res.with_method("bca", x=x)
    direct = ws.bootstrap(x, "log_moment", n_resamples=200, rng=1, method="bca", workers=1)
    assert bca.confidence_interval == direct.confidence_interval
    assert bca.acceleration is not None


def test_extend_appends_new_blocks_of_the_same_seed() -> None:
    x = weibull_sample(500)
    res = ws.bootstrap(x, "probability_plot", n_resamples=70, rng=4, workers=1)
    more = res.extend(x, 50, workers=1)
    assert more.n_resamples == 120
    assert more.segments == ((0, 70), (3, 50))
    assert np.array_equal(more.bootstrap_distribution[:70], res.bootstrap_distribution)
    again = res.extend(x, 50, workers=2)
    assert np.array_equal(again.bootstrap_distribution, more.bootstrap_distribution)
    with pytest.raises(ValueError, match="`x` is not the data of this result"):
        res.extend(x * 1.5, 10)
    with pytest.raises(ValueError, match="`n_more` must be an int >= 1; got 0"):
        res.extend(x, 0)


@pytest.mark.parametrize("name", list(ESTIMATORS))
@pytest.mark.parametrize("kind", ["nonparametric", "parametric"])
def test_every_estimator_and_kind_is_deterministic(name: str, kind: str) -> None:
    x = weibull_sample(300, seed=1)
    a = ws.bootstrap(x, name, n_resamples=40, kind=kind, rng=12, workers=1)
    b = ws.bootstrap(x, name, n_resamples=40, kind=kind, rng=12, workers=2)
    assert np.array_equal(a.bootstrap_distribution, b.bootstrap_distribution)
    assert a.seed == 12 and a.kind == kind and a.estimate.estimator == name
    low, high = a.confidence_interval.shape
    assert low < high and np.isfinite(a.bootstrap_distribution).all()
    json.dumps(a.to_dict())


def test_seed_from_a_generator_is_recorded_and_reproduces() -> None:
    x = weibull_sample(200)
    res = ws.bootstrap(x, "mle", n_resamples=50, rng=np.random.default_rng(3), workers=1)
    again = ws.bootstrap(x, "mle", n_resamples=50, rng=res.seed, workers=1)
    assert np.array_equal(res.bootstrap_distribution, again.bootstrap_distribution)
    assert ws.bootstrap(x, "mle", n_resamples=5, workers=1).seed != ws.bootstrap(x, "mle", n_resamples=5).seed


def test_estimator_given_as_function_and_weights_option() -> None:
    w = np.random.default_rng(0).normal(0.0, 0.02, 2000)
    res = ws.bootstrap(w, ws.fit_mle, n_resamples=30, rng=0, values="weights", workers=1)
    assert res.estimate.estimator == "mle" and res.options["values"] == "weights"
    assert generator(0, "bootstrap", 0).integers(10) == generator(0, "bootstrap", 0).integers(10)


# ---------------------------------------------------------------------- coverage
def coverage(name: str, n: int, reps: int, size: int, seed: int) -> dict[str, float]:
    """Share of intervals (percentile, basic, BCa at 0.95) that cover the true shape 1.5."""
    rng = np.random.default_rng(seed)
    hits = dict.fromkeys(("percentile", "basic", "bca"), 0)
    for _ in range(reps):
        x = rng.weibull(1.5, size=n)
        res = ws.bootstrap(x, name, n_resamples=size, rng=rng, workers=1)
        for method in hits:
            interval = res.with_method(method, x=x).confidence_interval.shape
            hits[method] += interval.low <= 1.5 <= interval.high
    return {m: h / reps for m, h in hits.items()}


# Measured (n=200, 150 data sets, 199 resamples, seed 0): mle 0.913 / 0.907 / 0.927 and
# probability_plot 0.960 / 0.947 / 0.953 (percentile / basic / BCa); the bound is 4 binomial
# standard errors of a coverage of 0.95 (0.071).
@pytest.mark.parametrize("name", ["mle", "probability_plot"])
def test_coverage_short(name: str) -> None:
    reps = 150
    result = coverage(name, n=200, reps=reps, size=199, seed=0)
    bound = 4 * math.sqrt(0.95 * 0.05 / reps)
    for method, value in result.items():
        assert abs(value - 0.95) < bound, (method, value)


# n = 500 runs the index-resampling route, n = 5000 the probability plot's sorted plan.
@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "n", "reps", "size", "seed"),
    [
        ("mle", 500, 1000, 999, 1),
        ("probability_plot", 500, 1000, 999, 1),
        ("probability_plot", 5000, 300, 499, 2),
    ],
)
def test_coverage_long(name: str, n: int, reps: int, size: int, seed: int) -> None:
    result = coverage(name, n=n, reps=reps, size=size, seed=seed)
    bound = 3.5 * math.sqrt(0.95 * 0.05 / reps)
    for method, value in result.items():
        assert abs(value - 0.95) < bound, (method, value)


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_resamples": 0}, ValueError, "`n_resamples` must be an int >= 1; got 0"),
        ({"n_resamples": 2.5}, ValueError, "`n_resamples` must be an int >= 1; got 2.5"),
        ({"method": "bootstrap-t"}, ValueError, "`method` must be one of 'percentile', 'basic', 'bca'"),
        ({"kind": "smooth"}, ValueError, "`kind` must be one of 'nonparametric', 'parametric'"),
        ({"confidence_level": 1.0}, ValueError, "`confidence_level` must lie strictly between 0 and 1"),
        ({"rng": -1}, ValueError, "`rng` must be a non-negative integer; got -1"),
        ({"rng": "seed"}, TypeError, "`rng` must be a numpy Generator, an int seed or None; got str"),
        ({"rng": True}, TypeError, "`rng` must be a numpy Generator, an int seed or None; got True"),
        ({"workers": 0}, ValueError, "`workers` must be a positive int or None; got 0"),
        ({"estimator": "bayes"}, ValueError, "unknown estimator 'bayes'"),
        ({"estimator": len}, ValueError, "`estimator` 'len' is not a registered estimator"),
        ({"trim": (0.1, 0.9)}, ValueError, "unknown option `trim` for estimator 'mle'"),
    ],
)
def test_errors_name_the_argument(kwargs: dict, error: type, match: str) -> None:
    kwargs = {"estimator": "mle", **kwargs}
    with pytest.raises(error, match=match):
        ws.bootstrap(weibull_sample(50), **kwargs)


def test_undefined_resample_estimates_are_an_error_with_the_count() -> None:
    x = np.array([1.0, 1, 1, 1, 1, 1, 2, 3, 4, 5])
    match = r"\d+ of 999 bootstrap estimates of 'probability_plot' are undefined"
    with pytest.raises(ValueError, match=match):
        ws.bootstrap(x, n_resamples=999, rng=0, workers=1)


def test_bad_data_is_refused_by_the_estimator_check() -> None:
    with pytest.raises(ValueError, match=r"`x` has 1 non-finite values out of 3 \(1 NaN"):
        ws.bootstrap([1.0, np.nan, 2.0], "mle")


def test_seed_entropy_of_none_is_fresh() -> None:
    assert seed_entropy(None) != seed_entropy(None)


def test_plan_refuses_a_window_that_is_too_small() -> None:
    with pytest.raises(ValueError, match="too few points after trimming: 1 of 5 values"):
        ProbabilityPlotPlan(np.arange(1.0, 6.0), trim=(0.4, 0.6))
    assert histogram_plan(np.sort(weibull_sample(100))).frequencies.sum() == pytest.approx(1.0)


# ---------------------------------------------------------------------- CLI
def test_cli_bootstrap_same_seed_same_bytes(tmp_path, capsys) -> None:
    path = tmp_path / "w.npy"
    np.save(path, np.random.default_rng(0).normal(0, 0.02, 3000).astype(np.float32))
    argv = ["bootstrap", str(path), "--estimator", "probability_plot", "--method", "bca",
            "--n-resamples", "99", "--seed", "7", "--values", "weights", "--format", "json"]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert main(argv) == 0
    assert capsys.readouterr().out == first
    payload = json.loads(first)
    assert set(payload["shape"]) == {"low", "high"} and set(payload["scale"]) == {"low", "high"}
    assert payload["seed"] == 7 and payload["estimate"]["estimator"] == "probability_plot"
    assert payload["shape"]["low"] < payload["estimate"]["shape"] < payload["shape"]["high"]
    assert main(["bootstrap", str(path), "--values", "weights", "--n-resamples", "20", "--seed", "1"]) == 0
    assert "percentile interval, 20 nonparametric resamples" in capsys.readouterr().out


def test_cli_bootstrap_errors_are_one_line(tmp_path, capsys) -> None:
    path = tmp_path / "w.npy"
    np.save(path, np.random.default_rng(0).normal(0, 0.02, 100))
    assert main(["bootstrap", str(path), "--seed", "1", "--values", "magnitudes"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the array has" in err and "negative values out of 100" in err
    with pytest.raises(SystemExit):
        main(["bootstrap", str(path), "--n-resamples", "0"])
    assert "argument --n-resamples: must be an integer >= 1; got 0" in capsys.readouterr().err


# ---------------------------------------------------------------------- parametric fast paths
@pytest.mark.parametrize("name", ["probability_plot", "quantile", "histogram"])
def test_parametric_ordered_draws_match_simulation_in_distribution(name: str) -> None:
    # Parametric bootstrap (ordered null draws, weibull_stats.inference.nulls) against refitting
    # explicit unsorted Weibull samples: means and sds within 4 Monte Carlo standard errors.
    x = weibull_sample(5000, seed=22) * 0.05  # above every plan's min_n: the fast path runs
    size = 1000
    fast = ws.bootstrap(x, name, n_resamples=size, kind="parametric", rng=5, workers=1)
    fit = fast.estimate
    rows = np.random.default_rng(6).weibull(fit.shape, size=(size, x.size)) * fit.scale
    slow = ESTIMATORS[name].kernel(RawRows(rows), **ESTIMATORS[name].split({})[1]).pairs
    for column in range(2):
        a, b = fast.bootstrap_distribution[:, column], slow[:, column]
        assert abs(a.mean() - b.mean()) < 4 * math.sqrt(a.var() / size + b.var() / size)
        assert abs(a.std() - b.std()) < 4 * b.std() * math.sqrt(1.0 / size)


def test_bca_is_undefined_when_every_estimate_lies_on_one_side() -> None:
    from dataclasses import replace

    from weibull_stats.inference.bootstrap import ShapeScale

    res = ws.bootstrap(weibull_sample(100), "mle", n_resamples=20, rng=0, workers=1)
    shifted = replace(res, bootstrap_distribution=res.bootstrap_distribution + 10.0,
                      acceleration=ShapeScale(0.0, 0.0))
    with pytest.raises(ValueError, match="BCa interval undefined: 0 of 20 bootstrap estimates lie below"):
        shifted.with_method("bca")


def test_engine_uses_the_sorted_plan_from_its_minimum_size() -> None:
    entry = ESTIMATORS["probability_plot"]
    small, large = weibull_sample(ProbabilityPlotPlan.min_n - 1), weibull_sample(ProbabilityPlotPlan.min_n)
    own = entry.split({})[1]
    assert isinstance(plan_for(entry, ws.as_sample(large), own), ProbabilityPlotPlan)
    assert plan_for(entry, ws.as_sample(small), own) is None
    assert ws.bootstrap(large, n_resamples=2, rng=0).route == "order-statistic plan"
    assert ws.bootstrap(small, n_resamples=2, rng=0).route == "index resampling"


# ---------------------------------------------------------------------- too few resamples (issue 10, item 9)
def test_one_resample_warns_of_a_zero_width_interval() -> None:
    x = weibull_sample(200)
    with pytest.warns(ws.FewResamplesWarning, match=r"1 resamples are too few .* use at least 39"):
        res = ws.bootstrap(x, "mle", n_resamples=1, rng=0, workers=1)
    assert res.confidence_interval.shape.low == res.confidence_interval.shape.high


@pytest.mark.parametrize(("level", "fewest"), [(0.95, 39), (0.9, 19), (0.99, 199)])
def test_the_resample_rule_is_one_order_statistic_per_tail(level: float, fewest: int) -> None:
    # (M + 1) alpha / 2 >= 1: no warning at the fewest admissible M, a warning one below it
    x = weibull_sample(100)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ws.FewResamplesWarning)
        res = ws.bootstrap(x, "log_moment", n_resamples=fewest, confidence_level=level, rng=0, workers=1)
        res.with_method("basic")
    with pytest.warns(ws.FewResamplesWarning, match=f"use at least {fewest}"):
        ws.bootstrap(x, "log_moment", n_resamples=fewest - 1, confidence_level=level, rng=0, workers=1)


def test_bca_checks_its_adjusted_tails() -> None:
    # 50 resamples cover the percentile tails (0.025: 51 * 0.025 >= 1) but not the BCa tail of
    # the scale, which the bias correction moves to about 0.013 (51 * 0.013 < 1)
    x = weibull_sample(200)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ws.FewResamplesWarning)
        res = ws.bootstrap(x, "mle", n_resamples=50, rng=0, workers=1)
    with pytest.warns(ws.FewResamplesWarning, match="bca interval with tail probability 0.013"):
        bca = res.with_method("bca", x=x)
    assert bca.acceleration is not None
    upper = interval_probabilities(res.bootstrap_distribution[:, 1], res.estimate.scale, "bca", 0.95,
                                   bca.acceleration.scale)[1]
    assert (50 + 1) * (1.0 - upper) < 1
    assert issubclass(ws.FewResamplesWarning, ws.DegenerateSampleWarning)
