"""The laws of the coverage study (validation/coverage_laws.py, populations.py): the two new
continuous laws against scipy, the stored laws' multinomial draws, the MiniLM law's targets,
and the study's tasks."""

from __future__ import annotations

import itertools
import math

import ml_dtypes
import mpmath as mp
import numpy as np
import pytest
from scipy import integrate, optimize, stats

import weibull_stats as ws
from weibull_stats.validation import coverage, coverage_laws
from weibull_stats.validation.anchors import exact_limit
from weibull_stats.validation.populations import MIXTURE_WEIGHT, abs_t, gaussian_mixture
from weibull_stats.validation.stored import LAW_COUNTS, law_counts, round_to_storage

# scipy's densities of the two laws, written from their definitions (not from populations.py)
DENSITIES = {
    "abs_t": lambda x: 2.0 * stats.t.pdf(x, 5),
    "gaussian_mixture": lambda x: (MIXTURE_WEIGHT * stats.halfnorm.pdf(x)
                                   + (1 - MIXTURE_WEIGHT) * stats.halfnorm.pdf(x, scale=3.0)),
}
CDFS = {
    "abs_t": lambda x: 2.0 * stats.t.cdf(x, 5) - 1.0,
    "gaussian_mixture": lambda x: (MIXTURE_WEIGHT * stats.halfnorm.cdf(x)
                                   + (1 - MIXTURE_WEIGHT) * stats.halfnorm.cdf(x, scale=3.0)),
}
LAWS = {"abs_t": abs_t(5), "gaussian_mixture": gaussian_mixture(3)}


def _moment(density, f) -> float:
    return integrate.quad(lambda x: f(x) * density(x), 0.0, np.inf, limit=400, epsabs=0, epsrel=1e-12)[0]


def _quantile(kind: str, p: float) -> float:
    return optimize.brentq(lambda x: CDFS[kind](x) - p, 1e-9, 100.0, xtol=1e-15, rtol=1e-15)


@pytest.mark.parametrize("kind", sorted(LAWS))
def test_mle_and_log_moment_limits_agree_with_scipy_quadrature(kind):
    density = DENSITIES[kind]
    mean_log = _moment(density, np.log)

    def score(k: float) -> float:  # the profile score of the Weibull likelihood in k
        ratio = _moment(density, lambda x: x**k * np.log(x)) / _moment(density, lambda x: x**k)
        return ratio - 1 / k - mean_log

    shape = optimize.brentq(score, 0.3, 3.0, xtol=1e-13)
    scale = _moment(density, lambda x: x**shape) ** (1 / shape)
    assert exact_limit("mle", LAWS[kind])[:2] == pytest.approx((shape, scale), rel=1e-8)
    sd_log = math.sqrt(_moment(density, lambda x: np.log(x) ** 2) - mean_log**2)
    shape = math.pi / (math.sqrt(6) * sd_log)
    scale = math.exp(mean_log + np.euler_gamma / shape)
    assert exact_limit("log_moment", LAWS[kind])[:2] == pytest.approx((shape, scale), rel=1e-8)


@pytest.mark.parametrize("kind", sorted(LAWS))
def test_quantile_and_probability_plot_limits_agree_with_scipy(kind):
    p = np.array([0.1, 0.9])
    q = np.array([_quantile(kind, v) for v in p])
    y = np.log(-np.log1p(-p))
    shape = (y[1] - y[0]) / math.log(q[1] / q[0])
    assert exact_limit("quantile", LAWS[kind], probabilities=(0.1, 0.9))[0] == pytest.approx(shape, rel=1e-9)
    # the middle-80% regression's population line, by Gauss-Legendre over p in [0.1, 0.9]
    nodes, weights = np.polynomial.legendre.leggauss(60)
    pieces = np.linspace(0.1, 0.9, 9)
    ps, ws_ = [], []
    for a, b in itertools.pairwise(pieces):
        ps += list((b - a) / 2 * nodes + (a + b) / 2)
        ws_ += list((b - a) / 2 * weights)
    ps, ws_ = np.array(ps), np.array(ws_) / 0.8
    u = np.log([_quantile(kind, v) for v in ps])
    yy = np.log(-np.log1p(-ps))
    mean_u, mean_y = ws_ @ u, ws_ @ yy
    slope = (ws_ @ (u * yy) - mean_u * mean_y) / (ws_ @ (u * u) - mean_u**2)
    scale = math.exp(mean_u - mean_y / slope)
    limit = exact_limit("probability_plot", LAWS[kind], trim=(0.1, 0.9), direction="y_on_x")
    assert limit[:2] == pytest.approx((slope, scale), rel=1e-8)


@pytest.mark.parametrize("kind", sorted(LAWS))
def test_float64_methods_of_the_new_laws(kind):
    law = LAWS[kind]
    p = np.linspace(0.01, 0.99, 41)
    assert law.cdf(law.quantile(p)) == pytest.approx(p, abs=1e-12)
    with mp.workdps(30):
        assert abs(law.cdf_mp(law.quantile_mp(mp.mpf("0.3"))) - mp.mpf("0.3")) < mp.mpf(10) ** -25
    assert law.cdf(p) == pytest.approx(CDFS[kind](p), abs=1e-14)
    q = law.quantile(p)
    assert 1 / (q * DENSITIES[kind](q)) == pytest.approx(law.dlog_quantile(p), rel=1e-9)
    # seeded draws follow the law (KS test at a fixed seed; a wrong law gives p ~ 0)
    draws = law.sample(np.random.default_rng(7), (20_000,))
    assert stats.kstest(draws, law.cdf).pvalue > 1e-3


def test_stored_law_cells_are_the_probabilities_of_rounding():
    # a few bf16 cells of 0.02 |Z|, from ml_dtypes' neighbours and scipy's half-normal CDF
    counts = law_counts(coverage_laws.LAWS["halfnormal"].law, 0.02, "bfloat16")
    for value in (0.003, 0.0171, 0.05):
        g = np.array([value], dtype=ml_dtypes.bfloat16)
        bits = int(g.view(np.uint16)[0])
        below, above = (np.array([bits - 1, bits + 1], dtype=np.uint16).view(ml_dtypes.bfloat16)
                        .astype(np.float64))
        centre = float(g.astype(np.float64)[0])
        lo, hi = (below + centre) / 2, (centre + above) / 2
        expected = stats.halfnorm.cdf(hi / 0.02) - stats.halfnorm.cdf(lo / 0.02)
        assert counts[bits] / LAW_COUNTS == pytest.approx(expected, rel=1e-9, abs=1e-16)


def test_multinomial_replicates_have_the_law_of_rounded_draws():
    # the same law two ways: n float64 draws rounded to bf16, and one multinomial over the cells
    rng = np.random.default_rng(11)
    n = 400_000
    drawn = coverage_laws.draw_sample("abs_t(nu=5)", "bfloat16", rng, n)
    rounded = round_to_storage(coverage_laws.draw_values("abs_t(nu=5)", rng, n), "bfloat16")
    values, counts = np.unique(rounded.astype(np.float64), return_counts=True)
    assert drawn.size == n
    # pool both into 40 equal-probability bins of the law and test homogeneity
    edges = 0.02 * abs_t(5).quantile(np.linspace(0, 1, 41)[1:-1])
    a = np.bincount(np.searchsorted(edges, drawn.distinct), weights=drawn.counts, minlength=40)
    b = np.bincount(np.searchsorted(edges, values), weights=counts, minlength=40)
    assert stats.chi2_contingency(np.vstack([a, b]))[1] > 1e-3


@pytest.mark.parametrize("name", sorted(ws.ESTIMATORS))
def test_minilm_target_is_the_fit_of_the_stored_matrix(name):
    # the empirical law's limit is the estimator on the matrix itself: the counts route against
    # the raw bf16 values of the embedded model's matrix
    from weibull_stats.checkpoints.readers import resolve_paths

    [checkpoint] = resolve_paths(["minilm"])
    stored = round_to_storage(np.abs(checkpoint.read(coverage_laws.MINILM_MATRIX).astype(np.float64)).ravel())
    assert stored.size == 1536 * 384
    target = coverage_laws.coverage_target(name, "minilm", "bfloat16")
    fit = ws.fit(stored, name)
    assert (target.shape, target.scale) == pytest.approx((fit.shape, fit.scale), rel=1e-10)
    assert target.source == "the estimator on the matrix's own bfloat16 counts (the law)"


def test_tasks_cover_every_law_storage_and_size_with_their_replicates():
    tasks = coverage._tasks(("mle",), seed=1, scale_reps=1.0)
    reps: dict[tuple, int] = {}
    for _, kind, args in tasks:
        if kind == "asymptotic":
            key = (args[1], args[2], args[3])
            reps[key] = reps.get(key, 0) + args[4]
    for population, spec in coverage_laws.LAWS.items():
        for storage in spec.storages:
            for n, count in coverage.ASYMPTOTIC_REPS[storage].items():
                assert reps.pop((population, storage, n)) == count
    assert not reps
    assert max(coverage.ASYMPTOTIC_REPS["bfloat16"]) == 10**8
    assert max(coverage.ASYMPTOTIC_REPS["float64"]) == 10**7
    assert all(count >= 1000 for storage in coverage.ASYMPTOTIC_REPS.values()
               for n, count in storage.items() if n <= 10**6)
    assert min(coverage.ASYMPTOTIC_REPS["float64"].values()) >= 400
    # chunks of one case draw from their own streams, numbered from 0
    chunks = sorted(args[6] for _, kind, args in tasks
                    if kind == "asymptotic" and args[1:4] == ("halfnormal", "float64", 10**7))
    assert chunks == list(range(len(chunks))) and len(chunks) > 1


def test_a_chunked_case_merges_into_one_record_per_parameter(monkeypatch):
    monkeypatch.setattr(coverage, "ASYMPTOTIC_REPS", {"float64": {1000: 6}, "bfloat16": {10**8: 6}})
    monkeypatch.setattr(coverage, "BOOTSTRAP_CASES", ())
    monkeypatch.setattr(coverage, "CHUNK_VALUES", 2000)  # two float64 replicates per chunk: 3 chunks
    assert sum(1 for _, _, args in coverage._tasks(("log_moment",), 2, 1.0) if args[2] == "float64") == 3 * 5
    frame = coverage.coverage_study(["log_moment"], seed=2)
    assert (frame.groupby(["population", "storage", "n", "parameter"]).size() == 1).all()
    assert set(frame["reps"]) == {6} and frame["hits"].between(0, 6).all()
    assert sorted(set(frame["population"])) == sorted(coverage_laws.LAWS)
