"""The scan's ``device`` option: tensors read to a torch device give the numpy scan's numbers.

On the CPU (``device="cpu"``: torch tensors, the same torch code as on a GPU) every run of
``make test``; on CUDA where a device is present.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from weibull_stats.checkpoints.devices import check_device
from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
from weibull_stats.cli import main
from weibull_stats.workflow import scan

torch = pytest.importorskip("torch")

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                                                  reason="no CUDA device"))]
SETTINGS = {"estimators": ["probability_plot", "mle"], "bootstrap": 40, "gof": True, "gof_samples": 9,
            "skip_validation": True, "report": False}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["BF16", "F32"])
def test_scan_on_a_device_equals_the_numpy_scan(tmp_path: Path, dtype: str, device: str) -> None:
    """Fused parts included (GPT-NeoX qkv); 16-bit storage gives the same bytes, float32 the
    same numbers to 1e-10."""
    state, config = synthetic_state("gpt_neox", layers=1, hidden=16, heads=2)
    folder = write_checkpoint(tmp_path / "ckpt", state, config, dtype=dtype)
    plain = scan(folder, out=tmp_path / "numpy", **SETTINGS)
    moved = scan(folder, out=tmp_path / "device", device=device, **SETTINGS)
    assert len(plain) == len(moved) > 0 and set(plain["part"]) == {"", "q", "k", "v"}
    if dtype == "BF16":
        assert set(moved["storage"]) == {"bfloat16"}
        for name in ("results.csv", "results.parquet"):
            assert (tmp_path / "numpy" / name).read_bytes() == (tmp_path / "device" / name).read_bytes()
    else:
        numbers = ["shape", "scale", "shape_low", "shape_high", "scale_low", "scale_high", "gof_statistic"]
        pd.testing.assert_frame_equal(moved[numbers], plain[numbers], rtol=1e-10, atol=0)
        others = [c for c in plain.columns if c not in numbers]
        pd.testing.assert_frame_equal(moved[others], plain[others])
    record = json.loads((tmp_path / "device" / "run.json").read_text())
    assert record["device"] == check_device(device)
    assert json.loads((tmp_path / "numpy" / "run.json").read_text())["device"] is None


@pytest.mark.parametrize("family", ["gpt2", "olmo1", "phi3"])
def test_every_fused_layout_splits_on_the_device(tmp_path: Path, family: str) -> None:
    """Column blocks (GPT-2), row blocks (OLMo-1, Phi-3 gate/up) cut from device tensors."""
    state, config = synthetic_state(family, layers=1, hidden=16, heads=2)
    folder = write_checkpoint(tmp_path / "ckpt", state, config, dtype="BF16")
    plain = scan(folder, out=tmp_path / "numpy", skip_validation=True, report=False)
    moved = scan(folder, out=tmp_path / "device", device="cpu", skip_validation=True, report=False)
    assert {"q", "k", "v"} <= set(moved["part"]) and not moved.attrs["errors"]
    assert len(plain) == len(moved)
    csv = "results.csv"
    assert (tmp_path / "numpy" / csv).read_bytes() == (tmp_path / "device" / csv).read_bytes()


def test_an_unavailable_device_is_a_clear_error(tmp_path: Path) -> None:
    state, config = synthetic_state("llama", layers=1, hidden=8, heads=2)
    folder = write_checkpoint(tmp_path / "ckpt", state, config)
    with pytest.raises(ValueError, match=r"`device` 'tpu' is not a torch device"):
        scan(folder, device="tpu", skip_validation=True)
    if not torch.cuda.is_available():
        message = r"`device` 'cuda' is not available: torch\.cuda\.is_available\(\) is False"
        with pytest.raises(ValueError, match=message):
            scan(folder, device="cuda", skip_validation=True)
    with pytest.raises(ValueError, match=r"`device` 'cuda:64' is not available"):
        check_device("cuda:64")
    assert not (tmp_path / "out").exists()


def test_device_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state, config = synthetic_state("llama", layers=1, hidden=8, heads=2)
    folder = write_checkpoint(tmp_path / "ckpt", state, config, dtype="BF16")
    out = tmp_path / "out"
    args = ["scan", str(folder), "--skip-validation", "--no-progress"]
    assert main([*args, "--out", str(out), "--device", "cpu"]) == 0
    assert json.loads((out / "run.json").read_text())["device"] == "cpu"
    if not torch.cuda.is_available():
        capsys.readouterr()
        assert main([*args, "--out", str(tmp_path / "gpu"), "--device", "cuda"]) != 0
        assert "`--device` 'cuda' is not available" in capsys.readouterr().err
