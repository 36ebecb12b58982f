"""Maximum likelihood against scipy and the reference root finder; robustness at scale."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

import weibull_stats as ws
from tests import reference as ref
from weibull_stats.estimators import mle as mle_module

#: sd of the shape MLE is sqrt(6)/pi * k / sqrt(n) (inverse Fisher information of the
#: two-parameter Weibull); of the scale, sqrt(1 + 6 (1 - gamma)^2 / pi^2) * lam / (k sqrt(n)).
SHAPE_SD = math.sqrt(6) / math.pi
SCALE_SD = math.sqrt(1 + 6 * (1 - np.euler_gamma) ** 2 / math.pi**2)


def tight_fmin(func, x0, args=(), disp=0):  # type: ignore[no-untyped-def]
    """scipy's default optimizer (Nelder-Mead ``fmin``) run to xtol 1e-12, ftol 1e-14."""
    return optimize.fmin(func, x0, args=args, xtol=1e-12, ftol=1e-14, disp=0, maxiter=20_000, maxfun=40_000)


def datasets() -> list[np.ndarray]:
    out = []
    for seed in range(20):
        rng = np.random.default_rng(1000 + seed)
        n = int(rng.integers(50, 3000))
        out.append(rng.weibull(rng.uniform(0.4, 4.0), n) * 10 ** rng.uniform(-3, 3))
    return out


@pytest.mark.parametrize("seed", range(20))
def test_mle_equals_scipy_weibull_min_fit(seed: int) -> None:
    """Against scipy.stats.weibull_min.fit(x, floc=0) on 20 seeded data sets.

    scipy's default Nelder-Mead stops about 1e-5 short of the maximum (measured: relative
    shape differences up to ~1e-5, and our log-likelihood is higher), so the 1e-6
    comparison is against the same scipy fit with a tight ``fmin`` (xtol 1e-12, ftol 1e-14),
    and against the default fit we require a log-likelihood at least as high.
    """
    x = datasets()[seed]
    fit = ws.fit_mle(x)
    assert fit.converged
    shape, loc, scale = stats.weibull_min.fit(x, floc=0, optimizer=tight_fmin)
    assert loc == 0
    np.testing.assert_allclose([fit.shape, fit.scale], [shape, scale], rtol=1e-6)
    default_shape, _, default_scale = stats.weibull_min.fit(x, floc=0)
    ours = ref.loglik(x, fit.shape, fit.scale)
    assert ours >= ref.loglik(x, default_shape, default_scale) - 1e-12 * abs(ours)
    assert ours >= ref.loglik(x, shape, scale) - 1e-12 * abs(ours)


@pytest.mark.parametrize("shape", [0.3, 0.7, 1.5, 3.0, 5.0])
def test_mle_robust_across_shapes_and_scales(shape: float) -> None:
    """n = 10^5, data scaled by 1e-6 and 1e3: converged, equal to the reference root, equivariant."""
    base = np.random.default_rng(int(shape * 10)).weibull(shape, 100_000)
    fits = []
    for factor in (1e-6, 1.0, 1e3):
        x = base * factor
        fit = ws.fit_mle(x)
        assert fit.converged and fit.iterations is not None and fit.iterations <= 12
        expected = ref.mle(x)
        np.testing.assert_allclose([fit.shape, fit.scale], expected, rtol=1e-11)
        fits.append(fit)
    for fit, factor in zip(fits, (1e-6, 1.0, 1e3), strict=True):
        assert fit.shape == pytest.approx(fits[1].shape, rel=1e-11)
        assert fit.scale / factor == pytest.approx(fits[1].scale, rel=1e-11)
    # within 5 standard errors of the truth (n = 10^5)
    assert abs(fits[1].shape - shape) < 5 * SHAPE_SD * shape / math.sqrt(base.size)


def test_chunked_path_equals_cached_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """Samples above CACHE_LIMIT recompute ln x per chunk; the result is the same."""
    x = np.random.default_rng(3).weibull(1.3, 300_001).astype(np.float32)
    cached = ws.fit_mle(x)
    monkeypatch.setattr(mle_module, "CACHE_LIMIT", 1000)
    monkeypatch.setattr(mle_module, "CHUNK", 4096)
    chunked = ws.fit_mle(x)
    assert chunked.iterations == cached.iterations
    np.testing.assert_allclose(
        [chunked.shape, chunked.scale, chunked.shape_se, chunked.scale_se],
        [cached.shape, cached.scale, cached.shape_se, cached.scale_se],
        rtol=1e-12,
    )


def test_not_converged_is_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    """An iteration limit hit is reported through ``converged``, never hidden."""
    x = np.random.default_rng(4).weibull(2.5, 1000)
    monkeypatch.setattr(mle_module, "MAX_ITERATIONS", 1)
    fit = ws.fit_mle(x)
    assert not fit.converged and fit.iterations == 1
    assert math.isfinite(fit.shape) and fit.shape > 0


def test_extreme_data_do_not_overflow() -> None:
    """x^k is never formed unscaled: data near the float64 limits still fit."""
    base = np.random.default_rng(5).weibull(4.0, 10_000)
    for factor in (1e-300, 1e300):
        fit = ws.fit_mle(base * factor)
        assert fit.converged
        assert fit.shape == pytest.approx(ws.fit_mle(base).shape, rel=1e-10)
        assert fit.scale / factor == pytest.approx(ws.fit_mle(base).scale, rel=1e-10)


@pytest.mark.parametrize(("shape", "factor"), [(0.3, 1e-6), (0.3, 1e3), (5.0, 1e-6), (5.0, 1e3)])
def test_mle_at_ten_million(shape: float, factor: float) -> None:
    """n = 10^7 float32: converged, within 5 standard errors of the truth, SEs of the right size.

    About 1 s each (mostly drawing the sample), so not marked slow.
    """
    n = 10**7
    x = (np.random.default_rng(6).weibull(shape, n) * factor).astype(np.float32)
    fit = ws.fit_mle(x)
    assert fit.converged
    assert abs(fit.shape - shape) < 5 * SHAPE_SD * shape / math.sqrt(n)
    assert abs(fit.scale / factor - 1) < 5 * SCALE_SD / (shape * math.sqrt(n)) + 1e-7
    assert fit.shape_se == pytest.approx(SHAPE_SD * fit.shape / math.sqrt(n), rel=0.01)
    assert fit.scale_se == pytest.approx(SCALE_SD * fit.scale / (fit.shape * math.sqrt(n)), rel=0.01)
