"""torch tensors: every estimator, the bootstrap and the GoF against the numpy path.

The numpy path is the reference: a tensor must give the sample, the fit, the bootstrap
distribution and the null distribution of the same values held in a numpy array (the
16-bit pattern counts bit for bit, the numbers within 1e-10 relative). The CPU runs in
every ``make test``; the CUDA cases are skipped where ``torch.cuda.is_available()`` is
False (``benchmarks/gpu.py`` runs the same comparison on a GPU machine).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import weibull_stats as ws
from weibull_stats.core.kernels import count_patterns16
from weibull_stats.sample import tensors
from weibull_stats.sample.storage import torch_to_numpy

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
DEVICES = ["cpu", pytest.param("cuda", marks=CUDA)]
DTYPES = ["float32", "float64", "bfloat16", "float16"]
#: float64 arithmetic on the same values: only the order of a few sums may differ
RTOL = 1e-10


def weights(rows: int = 120, cols: int = 90, seed: int = 0) -> torch.Tensor:
    """HalfNormal-like weights in float64 (signed, no exact zeros)."""
    w = torch.randn(rows, cols, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 0.02
    return torch.where(w == 0, torch.full_like(w, 0.01), w)


def layout(w: torch.Tensor, kind: str) -> torch.Tensor:
    """A contiguous tensor, a transposed view or a strided slice (both non-contiguous)."""
    if kind == "transposed":
        return w.t()
    if kind == "strided":
        return w[::2, 1::3]
    return w


def as_numpy(t: torch.Tensor) -> np.ndarray:
    """The same values, in the same (row-major) order, as the numpy path takes them."""
    return torch_to_numpy(t.cpu().contiguous())


def on(t: torch.Tensor, device: str, dtype: str) -> torch.Tensor:
    return t.to(getattr(torch, dtype)).to(device)


def assert_same_sample(a: ws.Sample, b: ws.Sample) -> None:
    assert (a.n, dict(a.n_omitted), dict(a.policy), a.dtype, a.storage, a.form) == (
        b.n, dict(b.n_omitted), dict(b.policy), b.dtype, b.storage, b.form)
    if a.form == "counts":
        assert a.distinct is not None and b.distinct is not None
        assert a.counts is not None and b.counts is not None
        np.testing.assert_array_equal(a.distinct, b.distinct)  # bit for bit
        np.testing.assert_array_equal(a.counts, b.counts)
        assert a.counts.dtype == b.counts.dtype == np.int64
    else:
        assert a.magnitudes is not None and b.magnitudes is not None
        assert a.magnitudes.dtype == b.magnitudes.dtype
        np.testing.assert_array_equal(a.magnitudes, b.magnitudes)


def assert_same_fit(a: ws.WeibullFit, b: ws.WeibullFit) -> None:
    np.testing.assert_allclose([a.shape, a.scale], [b.shape, b.scale], rtol=RTOL, atol=0)
    assert (a.n, a.n_used, a.converged, dict(a.n_omitted)) == (b.n, b.n_used, b.converged, dict(b.n_omitted))
    assert a.options == b.options and a.details["storage"] == b.details["storage"]


# ---------------------------------------------------------------------- the sample
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", ["contiguous", "transposed", "strided"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_sample_of_a_tensor_is_the_sample_of_its_values(device: str, kind: str, dtype: str) -> None:
    t = layout(on(weights(), device, dtype), kind)
    for values in ("weights", "magnitudes"):
        x = t if values == "weights" else t.abs()
        assert_same_sample(ws.as_sample(x, values=values), ws.as_sample(as_numpy(x), values=values))
    for form in ("raw", "counts"):
        assert_same_sample(ws.as_sample(t, values="weights", form=form),
                           ws.as_sample(as_numpy(t), values="weights", form=form))


@pytest.mark.parametrize("device", DEVICES)
def test_wide_tensors_on_a_16_bit_grid_are_counted(device: str) -> None:
    """float32/float64 tensors holding bf16 or fp16 values: counted like the numpy arrays."""
    w = weights()
    for grid, wide in (("bfloat16", "float32"), ("bfloat16", "float64"), ("float16", "float32"),
                       ("float16", "float64")):
        t = on(w, device, grid).to(getattr(torch, wide))
        sample = ws.as_sample(t, values="weights")
        assert sample.form == "counts" and sample.storage == grid and sample.dtype == wide
        assert_same_sample(sample, ws.as_sample(as_numpy(t), values="weights"))


@pytest.mark.parametrize("device", DEVICES)
def test_torch_bincount_equals_numpy_pattern_counts(device: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The device route of the 16-bit count (forced on the CPU too), across chunk borders."""
    monkeypatch.setattr(tensors, "COUNT_CHUNK", 1000)
    t = layout(on(weights(), device, "bfloat16"), "strided")
    words = t.reshape(-1).view(torch.int16)
    expected = count_patterns16(as_numpy(t).view(np.uint16))
    np.testing.assert_array_equal(tensors.pattern_counts(words, on_device=True), expected)
    np.testing.assert_array_equal(tensors.pattern_counts(words), expected)
    every = torch.arange(-(1 << 15), 1 << 15, dtype=torch.int32).to(torch.int16).to(device)
    np.testing.assert_array_equal(tensors.pattern_counts(every, on_device=True), np.ones(1 << 16, np.int64))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_bad_values_follow_the_same_policy(device: str, dtype: str) -> None:
    """NaN, inf, negatives and zeros: the numpy path's messages and omission counts."""
    clean = on(weights(8, 5), device, dtype).reshape(-1)
    bad = torch.cat([clean, torch.tensor([float("nan"), float("-inf"), 0.0, -0.0], dtype=clean.dtype,
                                         device=device)])
    cases = [{"values": "weights"}, {"values": "weights", "nonfinite": "omit"},
             {"values": "weights", "nonfinite": "omit", "zeros": "omit"},
             {"nonfinite": "omit", "zeros": "omit"},
             {"values": "weights", "nonfinite": "omit", "zeros": "omit", "form": "raw"}]
    for case in cases:
        try:
            expected = ws.as_sample(as_numpy(bad), **case)
        except ValueError as exc:
            with pytest.raises(ValueError, match=f"^{__import__('re').escape(str(exc))}$"):
                ws.as_sample(bad, **case)
        else:
            assert_same_sample(ws.as_sample(bad, **case), expected)
    constant = torch.tensor([0.5, -0.5, 0.5], dtype=clean.dtype, device=device)
    for form in ("auto", "raw"):
        with pytest.raises(ValueError, match=r"`x` is constant \(all 3 values equal 0\.5\)"):
            ws.as_sample(constant, values="weights", form=form)
    with pytest.raises(ValueError, match="`x` is empty"):
        ws.as_sample(clean[:0])
    with pytest.raises(TypeError, match=r"`x` must hold real floating-point numbers; got dtype torch\.bool"):
        ws.as_sample(torch.ones(3, dtype=torch.bool, device=device))


def test_integer_tensors_and_parameters() -> None:
    x = torch.tensor([1, 2, 3, 5, 8, 13])
    assert_same_sample(ws.as_sample(x), ws.as_sample(x.numpy()))
    p = torch.nn.Parameter(weights().float())  # requires grad: detached, not refused
    expected = ws.as_sample(as_numpy(p.detach()), values="weights")
    assert_same_sample(ws.as_sample(p, values="weights"), expected)


def test_a_cpu_tensor_is_not_copied_nor_reordered() -> None:
    """The raw magnitudes of a clean CPU tensor share its memory and are not ``owned``."""
    t = weights().abs().float()
    before = t.clone()
    sample = ws.as_sample(t)
    assert sample.magnitudes is not None and not sample.owned
    assert np.shares_memory(sample.magnitudes, t.numpy())
    for name in ws.ESTIMATORS:
        ws.fit(sample, name)
    assert torch.equal(t, before)


# ---------------------------------------------------------------------- estimators, bootstrap, GoF
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", ["contiguous", "strided"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(ws.ESTIMATORS))
def test_every_estimator_on_tensors(name: str, dtype: str, kind: str, device: str) -> None:
    t = layout(on(weights(), device, dtype), kind)
    assert_same_fit(ws.fit(t, name, values="weights"), ws.fit(as_numpy(t), name, values="weights"))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
@pytest.mark.parametrize("name", list(ws.ESTIMATORS))
def test_bootstrap_on_tensors(name: str, dtype: str, device: str) -> None:
    t = layout(on(weights(), device, dtype), "strided")
    a = ws.bootstrap(t, name, n_resamples=40, rng=3, values="weights", workers=1)
    b = ws.bootstrap(as_numpy(t), name, n_resamples=40, rng=3, values="weights", workers=1)
    np.testing.assert_allclose(a.bootstrap_distribution, b.bootstrap_distribution, rtol=RTOL, atol=0)
    assert a.route == b.route and a.seed == b.seed


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_bootstrap_methods_and_kinds_on_tensors(dtype: str, device: str) -> None:
    t = on(weights(), device, dtype)
    for options in ({"method": "bca", "confidence_level": 0.5}, {"kind": "parametric"}):
        a = ws.bootstrap(t, "mle", n_resamples=40, rng=5, values="weights", workers=1, **options)
        b = ws.bootstrap(as_numpy(t), "mle", n_resamples=40, rng=5, values="weights", workers=1, **options)
        np.testing.assert_allclose(a.bootstrap_distribution, b.bootstrap_distribution, rtol=RTOL, atol=0)
        np.testing.assert_allclose(np.asarray(a.confidence_interval.shape),
                                   np.asarray(b.confidence_interval.shape), rtol=RTOL, atol=0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("estimator", ["mle", "probability_plot"])
def test_goodness_of_fit_on_tensors(estimator: str, dtype: str, device: str) -> None:
    t = layout(on(weights(), device, dtype), "transposed")
    a = ws.goodness_of_fit(t, estimator, n_mc_samples=19, rng=7, values="weights", workers=1)
    b = ws.goodness_of_fit(as_numpy(t), estimator, n_mc_samples=19, rng=7, values="weights", workers=1)
    np.testing.assert_allclose(a.null_distribution, b.null_distribution, rtol=RTOL, atol=0)
    np.testing.assert_allclose(a.statistic, b.statistic, rtol=RTOL, atol=0)
    assert a.pvalue == b.pvalue and dict(a.null_model) == dict(b.null_model)
    assert_same_fit(a.fit, b.fit)


def test_importing_the_package_does_not_import_torch() -> None:
    code = ("import sys, numpy, weibull_stats as ws; ws.fit(numpy.arange(1.0, 50.0)); "
            "print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            check=True)
    assert result.stdout.strip() == "False", result.stderr
