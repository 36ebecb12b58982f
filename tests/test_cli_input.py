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


# ---------------------------------------------------------------------- issue 20, item 6: what is read
def bf16_weights() -> np.ndarray:
    import ml_dtypes

    return np.random.default_rng(5).normal(0.0, 0.02, 3000).astype(ml_dtypes.bfloat16)


def test_a_bfloat16_npy_file_is_read_with_storage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weights = bf16_weights()
    path = tmp_path / "w.npy"
    np.save(path, weights)  # numpy writes the dtype |V2
    code, _, err = run(["fit", str(path)], capsys)
    assert code == 1
    assert err == (f"weibull-stats fit: error: {path} holds 2-byte words of a format numpy cannot name "
                   "(dtype |V2, as numpy.save writes ml_dtypes arrays); pass --storage bfloat16 or --storage "
                   "float16 to read them as that format\n")
    expected = ws.fit(weights, values="weights", zeros="omit")
    code, out, err = run(["fit", str(path), "--storage", "bfloat16", "--format", "json"], capsys)
    assert code == 0 and err == ""
    assert ws.WeibullFit.from_dict(fitted(out)) == expected
    bits = tmp_path / "bits.npy"
    np.save(bits, weights.view(np.uint16))  # the workaround: the uint16 view of the same bits
    code, out, _ = run(["fit", str(bits), "--storage", "bfloat16", "--format", "json"], capsys)
    assert code == 0 and ws.WeibullFit.from_dict(fitted(out)) == expected
    code, out, _ = run(["bootstrap", str(path), "--storage", "bfloat16", "--n-resamples", "9", "--seed", "1",
                        "--format", "json"], capsys)
    assert code == 0 and json.loads(out)["estimate"]["details"]["storage"] == "bfloat16"


@pytest.mark.parametrize(("dtype", "formats"), [
    ("int8", "--storage float8_e4m3fn or --storage float8_e5m2"),
    ("uint16", "--storage bfloat16 or --storage float16"),
    ("int32", ""),
    ("int64", ""),
])
def test_integer_arrays_are_refused(tmp_path: Path, dtype: str, formats: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "q.npy"
    np.save(path, np.random.default_rng(0).integers(-100, 100, 500).astype(dtype))
    for command in ("fit", "gof", "bootstrap"):
        code, out, err = run([command, str(path)], capsys)
        assert code == 1 and out == ""
        width = np.dtype(dtype).itemsize * 8
        bits = f"; for the bits of {width}-bit floats pass {formats}" if formats else ""
        assert err == (f"weibull-stats {command}: error: {path} holds integers (dtype {dtype}), which are "
                       "not fitted: quantized weights need their scales (dequantize them to floats "
                       f"first){bits}\n")


def test_float8_storage_is_widened_and_refused_where_nulls_are_drawn(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import ml_dtypes

    values = np.random.default_rng(2).weibull(1.3, 2000).astype(ml_dtypes.float8_e4m3fn)
    path = tmp_path / "fp8.npy"
    np.save(path, values)
    code, _, err = run(["fit", str(path)], capsys)
    assert code == 1 and "(dtype |V1, " in err
    assert "pass --storage float8_e4m3fn or --storage float8_e5m2" in err
    code, out, _ = run(["fit", str(path), "--storage", "float8_e4m3fn", "--format", "json"], capsys)
    assert code == 0
    assert ws.WeibullFit.from_dict(fitted(out)) == ws.fit(values.astype(np.float32), values="weights",
                                                          zeros="omit")
    for command in (["gof", str(path)], ["bootstrap", str(path), "--kind", "parametric"]):
        code, out, err = run([*command, "--storage", "float8_e4m3fn", "--seed", "0"], capsys)
        assert code == 1 and out == ""
        assert err.startswith(f"weibull-stats {command[0]}: error: --storage float8_e4m3fn: Monte Carlo "
                              "samples of 8-bit float data are not drawn on the FP8 grid yet")
        assert str(path) not in err  # the flag, not the file, is what to change
    code, _, _ = run(["gof", str(path), "--storage", "float8_e4m3fn", "--n-mc-samples", "0"], capsys)
    assert code == 0
    code, _, _ = run(["bootstrap", str(path), "--storage", "float8_e4m3fn", "--n-resamples", "9", "--seed",
                      "0"], capsys)
    assert code == 0


def test_storage_of_another_width_is_refused(tmp_path: Path, data: np.ndarray,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "w.npy"
    np.save(path, data)  # float64
    code, _, err = run(["fit", str(path), "--storage", "bfloat16"], capsys)
    assert code == 1
    assert err == (f"weibull-stats fit: error: --storage bfloat16 reads 16-bit words; {path} holds dtype "
                   "float64 (float arrays are read as they are without --storage)\n")
    np.save(path, data.astype(np.float16))
    code, _, err = run(["fit", str(path), "--storage", "bfloat16"], capsys)  # not a bit pattern of bf16
    assert code == 1 and "holds dtype float16" in err
    code, out, _ = run(["fit", str(path), "--storage", "float16", "--format", "json"], capsys)
    assert code == 0 and fitted(out)["shape"] == ws.fit(data.astype(np.float16), values="weights",
                                                         zeros="omit").shape


def test_storage_keeps_a_mask(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weights = bf16_weights()
    mask = np.zeros(weights.shape, dtype=bool)
    mask[:100] = True
    path = tmp_path / "masked.npz"
    np.savez(path, w=weights.view(np.uint16), mask=mask)
    expected = ws.fit(weights[100:], values="weights", zeros="omit")
    code, out, _ = run(["fit", str(path), "--mask", "mask", "--storage", "bfloat16", "--format", "json"],
                       capsys)
    assert code == 0
    item = fitted(out)
    assert item["n_omitted"]["masked"] == 100 and (item["shape"], item["scale"]) == (expected.shape,
                                                                                      expected.scale)


def test_a_header_claiming_more_data_than_the_file_holds_is_refused_before_allocation(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.npy"
    with path.open("wb") as handle:
        np.lib.format.write_array_header_1_0(handle, {"descr": "<f8", "fortran_order": False,
                                                      "shape": (10**12,)})
        handle.write(b"\0" * 64)

    def no_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("the data were loaded")

    monkeypatch.setattr(np, "load", no_load)
    expected = (f"{path}: the .npy header declares 1,000,000,000,000 values of dtype <f8 (8,000,000,000,000 "
                "bytes) but the file holds 64 bytes of data (truncated or corrupt)")
    for command in ("fit", "gof", "bootstrap"):
        code, _, err = run([command, str(path)], capsys)
        assert code == 1 and err == f"weibull-stats {command}: error: {expected}\n"
    code, _, err = run(["scan", str(path), "--out", str(tmp_path / "o"), "--skip-validation",
                        "--no-progress"], capsys)
    assert code == 1 and expected in err  # the scan's check is the same one
    monkeypatch.undo()  # np.load opens the archive; the member's data must not be read
    archive = tmp_path / "huge.npz"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.write(path, "w.npy")
    code, _, err = run(["fit", str(archive)], capsys)
    assert code == 1 and err == ("weibull-stats fit: error: array 'w' of " + expected.replace(str(path), str(
        archive)) + "\n")
