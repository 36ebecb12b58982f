"""Histogram mode defined once: one kernel on raw and count rows.

Counts and raw data give the same bin counts (so the same fit), a one-sample fit is the
kernel on a batch of one bit for bit, ``outside`` acts the same way in every form, and the
results still equal the paper's library (npm-weibull-py 0.4.0 from PyPI).
"""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np
import pytest

import weibull_stats as ws
from tests import reference as ref
from weibull_stats.estimators import histogram as hist
from weibull_stats.sample.batch import CountRows, RawRows

BF16 = np.dtype(ml_dtypes.bfloat16)
CUSTOM = {
    "paper": None,
    "uniform": np.linspace(-4.0, -1.5, 61),
    "non-uniform": np.sort(np.r_[np.linspace(-3.5, -1.7, 45), -2.345, -1.6]),
}


def weights(seed: int, n: int, sigma: float = 0.02) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, sigma, n)


def same_fit(a: ws.WeibullFit, b: ws.WeibullFit, rtol: float = 1e-12) -> None:
    np.testing.assert_allclose([a.shape, a.scale, a.r2], [b.shape, b.scale, b.r2], rtol=rtol, atol=0)
    assert (a.n, a.n_used) == (b.n, b.n_used)
    for key in ("bins_used", "n_below", "n_above"):
        assert a.details[key] == b.details[key]


@pytest.mark.parametrize("edges", list(CUSTOM.values()), ids=list(CUSTOM))
@pytest.mark.parametrize("storage", [BF16, np.dtype(np.float16)], ids=["bfloat16", "float16"])
def test_counts_equal_raw(storage: np.dtype, edges: Any) -> None:
    """16-bit data fitted as counts equal the same values fitted raw (outside values omitted)."""
    w = weights(1, 200_000).astype(storage)
    counted = ws.as_sample(w, values="weights", zeros="omit")
    raw = ws.as_sample(w, values="weights", zeros="omit", form="raw")
    assert counted.form == "counts" and raw.form == "raw"
    options = {"edges": edges, "outside": "omit"}
    a = ws.fit_histogram(counted, values="weights", zeros="omit", **options)
    b = ws.fit_histogram(raw, values="weights", zeros="omit", **options)
    same_fit(a, b)
    assert a.details["storage"] == storage.name
    if edges is not None:  # the data reach beyond the edges on both sides
        assert a.details["n_below"] > 0 and a.details["n_above"] > 0
        assert a.n_used < a.n


def test_log10_histogram_of_counts_equals_numpy_histogram() -> None:
    w = weights(2, 50_000).astype(BF16)
    edges = CUSTOM["non-uniform"]
    h = ws.log10_histogram(w, edges=edges, values="weights", zeros="omit", binning="float64")
    magnitudes = np.abs(w.astype(np.float64))
    magnitudes = magnitudes[magnitudes > 0]
    np.testing.assert_array_equal(h.counts, ref.log10_counts(magnitudes, edges))
    log_values = np.log10(magnitudes)
    assert h.n_below == np.count_nonzero(log_values < edges[0])
    assert h.n_above == np.count_nonzero(log_values > edges[-1])
    assert h.n == w.size and h.n_omitted["zeros"] == w.size - magnitudes.size


@pytest.mark.parametrize("outside", ["omit", "error"])
def test_one_sample_equals_batch_row_raw(outside: str) -> None:
    """70 rows of 20,000 (more than one row group and one column chunk): each row's fit is the
    one-sample fit bit for bit, and does not depend on the rows beside it."""
    rng = np.random.default_rng(3)
    rows = np.abs(rng.normal(0.0, 0.05, (70, 20_000)))
    edges = CUSTOM["uniform"] if outside == "omit" else None
    options = hist.check_options(edges=edges, outside=outside)
    lines = hist.histogram_kernel(RawRows(rows), **options)
    alone = hist.histogram_kernel(RawRows(rows[65:66].copy()), **options)
    assert lines.defined.all() and alone.shape[0] == lines.shape[65]
    for i in (0, 1, 63, 64, 69):
        fit = ws.fit_histogram(rows[i], edges=edges, outside=outside)
        assert (fit.shape, fit.scale, fit.r2) == (lines.shape[i], lines.scale[i], lines.diagnostics["r2"][i])
        assert fit.n_used == lines.n_used[i]
        assert fit.details["bins_used"] == lines.diagnostics["bins_used"][i]
        assert fit.details["n_below"] == lines.diagnostics["n_below"][i]


def test_one_sample_equals_batch_row_counts() -> None:
    """Count rows over one shared bf16 grid: each row is the one-sample fit of its values
    (counted from bf16 data) bit for bit, and equals the same rows binned raw."""
    rng = np.random.default_rng(4)
    data = np.abs(rng.normal(0.0, 0.02, (6, 30_000))).astype(BF16).astype(np.float64)
    grid = np.unique(data)
    counts = np.stack([np.bincount(np.searchsorted(grid, row), minlength=grid.size) for row in data])
    edges = CUSTOM["non-uniform"]
    options = hist.check_options(edges=edges, outside="omit")
    by_counts = hist.histogram_kernel(CountRows(grid, counts), **options)
    by_raw = hist.histogram_kernel(RawRows(data), **options)
    for name in ("shape", "scale", "n_used"):
        np.testing.assert_array_equal(getattr(by_counts, name), getattr(by_raw, name))
    for name, value in by_counts.diagnostics.items():
        np.testing.assert_array_equal(value, by_raw.diagnostics[name])
    for i in range(data.shape[0]):
        fit = ws.fit_histogram(data[i].astype(BF16), edges=edges, outside="omit")
        assert fit.details["storage"] == "bfloat16"
        assert (fit.shape, fit.scale, fit.r2) == (by_counts.shape[i], by_counts.scale[i],
                                                 by_counts.diagnostics["r2"][i])


def test_outside_error_in_every_form() -> None:
    """outside="error": the same message from raw data, counts and the kernel's rows."""
    x = np.r_[np.random.default_rng(5).weibull(1.0, 100) * 0.1 + 1e-3, 1e-5, 1e-6, 50.0]
    edges = np.linspace(-3, 1, 41)
    message = (r"`x` has 3 values out of 103 outside the histogram edges \[1e-3, 1e1\] "
               r"\(2 below, 1 above\); pass outside='omit' to leave them out of the total")
    with pytest.raises(ValueError, match=message):
        ws.fit_histogram(x, edges=edges)
    counted = ws.as_sample(x, form="counts")
    assert counted.form == "counts"
    with pytest.raises(ValueError, match=message):
        ws.fit_histogram(counted, edges=edges)
    with pytest.raises(ValueError, match=message):
        ws.fit_histogram(x.astype(BF16), edges=edges)
    with pytest.raises(ValueError, match=message):
        hist.histogram_plan(x, edges=edges)
    # in a batch the row gets the reason and the other rows are fitted
    options = hist.check_options(edges=edges)
    grid = np.sort(x)  # two values below the edges first, one above last
    inside = np.r_[0, 0, np.ones(100, np.int64), 0]
    for batch in (RawRows(np.stack([np.sort(x[:100]), np.sort(x[3:])])),
                  CountRows(grid, np.stack([inside, np.ones(103, np.int64)]))):
        lines = hist.histogram_kernel(batch, **options)
        assert lines.defined.tolist() == [True, False]
        assert list(lines.reasons) == [1]
        assert "outside the histogram edges" in lines.reasons[1]


def test_other_reasons_per_row() -> None:
    """Empty and too-few-bins rows get today's messages; the others are fitted."""
    edges = np.linspace(-3, 1, 41)
    counts = np.zeros((3, 40), dtype=np.int64)
    counts[0, 10:30] = 7
    counts[2, 39] = 5
    lines = hist.histogram_lines(counts, edges, (0.1, 0.9), "y_on_x")
    assert lines.defined.tolist() == [True, False, False]
    assert lines.reasons[1] == "the histogram is empty: all bin counts are zero"
    assert lines.reasons[2].startswith("too few bins after trimming: 1 non-empty bins")


@pytest.mark.parametrize("sigma", [0.002, 0.02, 0.5])
@pytest.mark.parametrize("storage", [np.dtype(np.float64), BF16], ids=["float64", "bfloat16"])
def test_still_equal_to_npm_weibull(sigma: float, storage: np.dtype) -> None:
    npm_weibull = pytest.importorskip("npm_weibull")
    w = weights(6, 100_000, sigma).astype(storage)
    fit = ws.fit_histogram(w, values="weights")
    # the paper library's own histogram of the magnitudes (float32 log10, as ours): a float64
    # binning agrees with it only where numpy's float32 log10 on this CPU happens to
    magnitudes = np.abs(w.astype(np.float64))
    counts = npm_weibull.extract_to_histogram(magnitudes, n_bins=1024, log_w_range=(-12.0, 2.0))["hist"]
    result = npm_weibull.weibull_fit((ws.paper_edges(), counts), trim="mid_80")
    assert result["ok"]
    np.testing.assert_allclose([fit.shape, fit.scale], [result["k"], result["lambda"]], rtol=1e-10)


def test_fit_histogram_counts_is_the_same_line() -> None:
    w = weights(7, 100_000)
    h = ws.log10_histogram(w, values="weights")
    by_counts = ws.fit_histogram_counts(h.counts, h.edges, trim=(0.2, 0.8), direction="x_on_y")
    raw = ws.fit_histogram(w, values="weights", trim=(0.2, 0.8), direction="x_on_y")
    assert (by_counts.shape, by_counts.scale, by_counts.r2) == (raw.shape, raw.scale, raw.r2)
    expected = ref.histogram_counts(h.counts, h.edges, (0.2, 0.8), "x_on_y")
    np.testing.assert_allclose([by_counts.shape, by_counts.scale, by_counts.r2], expected, rtol=1e-11)


@pytest.mark.parametrize("edges", [None, CUSTOM["uniform"]], ids=["paper", "narrow"])
def test_plan_equals_explicit_resamples(edges: Any) -> None:
    """Each plan row is the one-sample fit of a resample with the drawn bin counts."""
    x = np.abs(np.random.default_rng(9).normal(0.0, 0.05, 4000))
    options = hist.check_options(edges=edges, outside="omit")
    plan = hist.ESTIMATOR.plan(np.sort(x), **options)
    edge_array = ws.paper_edges() if edges is None else edges
    counts = plan.counts(np.random.default_rng(1), 5)
    fits = plan.nonparametric(np.random.default_rng(1), 5)
    bin_of = np.searchsorted(edge_array, np.log10(x), side="right") - 1
    for i in range(5):
        explicit = np.concatenate([np.repeat(x[bin_of == j][:1], c) for j, c in enumerate(counts[i]) if c])
        fit = ws.fit_histogram(explicit, edges=edges, outside="omit")
        assert (fit.shape, fit.scale) == tuple(fits[i])
    assert hist.HistogramPlan.min_n == 500


def test_estimator_entry() -> None:
    entry = hist.ESTIMATOR
    assert entry.name == "histogram" and entry.order_statistics and entry.kernel is hist.histogram_kernel
    assert list(entry.options) == [
        "edges", "trim", "direction", "outside", "binning", "values", "nonfinite", "zeros"
    ]
    w = weights(10, 20_000)
    sample, own = entry.sample(w, {"values": "weights", "edges": list(CUSTOM["uniform"]), "outside": "omit"})
    assert isinstance(own["edges"], np.ndarray) and own["trim"] == (0.1, 0.9)
    fit = entry(w, values="weights", edges=list(CUSTOM["uniform"]), outside="omit")
    assert fit == ws.fit_histogram(sample, values="weights", edges=CUSTOM["uniform"], outside="omit")
    policy = {"values": "weights", "nonfinite": "error", "zeros": "omit"}
    assert fit.options == {**hist.record_options(own), **policy}
    with pytest.raises(ValueError, match=r"`outside` must be one of 'error', 'omit'; got 'clip'"):
        hist.check_options(outside="clip")
