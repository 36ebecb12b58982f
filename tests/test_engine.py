"""The storage-aware engine: count-row resampling, grouped jackknife on counts, EDF statistics,
effect sizes and model comparison on counts, and null samples drawn as the data are stored."""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest
from scipy import stats

import weibull_stats as ws
from weibull_stats.estimators.registry import ESTIMATORS
from weibull_stats.inference.edf import count_edf_statistic, edf_statistic
from weibull_stats.inference.engine import count_groups, group_sizes, jackknife_estimates, resample_counts
from weibull_stats.inference.gof import effect_sizes
from weibull_stats.inference.model_comparison import compare_models
from weibull_stats.inference.nulls import NullModel
from weibull_stats.sample.batch import CountRows, RawRows
from weibull_stats.weibull.cells import rounding_cells

BF16 = ml_dtypes.bfloat16


def bf16_sample(n: int, shape: float = 1.2, scale: float = 0.02, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).weibull(shape, n) * scale).astype(BF16)


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


# ---------------------------------------------------------------------- nonparametric on counts
def test_count_row_resample_is_the_index_resample_mapped_to_counts() -> None:
    # The same draws mapped both ways: index resampling of the expanded sorted values, and
    # the bincount of the same indices over the runs, fitted by the kernel as a count row.
    sample = ws.as_sample(bf16_sample(3000))
    assert sample.counts is not None and sample.distinct is not None
    expanded = sample.sorted_magnitudes()
    run = np.repeat(np.arange(sample.counts.size), sample.counts)
    idx = np.random.default_rng(1).integers(0, expanded.size, size=(4, expanded.size))
    rows = np.stack([np.bincount(run[i], minlength=sample.counts.size) for i in idx])
    for name in ESTIMATORS:
        entry = ESTIMATORS[name]
        own = entry.split({})[1]
        got = entry.kernel(CountRows(sample.distinct, rows), **own).pairs
        for r in range(4):
            expected = entry(expanded[idx[r]])
            assert got[r] == pytest.approx([expected.shape, expected.scale], rel=1e-9)


def test_multinomial_bootstrap_has_the_law_of_index_resampling() -> None:
    # Independent draws of both: means and sds of the bootstrap distribution agree within
    # 4 Monte Carlo standard errors.
    x = bf16_sample(4000, seed=3)
    size = 1000
    fast = ws.bootstrap(x, "log_moment", n_resamples=size, rng=5, workers=1)
    assert fast.route == "multinomial counts over the distinct values"
    expanded = x.astype(np.float64)
    rng = np.random.default_rng(6)
    slow = ESTIMATORS["log_moment"].kernel(RawRows(expanded[rng.integers(0, x.size, (size, x.size))])).pairs
    for column in range(2):
        a, b = fast.bootstrap_distribution[:, column], slow[:, column]
        assert abs(a.mean() - b.mean()) < 4 * math.sqrt(a.var() / size + b.var() / size)
        assert abs(a.std() - b.std()) < 4 * b.std() * math.sqrt(1.0 / size)


def test_resample_counts_rows_sum_to_n() -> None:
    counts = np.array([5, 1, 7, 3])
    rows = resample_counts(np.random.default_rng(0), counts, 50)
    assert rows.shape == (50, 4) and (rows.sum(axis=1) == 16).all()
    assert rows.mean(axis=0) == pytest.approx(counts * 1.0, abs=4 * math.sqrt(16 / 50))


def test_grouped_jackknife_on_counts_is_a_random_partition() -> None:
    counts = np.array([40, 3, 17, 1, 60])
    groups = count_groups(np.random.default_rng(0), counts, 7)
    assert (groups >= 0).all() and np.array_equal(groups.sum(axis=0), counts)
    assert np.array_equal(groups.sum(axis=1), group_sizes(int(counts.sum()), 7))
    sample = ws.as_sample(bf16_sample(2000, seed=4))
    entry = ESTIMATORS["log_moment"]
    estimates = jackknife_estimates(entry, sample, {}, seed=3)
    assert estimates.shape == (50, 2) and np.isfinite(estimates).all()
    res = ws.bootstrap(sample, "log_moment", n_resamples=99, rng=3, method="bca")
    assert res.acceleration is not None and abs(res.acceleration.shape) < 0.1


# ---------------------------------------------------------------------- EDF statistics on counts
@pytest.mark.parametrize("statistic", ["ad", "cvm", "ks"])
def test_count_statistics_equal_the_raw_formula_on_the_expanded_sample(statistic: str) -> None:
    rng = np.random.default_rng(2)
    grid = np.sort(rng.weibull(1.1, 300))
    counts = rng.integers(0, 9, size=(5, grid.size))
    counts[:, 0] = 0
    shape, scale = rng.uniform(0.9, 1.4, 5), rng.uniform(0.8, 1.2, 5)
    got = count_edf_statistic(grid, counts, shape, scale, statistic)
    for r in range(5):
        expected = edf_statistic(np.repeat(grid, counts[r]), shape[r], scale[r], statistic)[0]
        assert rel(got[r], expected) < 1e-12


def test_observed_statistic_on_a_counts_sample_equals_the_raw_sample() -> None:
    x = bf16_sample(5000, seed=8)
    counted = ws.goodness_of_fit(x, "log_moment", n_mc_samples=0)
    raw = ws.as_sample(x, form="raw")
    assert raw.magnitudes is not None
    expected = edf_statistic(np.sort(raw.magnitudes.astype(np.float64)), counted.fit.shape,
                             counted.fit.scale, "ad")[0]
    assert rel(counted.statistic, expected) < 1e-12


def test_effect_sizes_and_model_comparison_on_counts_equal_the_expanded_sample() -> None:
    sample = ws.as_sample(bf16_sample(20_000, seed=9))
    expanded = sample.sorted_magnitudes()
    fit = ws.fit_log_moment(sample)
    a, b = effect_sizes(sample, fit), effect_sizes(expanded, fit)
    for field in ("correlation", "r2", "curvature", "ks_distance"):
        assert rel(getattr(a, field), getattr(b, field)) < 1e-10, field
    counted, raw = compare_models(sample), compare_models(expanded)
    for family_a, family_b in zip(counted.fits, raw.fits, strict=True):
        assert rel(family_a.log_likelihood, family_b.log_likelihood) < 1e-12
        for key, value in family_a.parameters.items():
            assert rel(value, family_b.parameters[key]) < 1e-9


# ---------------------------------------------------------------------- nulls as stored
def test_bfloat16_cells_are_the_round_to_nearest_intervals() -> None:
    values, edges = rounding_cells("bfloat16")
    inner = edges[1:-1].astype(np.float32)  # exact: a midpoint of bfloat16 values has 9 bits
    assert np.array_equal(inner.astype(np.float64), edges[1:-1])
    rounded_lo = np.nextafter(inner, np.float32(np.inf)).astype(BF16).astype(np.float64)
    rounded_hi = np.nextafter(inner, np.float32(-np.inf)).astype(BF16).astype(np.float64)
    assert np.array_equal(rounded_lo, values[1:]) and np.array_equal(rounded_hi, values[:-1])
    assert float(np.float32(edges[0] * 0.999).astype(BF16)) == 0.0
    assert float(np.float32(edges[0] * 1.001).astype(BF16)) == values[0]


def test_multinomial_null_has_the_law_of_rounded_draws() -> None:
    # Cell frequencies of explicit Weibull draws rounded to bfloat16 against the model's
    # cell probabilities: a chi-square test over the cells with expected count >= 20.
    model = NullModel.of("bfloat16", 200_000, 1.2, 0.02)
    draws = (np.random.default_rng(0).weibull(1.2, 200_000) * 0.02).astype(np.float32).astype(BF16)
    observed = ws.as_sample(draws)
    assert observed.distinct is not None and observed.counts is not None and model.grid is not None
    assert model.probabilities is not None
    position = np.searchsorted(model.grid, observed.distinct)
    assert np.array_equal(model.grid[position], observed.distinct)
    expected = model.probabilities * 200_000
    counts = np.zeros(model.grid.size)
    counts[position] = observed.counts
    big = expected >= 20
    chi2 = float(((counts[big] - expected[big]) ** 2 / expected[big]).sum())
    assert stats.chi2.sf(chi2, int(big.sum()) - 1) > 1e-4


def test_mass_that_rounds_to_zero_is_conditioned_out_and_reported() -> None:
    # A law with most of its mass below half the smallest float16 subnormal: the null
    # sample keeps the data's size, every value is a positive cell, the mass is reported.
    scale = 2.0**-26
    model = NullModel.of("float16", 100, 1.0, scale)
    expected_zero = -math.expm1(-(2.0**-25) / scale)
    assert model.excluded["zero"] == pytest.approx(expected_zero, rel=1e-12)
    batch = model.draw(np.random.default_rng(0), 4)
    assert isinstance(batch, CountRows) and (batch.counts.sum(axis=1) == 100).all()
    assert (batch.values > 0).all() and model.probabilities is not None
    assert model.probabilities.sum() == pytest.approx(1.0, abs=1e-12)
    assert NullModel.of("float32", 10, 1.2, 1.0).excluded["overflow"] == 0.0


@pytest.mark.parametrize("storage", ["float32", "float64"])
def test_ordered_raw_nulls_are_sorted_and_weibull(storage: str) -> None:
    n, rows = 5000, 64
    model = NullModel.of(storage, n, 1.3, 2.0)
    batch = model.draw(np.random.default_rng(1), rows)
    assert isinstance(batch, RawRows) and batch.ordered
    assert batch.values.dtype == np.dtype(storage) and (np.diff(batch.values, axis=1) >= 0).all()
    t = (batch.values.astype(np.float64) / 2.0) ** 1.3  # Exp(1) order statistics
    assert t.mean() == pytest.approx(1.0, abs=4 / math.sqrt(n * rows))
    # the largest of n exponentials has mean H_n and sd pi/sqrt(6): the upper tail is right
    harmonic = float(np.sum(1.0 / np.arange(1, n + 1)))
    assert t[:, -1].mean() == pytest.approx(harmonic, abs=4 * math.pi / math.sqrt(6 * rows))
    assert t[:, 0].mean() == pytest.approx(1.0 / n, rel=4 / math.sqrt(rows))


def test_gof_null_of_bfloat16_data_is_a_count_null() -> None:
    res = ws.goodness_of_fit(bf16_sample(3000), "log_moment", n_mc_samples=19, rng=0)
    assert res.null_model["storage"] == "bfloat16" and res.null_model["cells"] > 1000
    assert res.null_distribution.shape == (19,) and np.isfinite(res.null_distribution).all()
    again = ws.goodness_of_fit(bf16_sample(3000), "log_moment", n_mc_samples=19, rng=0, workers=2)
    assert np.array_equal(res.null_distribution, again.null_distribution)


# ---------------------------------------------------------------------- validation-sized
def test_bfloat16_weibull_is_not_rejected_with_the_storage_aware_null() -> None:
    # 20 true Weibull(1.2) samples of 10^5 values stored as bfloat16, AD, 49 Monte Carlo
    # samples each. Under the null P(p <= 0.05) = 2/50 exactly; with 20 samples, 5 or more
    # rejections has probability 0.007 (binomial tail). At 10^5 the rounding shifts AD by
    # about 0.1 only; at 10^6 a null that ignores storage (ordered float64 draws) rejects
    # (measured with log_moment, seeds 100 and 101: p = 0.04 and 0.02 at the floor, against
    # 0.44 and 0.02 storage-aware; the issue measured 20 of 20 rejected with it).
    rejected = 0
    for seed in range(20):
        x = bf16_sample(100_000, shape=1.2, scale=1.0, seed=100 + seed)
        res = ws.goodness_of_fit(x, "log_moment", n_mc_samples=49, rng=seed)
        rejected += res.pvalue <= 0.05
    assert stats.binom.sf(4, 20, 0.04) < 0.01
    assert rejected <= 4


def test_chunked_anderson_darling_equals_the_plain_formula(monkeypatch: pytest.MonkeyPatch) -> None:
    from weibull_stats.inference import edf

    x = np.sort(np.random.default_rng(0).weibull(1.2, (2, edf.LARGE + 12_345)) * 0.5, axis=1)
    chunked = edf.edf_statistic(x, [1.2, 1.25], [0.5, 0.49], "ad")
    monkeypatch.setattr(edf, "LARGE", 10**12)
    plain = edf.edf_statistic(x, [1.2, 1.25], [0.5, 0.49], "ad")
    # the same sum reindexed: agreement to the rounding of n terms (n * eps relative)
    assert np.all(np.abs(chunked - plain) <= 1e-10 * np.abs(plain))
