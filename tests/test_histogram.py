"""Histogram mode against the paper's library (npm-weibull-py 0.4.0 from PyPI) and against
the reference implementation; binning against ``numpy.histogram``."""

from __future__ import annotations

import numpy as np
import pytest

import weibull_stats as ws
from tests import reference as ref

npm_weibull = pytest.importorskip("npm_weibull")

SIGMAS = [0.002, 0.02, 0.0371, 0.5]


def npm_fit(edges: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    result = npm_weibull.weibull_fit((edges, counts), trim="mid_80")
    assert result["ok"]
    return result["k"], result["lambda"]


@pytest.mark.parametrize("sigma", SIGMAS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_identical_histograms_match_npm_weibull(sigma: float, seed: int) -> None:
    """Same counts and edges: shape and scale equal npm_weibull.weibull_fit(trim="mid_80") to 1e-10."""
    w = np.random.default_rng(seed).normal(0.0, sigma, 100_000)
    histogram = ws.log10_histogram(w, values="weights")
    ours = ws.fit_histogram_counts(histogram.counts, histogram.edges)
    k, lam = npm_fit(histogram.edges, histogram.counts)
    np.testing.assert_allclose([ours.shape, ours.scale], [k, lam], rtol=1e-10)
    # and the raw-data entry point bins the same way
    raw = ws.fit_histogram(w, values="weights")
    assert (raw.shape, raw.scale) == (ours.shape, ours.scale)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_npm_extract_to_histogram_histograms_match(seed: int) -> None:
    """Histograms built by npm_weibull.extract_to_histogram (float32 log10) fit identically."""
    rng = np.random.default_rng(seed)
    samples = (rng.normal(0, 0.03, (300, 200)), rng.weibull(0.8, 50_000) * 1e-3, rng.laplace(0, 0.1, 40_000))
    for w in samples:
        h = npm_weibull.extract_to_histogram(w)
        ours = ws.fit_histogram_counts(h["hist"], h["edges"])
        k, lam = npm_fit(h["edges"], h["hist"])
        np.testing.assert_allclose([ours.shape, ours.scale], [k, lam], rtol=1e-10)
        assert ours.n == w.size


def test_noise_free_halfnormal_histograms_match_npm() -> None:
    """Expected (not sampled) counts of HalfNormal(sigma) as sigma slides across one bin."""
    from scipy import stats

    edges = ws.paper_edges()
    width = edges[1] - edges[0]
    for step in np.linspace(0, 1, 5):
        sigma = 0.02 * 10 ** (step * width)
        counts = 10**7 * np.diff(stats.halfnorm(scale=sigma).cdf(10**edges))
        ours = ws.fit_histogram_counts(counts, edges)
        k, lam = npm_fit(edges, counts)
        np.testing.assert_allclose([ours.shape, ours.scale], [k, lam], rtol=1e-10)
        # the documented bin-width error: within a few 1e-3 of the exact anchor 1.2054343190
        assert abs(ours.shape - ws.HALFNORMAL_ANCHOR_SHAPE) < 3e-3


@pytest.mark.parametrize("trim", [(0.1, 0.9), (0.05, 0.95), (0.0, 1.0), (0.25, 0.6)])
@pytest.mark.parametrize("direction", ["y_on_x", "x_on_y"])
def test_histogram_counts_equal_reference(trim: tuple[float, float], direction: str) -> None:
    for seed in range(4):
        x = np.random.default_rng(seed).weibull(1.0 + seed, 20_000) * 10.0 ** (seed - 2)
        edges = np.linspace(-9, 3, 400)
        counts = ref.log10_counts(x, edges)
        fit = ws.fit_histogram_counts(counts, edges, trim=trim, direction=direction)
        expected = ref.histogram_counts(counts, edges, trim, direction)
        np.testing.assert_allclose([fit.shape, fit.scale, fit.r2], expected, rtol=1e-11)
        assert fit.details["bins_used"] > 3
        assert fit.n == x.size


@pytest.mark.parametrize(
    "edges",
    [ws.paper_edges(), np.linspace(-4, 1, 17), np.sort(np.r_[np.linspace(-3, 0, 30), -0.015, 0.4])],
    ids=["paper", "uniform-coarse", "non-uniform"],
)
def test_log10_histogram_equals_numpy_histogram(edges: np.ndarray) -> None:
    """``binning="float64"``: bin counts equal numpy.histogram of float64 log10 x, values
    exactly on edges included; the default equals the paper's float32 binning of the same x."""
    rng = np.random.default_rng(7)
    x = np.abs(rng.normal(0, 0.05, 30_000))
    x = x[(np.log10(x) >= edges[0]) & (np.log10(x) <= edges[-1])]
    on_edges = 10.0 ** edges[::3]
    x = np.r_[x, on_edges, np.nextafter(on_edges, 0), np.nextafter(on_edges, 1)]
    x = x[(np.log10(x) >= edges[0]) & (np.log10(x) <= edges[-1])]
    histogram = ws.log10_histogram(x, edges=edges, binning="float64")
    np.testing.assert_array_equal(histogram.counts, ref.log10_counts(x, edges))
    assert histogram.n_below == histogram.n_above == 0 and histogram.n == x.size
    paper = ws.log10_histogram(x, edges=edges)
    float32_log10 = np.log10(x.astype(np.float32)).astype(np.float64)
    np.testing.assert_array_equal(paper.counts, np.histogram(float32_log10, bins=edges)[0])


def test_zeros_are_explicit_not_clipped() -> None:
    """npm-weibull-py clips zeros to 1e-13 and drops them silently; here it is an error or counted."""
    w = np.r_[np.random.default_rng(8).normal(0, 0.02, 10_000), np.zeros(25)]
    with pytest.raises(ValueError, match=r"`x` has 25 zeros out of 10025"):
        ws.fit_histogram(w, zeros="error")
    fit = ws.fit_histogram(w)  # signed weights, zeros omitted and counted by default
    assert fit.n == 10_025 and fit.n_omitted["zeros"] == 25
    clean = ws.fit_histogram(w[:10_000])
    assert (fit.shape, fit.scale) == (clean.shape, clean.scale)
    # the paper's library leaves the 25 zeros out of its total the same way
    h = npm_weibull.extract_to_histogram(w)
    assert int(h["hist"].sum()) == 10_000 and h["n_total"] == 10_025
