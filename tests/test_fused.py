"""The one-pass sums of goodness of fit and the model comparison against their numpy formulas
(:mod:`weibull_stats.core.fused`), and the fast paths of ``goodness_of_fit``, the effect sizes,
the model comparison and the maximum-likelihood kernel against the numpy paths they replace."""

from __future__ import annotations

import math

import numpy as np
import pytest

import weibull_stats as ws
from weibull_stats.core import fused
from weibull_stats.estimators import sample_batch
from weibull_stats.estimators.mle import mle_kernel
from weibull_stats.estimators.probability_plot import _raw, hazen_block_ordinates
from weibull_stats.inference import effect_sizes as effect_module
from weibull_stats.inference import model_comparison

N = 70_000  # above every fast path's threshold (2^16)


def half_normal(n: int = N, dtype: type = np.float32, seed: int = 0) -> np.ndarray:
    return np.abs(np.random.default_rng(seed).normal(0.0, 0.02, n)).astype(dtype)


def plain_sums(x: np.ndarray, shape: float, scale: float) -> dict[str, float]:
    """The numpy formulas of :func:`weibull_stats.inference.edf.edf_statistic` and of the
    Weibull plot's sums, in float64, summed exactly (``math.fsum``)."""
    n = x.size
    log_x = np.log(x.astype(np.float64))
    t = np.exp(shape * (log_x - math.log(scale)))
    cdf = -np.expm1(-t)
    i = np.arange(1, n + 1, dtype=np.float64)
    u = log_x - math.log(scale)
    y = np.log(-np.log1p(-(i - 0.5) / n))
    return {
        "ad": -n - math.fsum((2 * i - 1) / n * (np.log(cdf) - t[::-1])),
        "cvm": 1.0 / (12 * n) + math.fsum((cdf - (2 * i - 1) / (2 * n)) ** 2),
        "ks": float(np.maximum(i / n - cdf, cdf - (i - 1) / n).max()),
        "su": math.fsum(u), "suu": math.fsum(u * u), "su3": math.fsum(u**3), "su4": math.fsum(u**4),
        "sy": math.fsum(y), "syy": math.fsum(y * y), "suy": math.fsum(u * y), "suuy": math.fsum(u * u * y),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("law", "shape", "scale"), [("halfnormal", 1.21, 0.0177), ("weibull", 1.5, 0.02),
                                                     ("halfnormal", 9.0, 0.03)])
def test_edf_plot_sums_equal_the_numpy_formulas(dtype: type, law: str, shape: float, scale: float) -> None:
    rng = np.random.default_rng(1)
    x = half_normal(dtype=dtype) if law == "halfnormal" else (rng.weibull(1.5, N) * 0.02).astype(dtype)
    x = np.sort(x)
    got = fused.edf_plot_sums(x, shape, scale, ordinates=hazen_block_ordinates(x.size))
    want = plain_sums(x, shape, scale)
    # A^2 = -n - (sum of n terms of size n) / n: its rounding is relative to n, not to A^2
    assert got["ad"] == pytest.approx(want["ad"], rel=1e-13, abs=1e-14 * N)
    assert got["cvm"] == pytest.approx(want["cvm"], rel=1e-12, abs=1e-14 * N)
    assert got["ks"] == pytest.approx(want["ks"], abs=1e-15)
    for key in fused.EDF_PLOT_SUMS[3:]:
        assert got[key] == pytest.approx(want[key], rel=1e-13, abs=1e-13 * N), key


def test_window_ordinates_and_threads_do_not_change_the_sums(monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.sort(half_normal(3 * 65536 + 123))
    n = x.size
    v = np.log(-np.log1p(-(np.arange(1000, 150_000) + 0.5) / n))
    plain = fused.edf_plot_sums(x, 1.3, 0.02, ordinates=hazen_block_ordinates(n))
    reused = fused.edf_plot_sums(x, 1.3, 0.02, ordinates=hazen_block_ordinates(n, (1000, v)))
    monkeypatch.setattr(fused, "THREADS_FROM", 1)
    threaded = fused.edf_plot_sums(x, 1.3, 0.02, ordinates=hazen_block_ordinates(n, (1000, v)))
    assert threaded == reused  # fixed blocks: the threads do not change a bit
    for key in ("ad", "cvm", "ks"):
        assert reused[key] == plain[key]
    for key in fused.EDF_PLOT_SUMS[3:]:
        assert reused[key] == pytest.approx(plain[key], rel=1e-14, abs=1e-12), key


def test_repeated_calls_give_the_same_bits() -> None:
    # the vectorised loops run whatever the buffers' addresses
    x = np.sort(half_normal(200_000))
    block = hazen_block_ordinates(x.size)
    first = fused.edf_plot_sums(x, 1.21, 0.0177, ordinates=block)
    for size in (1, 12345, 777):
        _ = np.empty(size)  # move the allocator on
        assert fused.edf_plot_sums(x, 1.21, 0.0177, ordinates=block) == first


def test_float32_tails_and_subnormals_take_the_plain_kernel() -> None:
    # subnormal float32 values and an upper tail where (x/scale)^shape overflows float64
    x = np.sort(np.concatenate([half_normal(N - 3), np.array([1e-44, 1e-40, 1e-39], dtype=np.float32)]))
    got = fused.edf_plot_sums(x, 1.2, 0.02, ordinates=hazen_block_ordinates(x.size))
    want = plain_sums(x, 1.2, 0.02)
    assert got["ad"] == pytest.approx(want["ad"], rel=1e-13, abs=1e-14 * N)
    assert got["ks"] == pytest.approx(want["ks"], abs=1e-15)
    y = np.sort(half_normal())
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # h overflows: A^2 is infinite
        t = np.exp(400.0 * (np.log(y.astype(np.float64)) - math.log(0.001)))
        i = np.arange(1, y.size + 1)
        plain = -y.size - np.sum((2 * i - 1) / y.size * (np.log(-np.expm1(-t)) - t[::-1]))
    assert plain == math.inf
    assert fused.edf_plot_sums(y, 400.0, 0.001)["ad"] == math.inf


@pytest.mark.parametrize(("dtype", "shape"), [(np.float32, 1.26), (np.float32, 100.0), (np.float64, 1.26)])
def test_power_moments_and_log_sums_equal_numpy(dtype: type, shape: float) -> None:
    x = np.vstack([half_normal(dtype=dtype, seed=s) for s in range(3)])
    x[2, 5] = 1e-42 if dtype == np.float32 else 1e-310  # a subnormal in one row
    tops = np.log(x.max(axis=1).astype(np.float64))
    rows = np.array([0, 2])
    s0, s1, s2 = fused.power_moments(x, rows, np.full(2, shape), tops[rows])
    for q, r in enumerate(rows):
        t = np.log(x[r].astype(np.float64)) - tops[r]
        e = np.exp(shape * t)
        assert s0[q] == pytest.approx(math.fsum(e), rel=1e-13)
        assert s1[q] == pytest.approx(math.fsum(e * t), rel=1e-13)
        assert s2[q] == pytest.approx(math.fsum(e * t * t), rel=1e-13)
    u = np.log(x[0].astype(np.float64)) + 4.0
    f = x[0].astype(np.float64) * 2.0**6
    got = fused.log_sums(x[0], -4.0, 2.0**6)
    assert got == pytest.approx((math.fsum(u), math.fsum(u * u), math.fsum(f), math.fsum(f * f)), rel=1e-13)


def test_effect_sizes_fast_path_equals_the_numpy_formula(monkeypatch: pytest.MonkeyPatch) -> None:
    for x in (np.sort(half_normal()), np.sort(np.random.default_rng(2).weibull(0.8, N) * 3.0)):
        fit = ws.fit(x)
        fast = effect_module.effect_sizes(x, fit)
        with monkeypatch.context() as patch:
            patch.setattr(effect_module, "FUSED_FROM", 10 * N)
            slow = effect_module.effect_sizes(x, fit)
        assert fast.correlation == pytest.approx(slow.correlation, rel=1e-12)
        assert fast.r2 == pytest.approx(slow.r2, rel=1e-12)
        assert fast.curvature == pytest.approx(slow.curvature, rel=1e-10, abs=1e-13)
        assert fast.ks_distance == pytest.approx(slow.ks_distance, abs=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_model_comparison_fast_path_equals_the_numpy_path(dtype: type,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    x = half_normal(dtype=dtype) * np.asarray(1e-30, dtype=dtype)  # framed: a scale far from 1
    sample = ws.as_sample(x)
    with monkeypatch.context() as patch:  # and the MLE started from a subsample's fit
        patch.setattr(model_comparison, "SUBSAMPLE_FROM", 1 << 16)
        patch.setattr(model_comparison, "SUBSAMPLE_SIZE", 1 << 11)
        fast = model_comparison.sample_comparison(sample, start=1.1)
    monkeypatch.setattr(model_comparison, "FUSED_FROM", 10 * N)
    slow = model_comparison.sample_comparison(sample)
    for a, b in zip(fast.fits, slow.fits, strict=True):
        assert a.log_likelihood == pytest.approx(b.log_likelihood, rel=1e-12)
        assert a.aic == pytest.approx(b.aic, rel=1e-12)
        for key, value in b.parameters.items():
            assert a.parameters[key] == pytest.approx(value, rel=1e-12), (a.family, key)
    assert fast.best == slow.best


def test_mle_start_gives_the_same_root_in_fewer_iterations() -> None:
    batch = sample_batch(ws.as_sample(half_normal(dtype=np.float64)))
    plain = mle_kernel(batch)
    started = mle_kernel(batch, start=float(plain.shape[0]) * 1.001)
    assert started.shape[0] == pytest.approx(plain.shape[0], rel=1e-13)
    assert started.scale[0] == pytest.approx(plain.scale[0], rel=1e-13)
    assert started.diagnostics["iterations"][0] < plain.diagnostics["iterations"][0]
    ignored = mle_kernel(batch, start=np.nan)  # not a shape: the log-moment start
    assert ignored.diagnostics["iterations"][0] == plain.diagnostics["iterations"][0]


def test_goodness_of_fit_fast_path_equals_the_numpy_path(monkeypatch: pytest.MonkeyPatch) -> None:
    x = half_normal(200_000)
    fast = ws.goodness_of_fit(x, n_mc_samples=0)
    assert _raw.last_window_ordinates(x.size, 0.5) is not None  # the fit's window, reused
    plain_fit = ws.fit(x)  # the fit of the sorted copy is the fit, bit for bit
    assert (fast.fit.shape, fast.fit.scale, fast.fit.r2) == (plain_fit.shape, plain_fit.scale, plain_fit.r2)
    for module in (effect_module, model_comparison):
        monkeypatch.setattr(module, "FUSED_FROM", 10**7)
    monkeypatch.setattr("weibull_stats.inference.gof.FUSED_FROM", 10**7)
    monkeypatch.setattr("weibull_stats.inference.edf.LARGE", 10**7)
    slow = ws.goodness_of_fit(x, n_mc_samples=0)
    assert fast.statistic == pytest.approx(slow.statistic, abs=1e-14 * x.size)
    fast_dict, slow_dict = fast.to_dict(), slow.to_dict()
    for key, value in slow_dict["effect_sizes"].items():
        assert fast_dict["effect_sizes"][key] == pytest.approx(value, rel=1e-11, abs=1e-15), key
    for family, entry in slow_dict["model_comparison"]["families"].items():
        assert fast_dict["model_comparison"]["families"][family]["log_likelihood"] == pytest.approx(
            entry["log_likelihood"], rel=1e-12)
