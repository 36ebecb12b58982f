"""FP8 checkpoints are fitted as the model computes with them (issue 23, item 3).

The checkpoints are written here to the published layouts with the ``safetensors`` package:
DeepSeek-V3's per-block ``weight_scale_inv`` (the block from ``quantization_config``),
compressed-tensors' per-tensor and per-channel ``weight_scale``. The expected weights are
dequantized here, block by block, independently of the package.
"""

from __future__ import annotations

import json
import math
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import save_file

import weibull_stats as ws
from weibull_stats.checkpoints import from_state_dict
from weibull_stats.checkpoints.fp8 import dequantize
from weibull_stats.cli import main
from weibull_stats.scanning.plan import NO_FP8_GOF
from weibull_stats.scanning.run import ScanWarning

E4M3 = np.dtype(ml_dtypes.float8_e4m3fn)
E5M2 = np.dtype(ml_dtypes.float8_e5m2)
WEIGHT = "model.layers.0.mlp.down_proj.weight"
#: Largest finite value of each format: DeepSeek scales each block's largest magnitude to it.
FP8_MAX = {E4M3: 448.0, E5M2: 57344.0}


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIBULL_STATS_CACHE", str(tmp_path_factory.mktemp("cache")))


def weights(rows: int = 300, cols: int = 200, seed: int = 0) -> np.ndarray:
    """Signed Weibull weights whose spread changes across the matrix, so blocks get different scales."""
    rng = np.random.default_rng(seed)
    magnitudes = rng.weibull(1.3, (rows, cols)) * np.linspace(0.01, 0.2, cols)[None, :]
    return (magnitudes * rng.choice([-1.0, 1.0], (rows, cols))).astype(np.float32)


def quantize(w: np.ndarray, block: tuple[int, int], fp8: np.dtype = E4M3) -> tuple[np.ndarray, np.ndarray]:
    """DeepSeek-V3's block quantization: scale = amax / FP8_MAX per block, stored w / scale in FP8,
    the scale kept (as ``weight_scale_inv``)."""
    grid = (math.ceil(w.shape[0] / block[0]), math.ceil(w.shape[1] / block[1]))
    q = np.empty(w.shape, dtype=fp8)
    scale = np.empty(grid, dtype=np.float32)
    for i in range(grid[0]):
        for j in range(grid[1]):
            rows, cols = slice(i * block[0], (i + 1) * block[0]), slice(j * block[1], (j + 1) * block[1])
            scale[i, j] = np.float32(np.abs(w[rows, cols]).max() / FP8_MAX[fp8])
            q[rows, cols] = (w[rows, cols] / scale[i, j]).astype(fp8)
    return q, scale


def reference(q: np.ndarray, scale: np.ndarray, block: tuple[int, int]) -> np.ndarray:
    """The weights the model computes with, block by block: float32(q) * scale."""
    out = np.empty(q.shape, dtype=np.float32)
    for i in range(scale.shape[0]):
        for j in range(scale.shape[1]):
            rows, cols = slice(i * block[0], (i + 1) * block[0]), slice(j * block[1], (j + 1) * block[1])
            out[rows, cols] = q[rows, cols].astype(np.float32) * scale[i, j]
    return out


def model_folder(folder: Path, tensors: dict[str, np.ndarray], quantization: dict[str, Any] | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {"model.norm.weight": np.ones(8, dtype=np.float32), **tensors}
    save_file(tensors, str(folder / "model.safetensors"))
    config: dict[str, Any] = {"model_type": "llama", "num_hidden_layers": 1}
    if quantization is not None:
        config["quantization_config"] = quantization
    (folder / "config.json").write_text(json.dumps(config))
    return folder


DEEPSEEK = {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
            "weight_block_size": [128, 128]}
COMPRESSED = {"quant_method": "compressed-tensors", "format": "float-quantized",
              "config_groups": {"group_0": {"targets": ["Linear"], "weights": {
                  "num_bits": 8, "type": "float", "symmetric": True, "strategy": "channel"}}}}


def scan_quietly(source: Any, **options: Any) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScanWarning)
        return ws.scan(source, skip_validation=True, progress=False, **options)


def row_of(frame: pd.DataFrame, tensor: str = WEIGHT) -> pd.Series:
    rows = frame[frame["tensor"] == tensor]
    assert len(rows) == 1, frame[["tensor", "estimator"]]
    return rows.iloc[0]


def same_fit(row: pd.Series, values: np.ndarray) -> None:
    """The row is the scan's default fit of ``values`` (the scan's policy is the library's default)."""
    expected = ws.fit(values)
    assert (row["shape"], row["scale"], row["n_used"]) == (expected.shape, expected.scale, expected.n_used)


# ---------------------------------------------------------------------- block scales (DeepSeek-V3)
@pytest.mark.parametrize(("fp8", "name"), [(E4M3, "float8_e4m3fn"), (E5M2, "float8_e5m2")])
def test_block_scaled_fp8_is_fitted_as_the_dequantized_weights(tmp_path: Path, fp8: np.dtype, name: str
                                                              ) -> None:
    q, scale = quantize(weights(), (128, 128), fp8)  # 300x200: edge blocks cut short
    assert scale.shape == (3, 2) and len(np.unique(scale)) == 6
    folder = model_folder(tmp_path / "m", {WEIGHT: q, f"{WEIGHT}_scale_inv": scale}, DEEPSEEK)
    out = tmp_path / "out"
    row = row_of(scan_quietly(folder, out=out))
    same_fit(row, reference(q, scale, (128, 128)))
    assert row["storage"] == f"{name}, 128×128 block scales"
    assert row["dtype"] == ("F8_E4M3" if fp8 == E4M3 else "F8_E5M2")
    assert (row["rows"], row["cols"], row["numel"]) == (300, 200, 60000)
    unscaled = ws.fit(q.astype(np.float32))
    assert abs(row["shape"] - unscaled.shape) > 1e-3  # the scales change the fit: they were applied
    results = pd.read_csv(out / "results.csv", keep_default_na=False)
    assert list(results.loc[results["tensor"] == WEIGHT, "storage"]) == [f"{name}, 128×128 block scales"]
    skipped = pd.read_csv(out / "skipped.csv", keep_default_na=False)
    assert list(skipped.loc[skipped["tensor"] == f"{WEIGHT}_scale_inv", "reason"]) == [
        f"FP8 scale of {WEIGHT!r} (applied to it, not fitted)"]
    assert f"{WEIGHT}_scale_inv" not in set(results["tensor"])
    assert pd.read_csv(out / "errors.csv").empty


def test_the_block_comes_from_quantization_config(tmp_path: Path) -> None:
    q, scale = quantize(weights(), (64, 128))
    folder = model_folder(tmp_path / "m", {WEIGHT: q, f"{WEIGHT}_scale_inv": scale},
                          {**DEEPSEEK, "weight_block_size": [64, 128]})
    out = tmp_path / "out"
    assert main(["scan", str(folder), "--out", str(out), "--skip-validation", "--no-progress"]) == 0
    row = row_of(pd.read_csv(out / "results.csv", keep_default_na=False))
    same_fit(row, reference(q, scale, (64, 128)))
    assert row["storage"] == "float8_e4m3fn, 64×128 block scales"
    assert pd.read_csv(out / "errors.csv").empty
    assert (out / "report.md").is_file()  # its panels read the weights as fitted


def test_activation_scales_are_skipped_as_scales(tmp_path: Path) -> None:
    q, scale = quantize(weights(), (128, 128))
    module = WEIGHT.removesuffix(".weight")
    folder = model_folder(tmp_path / "m", {WEIGHT: q, f"{WEIGHT}_scale_inv": scale,
                                           f"{module}.input_scale": np.full((1, 1), 0.5, np.float32)},
                          DEEPSEEK)
    frame = scan_quietly(folder)
    reasons = {s["tensor"]: s["reason"] for s in frame.attrs["skipped"]}
    assert reasons[f"{module}.input_scale"] == (f"FP8 activation scale of {module!r} (scales the layer's "
                                                "input, not a weight)")
    assert list(frame["tensor"]) == [WEIGHT] and not frame.attrs["errors"]


# ---------------------------------------------------------------------- per-tensor and per-channel scales
def test_per_tensor_and_per_channel_scales(tmp_path: Path) -> None:
    w = weights()
    tensor_scale = np.array([np.abs(w).max() / 448.0], dtype=np.float32)  # compressed-tensors: shape (1,)
    q_tensor = (w / tensor_scale[0]).astype(E4M3)
    channel_scale = (np.abs(w).max(axis=1, keepdims=True) / 448.0).astype(np.float32)  # FBGEMM: (out, 1)
    q_channel = (w / channel_scale).astype(E4M3)
    up = "model.layers.0.mlp.up_proj.weight"
    folder = model_folder(tmp_path / "m", {up: q_tensor, f"{up}_scale": tensor_scale, WEIGHT: q_channel,
                                           f"{WEIGHT}_scale": channel_scale}, COMPRESSED)
    frame = scan_quietly(folder)
    per_tensor = row_of(frame, up)
    same_fit(per_tensor, q_tensor.astype(np.float32) * tensor_scale[0])
    assert per_tensor["storage"] == "float8_e4m3fn, per-tensor scale"
    per_channel = row_of(frame)
    same_fit(per_channel, reference(q_channel, channel_scale, (1, 200)))
    assert per_channel["storage"] == "float8_e4m3fn, per-channel scales"
    assert sorted(s["tensor"] for s in frame.attrs["skipped"] if s["reason"].startswith("FP8 scale")) == [
        f"{WEIGHT}_scale", "model.layers.0.mlp.up_proj.weight_scale"]


# ---------------------------------------------------------------------- no scales: as stored
@pytest.mark.parametrize(("fp8", "name"), [(E4M3, "float8_e4m3fn"), (E5M2, "float8_e5m2")])
def test_fp8_without_scales_is_fitted_as_stored_over_its_patterns(tmp_path: Path, fp8: np.dtype, name: str
                                                                 ) -> None:
    q = (weights() * 20).astype(fp8)
    folder = model_folder(tmp_path / "m", {WEIGHT: q}, None)
    row = row_of(scan_quietly(folder))
    stored = q.astype(np.float32)  # exact
    same_fit(row, stored)
    assert row["storage"] == f"{name}, no scales: fitted as stored"
    sample = ws.as_sample(stored)  # the storage-aware path: counts over the stored patterns
    assert sample.form == "counts" and sample.distinct.size <= 128
    assert sample.distinct.size == np.unique(np.abs(stored[stored != 0])).size


# ---------------------------------------------------------------------- a scale that does not fit
def test_a_scale_of_the_wrong_shape_is_an_error_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    q, _ = quantize(weights(), (128, 128))
    folder = model_folder(tmp_path / "m", {WEIGHT: q, f"{WEIGHT}_scale_inv": np.ones((3, 3), np.float32),
                                           "model.layers.0.mlp.up_proj.weight": weights(seed=1)}, DEEPSEEK)
    out = tmp_path / "out"
    status = main(["scan", str(folder), "--out", str(out), "--skip-validation", "--no-progress"])
    assert status == 1  # a failure recorded: the scan goes on and exits non-zero
    errors = pd.read_csv(out / "errors.csv", keep_default_na=False)
    assert list(errors["tensor"]) == [WEIGHT]
    assert errors["error"][0] == (
        f"{folder / 'model.safetensors'}: FP8 scale '{WEIGHT}_scale_inv' has shape (3, 3), which does not "
        f"fit weight '{WEIGHT}' of shape (300, 200): expected (3, 2) for 128×128 block scales "
        "(quantization_config), (300, 1) per output channel, or one value per tensor")
    results = pd.read_csv(out / "results.csv", keep_default_na=False)
    assert list(results["tensor"]) == ["model.layers.0.mlp.up_proj.weight"]
    capsys.readouterr()


def test_a_bad_block_size_in_the_config_is_an_error_row(tmp_path: Path) -> None:
    q, scale = quantize(weights(), (128, 128))
    folder = model_folder(tmp_path / "m", {WEIGHT: q, f"{WEIGHT}_scale_inv": scale},
                          {**DEEPSEEK, "weight_block_size": [128, 0]})
    frame = scan_quietly(folder)
    assert frame.empty
    assert [e["error"] for e in frame.attrs["errors"] if e["tensor"] == WEIGHT] == [
        f"{folder / 'model.safetensors'}: config.json: quantization_config.weight_block_size must be two "
        "positive integers; got [128, 0]"]


def test_exponent_scales_are_not_multiplied_in(tmp_path: Path) -> None:
    q, scale = quantize(weights(), (128, 128))
    exponents = (np.log2(scale).round() + 127).astype(np.uint8)  # E8M0 exponents stored as bytes (MXFP8)
    folder = model_folder(tmp_path / "m", {WEIGHT: q, f"{WEIGHT}_scale_inv": exponents}, DEEPSEEK)
    frame = scan_quietly(folder)
    assert frame.empty
    assert [e["error"] for e in frame.attrs["errors"] if e["tensor"] == WEIGHT] == [
        f"{folder / 'model.safetensors'}: FP8 scale '{WEIGHT}_scale_inv' of '{WEIGHT}' has dtype U8; "
        "float scales (F32, BF16, F16) are applied, not exponents or other codes"]
    assert [s["reason"] for s in frame.attrs["skipped"] if s["tensor"] == f"{WEIGHT}_scale_inv"] == [
        f"FP8 scale of {WEIGHT!r} (applied to it, not fitted)"]


def test_two_scales_for_one_weight_are_an_error(tmp_path: Path) -> None:
    q, scale = quantize(weights(), (128, 128))
    frame = scan_quietly({WEIGHT: q, f"{WEIGHT}_scale_inv": scale, f"{WEIGHT}_scale": scale})
    assert frame.empty
    assert [e["error"] for e in frame.attrs["errors"] if e["tensor"] == WEIGHT] == [
        f"state_dict: FP8 tensor {WEIGHT!r} has two scales, '{WEIGHT}_scale_inv' and '{WEIGHT}_scale'; which "
        "one the model applies is not known"]


# ---------------------------------------------------------------------- goodness of fit
def test_fp8_matrices_are_fitted_without_a_gof_test_and_say_why(tmp_path: Path) -> None:
    q, scale = quantize(weights(), (128, 128))
    folder = model_folder(tmp_path / "m", {WEIGHT: q, f"{WEIGHT}_scale_inv": scale,
                                           "model.layers.0.mlp.up_proj.weight": weights(seed=1)}, DEEPSEEK)
    frame = scan_quietly(folder, gof=True, gof_samples=9)
    fp8, plain = row_of(frame), row_of(frame, "model.layers.0.mlp.up_proj.weight")
    assert math.isnan(fp8["gof_pvalue"]) and fp8["gof_samples"] == 0
    assert not math.isnan(plain["gof_pvalue"]) and plain["gof_samples"] == 9
    assert [(e["tensor"], e["error"]) for e in frame.attrs["errors"]] == [(WEIGHT, NO_FP8_GOF)]


# ---------------------------------------------------------------------- memory
def test_dequantization_holds_one_float32_copy_and_a_chunk() -> None:
    rows, cols = 2048, 4096
    q = np.random.default_rng(0).standard_normal((rows, cols), dtype=np.float32).astype(E4M3)
    scale = np.random.default_rng(1).uniform(0.5, 2.0, (16, 32)).astype(np.float32)
    tracemalloc.start()
    try:
        out = dequantize(q, scale, (128, 128))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.dtype == np.float32
    assert peak < 1.5 * out.nbytes  # the result and one chunk; a float64 or whole-matrix temporary is more
    np.testing.assert_array_equal(out[:256, :256], reference(q[:256, :256], scale[:2, :2], (128, 128)))


# ---------------------------------------------------------------------- torch
def test_a_torch_fp8_state_dict_answers_as_its_file(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    q, scale = quantize(weights(), (128, 128))
    as_torch = torch.from_numpy(q.view(np.uint8)).view(torch.float8_e4m3fn)
    state = {WEIGHT: as_torch, f"{WEIGHT}_scale_inv": torch.from_numpy(scale),
             "model.layers.0.mlp.up_proj.weight": as_torch.clone()}
    in_memory = scan_quietly(from_state_dict(state, config={"quantization_config": DEEPSEEK}))
    folder = model_folder(tmp_path / "m", {WEIGHT: q, f"{WEIGHT}_scale_inv": scale,
                                           "model.layers.0.mlp.up_proj.weight": q}, DEEPSEEK)
    in_file = scan_quietly(folder)
    on_device = scan_quietly(folder, device="cpu")  # read to a torch device, reduced there
    assert on_device[["shape", "scale", "storage"]].equals(in_file[["shape", "scale", "storage"]])
    columns = ["tensor", "dtype", "storage", "shape", "scale", "n_used"]
    in_memory, in_file = (f[columns].sort_values("tensor", ignore_index=True) for f in (in_memory, in_file))
    assert in_memory.equals(in_file)
    assert list(in_file["storage"]) == ["float8_e4m3fn, 128×128 block scales",
                                        "float8_e4m3fn, no scales: fitted as stored"]



def test_a_live_fp8_module_is_fitted_as_the_dequantized_weights() -> None:
    torch = pytest.importorskip("torch")
    q, scale = quantize(weights(), (128, 128))

    class Config:
        def to_dict(self) -> dict[str, Any]:
            return {"model_type": "llama", "quantization_config": DEEPSEEK}

    class FP8Linear(torch.nn.Module):  # the parameters of transformers' FP8Linear
        def __init__(self) -> None:
            super().__init__()
            self.weight = torch.nn.Parameter(torch.from_numpy(q.view(np.uint8)).view(torch.float8_e4m3fn),
                                             requires_grad=False)
            self.weight_scale_inv = torch.nn.Parameter(torch.from_numpy(scale), requires_grad=False)

    model = torch.nn.Module()
    model.down_proj = FP8Linear()
    model.config = Config()
    row = row_of(scan_quietly(model), "down_proj.weight")
    same_fit(row, reference(q, scale, (128, 128)))
    assert row["storage"] == "float8_e4m3fn, 128×128 block scales"
