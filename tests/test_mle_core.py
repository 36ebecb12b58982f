"""The maximum-likelihood kernel: one definition on raw rows and count rows.

Counts and raw forms of the same data agree to 1e-12 relative (the sums differ only in
rounding); a one-sample fit is a row of a batch, bit for bit; a non-converged fit keeps its
value in both forms.
"""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest

import weibull_stats as ws
from tests import reference as ref
from weibull_stats.estimators import mle as mle_module
from weibull_stats.estimators.mle import ESTIMATOR, mle_kernel
from weibull_stats.sample.batch import CountRows, RawRows

FIELDS = ("shape", "scale", "shape_se", "scale_se")


def values_of(fit: ws.WeibullFit) -> np.ndarray:
    return np.array([getattr(fit, f) for f in FIELDS])


def row_of(lines, i: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.array([lines.shape[i], lines.scale[i], lines.diagnostics["shape_se"][i],
                     lines.diagnostics["scale_se"][i]])


def counted(x: np.ndarray) -> tuple[ws.Sample, ws.Sample]:
    """The counts and the raw form of the same values."""
    counts = ws.as_sample(x, form="counts")
    raw = ws.as_sample(np.asarray(x, dtype=np.float64) if x.dtype.itemsize == 2 else x, form="raw")
    assert counts.form == "counts" and raw.form == "raw"
    return counts, raw


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: (rng.weibull(1.2, 300_000) * 0.02).astype(ml_dtypes.bfloat16),
        lambda rng: np.abs(rng.normal(0, 0.02, 200_000)).astype(ml_dtypes.bfloat16),
        lambda rng: (rng.weibull(0.7, 100_000) * 3.0).astype(np.float16),
        lambda rng: np.round(rng.weibull(2.5, 50_000) * 20) / 4 + 0.25,  # heavy ties, 40-odd values
        lambda rng: rng.choice([0.5, 1.0, 3.0], size=1000),
    ],
    ids=["bf16-weibull", "bf16-halfnormal", "float16", "ties", "three-values"],
)
def test_counts_equal_raw(make) -> None:  # type: ignore[no-untyped-def]
    x = make(np.random.default_rng(11))
    counts, raw = counted(x)
    a, b = ws.fit_mle(counts), ws.fit_mle(raw)
    assert a.converged and b.converged and a.n_used == b.n_used
    np.testing.assert_allclose(values_of(a), values_of(b), rtol=1e-12, atol=0)


def test_raw_values_equal_the_reference_root() -> None:
    """Same numbers as the independent root finder of tests/reference.py, float32 and float64."""
    rng = np.random.default_rng(12)
    for dtype in (np.float32, np.float64):
        x = (rng.weibull(1.7, 5000) * 1e-2).astype(dtype)
        fit = ws.fit_mle(x if dtype == np.float64 else ws.as_sample(x, form="raw"))
        np.testing.assert_allclose([fit.shape, fit.scale], ref.mle(x), rtol=1e-11)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_sample_is_a_raw_batch_row(dtype, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(13)
    rows = (rng.weibull(1.4, (37, 1500)) * 5.0).astype(dtype)
    lines = mle_kernel(RawRows(rows))
    assert lines.converged.all()
    for i in (0, 17, 36):
        single = mle_kernel(RawRows(rows[i : i + 1]))
        assert np.array_equal(row_of(single, 0), row_of(lines, i))
        assert single.diagnostics["iterations"][0] == lines.diagnostics["iterations"][i]
        assert np.array_equal(values_of(ws.fit_mle(ws.as_sample(rows[i], form="raw"))), row_of(lines, i))
    # small groups, uncached chunked passes: still bit for bit the same per row
    monkeypatch.setattr(mle_module, "CACHE_LIMIT", 1000)
    monkeypatch.setattr(mle_module, "CHUNK", 512)
    grouped = mle_kernel(RawRows(rows))
    for i in (0, 17, 36):
        assert np.array_equal(row_of(mle_kernel(RawRows(rows[i : i + 1])), 0), row_of(grouped, i))
    np.testing.assert_allclose(grouped.pairs, lines.pairs, rtol=1e-12)


def test_one_sample_is_a_count_batch_row() -> None:
    rng = np.random.default_rng(14)
    sample = ws.as_sample((rng.weibull(1.1, 100_000) * 0.05).astype(ml_dtypes.bfloat16))
    assert sample.counts is not None and sample.distinct is not None
    draws = rng.multinomial(sample.size, sample.counts / sample.size, size=25)
    draws[3] = rng.multinomial(5000, sample.counts / sample.size)  # rows of different sizes
    lines = mle_kernel(CountRows(sample.distinct, draws))
    assert lines.converged.all() and lines.n_used[3] == 5000
    for i in (0, 3, 24):
        single = mle_kernel(CountRows(sample.distinct, draws[i : i + 1]))
        assert np.array_equal(row_of(single, 0), row_of(lines, i))
        # the count row equals the raw resample it stands for
        raw = mle_kernel(RawRows(np.repeat(sample.distinct, draws[i])[None, :]))
        np.testing.assert_allclose(row_of(raw, 0), row_of(lines, i), rtol=1e-12)
    whole = mle_kernel(CountRows(sample.distinct, sample.counts[None]))
    assert np.array_equal(values_of(ws.fit_mle(sample)), row_of(whole, 0))


def test_not_converged_is_reported_the_same_in_both_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    """An iteration limit hit keeps the last iterate with converged=False, raw and counts alike
    (the old batched copy gave nan)."""
    x = np.random.default_rng(15).weibull(2.5, 2000).astype(ml_dtypes.bfloat16)
    counts, raw = counted(x)
    monkeypatch.setattr(mle_module, "MAX_ITERATIONS", 1)
    a, b = ws.fit_mle(counts), ws.fit_mle(raw)
    for fit in (a, b):
        assert not fit.converged and fit.iterations == 1
        assert math.isfinite(fit.shape) and fit.shape > 0 and math.isfinite(fit.scale)
    np.testing.assert_allclose(values_of(a), values_of(b), rtol=1e-12)
    rows = np.random.default_rng(16).weibull(2.5, (4, 300))
    lines = mle_kernel(RawRows(rows))
    assert not lines.converged.any() and np.isfinite(lines.shape).all() and not lines.reasons
    assert (lines.diagnostics["iterations"] == 1).all()
    assert lines.shape[2] == ws.fit_mle(rows[2]).shape


def test_single_value_row_is_undefined_with_its_reason() -> None:
    rows = np.random.default_rng(17).weibull(1.0, (3, 50))
    rows[1] = 0.7
    lines = mle_kernel(RawRows(rows))
    assert np.isnan(lines.shape[1]) and not lines.converged[1]
    assert "single distinct value" in lines.reasons[1] and set(lines.reasons) == {1}
    assert lines.shape[0] == ws.fit_mle(rows[0]).shape
    grid = np.array([0.5, 1.0, 2.0])
    count_lines = mle_kernel(CountRows(grid, np.array([[3, 4, 5], [0, 9, 0]])))
    assert np.isfinite(count_lines.shape[0]) and np.isnan(count_lines.shape[1])
    assert set(count_lines.reasons) == {1}


def test_estimator_entry() -> None:
    assert ESTIMATOR.name == "mle" and not ESTIMATOR.order_statistics and ESTIMATOR.plan is None
    assert ESTIMATOR.summary == "maximum likelihood, location 0, profiled in the shape"
    fit = ESTIMATOR(np.random.default_rng(18).weibull(1.5, 1000), zeros="omit")
    assert fit.estimator == "mle" and fit.options["zeros"] == "omit" and fit.details["storage"] == "float64"
