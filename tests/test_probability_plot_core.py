"""The probability-plot kernel defined once: counts equal raw, one sample equals a row of a
batch bit for bit, the window selection equals the full sort, and the nonparametric plan
equals explicit resampling."""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest

import weibull_stats as ws
from tests import reference as ref
from weibull_stats.estimators._core import one_fit
from weibull_stats.estimators.probability_plot import (
    ESTIMATOR,
    MIN_POINTS,
    PLOTTING_POSITIONS,
    ProbabilityPlotPlan,
    check_options,
    order_window,
    probability_plot_kernel,
    trim_window,
)
from weibull_stats.estimators.probability_plot import _counts as counts_module
from weibull_stats.estimators.probability_plot._counts import prefix_at, prefix_table
from weibull_stats.estimators.probability_plot._raw import ordered_window_sums
from weibull_stats.sample.batch import CountRows, RawRows

TRIMS = [(0.1, 0.9), (0.0, 1.0), (0.05, 0.95)]
DIRECTIONS = ["y_on_x", "x_on_y"]


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


def half_normal(n: int, seed: int, sigma: float = 0.02) -> np.ndarray:
    return np.abs(np.random.default_rng(seed).normal(0.0, sigma, n)) + 1e-6


def storages() -> dict[str, np.ndarray]:
    """Data whose as_sample is in counts form, n = 50,000 (three chunks of window ranks)."""
    x = half_normal(50_000, seed=3)
    bf16 = x.astype(ml_dtypes.bfloat16)
    five = np.array([0.013, 0.02, 0.031, 0.047, 0.09])[np.random.default_rng(4).integers(0, 5, 5000)]
    return {
        "bfloat16": bf16,
        "float16": x.astype(np.float16),
        "float32 on the bf16 grid": bf16.astype(np.float32),
        "five distinct values": five,
    }


def fit_pair(x: np.ndarray, **options: object) -> tuple[ws.WeibullFit, ws.WeibullFit]:
    counts = ws.as_sample(x, form="counts")
    raw = ws.as_sample(x, form="raw")
    assert counts.form == "counts" and raw.form == "raw"
    return ws.fit_probability_plot(counts, **options), ws.fit_probability_plot(raw, **options)


# ---------------------------------------------------------------------- counts equal raw
@pytest.mark.parametrize("label", list(storages()))
def test_counts_equal_raw_for_every_option(label: str) -> None:
    x = storages()[label]
    if label != "five distinct values":
        assert ws.as_sample(x).form == "counts"  # what the default fit uses
    for trim in TRIMS:
        for pp in PLOTTING_POSITIONS:
            for direction in DIRECTIONS:
                options = {"trim": trim, "plotting_position": pp, "direction": direction}
                counted, raw = fit_pair(x, **options)
                assert rel(counted.shape, raw.shape) < 1e-12, (label, options)
                assert rel(counted.scale, raw.scale) < 1e-12, (label, options)
                assert rel(counted.r2, raw.r2) < 1e-12, (label, options)
                assert counted.n_used == raw.n_used
                assert counted.details["rank_low"] == raw.details["rank_low"]


def test_counts_equal_the_reference_on_heavy_ties() -> None:
    x = storages()["five distinct values"]
    for trim in TRIMS:
        for pp in PLOTTING_POSITIONS:
            counted, _ = fit_pair(x, trim=trim, plotting_position=pp)
            shape, scale, r2 = ref.probability_plot(x, trim, pp)
            assert rel(counted.shape, shape) < 1e-12
            assert rel(counted.scale, scale) < 1e-12
            assert rel(counted.r2, r2) < 1e-12


def test_prefix_is_accurate_and_the_same_streamed_or_tabled() -> None:
    n = 3 * 16384 + 1234
    lo, hi = trim_window(n, (0.0, 1.0))
    table, sv, svv = prefix_table(n, lo, hi, 0.5)
    v = np.log(-np.log1p(-(np.arange(1, n + 1) - 0.5) / n))
    for t in [1, 17, 16384, 16385, 40_000, n]:
        assert rel(table[t], math.fsum(v[:t].tolist())) < 1e-14
    assert rel(sv, math.fsum(v.tolist())) < 1e-14
    positions = np.sort(np.random.default_rng(0).integers(0, n + 1, 500))
    streamed, sv2, svv2 = prefix_at(n, lo, hi, 0.5, positions)
    assert np.array_equal(streamed, table[positions]) and (sv, svv) == (sv2, svv2)


def test_prefix_on_two_threads_is_the_same_bitwise(monkeypatch: pytest.MonkeyPatch) -> None:
    n = 5 * 16384 + 99
    lo, hi = trim_window(n, (0.1, 0.9), "bernard")
    positions = np.sort(np.random.default_rng(1).integers(0, hi - lo + 2, 300))
    plain = prefix_table(n, lo, hi, 0.3), prefix_at(n, lo, hi, 0.3, positions)
    monkeypatch.setattr(counts_module, "PARALLEL_MIN", 1)
    threaded = prefix_table(n, lo, hi, 0.3), prefix_at(n, lo, hi, 0.3, positions)
    for (q, sv, svv), (q2, sv2, svv2) in zip(plain, threaded, strict=True):
        assert np.array_equal(q, q2) and sv == sv2 and svv == svv2


# ---------------------------------------------------------------------- one sample is a row
def assert_same_lines(lines, row: int, fit: ws.WeibullFit) -> None:
    assert lines.shape[row] == fit.shape
    assert lines.scale[row] == fit.scale
    assert lines.diagnostics["r2"][row] == fit.r2
    assert int(lines.n_used[row]) == fit.n_used


@pytest.mark.parametrize(
    "options", [{}, {"trim": (0.0, 1.0), "plotting_position": "blom", "direction": "x_on_y"}]
)
def test_one_raw_sample_is_bitwise_a_row_of_a_batch(options: dict) -> None:
    rng = np.random.default_rng(7)
    rows = (rng.weibull(1.2, size=(7, 40_000)) * rng.uniform(0.01, 3.0, size=(7, 1))).astype(np.float32)
    checked = check_options(**options)
    lines = probability_plot_kernel(RawRows(rows), **checked)
    for r in range(7):
        fit = ws.fit_probability_plot(rows[r], **options)
        assert_same_lines(lines, r, fit)
    sorted_lines = probability_plot_kernel(RawRows(np.sort(rows, axis=1), ordered=True), **checked)
    assert np.array_equal(sorted_lines.shape, lines.shape) and np.array_equal(sorted_lines.scale, lines.scale)


@pytest.mark.parametrize(
    "options", [{}, {"trim": (0.05, 0.95), "plotting_position": "weibull", "direction": "x_on_y"}]
)
def test_one_count_sample_is_bitwise_a_row_of_a_batch(options: dict) -> None:
    rng = np.random.default_rng(8)
    grid = np.unique(half_normal(200_000, seed=9).astype(ml_dtypes.bfloat16).astype(np.float64))
    counts = rng.multinomial(60_000, rng.dirichlet(np.ones(grid.size)), size=7)
    counts[6] = rng.multinomial(41_000, rng.dirichlet(np.ones(grid.size)))  # another size in the batch
    checked = check_options(**options)
    for dense in (True, False):
        rows = counts + 1 if dense else counts  # dense: every grid value present in every row
        lines = probability_plot_kernel(CountRows(grid, rows), **checked)
        for r in range(7):
            keep = rows[r] > 0
            sample = ws.Sample(n=int(rows[r].sum()), n_omitted={"masked": 0, "nonfinite": 0, "zeros": 0},
                               policy={"values": "magnitudes", "nonfinite": "error", "zeros": "error"},
                               dtype="float64", storage="float64", distinct=grid[keep], counts=rows[r][keep])
            single = one_fit("probability_plot", probability_plot_kernel, sample, checked)
            if dense:  # the same grid: the same code on the same numbers
                assert_same_lines(lines, r, single)
            one = probability_plot_kernel(CountRows(grid, rows[r : r + 1]), **checked)
            assert one.shape[0] == lines.shape[r] and one.scale[0] == lines.scale[r]
            assert one.diagnostics["r2"][0] == lines.diagnostics["r2"][r]
            expanded = ws.fit_probability_plot(np.repeat(grid, rows[r]), **options)
            assert rel(single.shape, expanded.shape) < 1e-12 and rel(single.scale, expanded.scale) < 1e-12
            assert rel(single.r2, expanded.r2) < 1e-12


# ---------------------------------------------------------------------- the window selection
def test_selection_equals_the_full_sort_and_leaves_the_input_alone() -> None:
    rng = np.random.default_rng(2)
    for m, trim in [(10, (0.0, 1.0)), (101, (0.1, 0.9)), (5000, (0.4, 0.45)), (70_000, (0.05, 0.95))]:
        x = rng.weibull(0.8, size=(3, m))
        lo, hi = trim_window(m, trim)
        for threads in (False, True):
            y = x.copy()
            order_window(y, lo, hi, threads=threads)
            assert np.array_equal(y[:, lo - 1 : hi], np.sort(x, axis=1)[:, lo - 1 : hi])
    x = rng.weibull(1.5, size=30_000)
    before = x.copy()
    fit = ws.fit_probability_plot(x)
    assert np.array_equal(x, before)
    expected = ref.probability_plot(x)
    assert rel(fit.shape, expected[0]) < 1e-12 and rel(fit.scale, expected[1]) < 1e-12


def test_threaded_sums_equal_the_plain_ones_bitwise() -> None:
    x = np.sort(np.random.default_rng(5).weibull(1.1, size=(1, 9 * 16384 + 77)).astype(np.float32), axis=1)
    lo, hi = trim_window(x.shape[1], (0.1, 0.9))
    shift_a, sums_a = ordered_window_sums(x, lo, hi, 0.5, threads=False)
    shift_b, sums_b = ordered_window_sums(x, lo, hi, 0.5, threads=True)
    assert shift_a == shift_b
    for a, b in zip(sums_a, sums_b, strict=True):
        assert np.array_equal(a, b)


@pytest.mark.slow
def test_large_rows_take_the_threaded_path_with_the_same_numbers() -> None:
    x = np.random.default_rng(6).standard_normal(1 << 21).astype(np.float32)
    fit = ws.fit_probability_plot(x, values="weights")
    sorted_ = ws.fit_probability_plot(np.sort(np.abs(x)).astype(np.float64))
    assert rel(fit.shape, sorted_.shape) < 1e-12 and rel(fit.scale, sorted_.scale) < 1e-12
    owned = np.abs(x)
    lines = probability_plot_kernel(RawRows(owned[None, :], owned=True))
    assert lines.shape[0] == fit.shape and lines.scale[0] == fit.scale


# ---------------------------------------------------------------------- results and errors
def test_result_records_options_and_window() -> None:
    fit = ws.fit_probability_plot(np.random.default_rng(0).weibull(1.3, 1000), trim=[0.05, 0.95])
    assert dict(fit.options) == {"trim": (0.05, 0.95), "plotting_position": "hazen", "direction": "y_on_x",
                                 "values": "weights", "nonfinite": "error", "zeros": "omit"}
    assert (fit.details["rank_low"], fit.details["rank_high"]) == trim_window(1000, (0.05, 0.95))
    assert fit.converged and fit.n_used == 900 and fit.estimator == "probability_plot"
    assert ESTIMATOR.name == "probability_plot" and ESTIMATOR.order_statistics and ESTIMATOR.plan is not None
    assert ESTIMATOR(np.random.default_rng(0).weibull(1.3, 1000)).shape == pytest.approx(1.3, rel=0.1)


def test_too_few_points_raise_for_a_shared_size_and_are_reasons_otherwise() -> None:
    with pytest.raises(ValueError, match=r"too few points after trimming: 1 of 10 values have hazen"):
        probability_plot_kernel(RawRows(np.arange(1.0, 21.0).reshape(2, 10)), trim=(0.4, 0.5))
    grid = np.arange(1.0, 41.0)
    counts = np.array([np.repeat([1, 0], [10, 30]), np.ones(40, dtype=np.int64)])  # n = 10 and 40
    lines = probability_plot_kernel(CountRows(grid, counts), trim=(0.4, 0.5))
    assert lines.reasons[0].startswith("too few points after trimming: 1 of 10 values")
    assert np.isnan(lines.shape[0]) and lines.defined[1] and lines.n_used[1] >= MIN_POINTS
    empty = probability_plot_kernel(CountRows(grid, np.array([np.zeros(40, dtype=np.int64), counts[1]])))
    assert empty.reasons[0].startswith("too few points after trimming: 0 of 0 values") and empty.defined[1]
    ties = np.array([[1, 18, 1], [5, 5, 10]])
    lines = probability_plot_kernel(CountRows(np.array([1.0, 2.0, 3.0]), ties))
    assert "single distinct value" in lines.reasons[0] and lines.defined[1] and not lines.converged[0]


# ---------------------------------------------------------------------- the bootstrap plan
@pytest.mark.parametrize(
    ("n", "options"), [(37, {}), (134_073, {"trim": (0.0, 1.0), "direction": "x_on_y"})]
)
def test_plan_equals_fitting_the_explicit_resample(n: int, options: dict) -> None:
    x = np.sort(np.random.default_rng(n).weibull(1.3, n) * 2.0)
    plan = ESTIMATOR.plan(x, **check_options(**options))
    for seed in range(3):
        counts = plan.counts(np.random.default_rng(seed))
        expected = ws.fit_probability_plot(np.repeat(x, counts), **options)
        shape, scale = plan.nonparametric(np.random.default_rng(seed), 1)[0]
        assert rel(shape, expected.shape) < 1e-12 and rel(scale, expected.scale) < 1e-12


def test_plan_matches_index_resampling_in_distribution() -> None:
    # independent draws of the same law: means within 4 standard errors of their
    # difference; sds within 4 * sd * sqrt(1 / size) (normal theory for two sds)
    x = np.random.default_rng(21).weibull(1.3, 5000) * 0.05
    size = 600
    fast = ProbabilityPlotPlan(np.sort(x)).nonparametric(np.random.default_rng(5), size)
    rng = np.random.default_rng(6)
    slow = np.array([[f.shape, f.scale] for f in
                     (ws.fit_probability_plot(x[rng.integers(0, x.size, x.size)]) for _ in range(size))])
    for column in range(2):
        a, b = fast[:, column], slow[:, column]
        assert abs(a.mean() - b.mean()) < 4 * math.sqrt(a.var() / size + b.var() / size)
        assert abs(a.std() - b.std()) < 4 * b.std() * math.sqrt(1.0 / size)


def test_plan_refuses_a_window_that_is_too_small() -> None:
    with pytest.raises(ValueError, match="too few points after trimming: 1 of 5 values"):
        ProbabilityPlotPlan(np.arange(1.0, 6.0), trim=(0.4, 0.6))
