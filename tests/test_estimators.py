"""The estimator family: parameterisation, exact recovery, fast path against the reference
implementations of ``tests/reference.py``, the registry contract, torch input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import weibull_stats as ws
from tests import reference as ref
from weibull_stats.estimators.probability_plot import (
    PLOTTING_POSITIONS,
    distinct_window_sums,
    plotting_positions,
    trim_window,
    window_sums,
)

TRIMS = [(0.1, 0.9), (0.0, 1.0), (0.05, 0.5), (0.2, 0.95)]
#: (shape, scale) pairs that span the supported range
LAWS = [(0.3, 1e-6), (1.2054343190, 0.02), (5.0, 1e3)]


def weibull_quantile(p: np.ndarray, shape: float, scale: float) -> np.ndarray:
    """``Q(p) = scale (-ln(1 - p))^(1/shape)``, written out independently of the package."""
    return scale * (-np.log1p(-p)) ** (1.0 / shape)


def assert_rel(got: float, expected: float, rtol: float) -> None:
    assert abs(got - expected) <= rtol * abs(expected), (got, expected, abs(got / expected - 1))


# ------------------------------------------------------------------ parameterisation
@pytest.mark.parametrize("name", list(ws.ESTIMATORS))
def test_parameterisation_is_scipy_weibull_min(name: str) -> None:
    """``fit.distribution()`` is weibull_min(c=shape, scale=scale): cdf, ppf, logpdf written out."""
    x = stats.weibull_min(c=1.7, scale=0.3).rvs(20_000, random_state=np.random.default_rng(11))
    fit = ws.fit(x, name)
    dist = fit.distribution()
    k, lam = fit.shape, fit.scale
    t = np.array([0.01, 0.1, 0.3, 1.0])
    np.testing.assert_allclose(dist.cdf(t), -np.expm1(-((t / lam) ** k)), rtol=1e-13)
    np.testing.assert_allclose(
        dist.logpdf(t), np.log(k / lam) + (k - 1) * np.log(t / lam) - (t / lam) ** k, rtol=1e-13
    )
    p = np.array([0.01, 0.1, 0.5, 0.9, 0.99])
    np.testing.assert_allclose(dist.ppf(p), weibull_quantile(p, k, lam), rtol=1e-13)
    # data drawn from weibull_min(c=1.7, scale=0.3) give back that law: 10% is > 8 standard
    # errors of any estimator here (sd of the shape about 0.8-1.3 k / sqrt(n) = 1%) and far
    # from the reparameterisations this guards against (1 / k = 0.59, scale^k = 0.13)
    assert abs(k / 1.7 - 1) < 0.1 and abs(lam / 0.3 - 1) < 0.1


# ------------------------------------------------------------------ exact recovery
@pytest.mark.parametrize("plotting_position", list(PLOTTING_POSITIONS))
@pytest.mark.parametrize("direction", ["y_on_x", "x_on_y"])
@pytest.mark.parametrize("trim", TRIMS)
def test_probability_plot_recovers_noise_free_quantiles(
    plotting_position: str, direction: str, trim: tuple[float, float]
) -> None:
    """x_(i) = Q(p_i) with the estimator's own plotting positions lie on the line: exact fit."""
    n = 1001
    p = plotting_positions(np.arange(1, n + 1), n, plotting_position)
    for shape, scale in LAWS:
        x = weibull_quantile(p, shape, scale)
        fit = ws.fit_probability_plot(x, trim=trim, plotting_position=plotting_position, direction=direction)
        assert_rel(fit.shape, shape, 1e-10)
        assert_rel(fit.scale, scale, 1e-10)
        assert_rel(fit.r2, 1.0, 1e-12)


@pytest.mark.parametrize("method", ["weibull", "hazen"])
@pytest.mark.parametrize("ranks", [(101, 900), (50, 300, 700, 950), (1, 500, 1000)])
def test_quantile_recovers_exact_quantiles(method: str, ranks: tuple[int, ...]) -> None:
    """With x_(i) = Q(p_i) on numpy's grid for ``method``, the sample quantile at p_i is Q(p_i)."""
    n = 1000
    a = {"weibull": 0.0, "hazen": 0.5}[method]
    p = (np.arange(1, n + 1) - a) / (n + 1 - 2 * a)
    probabilities = tuple(float(p[r - 1]) for r in ranks)
    for shape, scale in LAWS:
        x = np.random.default_rng(0).permutation(weibull_quantile(p, shape, scale))
        fit = ws.fit_quantile(x, probabilities=probabilities, method=method)
        assert_rel(fit.shape, shape, 1e-10)
        assert_rel(fit.scale, scale, 1e-10)


def test_log_moment_closed_form() -> None:
    """ln x with mean m and sd s exactly gives shape = pi / (s sqrt 6), scale = exp(m + gamma/shape)."""
    z = np.random.default_rng(4).normal(size=5001)
    z = (z - z.mean()) / z.std(ddof=1)
    m, s = -3.0, 0.8
    fit = ws.fit_log_moment(np.exp(m + s * z))
    shape = math.pi / (s * math.sqrt(6))
    assert_rel(fit.shape, shape, 1e-12)
    assert_rel(fit.scale, math.exp(m + np.euler_gamma / shape), 1e-12)
    assert_rel(fit.details["sd_log"], s, 1e-12)


# ------------------------------------------------------------------ fast path == reference
def _samples() -> list[tuple[str, np.ndarray]]:
    """Seeded inputs: continuous, heavy ties (bf16-like), tiny and huge scales, small n."""
    out = []
    for seed in range(12):
        rng = np.random.default_rng(seed)
        n = int(rng.integers(30, 20_000))
        shape = float(rng.uniform(0.3, 5.0))
        scale = float(10 ** rng.uniform(-6, 3))
        x = rng.weibull(shape, n) * scale
        out.append((f"weibull-{seed}", x))
        # bfloat16-like: 7 mantissa bits, a few hundred distinct values
        tied = (x.astype(np.float32).view(np.uint32) & np.uint32(0xFFFF0000)).view(np.float32)
        out.append((f"tied-{seed}", tied.astype(np.float64)))
    # very heavy ties: 5 distinct values
    out.append(("five-values", np.random.default_rng(99).choice([0.5, 1.0, 1.5, 2.0, 4.0], 3000)))
    return out


SAMPLES = _samples()


@pytest.mark.parametrize(("label", "x"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_probability_plot_equals_reference(label: str, x: np.ndarray) -> None:
    for pp in PLOTTING_POSITIONS:
        for direction in ("y_on_x", "x_on_y"):
            for trim in TRIMS[:2]:
                try:
                    expected = ref.probability_plot(x, trim, pp, direction)
                except ZeroDivisionError:  # pragma: no cover - constant window in the oracle
                    continue
                fit = ws.fit_probability_plot(x, trim=trim, plotting_position=pp, direction=direction)
                assert_rel(fit.shape, expected[0], 1e-11)
                assert_rel(fit.scale, expected[1], 1e-11)
                assert_rel(fit.r2, expected[2], 1e-11)


@pytest.mark.parametrize(("label", "x"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_other_estimators_equal_reference(label: str, x: np.ndarray) -> None:
    fit = ws.fit_mle(x)
    expected = ref.mle(x)
    assert fit.converged
    assert_rel(fit.shape, expected[0], 1e-11)
    assert_rel(fit.scale, expected[1], 1e-11)
    for probabilities in [(0.1, 0.9), (0.05, 0.3, 0.6, 0.95)]:
        q = ws.fit_quantile(x, probabilities=probabilities)
        expected = ref.quantile(x, probabilities)
        assert_rel(q.shape, expected[0], 1e-11)
        assert_rel(q.scale, expected[1], 1e-11)
    lm = ws.fit_log_moment(x)
    expected = ref.log_moment(x)
    assert_rel(lm.shape, expected[0], 1e-11)
    assert_rel(lm.scale, expected[1], 1e-11)


def test_trim_window_equals_boolean_mask() -> None:
    """The rank window is exactly the set of ranks with trim[0] <= p_i <= trim[1]."""
    for n in [3, 10, 11, 99, 1000, 1001, 12345]:
        for pp in PLOTTING_POSITIONS:
            p = plotting_positions(np.arange(1, n + 1), n, pp)
            for trim in [*TRIMS, (0.3, 0.3000001), (float(p[n // 3]), float(p[2 * n // 3]))]:
                ranks = np.flatnonzero((p >= trim[0]) & (p <= trim[1])) + 1
                lo, hi = trim_window(n, trim, pp)
                if ranks.size:
                    assert (lo, hi) == (ranks[0], ranks[-1])
                else:
                    assert lo > hi


def test_distinct_counts_path_equals_sorted_path() -> None:
    """Sums over (distinct values, counts) equal the sums over the expanded sorted sample."""
    rng = np.random.default_rng(5)
    for _ in range(20):
        k = int(rng.integers(2, 40))
        values = np.sort(rng.uniform(0.1, 10, k))
        counts = rng.integers(1, 50, k)
        full = np.repeat(values, counts)
        n = full.size
        for pp in PLOTTING_POSITIONS:
            lo, hi = trim_window(n, (0.1, 0.9), pp)
            a = distinct_window_sums(values, counts, lo, hi, n, pp)
            b = window_sums(full, lo, hi, n, pp)
            assert a.count == b.count
            for field in ("mean_u", "mean_v", "suu", "svv", "suv"):
                np.testing.assert_allclose(getattr(a, field) + a.shift * (field == "mean_u"),
                                           getattr(b, field) + b.shift * (field == "mean_u"),
                                           rtol=1e-12, atol=1e-12)


def test_float16_counting_path_equals_reference() -> None:
    x = np.abs(np.random.default_rng(6).normal(0, 1.0, 50_001)).astype(np.float16)
    assert np.all(x > 0)
    for pp in PLOTTING_POSITIONS:
        fit = ws.fit_probability_plot(x, plotting_position=pp)
        expected = ref.probability_plot(x, (0.1, 0.9), pp)
        assert_rel(fit.shape, expected[0], 1e-11)
        assert_rel(fit.scale, expected[1], 1e-11)


# ------------------------------------------------------------------ registry contract
@pytest.mark.parametrize("name", list(ws.ESTIMATORS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_registry_contract(name: str, dtype: type) -> None:
    """Every estimator: its name, finite positive parameters, every option recorded, round trip."""
    w = np.random.default_rng(7).normal(0.0, 0.05, (64, 50)).astype(dtype)
    estimator = ws.ESTIMATORS[name]
    fit = estimator(w, values="weights")
    assert isinstance(fit, ws.WeibullFit)
    assert fit.estimator == name
    assert fit.converged
    assert math.isfinite(fit.shape) and fit.shape > 0
    assert math.isfinite(fit.scale) and fit.scale > 0
    assert fit.n == w.size and 0 < fit.n_used <= w.size
    assert set(estimator.options) <= set(fit.options)
    assert fit.options["values"] == "weights"
    assert ws.WeibullFit.from_dict(fit.to_dict()) == fit
    assert fit == ws.fit(w, name, values="weights")


@pytest.mark.parametrize("name", list(ws.ESTIMATORS))
def test_torch_tensors_equal_numpy(name: str) -> None:
    """fp32, fp16 and bf16 tensors give the fit of the same values as a numpy array."""
    torch = pytest.importorskip("torch")
    w = torch.randn(96, 80, generator=torch.Generator().manual_seed(0)) * 0.02
    for dtype in (torch.float32, torch.float16, torch.bfloat16):
        tensor = w.to(dtype)
        same_values = tensor.float().numpy().astype(np.float64)
        a = ws.fit(tensor, name, values="weights")
        b = ws.fit(same_values, name, values="weights")
        assert_rel(a.shape, b.shape, 1e-12)
        assert_rel(a.scale, b.scale, 1e-12)


def test_mle_standard_errors_match_numerical_hessian() -> None:
    """Observed-information SEs equal the inverse of a finite-difference Hessian of ref.loglik."""
    x = np.random.default_rng(8).weibull(1.4, 3000) * 2.0
    fit = ws.fit_mle(x)
    theta = np.array([fit.shape, fit.scale])
    h = 1e-4 * theta
    hessian = np.empty((2, 2))
    for i in range(2):
        for j in range(2):
            def ll(di: float, dj: float, i: int = i, j: int = j) -> float:
                t = theta.copy()
                t[i] += di
                t[j] += dj
                return ref.loglik(x, t[0], t[1])

            hessian[i, j] = (ll(h[i], h[j]) - ll(h[i], -h[j]) - ll(-h[i], h[j]) + ll(-h[i], -h[j])) / (
                4 * h[i] * h[j]
            )
    se = np.sqrt(np.diag(np.linalg.inv(-hessian)))
    np.testing.assert_allclose([fit.shape_se, fit.scale_se], se, rtol=1e-4)
    # and they agree with the asymptotic formula sd(shape) ~ 0.78 shape / sqrt(n) in size
    assert 0.5 < fit.shape_se / (0.78 * fit.shape / math.sqrt(x.size)) < 1.5


def test_histogram_mode_default_edges_on_halfnormal() -> None:
    """Raw data are binned like the paper's library: 1024 log10 bins over [-12, 2]."""
    w = np.random.default_rng(9).normal(0.0, 0.02, 200_000)
    fit = ws.fit_histogram(w, values="weights")
    assert fit.options["bins"] == 1024 and fit.options["edges_range"] == (-12.0, 2.0)
    assert fit.options["edges"] is None
    # other edges are recorded in full: the result alone reproduces the fit
    edges = np.r_[np.linspace(-4, -1, 40), 0.0]
    custom = ws.fit_histogram(w, edges=edges, values="weights", outside="omit")
    replay = {k: v for k, v in custom.options.items() if k in ws.ESTIMATORS["histogram"].options}
    assert ws.fit(w, "histogram", **replay) == custom
    data = custom.to_dict()
    assert ws.WeibullFit.from_dict(data) == custom
    # the paper's library bins float32 log10 of the float32 values (binning="paper")
    counts, _ = np.histogram(np.log10(np.abs(w).astype(np.float32)), bins=ws.paper_edges())
    expected = ref.histogram_counts(counts, ws.paper_edges())
    assert_rel(fit.shape, expected[0], 1e-11)
    assert_rel(fit.scale, expected[1], 1e-11)


@pytest.mark.slow
def test_counting_path_at_matrix_size() -> None:
    """A 4096 x 4096 bfloat16 tensor: the O(n) counting path equals the sort of the same values."""
    torch = pytest.importorskip("torch")
    w = torch.randn(4096, 4096, generator=torch.Generator().manual_seed(1)).mul_(0.02).to(torch.bfloat16)
    w[w == 0] = 0.01  # float32 randn gives a few exact zeros; keep the tensor clean
    same = np.abs(w.float().numpy())
    for pp in PLOTTING_POSITIONS:
        counted = ws.fit_probability_plot(w, values="weights", plotting_position=pp)
        sorted_ = ws.fit_probability_plot(same, plotting_position=pp)
        assert_rel(counted.shape, sorted_.shape, 1e-12)
        assert_rel(counted.scale, sorted_.scale, 1e-12)
        assert counted.n_used == sorted_.n_used
