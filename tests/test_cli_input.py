"""What the one-array commands read: .npy, .npz (one array, --key, --mask), and clear refusals."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import weibull_stats as ws
from weibull_stats.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def data() -> np.ndarray:
    return np.random.default_rng(3).normal(0.0, 0.02, 1500)


def fitted(out: str) -> dict:
    return json.loads(out)[0]


def test_a_directory_is_named_as_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["fit", str(tmp_path)], capsys)
    assert code == 1 and "no such file" not in err
    assert err == (f"weibull-stats fit: error: {tmp_path} is a directory, not a .npy or .npz file "
                   f"(for a checkpoint folder use `weibull-stats scan {tmp_path}`)\n")


def test_a_text_file_is_not_called_pickled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "w.txt"
    text.write_text("0.1 0.2 0.3\n")
    code, _, err = run(["fit", str(text)], capsys)
    assert code == 1 and "pickled" not in err and "allow_pickle" not in err
    assert err == (f"weibull-stats fit: error: {text} is not a .npy or .npz file (it does not start with "
                   "the NumPy magic string); save the array with numpy.save\n")


@pytest.mark.parametrize("name", ["model.safetensors", "pytorch_model.bin", "model.pt"])
def test_a_checkpoint_points_to_scan(tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / name
    if name.endswith(".pt"):  # torch's zip format
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    else:
        path.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}              ")
    code, _, err = run(["fit", str(path)], capsys)
    assert code == 1
    assert err == (f"weibull-stats fit: error: {path} is not a .npy or .npz file; for a checkpoint use "
                   f"`weibull-stats scan {path}`\n")


def test_object_arrays_are_never_loaded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "obj.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    code, _, err = run(["fit", str(path)], capsys)
    assert code == 1 and "allow_pickle" not in err
    assert "holds an object (pickled) array, which is never loaded" in err


def test_npz_with_one_array(tmp_path: Path, data: np.ndarray, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "one.npz"
    np.savez_compressed(path, layer0=data)
    code, out, err = run(["fit", str(path), "--format", "json"], capsys)
    assert code == 0 and err == "" and "dtype <U" not in err
    assert ws.WeibullFit.from_dict(fitted(out)) == ws.fit(data, values="weights", zeros="omit")


def test_npz_with_several_arrays_needs_key(tmp_path: Path, data: np.ndarray,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "two.npz"
    np.savez(path, a=data, b=2 * data)
    code, _, err = run(["fit", str(path)], capsys)
    assert code == 1
    assert err == f"weibull-stats fit: error: {path} holds 2 arrays (a, b); choose one with --key NAME\n"
    code, out, _ = run(["fit", str(path), "--key", "b", "--format", "json"], capsys)
    assert code == 0 and fitted(out)["scale"] == pytest.approx(2 * fitted(run(
        ["fit", str(path), "--key", "a", "--format", "json"], capsys)[1])["scale"])
    code, _, err = run(["fit", str(path), "--key", "c"], capsys)
    assert err == f"weibull-stats fit: error: --key c: {path} has no array 'c' (arrays: a, b)\n"
    empty = tmp_path / "empty.npz"
    np.savez(empty)
    code, _, err = run(["fit", str(empty)], capsys)
    assert code == 1 and "holds no array to fit" in err


def test_key_and_mask_need_an_npz(tmp_path: Path, data: np.ndarray,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "w.npy"
    np.save(path, data)
    code, _, err = run(["fit", str(path), "--key", "w"], capsys)
    assert code == 1
    assert err == f"weibull-stats fit: error: --key applies to .npz files only; {path} is not a .npz file\n"


def test_mask_is_honoured_and_counted(tmp_path: Path, data: np.ndarray,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    mask = np.zeros(data.shape, dtype=bool)
    mask[:300] = True
    data = data.copy()
    data[:300] = 50.0  # would move the fit if it were used
    path = tmp_path / "masked.npz"
    np.savez(path, w=data, mask=mask)
    expected = ws.fit(data[300:], values="weights", zeros="omit")
    code, out, _ = run(["fit", str(path), "--mask", "mask", "--format", "json"], capsys)
    assert code == 0
    item = fitted(out)
    assert item["n_omitted"]["masked"] == 300 and item["n"] == data.size
    assert item["shape"] == expected.shape and item["scale"] == expected.scale
    code, out, _ = run(["fit", str(path), "--mask", "mask"], capsys)
    assert "--mask (300 masked)" in out.splitlines()[-1]
    code, out, _ = run(["bootstrap", str(path), "--mask", "mask", "--n-resamples", "9", "--seed", "1",
                        "--format", "json"], capsys)
    assert code == 0 and json.loads(out)["estimate"]["n_omitted"]["masked"] == 300
    np.savez(path, w=data, mask=mask.astype(np.int8))
    code, _, err = run(["fit", str(path), "--mask", "mask"], capsys)
    assert code == 1 and "--mask mask: array 'mask' of" in err and "must be boolean; got dtype int8" in err
    np.savez(path, w=data, mask=mask[:10])
    code, _, err = run(["fit", str(path), "--mask", "mask"], capsys)
    assert code == 1 and "has shape (10,); the data 'w' have shape (1500,)" in err
    code, _, err = run(["fit", str(path), "--mask", "m"], capsys)
    assert code == 1 and "--mask m: " in err and "has no array 'm' (arrays: w, mask)" in err
