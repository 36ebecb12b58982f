"""Asymptotic intervals that hold when the law is not Weibull (issue 21, item 1).

The MLE's sandwich errors against an independent numeric sandwich, against the observed
information on Weibull data, raw against counts, and the ``errors`` option; coverage of each
estimator's default interval of its own population value on a non-Weibull law, within Monte
Carlo error (the Wilson interval of the replicates): histogram mode and bf16 quantile matching
through exact multinomial simulation of their counts (fast), every estimator on HalfNormal
raw data at n = 10^5 through the coverage study's machinery and the MLE on |t_5| (slow).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, optimize, stats

import weibull_stats as ws
from weibull_stats.estimators.histogram import histogram_lines, paper_edges
from weibull_stats.estimators.histogram._asymptotic import fixed_set_se, histogram_se
from weibull_stats.estimators.mle import mle_asymptotic
from weibull_stats.sample.checked import counts_sample
from weibull_stats.validation._common import wilson_interval
from weibull_stats.validation.coverage import asymptotic_case
from weibull_stats.validation.coverage_laws import coverage_target
from weibull_stats.validation.stored import rounding_cells

Z95 = float(stats.norm.ppf(0.975))


def _covers(hits: int, reps: int, confidence: float) -> bool:
    low, high = wilson_interval(hits, reps, confidence)
    return low <= 0.95 <= high


# ---------------------------------------------------------------------- MLE sandwich
def _numeric_sandwich(x: np.ndarray, shape: float, scale: float) -> tuple[float, float]:
    """An independent sandwich: scipy's Weibull log density, per-value scores and the Hessian
    of the total by central finite differences in ``(k, ln scale)``."""
    def logpdf(theta: np.ndarray) -> np.ndarray:
        return stats.weibull_min.logpdf(x, theta[0], scale=math.exp(theta[1]))

    theta = np.array([shape, math.log(scale)])
    step = 1e-5
    basis = np.eye(2) * step
    scores = np.stack([(logpdf(theta + e) - logpdf(theta - e)) / (2 * step) for e in basis], axis=1)
    big = 1e-3
    hessian = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * big, np.eye(2)[j] * big
            total = (logpdf(theta + ei + ej).sum() - logpdf(theta + ei - ej).sum()
                     - logpdf(theta - ei + ej).sum() + logpdf(theta - ei - ej).sum())
            hessian[i, j] = total / (4 * big * big)
    n = x.size
    a = -hessian / n
    b = np.cov(scores, rowvar=False, bias=True)
    inverse = np.linalg.inv(a)
    cov = inverse @ b @ inverse / n
    return math.sqrt(cov[0, 0]), math.sqrt(cov[1, 1])


def test_sandwich_equals_a_numeric_sandwich_on_a_fixed_sample():
    x = np.abs(np.random.default_rng(7).standard_t(5, 2000)) * 0.02
    res = mle_asymptotic(ws.as_sample(x))
    expected = _numeric_sandwich(x, res.fit.shape, res.fit.scale)
    assert res.shape_se == pytest.approx(expected[0], rel=1e-6)
    assert res.log_scale_se == pytest.approx(expected[1], rel=1e-6)
    assert res.method.startswith("sandwich")


def test_sandwich_tends_to_the_observed_information_on_weibull_data_only():
    rng = np.random.default_rng(11)

    def ratios(draw) -> np.ndarray:
        out = []
        for _ in range(20):
            sample = ws.as_sample(draw())
            sandwich, observed = (mle_asymptotic(sample, errors=e) for e in ("sandwich", "observed"))
            out.append([sandwich.shape_se / observed.shape_se, sandwich.log_scale_se / observed.log_scale_se])
        return np.array(out)

    weibull = ratios(lambda: rng.weibull(1.5, 50_000) * 3.0)
    halfnormal = ratios(lambda: np.abs(rng.standard_normal(50_000)))
    for column in range(2):
        r = weibull[:, column]
        assert abs(r.mean() - 1.0) < 4 * r.std(ddof=1) / math.sqrt(r.size) + 1e-3
    # under HalfNormal the information's shape error is too small, far beyond the replicates' spread
    r = halfnormal[:, 0]
    assert r.mean() - 1.0 > 10 * r.std(ddof=1) / math.sqrt(r.size)


def test_sandwich_of_counts_equals_that_of_the_same_raw_values():
    import torch

    w = torch.tensor(np.random.default_rng(3).normal(0.0, 0.02, 100_000), dtype=torch.bfloat16)
    counts = ws.as_sample(w, values="weights")
    assert counts.magnitudes is None
    raw = ws.as_sample(np.abs(w.float().numpy()).astype(np.float64))
    a, b = mle_asymptotic(counts), mle_asymptotic(raw)
    assert a.fit.shape == pytest.approx(b.fit.shape, rel=1e-12)
    assert a.shape_se == pytest.approx(b.shape_se, rel=1e-9)
    assert a.log_scale_se == pytest.approx(b.log_scale_se, rel=1e-9)


def test_observed_information_stays_available_as_an_option():
    x = np.abs(np.random.default_rng(5).standard_normal(20_000))
    fit = ws.fit_mle(x)
    observed = ws.confidence_interval(x, "mle", asymptotic_options={"errors": "observed"})
    default = ws.confidence_interval(x, "mle")
    assert observed.standard_error.shape == pytest.approx(fit.shape_se, rel=1e-12)
    assert observed.detail.startswith("inverse observed information")
    assert default.detail.startswith("sandwich")
    assert default.standard_error.shape != pytest.approx(observed.standard_error.shape, rel=1e-3)
    with pytest.raises(ValueError, match="`errors` must be one of"):
        ws.confidence_interval(x, "mle", asymptotic_options={"errors": "fisher"})


def test_the_scan_row_carries_the_default_errors():
    from weibull_stats.scanning.fit import fit_unit
    from weibull_stats.scanning.settings import check_settings

    x = np.abs(np.random.default_rng(9).standard_normal(5000))
    settings = check_settings(paths="m", estimators=["mle"])
    row = fit_unit(ws.as_sample(x), "mle", settings, 0, 1)
    assert row["shape_se"] == pytest.approx(ws.confidence_interval(x, "mle").standard_error.shape, rel=1e-12)


# ---------------------------------------------------------------------- histogram mode
def test_histogram_covers_its_population_value_where_an_edge_bin_toggles():
    # HalfNormal(0.02): the bin just below the lower trim edge has population mid-CDF 0.09982,
    # so at n = 10^6 about a quarter of samples keep it; the bin counts are simulated exactly
    # (multinomial over the bins' probabilities), the target is the fit of those probabilities
    edges = paper_edges()
    probabilities = np.diff(stats.halfnorm.cdf(10.0**edges / 0.02))
    probabilities /= probabilities.sum()
    target = histogram_lines(probabilities[None, :], edges, (0.1, 0.9), "y_on_x").shape[0]
    rng = np.random.default_rng(21)
    reps, n = 1000, 10**6
    counts = rng.multinomial(n, probabilities, size=reps).astype(np.float64)
    shapes = histogram_lines(counts, edges, (0.1, 0.9), "y_on_x").shape
    new = np.array([histogram_se(c, edges, (0.1, 0.9), "y_on_x")[0] for c in counts])
    fixed = np.array([fixed_set_se(c, edges, (0.1, 0.9), "y_on_x")[0] for c in counts])
    hits_new = int(np.sum(np.abs(shapes - target) <= Z95 * new))
    hits_fixed = int(np.sum(np.abs(shapes - target) <= Z95 * fixed))
    assert _covers(hits_new, reps, 0.99)
    assert not _covers(hits_fixed, reps, 0.99)  # the kept-set-fixed error undercovers here


# ---------------------------------------------------------------------- quantile matching, bf16
def _bf16_halfnormal_counts(rng: np.random.Generator, n: int, sigma: float):
    """A bf16-stored HalfNormal(sigma) sample of size n as counts: a multinomial over the
    rounding cells (the same law as rounding n float64 draws)."""
    grid, boundaries = rounding_cells("bfloat16")
    edges = np.concatenate([[0.0], boundaries[1:-1], [np.inf]])
    cdf = stats.halfnorm.cdf(edges / sigma)
    cdf[-1] = 1.0
    cells = np.diff(cdf)
    patterns = np.zeros(1 << 16, dtype=np.int64)
    patterns[1 : 1 + grid.size] = rng.multinomial(n, cells / cells.sum())
    return counts_sample(patterns, "bfloat16", "bfloat16", n, {"masked": 0, "nonfinite": 0, "zeros": 0},
                         {"values": "magnitudes", "nonfinite": "error", "zeros": "error"}, "x", 1)


def test_quantile_matching_on_bf16_covers_its_population_value():
    target = coverage_target("quantile", "halfnormal", "bfloat16")
    rng = np.random.default_rng(31)
    reps, n = 400, 10**6
    hits = np.zeros(2, dtype=int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(reps):
            res = ws.confidence_interval(_bf16_halfnormal_counts(rng, n, 0.02), "quantile")
            ci = res.confidence_interval
            hits += [ci.shape.low <= target.shape <= ci.shape.high,
                     ci.scale.low <= target.scale <= ci.scale.high]
    assert "storage grid" in res.detail
    # the staircase floor errs on the safe side in the coarse-cell regime: no undercoverage
    for h in hits.tolist():
        assert wilson_interval(h, reps, 0.99)[1] >= 0.95


def test_heavy_ties_on_the_bf16_grid_give_a_cell_wide_error_and_the_ties_warning():
    x = np.repeat([1.0, 2.0, 3.0, 4.0], [1500, 2000, 1000, 500])  # bf16 values: a counts sample
    assert ws.as_sample(x).form == "counts"
    with pytest.warns(ws.UnreliableIntervalWarning, match="distinct values"):
        res = ws.confidence_interval(x, "quantile")
    assert res.standard_error.shape > 0 and "storage grid" in res.detail


# ---------------------------------------------------------------------- every estimator, n = 10^5
@pytest.mark.slow
def test_every_estimator_covers_on_halfnormal_at_1e5():
    names = ["probability_plot", "histogram", "quantile", "mle", "log_moment"]
    reps = 1000
    records = asymptotic_case(names, "halfnormal", 10**5, reps, seed=20261205, storages=["float64"])
    assert len(records) == 2 * len(names)
    for record in records:  # ten checks: each Wilson interval at 1 - 0.01/10
        assert _covers(int(record["hits"]), reps, 0.999), record


def abs_t5_mle_limit() -> tuple[float, float]:
    """The MLE's limit under |t_5| (the root of the profile score, by quadrature)."""
    density = stats.t(5)

    def moment(f) -> float:
        return 2.0 * integrate.quad(lambda x: f(x) * density.pdf(x), 0.0, np.inf, limit=400)[0]

    mean_log = moment(np.log)

    def score(k: float) -> float:
        return moment(lambda x: x**k * np.log(x)) / moment(lambda x: x**k) - 1.0 / k - mean_log

    shape = optimize.brentq(score, 0.3, 3.0, xtol=1e-13)
    return shape, moment(lambda x: x**shape) ** (1.0 / shape)


@pytest.mark.slow
def test_mle_covers_its_limit_on_abs_t5_at_1e5():
    shape, scale = abs_t5_mle_limit()
    rng = np.random.default_rng(20261205)
    reps, n = 1000, 10**5
    hits = np.zeros(2, dtype=int)
    for _ in range(reps):
        ci = ws.confidence_interval(np.abs(rng.standard_t(5, n)), "mle").confidence_interval
        hits += [ci.shape.low <= shape <= ci.shape.high, ci.scale.low <= scale <= ci.scale.high]
    for h in hits.tolist():
        assert _covers(h, reps, 0.995)
