"""The scan keeps storage: bf16/fp16 checkpoints reach the estimators as 16-bit data.

Every scanned number is compared with the fit of the same tensor widened to float32 by hand
(exact: every bfloat16 value is a float32), to 1e-12 relative; the readers are checked to
return ``ml_dtypes.bfloat16`` arrays over the stored bits, and the scan to hand 16-bit
arrays (whole matrices and fused parts) to :func:`weibull_stats.as_sample`.
"""

from __future__ import annotations

import importlib
import json
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import weibull_stats as ws
from weibull_stats.checkpoints import _safetensors, classify, detect_family, open_checkpoint, split_fused
from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint, write_safetensors
from weibull_stats.sample.storage import BFLOAT16
from weibull_stats.scanning.plan import TensorTask
from weibull_stats.scanning.settings import FIT_OPTIONS, ScanSettings, check_settings
from weibull_stats.workflow import scan

scan_module = importlib.import_module("weibull_stats.scanning.run")
#: where one tensor is read and fitted (the scan calls it)
tensor_module = importlib.import_module("weibull_stats.scanning.tensor")
ESTIMATORS = tuple(ws.ESTIMATORS)
REL = 1e-12


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIBULL_STATS_CACHE", str(tmp_path_factory.mktemp("cache")))


def _settings(estimators: tuple[str, ...] = ("probability_plot",)) -> ScanSettings:
    return check_settings(paths=("x",), estimators=estimators, gof_samples=9)


def _record_samples(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ws.Sample]]:
    """Patch the scan's ``as_sample`` to record (input dtype, sample) of every call."""
    calls: list[tuple[str, ws.Sample]] = []
    original = tensor_module.as_sample

    def recording(x: Any, /, **kwargs: Any) -> ws.Sample:
        sample = original(x, **kwargs)
        calls.append((np.asarray(x).dtype.name, sample))
        return sample

    monkeypatch.setattr(tensor_module, "as_sample", recording)
    return calls


def _assert_matches_widened(frame: Any, folder: Path) -> None:
    """Each row equals the fit of its tensor (or part) widened to float32, to 1e-12."""
    ckpt = open_checkpoint(folder)
    family = detect_family(ckpt.config, (e.name for e in ckpt.entries))
    assert len(frame) > 0
    for row in frame.itertuples():
        stored = ckpt.read(row.tensor)
        assert stored.dtype == BFLOAT16  # read as stored ...
        widened = stored.astype(np.float32)  # ... and widened here, exactly
        if row.part:
            role = classify(row.tensor, family)
            widened = dict(split_fused(widened, role, ckpt.config, row.tensor))[row.part]
        fit = ws.get_estimator(row.estimator)(widened, **FIT_OPTIONS)
        assert row.shape == pytest.approx(fit.shape, rel=REL), (row.tensor, row.part, row.estimator)
        assert row.scale == pytest.approx(fit.scale, rel=REL), (row.tensor, row.part, row.estimator)
        assert row.n_used == fit.n_used


# ---------------------------------------------------------------------- safetensors
def test_bf16_safetensors_scan_equals_fits_of_widened_tensors(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    state, config = synthetic_state("llama", layers=1, hidden=32, heads=4, kv_heads=2, rng=7)
    folder = write_checkpoint(tmp_path / "llama", state, config, dtype="BF16")
    calls = _record_samples(monkeypatch)
    frame = scan(str(folder), estimators=ESTIMATORS, skip_validation=True)
    assert set(frame["dtype"]) == {"BF16"}
    assert len(frame) == 9 * len(ESTIMATORS)  # 7 block matrices, embedding, lm_head
    # one sample per tensor, shared by all estimators, built from the 16-bit array
    assert len(calls) == 9
    assert {dtype for dtype, _ in calls} == {"bfloat16"}
    assert {(s.dtype, s.storage, s.form) for _, s in calls} == {("bfloat16", "bfloat16", "counts")}
    _assert_matches_widened(frame, folder)


def test_fp16_safetensors_is_read_as_float16(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state, config = synthetic_state("llama", layers=1, hidden=16, heads=2, rng=3)
    folder = write_checkpoint(tmp_path / "fp16", state, config, dtype="F16")
    assert open_checkpoint(folder).read("model.layers.0.self_attn.q_proj.weight").dtype == np.float16
    calls = _record_samples(monkeypatch)
    frame = scan(str(folder), skip_validation=True)
    assert {dtype for dtype, _ in calls} == {"float16"}
    assert {(s.storage, s.form) for _, s in calls} == {("float16", "counts")}
    ckpt = open_checkpoint(folder)
    for row in frame.itertuples():
        fit = ws.fit_probability_plot(ckpt.read(row.tensor).astype(np.float32), **FIT_OPTIONS)
        assert row.shape == pytest.approx(fit.shape, rel=REL)


def test_reader_returns_the_stored_bits_without_a_wide_copy(tmp_path: Path) -> None:
    values = np.random.default_rng(0).normal(0.0, 0.02, (512, 1024)).astype(np.float32)
    path = write_safetensors(tmp_path / "w.safetensors", {"w": values}, dtype="BF16")
    ckpt = open_checkpoint(path)
    tracemalloc.start()
    try:
        array = ckpt.read("w")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert array.dtype == BFLOAT16 and array.shape == (512, 1024)
    assert array.nbytes == 2 * values.size
    assert peak < 1.25 * array.nbytes  # the array itself, no float32 (2x) temporary
    np.testing.assert_array_equal(array.astype(np.float32), values.astype(BFLOAT16).astype(np.float32))
    # the writer takes bfloat16 arrays as they are: a round trip keeps the bits
    again = write_safetensors(tmp_path / "again.safetensors", {"w": array})
    np.testing.assert_array_equal(open_checkpoint(again).read("w").view(np.uint16), array.view(np.uint16))


def test_file_truncated_after_opening_fails_at_read(tmp_path: Path) -> None:
    values = np.ones((64, 64), dtype=np.float32)
    path = write_safetensors(tmp_path / "t.safetensors", {"a": values, "b": values}, dtype="BF16")
    ckpt = open_checkpoint(path)
    header = _safetensors.read_header(path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match=r"t\.safetensors: tensor 'b': file is truncated"):
        ckpt.read("b")  # the header is checked again at each read
    assert _safetensors.read_tensor(path, header["a"]).dtype == BFLOAT16
    with pytest.raises(ValueError, match=r"t\.safetensors: tensor 'b': file is truncated \(data ends at byte "
                                         r"\d+, read stopped at byte \d+\)"):
        _safetensors.read_tensor(path, header["b"])  # a file cut between header check and read


def test_scan_of_a_bf16_matrix_never_widens_it(tmp_path: Path) -> None:
    # log_moment is already defined on counts: the whole tensor step (read, count, fit)
    # stays below the size of one float32 copy of the matrix
    rows, cols = 2048, 2048
    values = np.random.default_rng(1).normal(0.0, 0.02, (rows, cols)).astype(np.float32)
    path = write_safetensors(tmp_path / "m.safetensors", {"model.layers.0.mlp.up_proj.weight": values},
                             dtype="BF16")
    task = TensorTask(0, "m", str(path), None, "model.layers.0.mlp.up_proj.weight", "llama", {})
    tensor_module._OPEN.clear()
    tracemalloc.start()
    try:
        found, errors = scan_module.fit_tensor(task, _settings(("log_moment",)), False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        tensor_module._OPEN.clear()
    assert errors == []
    assert peak < 4 * rows * cols  # a float32 copy alone would be 4 bytes a value
    [row] = found
    assert row["storage"] == "bfloat16"
    expected = ws.fit_log_moment(values.astype(BFLOAT16).astype(np.float32), **FIT_OPTIONS)
    assert row["shape"] == pytest.approx(expected.shape, rel=REL)


# ---------------------------------------------------------------------- torch state dicts
def test_bf16_torch_bin_scan_equals_fits_of_widened_tensors(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    state, config = synthetic_state("llama", layers=1, hidden=16, heads=2, rng=11)
    tensors = {k: torch.from_numpy(v).to(torch.bfloat16) for k, v in state.items()}
    torch.save(tensors, tmp_path / "pytorch_model.bin")
    (tmp_path / "config.json").write_text(json.dumps(config))
    ckpt = open_checkpoint(tmp_path)
    read = ckpt.read("model.layers.0.self_attn.q_proj.weight")
    assert read.dtype == BFLOAT16
    bits = tensors["model.layers.0.self_attn.q_proj.weight"].view(torch.int16).numpy().view(np.uint16)
    np.testing.assert_array_equal(read.view(np.uint16), bits)
    calls = _record_samples(monkeypatch)
    frame = scan(str(tmp_path), estimators=("probability_plot", "mle"), skip_validation=True)
    assert set(frame["dtype"]) == {"BF16"} and len(frame) == 18
    assert {dtype for dtype, _ in calls} == {"bfloat16"}
    assert {s.storage for _, s in calls} == {"bfloat16"}
    _assert_matches_widened(frame, tmp_path)


# ---------------------------------------------------------------------- fused parts
@pytest.mark.parametrize("family", ["gpt_neox", "gpt2", "phi3"])
def test_fused_parts_of_a_bf16_tensor_are_counted_as_16_bit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            family: str) -> None:
    state, config = synthetic_state(family, layers=1, hidden=16, heads=2, rng=5)
    folder = write_checkpoint(tmp_path / family, state, config, dtype="BF16")
    calls = _record_samples(monkeypatch)
    frame = scan(str(folder), estimators=("probability_plot", "quantile"), skip_validation=True)
    parts = frame[frame["part"] != ""]
    assert len(parts) > 0
    assert len(calls) == frame[["tensor", "part"]].drop_duplicates().shape[0]
    assert {dtype for dtype, _ in calls} == {"bfloat16"}
    assert {(s.storage, s.form) for _, s in calls} == {("bfloat16", "counts")}
    _assert_matches_widened(frame, folder)


def test_split_fused_works_on_bf16_arrays() -> None:
    state, config = synthetic_state("gpt_neox", layers=1, hidden=16, heads=4, rng=2)
    name = "gpt_neox.layers.0.attention.query_key_value.weight"
    stored = state[name].astype(BFLOAT16)
    role = classify(name, "gpt_neox")
    narrow = split_fused(stored, role, config, name)
    wide = split_fused(stored.astype(np.float32), role, config, name)
    for (part, block), (same, reference) in zip(narrow, wide, strict=True):
        assert part == same and block.dtype == BFLOAT16
        np.testing.assert_array_equal(block.astype(np.float32), reference)
        assert ws.as_sample(block, **FIT_OPTIONS).storage == "bfloat16"


# ---------------------------------------------------------------------- plots and report
def test_plots_and_report_take_bf16_tensors(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from weibull_stats import plotting

    state, config = synthetic_state("gpt_neox", layers=2, hidden=16, heads=2, rng=4)
    folder = write_checkpoint(tmp_path / "ckpt", state, config, dtype="BF16")
    out = tmp_path / "out"
    scan(str(folder), out=out, skip_validation=True, matrix_plots=True)
    assert (out / "probability_plots.png").is_file() and (out / "report.md").is_file()
    weight = open_checkpoint(folder).read("gpt_neox.layers.0.mlp.dense_h_to_4h.weight")
    fit = ws.fit_probability_plot(weight.astype(np.float32), **FIT_OPTIONS)
    ax = plotting.plot_probability(weight, fit, window=(0.0, 1.0), margin=0.0).axes[0]  # every point
    points = ax.lines[0].get_xdata()
    widened = np.sort(np.abs(weight.astype(np.float64).reshape(-1)))
    assert points[0] == pytest.approx(widened[0]) and points[-1] == pytest.approx(widened[-1])
    figure = plotting.plot_scan_probability(
        [("bf16", np.abs(weight), fit.shape, fit.scale),
         ("sample", ws.as_sample(weight, **FIT_OPTIONS), fit.shape, fit.scale)])
    first, second = (a.lines[0].get_xdata() for a in figure.axes[:2])
    np.testing.assert_array_equal(first, second)


def test_a_raw_sample_shared_by_several_fits_is_not_owned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    # float32 Gaussian weights are not on a 16-bit grid: a raw sample (|w|, a fresh copy)
    state, config = synthetic_state("llama", layers=1, hidden=16, heads=2, rng=9)
    folder = write_checkpoint(tmp_path / "f32", state, config)
    seen: list[tuple[str, bool]] = []
    original = tensor_module._fit_unit

    def recording(sample: ws.Sample, *args: Any) -> dict[str, Any]:
        seen.append((sample.form, sample.owned))
        return original(sample, *args)

    monkeypatch.setattr(tensor_module, "_fit_unit", recording)
    scan(str(folder), skip_validation=True)
    assert set(seen) == {("raw", True)}  # one fit: it may sort the copy in place
    seen.clear()
    scan(str(folder), estimators=("probability_plot", "mle"), skip_validation=True)
    assert set(seen) == {("raw", False)}  # shared: nobody reorders it for the next
