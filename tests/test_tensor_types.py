"""Every tensor type a scan meets gets a fit, a skipped row with its reason, or an errors row, and the
rest of the scan goes on (issue 20, item 4): float8, integer, quantized, sparse, nested, meta-device
and complex tensors, numpy object arrays, in memory and in a torch file."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import weibull_stats as ws
from weibull_stats.checkpoints import from_state_dict
from weibull_stats.scanning.run import ScanWarning

torch = pytest.importorskip("torch")


def dense(seed: int = 0) -> Any:
    return torch.randn(32, 32, generator=torch.Generator().manual_seed(seed))


def quantized() -> Any:
    return torch.quantize_per_tensor(dense(), 0.1, 0, torch.qint8)


#: tensor type -> (how to make it, where the scan puts it, a phrase of its reason)
TYPES: dict[str, tuple[Callable[[], Any], str, str]] = {
    "float8_e4m3fn": (lambda: dense().to(torch.float8_e4m3fn), "results", ""),  # as stored (no scales)
    "float8_e5m2": (lambda: dense().to(torch.float8_e5m2), "results", ""),
    "int8": (lambda: torch.randint(-100, 100, (32, 32), dtype=torch.int8), "skipped",
             "non-floating dtype I8"),
    "uint16": (lambda: torch.ones(32, 32, dtype=torch.uint16), "skipped", "non-floating dtype U16"),
    "bool": (lambda: torch.ones(32, 32, dtype=torch.bool), "skipped", "non-floating dtype BOOL"),
    "qint8": (quantized, "errors", "a quantized tensor (qint8)"),
    "per_channel": (lambda: torch.quantize_per_channel(dense(), torch.full((32,), 0.1),
                                                        torch.zeros(32, dtype=torch.long), 0, torch.qint8),
                    "errors", "a quantized tensor (qint8)"),
    "sparse_coo": (lambda: dense().to_sparse(), "errors", "a sparse_coo float32 tensor"),
    "sparse_csr": (lambda: dense().to_sparse_csr(), "errors", "a sparse_csr float32 tensor"),
    "nested": (lambda: torch.nested.nested_tensor([torch.randn(3, 4), torch.randn(5, 4)]), "errors",
               "a nested tensor"),
    "meta": (lambda: torch.empty(32, 32, device="meta"), "errors", "on the meta device"),
    "complex64": (lambda: torch.randn(32, 32, dtype=torch.complex64), "errors",
                  "unsupported dtype 'COMPLEX64'"),
    "numpy_object": (lambda: np.array([[None, 1.0]] * 4, dtype=object), "errors", "Python objects"),
    "bfloat16": (lambda: dense().to(torch.bfloat16), "results", ""),
    "transposed": (lambda: dense().T, "results", ""),
}


def scan_quietly(source: Any, **options: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScanWarning)
        return ws.scan(source, skip_validation=True, **options)


def placed(frame: Any, tensor: str) -> dict[str, list[str]]:
    """Where ``tensor`` ended up: its result rows, skipped reasons and error messages."""
    return {
        "results": list(frame.loc[frame["tensor"] == tensor, "estimator"]),
        "skipped": [s["reason"] for s in frame.attrs["skipped"] if s["tensor"] == tensor],
        "errors": [e["error"] for e in frame.attrs["errors"] if e["tensor"] == tensor],
    }


@pytest.mark.parametrize("kind", list(TYPES))
def test_every_tensor_type_is_fitted_skipped_or_an_error(kind: str) -> None:
    make, where, reason = TYPES[kind]
    frame = scan_quietly({"x.weight": make(), "y.weight": dense(1)})
    assert list(frame.loc[frame["tensor"] == "y.weight", "estimator"]) == ["probability_plot"]
    found = placed(frame, "x.weight")
    assert [place for place, items in found.items() if items] == [where], found
    assert all(reason in item for item in found[where] if isinstance(item, str))
    if where == "errors":
        assert found["errors"][0].startswith("state_dict: tensor 'x.weight': ")


def test_a_float8_tensor_in_memory_answers_as_the_same_tensor_in_a_file(tmp_path: Path) -> None:
    safetensors_torch = pytest.importorskip("safetensors.torch")
    weight = dense().to(torch.float8_e4m3fn)
    file = tmp_path / "model.safetensors"
    safetensors_torch.save_file({"x.weight": weight, "y.weight": dense(1)}, str(file))
    columns = ["tensor", "dtype", "storage", "shape", "scale", "n_used"]
    in_file, in_memory = (frame[columns].sort_values("tensor", ignore_index=True) for frame in (
        scan_quietly(file), scan_quietly({"x.weight": weight, "y.weight": dense(1)})))
    assert in_file.equals(in_memory)
    fp8 = in_file[in_file["tensor"] == "x.weight"].iloc[0]
    assert (fp8["dtype"], fp8["storage"]) == ("F8_E4M3", "float8_e4m3fn, no scales: fitted as stored")
    expected = ws.fit(weight.float().numpy())  # FP8 values are float32 values: widened exactly
    assert (fp8["shape"], fp8["scale"]) == (expected.shape, expected.scale)


def test_a_module_on_the_meta_device_is_recorded_and_the_rest_is_scanned() -> None:
    with torch.device("meta"):
        empty = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Linear(8, 8))
    frame = scan_quietly([empty, {"y.weight": dense(1)}])
    assert list(frame["tensor"]) == ["y.weight"]
    errors = [e for e in frame.attrs["errors"] if e["checkpoint"] == "Sequential"]
    assert [e["tensor"] for e in errors] == ["0.weight", "0.bias", "1.weight", "1.bias", ""]
    assert all("on the meta device: a shape without values" in e["error"] for e in errors[:4])
    assert errors[4]["error"] == "Sequential: nothing to fit: no 2-D floating tensor (4 unreadable tensors)"


def test_unreadable_tensors_of_a_torch_file_are_errors_rows(tmp_path: Path) -> None:
    file = tmp_path / "pytorch_model.bin"
    torch.save({"meta.weight": torch.empty(8, 8, device="meta"), "sparse.weight": dense().to_sparse(),
                "quantized.weight": quantized(), "y.weight": dense(1)}, file)
    frame = scan_quietly(file)
    assert list(frame["tensor"]) == ["y.weight"]
    messages = {e["tensor"]: e["error"] for e in frame.attrs["errors"]}
    assert messages == {
        "meta.weight": f"{file}: tensor 'meta.weight': a float32 tensor on the meta device: a shape without "
                       "values (load or materialise the weights before scanning)",
        "sparse.weight": f"{file}: tensor 'sparse.weight': a sparse_coo float32 tensor: its zeros are not "
                         "stored (tensor.to_dense() gives the matrix to fit)",
        "quantized.weight": f"{file}: tensor 'quantized.weight': a quantized tensor (qint8): integers with a "
                            "scale, not floats (tensor.dequantize() gives its values to fit)",
    }


@pytest.mark.parametrize("dtype", ["float8_e4m3fn", "bool", "complex64", "int8"])
def test_the_content_fingerprint_reads_the_stored_bytes_of_every_dtype(dtype: str) -> None:
    a, b = dense(0), dense(1)
    if dtype == "int8":
        a, b = (t.mul(10).to(torch.int8) for t in (a, b))
    else:
        a, b = (t.gt(0) if dtype == "bool" else t.to(getattr(torch, dtype)) for t in (a, b))
    first, second = from_state_dict({"w": a}), from_state_dict({"w": b})
    assert first.fingerprint() == second.fingerprint()
    assert first.fingerprint(content=True) != second.fingerprint(content=True)
    assert first.fingerprint(content=True) == from_state_dict({"w": a.clone()}).fingerprint(content=True)
