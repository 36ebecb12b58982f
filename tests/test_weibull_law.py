"""The Weibull law's own mathematics (weibull_stats/weibull/), each formula against a reference
derived another way: scipy.stats, mpmath at 40 digits, numpy.polyfit, brute-force sums, the
moments of uniform order statistics and ml_dtypes' own rounding."""

from __future__ import annotations

import math
import re
from pathlib import Path

import ml_dtypes
import mpmath as mp
import numpy as np
import pytest
from scipy import stats

from weibull_stats.estimators.histogram import (
    bin_log_midpoints,
    bin_probabilities,
    kept_bins,
    mid_bin_cdf,
    paper_edges,
)
from weibull_stats.validation.populations import HALFNORMAL
from weibull_stats.weibull import cells, law, lines, rank_sums, spacings

EPS = float(np.finfo(np.float64).eps)
PACKAGE = Path(__file__).resolve().parent.parent / "weibull_stats"


# ---------------------------------------------------------------------- the law
@pytest.mark.parametrize(("shape", "scale"), [(0.5, 1.0), (1.2, 0.02), (3.7, 250.0)])
def test_cdf_survival_density_quantile_are_scipys_weibull_min(shape: float, scale: float) -> None:
    reference = stats.weibull_min(c=shape, scale=scale)
    p = np.concatenate([np.geomspace(1e-100, 0.5, 200), 1 - np.geomspace(1e-16, 0.5, 200)])
    x = reference.ppf(p)
    np.testing.assert_allclose(law.quantile(p, shape, scale), x, rtol=1e-13, atol=0)
    np.testing.assert_allclose(law.cdf(x, shape, scale), reference.cdf(x), rtol=1e-12, atol=0)
    np.testing.assert_allclose(law.survival(x, shape, scale), reference.sf(x), rtol=1e-12, atol=0)
    np.testing.assert_allclose(law.density(x, shape, scale), reference.pdf(x), rtol=1e-12, atol=0)
    t = law.cumulative_hazard(np.log(x), shape, math.log(scale))
    np.testing.assert_allclose(t, -np.log1p(-p), rtol=1e-12, atol=0)
    np.testing.assert_allclose(law.quantile_of_hazard(t, shape, scale), x, rtol=1e-12, atol=0)


def test_plot_ordinates_against_mpmath() -> None:
    p = np.concatenate([np.geomspace(1e-300, 0.5, 300), 1 - np.geomspace(2**-52, 0.5, 300),
                        np.random.default_rng(0).random(300)])
    with mp.workdps(40):
        exact = np.array([float(mp.log(-mp.log1p(-mp.mpf(float(v))))) for v in p])
        slope = np.array([float(mp.diff(lambda q: mp.log(-mp.log(1 - q)), mp.mpf(float(v))))
                          for v in p[-50:]])
        at_40 = law.plot_ordinates(mp.mpf("0.25"), mp.mp)
        assert abs(at_40 - mp.log(-mp.log(mp.mpf("0.75")))) < mp.mpf(10) ** -38
    got = law.plot_ordinates(p)
    # near p = 1 - 1/e the ordinate passes 0: an absolute error there, relative elsewhere
    assert np.all(np.abs(got - exact) <= 4 * EPS * np.maximum(np.abs(exact), 1.0))
    np.testing.assert_allclose(law.plot_ordinate_slope(p[-50:]), slope, rtol=1e-13, atol=0)


@pytest.mark.parametrize("a", [0.0, 0.3, 0.375, 0.5])
def test_rank_ordinates_are_the_plot_ordinates_of_the_plotting_positions(a: float) -> None:
    n = 10_001
    out = np.empty(n)
    law.rank_ordinates(np.arange(n, dtype=np.float64), 1.0, a, -(n + 1 - 2 * a), out)
    p = (np.arange(1, n + 1) - a) / (n + 1 - 2 * a)
    with mp.workdps(30):
        exact = np.array([float(mp.log(-mp.log1p(-mp.mpf(float(v))))) for v in p[::97]])
    assert np.all(np.abs(out[::97] - exact) <= 4 * EPS * np.maximum(np.abs(exact), 1.0))
    assert np.all(np.abs(out - law.plot_ordinates(p)) <= 4 * EPS * np.maximum(np.abs(out), 1.0))


# ---------------------------------------------------------------------- rank sums
def _brute_runs(counts: np.ndarray) -> tuple[list[float], float, float]:
    n = int(counts.sum())
    y = [math.log(-math.log1p(-(i - 0.5) / n)) for i in range(1, n + 1)]
    ends = np.cumsum(counts)
    runs = [math.fsum(y[e - c : e]) for e, c in zip(ends.tolist(), counts.tolist(), strict=True)]
    return runs, math.fsum(y), math.fsum(v * v for v in y)


def test_run_sums_at_small_n_are_the_brute_force_sums() -> None:
    counts = np.random.default_rng(1).integers(1, 40, 300)
    counts[:2] = (1, 2000)
    assert counts.sum() < rank_sums.CLOSED_FORM_MIN
    runs, total, total_sq = rank_sums.run_sums(counts)
    brute, brute_total, brute_sq = _brute_runs(counts)
    np.testing.assert_allclose(runs, brute, rtol=1e-13, atol=1e-13)
    assert total == pytest.approx(brute_total, rel=1e-13) and total_sq == pytest.approx(brute_sq, rel=1e-13)


def test_run_sums_by_the_closed_form_stay_within_their_stated_error() -> None:
    # Euler-Maclaurin from n = CLOSED_FORM_MIN: a run's sum has an absolute error of a few eps * n
    counts = np.random.default_rng(2).integers(1, 120, 2000)
    counts[:3] = (30_000, 1, 5)
    n = int(counts.sum())
    assert n >= rank_sums.CLOSED_FORM_MIN
    runs, total, total_sq = rank_sums.run_sums(counts)
    brute, brute_total, brute_sq = _brute_runs(counts)
    assert np.max(np.abs(runs - np.array(brute))) < 32 * EPS * n
    assert total == pytest.approx(brute_total, rel=1e-13) and total_sq == pytest.approx(brute_sq, rel=1e-13)


@pytest.mark.parametrize(("n", "lo", "hi", "a"), [(40_000, 1, 40_000, 0.5), (50_000, 5001, 45_000, 0.0),
                                                  (60_000, 600, 59_000, 0.375)])
def test_window_prefix_is_the_brute_force_prefix(n: int, lo: int, hi: int, a: float) -> None:
    denom = n + 1 - 2 * a
    y = [math.log(-math.log1p(-(i - a) / denom)) for i in range(lo, hi + 1)]
    drawn = np.random.default_rng(n).integers(0, hi - lo + 2, 60)
    positions = np.unique(np.concatenate([[0, 1, hi - lo + 1], drawn]))
    prefix, total, total_sq = rank_sums.window_prefix(n, lo, hi, a, positions)
    exact = np.array([math.fsum(y[:t]) for t in positions.tolist()])
    assert np.max(np.abs(prefix - exact)) < 32 * EPS * denom
    assert total == pytest.approx(math.fsum(y), rel=1e-13)
    assert total_sq == pytest.approx(math.fsum(v * v for v in y), rel=1e-13)


# ---------------------------------------------------------------------- the line
@pytest.mark.parametrize("direction", lines.DIRECTIONS)
def test_weighted_line_is_numpy_polyfit_with_weights(direction: str) -> None:
    rng = np.random.default_rng(3)
    u = np.sort(rng.normal(-3.0, 0.7, 200))
    v = 1.4 * (u + 3.2) + rng.normal(0, 0.3, 200)
    w = rng.uniform(0.1, 5.0, 200)
    m = lines.weighted_moments(u, v, w)
    shape, log_scale = lines.plot_line(m.mean_u, m.mean_v, m.suu, m.svv, m.suv, direction)
    # polyfit weights multiply the residuals: sqrt of the least-squares weights
    if direction == "y_on_x":
        slope, intercept = np.polyfit(u, v, 1, w=np.sqrt(w))
        expected = (slope, -intercept / slope)
    else:
        slope, intercept = np.polyfit(v, u, 1, w=np.sqrt(w))
        expected = (1.0 / slope, intercept)
    assert (shape, log_scale) == pytest.approx(expected, rel=1e-12)
    r = np.cov(u, v, aweights=w)
    assert lines.squared_correlation(m.suu, m.svv, m.suv) == pytest.approx(r[0, 1] ** 2 / (r[0, 0] * r[1, 1]),
                                                                           rel=1e-12)
    sums = (w.sum(), (w * u).sum(), (w * v).sum(), (w * u * u).sum(), (w * v * v).sum(), (w * u * v).sum())
    mean_u, mean_v, suu, svv, suv = lines.centred_sums(*sums)
    expected = (m.mean_u, m.mean_v, m.suu, m.svv, m.suv)
    assert (mean_u, mean_v, suu, svv, suv) == pytest.approx(expected, rel=1e-10)


def test_line_rows_and_mpmath() -> None:
    rng = np.random.default_rng(4)
    u = rng.normal(size=(5, 30))
    v = np.linspace(-2, 1, 30)
    m = lines.weighted_moments(u, v)
    shape, _ = lines.plot_line(m.mean_u, m.mean_v, m.suu, m.svv, m.suv, "x_on_y")
    for row in range(5):
        assert shape[row] == pytest.approx(1.0 / np.polyfit(v, u[row], 1)[0], rel=1e-12)
    with mp.workdps(40):
        k, log_scale = lines.plot_line(mp.mpf(0), mp.mpf(-1), mp.mpf(2), mp.mpf(8), mp.mpf(4), "x_on_y")
        assert (k, log_scale) == (2, mp.mpf("0.5"))


# ---------------------------------------------------------------------- spacings
def _uniform_moments(ranks: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the uniform order statistics ``U_(r)``: Beta(r, n + 1 - r)."""
    mean = ranks / (n + 1)
    return mean, mean * (1 - mean) / (n + 2)


def test_sorted_uniform_sums_have_the_moments_of_uniform_order_statistics() -> None:
    n, reps = 40, 4000
    rng = np.random.default_rng(5)
    draws = np.empty((reps, n))
    for r in range(reps):
        head, tail, total = spacings.sorted_uniform_sums(rng, n)
        assert head.size + tail.size == n
        draws[r] = np.concatenate([head / total, 1.0 - tail / total])
        assert np.all(np.diff(draws[r]) >= 0)
    mean, var = _uniform_moments(np.arange(1, n + 1), n)
    # Monte Carlo tolerance: 5 standard errors of the mean and of the variance
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 5 * np.sqrt(var / reps))
    assert np.all(np.abs(draws.var(axis=0) - var) < 5 * var * math.sqrt(2 / reps) + 1e-4 * var)


def test_sorted_uniform_sums_keep_the_complement_exact_in_the_upper_half() -> None:
    head, tail, total = spacings.sorted_uniform_sums(np.random.default_rng(6), 10**6)
    # 1 - U_(n) is a single spacing over the total: about 1e-6, kept to full precision
    assert tail[-1] > 0 and tail[-1] / total < 1e-4 and head[-1] < total / 2 <= total - tail[0]


def test_uniforms_from_gamma_gaps_have_the_joint_law_of_order_statistics() -> None:
    n, reps = 1000, 20_000
    ranks = np.array([3, 100, 900])
    gaps = spacings.spacing_gaps(ranks, n)
    assert gaps.tolist() == [3.0, 97.0, 800.0, 101.0]
    u = spacings.uniforms_from_gaps(np.random.default_rng(7).standard_gamma(gaps, size=(reps, gaps.size)))
    mean, var = _uniform_moments(ranks, n)
    assert np.all(np.abs(u.mean(axis=0) - mean) < 5 * np.sqrt(var / reps))
    # Cov(U_(r), U_(s)) = r (n + 1 - s) / ((n + 1)^2 (n + 2)), r <= s: the correlation of ranks 100 and 900
    cov = 100 * (n + 1 - 900) / ((n + 1) ** 2 * (n + 2))
    expected = cov / math.sqrt(var[1] * var[2])
    assert np.corrcoef(u[:, 1], u[:, 2])[0, 1] == pytest.approx(expected, abs=5 / math.sqrt(reps))


# ---------------------------------------------------------------------- 16-bit cells
@pytest.mark.parametrize("storage", ["bfloat16", "float16"])
def test_storage_grid_is_every_positive_finite_value(storage: str) -> None:
    dtype = np.dtype(ml_dtypes.bfloat16 if storage == "bfloat16" else np.float16)
    top = int(np.array(np.inf, dtype=dtype).view(np.uint16))  # +inf: the first non-finite pattern
    expected = np.arange(1, top, dtype=np.uint16).view(dtype).astype(np.float64)
    np.testing.assert_array_equal(cells.storage_grid(storage), expected)
    assert float(expected[-1]) == float(ml_dtypes.finfo(dtype).max)
    with pytest.raises(ValueError, match="`storage` must be one of bfloat16, float16; got 'int8'"):
        cells.storage_grid("int8")


@pytest.mark.parametrize("storage", ["bfloat16", "float16"])
def test_rounding_cells_are_where_values_round_to(storage: str) -> None:
    values, boundaries = cells.rounding_cells(storage)
    dtype = np.dtype(ml_dtypes.bfloat16 if storage == "bfloat16" else np.float16)
    # float32 -> 16 bits is one correct rounding (to nearest, ties to even)
    x = np.exp(np.random.default_rng(8).uniform(-40.0, 11.0, 200_000)).astype(np.float32)
    x = x[(x >= boundaries[0]) & (x < boundaries[-1]) & ~np.isin(x, boundaries)]
    rounded = x.astype(dtype).astype(np.float64)
    cell = np.searchsorted(boundaries, x.astype(np.float64), side="right") - 1
    np.testing.assert_array_equal(values[cell], rounded)


@pytest.mark.parametrize(("shape", "scale"), [(1.2, 0.02), (0.3, 1.0)])
def test_cell_probabilities_are_cdf_differences_and_sum_to_one(shape: float, scale: float) -> None:
    _, boundaries = cells.rounding_cells("bfloat16")
    p, zero, overflow = cells.cell_probabilities(boundaries, shape, scale)
    assert math.fsum(p) + zero + overflow == pytest.approx(1.0, abs=1e-14)
    reference = stats.weibull_min(c=shape, scale=scale)
    assert zero == pytest.approx(reference.cdf(boundaries[0]), rel=1e-12)
    with mp.workdps(40):
        k, lam = mp.mpf(shape), mp.mpf(scale)

        def mass(lo: float, hi: float) -> float:  # F(hi) - F(lo), as survival differences in the upper tail
            t0, t1 = (mp.mpf(lo) / lam) ** k, (mp.mpf(hi) / lam) ** k
            return float(mp.exp(-t0) - mp.exp(-t1) if t0 > 1 else mp.expm1(-t0) - mp.expm1(-t1))

        pick = np.flatnonzero(p > 1e-300)[::37]
        exact = np.array([mass(float(boundaries[j]), float(boundaries[j + 1])) for j in pick])
    np.testing.assert_allclose(p[pick], exact, rtol=1e-11, atol=0)


def test_histogram_bin_probabilities_are_cdf_differences() -> None:
    with mp.workdps(30):
        probs = bin_probabilities(HALFNORMAL.at_sigma(0.02), 30)
    edges = 10.0 ** paper_edges() / 0.02
    lower = stats.halfnorm.cdf(edges)
    upper = stats.halfnorm.sf(edges)
    reference = np.where(lower[1:] < 0.5, np.diff(lower), -np.diff(upper))
    # the limit's probabilities are differences of 30-digit CDF values: absolute error 1e-30
    np.testing.assert_allclose(probs, reference, rtol=1e-9, atol=1e-28)
    assert math.fsum(probs) == pytest.approx(upper[0] - upper[-1], abs=1e-14)  # the mass between the edges


def test_histogram_bins_on_the_weibull_plot() -> None:
    edges = paper_edges()
    geometric = np.sqrt(10.0 ** edges[:-1] * 10.0 ** edges[1:])  # the bins' log-midpoints in x
    np.testing.assert_allclose(np.exp(bin_log_midpoints(edges)), geometric, rtol=1e-13)
    counts = np.random.default_rng(9).poisson(3.0, (2, 50)).astype(np.float64)
    f_mid = mid_bin_cdf(counts)
    for row in range(2):
        c = counts[row].tolist()
        expected = [(math.fsum(c[:i]) + 0.5 * c[i]) / math.fsum(c) for i in range(len(c))]
        np.testing.assert_allclose(f_mid[row], expected, rtol=1e-15, atol=0)
        assert kept_bins(counts[row], f_mid[row], (0.2, 0.8)).tolist() == [
            ci > 0 and 0.2 <= f <= 0.8 for ci, f in zip(c, expected, strict=True)]


# ---------------------------------------------------------------------- one definition
#: ``ln(-ln(1 - p))`` written out: ``log(-log1p(-...``, ``log(-log(1 - ...`` in any namespace.
ORDINATE = re.compile(r"log\(\s*-\s*[\w.]*?log(?:1p\(\s*-|\(\s*1(?:\.0*)?\s*-)")


def test_the_plot_ordinate_is_written_only_in_the_weibull_package() -> None:
    home = PACKAGE / "weibull"
    assert ORDINATE.search((home / "law.py").read_text())  # the pattern finds the definition
    assert ORDINATE.search("y = np.log(-np.log(1.0 - p))") and ORDINATE.search("mp.log(-mp.log1p(-p))")
    copies = [f"{path.relative_to(PACKAGE)}:{text[: m.start()].count(chr(10)) + 1}"
              for path in sorted(PACKAGE.rglob("*.py")) if home not in path.parents
              for text in [path.read_text()] for m in ORDINATE.finditer(text)]
    assert copies == [], f"ln(-ln(1 - p)) written outside weibull_stats/weibull/: {copies}"
