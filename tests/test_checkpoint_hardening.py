"""Checkpoint files checked as strictly as the reference reader; hostile input gives one clear line.

Issue 10, items 4, 6, 7, 10 and 11 (the reader part). Each corruption of a safetensors header
is checked against the reference ``safetensors`` library: both must reject it.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from weibull_stats.checkpoints import open_checkpoint, resolve_paths
from weibull_stats.checkpoints._safetensors import MAX_HEADER, parse_header
from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint, write_safetensors
from weibull_stats.scanning.run import scan


def _file(tmp_path: Path, header: dict | None = None, data: bytes = b"", raw: bytes | None = None) -> Path:
    text = json.dumps(header).encode() if raw is None else raw
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


def _entry(offsets: list, shape: list | None = None, dtype: str = "F32") -> dict:
    return {"dtype": dtype, "shape": [1] if shape is None else shape, "data_offsets": offsets}


def _reference_rejects(path: Path) -> bool:
    from safetensors import safe_open

    try:
        with safe_open(str(path), "np") as handle:
            for name in handle.keys():
                handle.get_tensor(name)
    except Exception:
        return True
    return False


# ---------------------------------------------------------------------- item 6: the header rules
RAW_ENTRY = b'{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'
CORRUPTIONS = [
    ("overlap", {"a": _entry([0, 4]), "b": _entry([0, 4])}, b"\0" * 4,
     r"tensor 'b': data_offsets \[0, 4\] overlap tensor 'a'"),
    ("gap", {"a": _entry([0, 4]), "b": _entry([8, 12])}, b"\0" * 12,
     r"tensor 'b': data_offsets \[8, 12\] leave a gap of 4 bytes after tensor 'a'"),
    ("not from 0", {"a": _entry([4, 8])}, b"\0" * 8,
     r"tensor 'a': data_offsets \[4, 8\] leave the first 4 data bytes unused"),
    ("trailing bytes", {"a": _entry([0, 4])}, b"\0" * 9, r"5 trailing bytes after tensor 'a'"),
    ("trailing bytes, no tensors", {}, b"\0" * 3, r"3 trailing bytes after the header"),
    ("begin after end", {"a": _entry([4, 0])}, b"\0" * 4, r"tensor 'a': data_offsets \[4, 0\] end before"),
    ("three offsets", {"a": _entry([0, 4, 4])}, b"\0" * 4, r"tensor 'a': data_offsets must be two"),
    ("negative shape", {"a": _entry([0, 4], [-1])}, b"\0" * 4, r"shape must be a list of non-neg"),
    ("bool shape", {"a": _entry([0, 4], [True])}, b"\0" * 4, r"tensor 'a': shape must be a list"),
    ("shape overflow", {"a": _entry([0, 4], [2**32, 2**32])}, b"\0" * 4, r"of F32 is too large"),
    ("size", {"a": _entry([0, 8], [3])}, b"\0" * 8, r"tensor 'a': 8 data bytes for shape \(3,\) F32"),
    ("sub-byte size", {"a": _entry([0, 2], [3], "F4")}, b"\0" * 2, r"shape \(3,\) of F4 is not a whole"),
    ("unknown dtype", {"a": _entry([0, 4], dtype="F31")}, b"\0" * 4, r"tensor 'a': unknown dtype 'F31'"),
    ("entry not an object", {"a": [0, 4]}, b"", r"malformed header entry \[0, 4\] \(not an"),
    ("entry lacks offsets", {"a": {"dtype": "F32", "shape": [1]}}, b"\0" * 4, r"'a': .*\(no data_offsets\)"),
    ("metadata not strings", {"__metadata__": {"k": 1}}, b"", r"__metadata__ must map strings to str.*'k'"),
    ("metadata a list", {"__metadata__": ["x"]}, b"", r"__metadata__ must be an object of strings"),
    ("not an object", [1, 2], b"", r"corrupt safetensors header \(not a JSON object\)"),
]
RAW_CORRUPTIONS = [
    ("float offsets", b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0.0,4]}}', b"\0" * 4,
     r"tensor 'a': data_offsets must be two non-negative integers \[begin, end\]; got \[0\.0, 4\]"),
    ("float shape", b'{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', b"\0" * 4,
     r"tensor 'a': shape must be a list of non-negative integers; got \[1\.0\]"),
    ("duplicate tensor", b'{"a":' + RAW_ENTRY + b',"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
     b"\0" * 8, r"corrupt safetensors header \(key 'a' appears twice in one object\)"),
    ("duplicate field", b'{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', b"\0" * 4,
     r"key 'dtype' appears twice"),
    ("Infinity offset", b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,Infinity]}}', b"\0" * 4,
     r"not JSON: Infinity is not a JSON number"),
    ("NaN shape", b'{"a":{"dtype":"F32","shape":[NaN],"data_offsets":[0,4]}}', b"\0" * 4,
     r"not JSON: NaN is not a JSON number"),
    ("1e999 offset", b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,1e999]}}', b"\0" * 4,
     r"tensor 'a': data_offsets must be two non-negative integers .* got \[0, inf\]"),
    ("huge offset", b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,' + b"9" * 40 + b"]}}", b"\0" * 4,
     r"tensor 'a': data_offsets must be two non-negative integers"),  # over 64 bits, as the reference
    ("5000-digit offset", b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,' + b"9" * 5000 + b"]}}",
     b"\0" * 4, r"not JSON: Exceeds the limit \(4300 digits\)"),
    ("nested 100k deep", b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}", b"",
     r"JSON nested more than 128 levels deep"),
    ("nested 100k deep, unclosed", b"[" * 100_000, b"", r"JSON nested more than 128 levels deep"),
    ("not UTF-8", b'{"\xff":1}', b"", r"not UTF-8"),
    ("not JSON", b"{nope", b"", r"not JSON"),
]


@pytest.mark.parametrize(("case", "header", "data", "message"), CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS])
def test_header_rules_match_the_reference(tmp_path: Path, case: str, header: dict, data: bytes,
                                          message: str) -> None:
    path = _file(tmp_path, header, data)
    assert _reference_rejects(path), case
    with pytest.raises(ValueError, match=r"bad\.safetensors: .*" + message):
        open_checkpoint(path)


@pytest.mark.parametrize(("case", "raw", "data", "message"), RAW_CORRUPTIONS,
                         ids=[c[0] for c in RAW_CORRUPTIONS])
def test_raw_header_corruptions_match_the_reference(tmp_path: Path, case: str, raw: bytes, data: bytes,
                                                    message: str) -> None:
    path = _file(tmp_path, raw=raw, data=data)
    assert _reference_rejects(path), case
    with pytest.raises(ValueError, match=r"bad\.safetensors: .*" + message):
        open_checkpoint(path)


def test_header_size_cap_is_the_references(tmp_path: Path) -> None:
    path = tmp_path / "big.safetensors"
    path.write_bytes(struct.pack("<Q", MAX_HEADER + 1) + b"{}")
    assert _reference_rejects(path)
    with pytest.raises(ValueError, match=r"big\.safetensors: corrupt safetensors header \(declares 100000001 "
                                         r"header bytes, over the format's cap of 100000000\)"):
        open_checkpoint(path)


@pytest.mark.parametrize(
    ("header", "data"),
    [
        ({"b": _entry([4, 8]), "a": _entry([0, 4])}, b"\0" * 8),  # header order is not data order
        ({"__metadata__": None, "a": _entry([0, 4])}, b"\0" * 4),
        ({"z": _entry([4, 4], [0]), "a": _entry([0, 4]), "s": _entry([4, 8], [])}, b"\0" * 8),
        ({"a": dict(_entry([0, 4]), extra="ignored")}, b"\0" * 4),
        ({}, b""),
    ],
)
def test_what_the_reference_accepts_is_accepted(tmp_path: Path, header: dict, data: bytes) -> None:
    path = _file(tmp_path, header, data)
    assert not _reference_rejects(path)
    parse_header(path)


# ---------------------------------------------------------------------- item 4: one truncated tensor
def test_scan_of_a_file_with_one_truncated_tensor_records_it_and_goes_on(tmp_path: Path) -> None:
    state, config = synthetic_state("llama", layers=1, hidden=16, heads=2)
    folder = write_checkpoint(tmp_path / "ck", state, config)
    weights = folder / "model.safetensors"
    tensors = parse_header(weights).tensors
    last = max(tensors.values(), key=lambda t: t.end)
    assert len(last.shape) == 2  # a matrix the scan would fit
    weights.write_bytes(weights.read_bytes()[:-7])
    frame, _ = scan(folder, out=tmp_path / "out", warn=False)
    errors = pd.read_csv(tmp_path / "out" / "errors.csv")
    assert errors["tensor"].tolist() == [last.name]
    assert "file is truncated" in errors["error"].iloc[0]
    fitted = {name for name, t in tensors.items() if len(t.shape) == 2} - {last.name}
    assert set(frame["tensor"]) == fitted


def test_truncation_inside_the_header_still_refuses_the_file(tmp_path: Path) -> None:
    path = write_safetensors(tmp_path / "w.safetensors", {"w": np.ones((2, 2), np.float32)})
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(ValueError, match=r"w\.safetensors: corrupt or truncated safetensors header"):
        open_checkpoint(path)


# ---------------------------------------------------------------------- index files
def _sharded(tmp_path: Path) -> Path:
    state, config = synthetic_state("llama", layers=1, hidden=8, heads=2)
    return write_checkpoint(tmp_path / "s", state, config, shards=2)


def _rewrite_index(folder: Path, change) -> Path:
    index = folder / "model.safetensors.index.json"
    data = json.loads(index.read_text())
    change(data["weight_map"])
    index.write_text(json.dumps(data))
    return index


@pytest.mark.parametrize(
    ("shard", "message"),
    [
        ("../x.safetensors", r"shard path '\.\./x\.safetensors' points outside the checkpoint folder"),
        ("sub/../../x.safetensors", r"points outside the checkpoint folder"),
        ("/etc/passwd", r"shard path '/etc/passwd' is absolute"),
        ("C:\\x.safetensors", r"is absolute"),
        ("model.safetensors.index.json", r"shard 'model\.safetensors\.index\.json' is an index file"),
        ("other.index.json", r"is an index file"),
        (5, r"shard must be a file name; got 5"),
        ("", r"shard must be a file name"),
        ("a\0b.safetensors", r"holds a control character"),
        ("model-00001-of-00002.safet\nsors", r"holds a control character"),
    ],
)
def test_index_shard_paths_are_confined(tmp_path: Path, shard: object, message: str) -> None:
    folder = _sharded(tmp_path)
    (tmp_path / "x.safetensors").write_bytes((folder / "model-00001-of-00002.safetensors").read_bytes())
    _rewrite_index(folder, lambda weight_map: weight_map.__setitem__("model.norm.weight", shard))
    with pytest.raises(ValueError, match=r"model\.safetensors\.index\.json: tensor 'model\.norm\.weight': .*"
                                         + message):
        open_checkpoint(folder)


def test_index_cycle_is_a_clear_error(tmp_path: Path) -> None:
    folder = _sharded(tmp_path)
    other = {"weight_map": {"w": "model.safetensors.index.json"}}
    (folder / "b.safetensors.index.json").write_text(json.dumps(other))
    _rewrite_index(folder, lambda weight_map: weight_map.__setitem__("w", "b.safetensors.index.json"))
    with pytest.raises(ValueError, match=r"is an index file"):
        open_checkpoint(folder)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"weight_map": {"a": "x.safetensors", "a": "y.safetensors"}}', r"key 'a' appears twice"),
        (b'{"weight_map": ' + b"[" * 100_000 + b"}", r"nested more than 128 levels"),
        (b'{"weight_map": [1]}', r"needs a JSON object with a weight_map"),
        (b'{"weight_map": {"a": NaN}}', r"NaN is not a JSON number"),
    ],
)
def test_corrupt_index_files(tmp_path: Path, raw: bytes, message: str) -> None:
    index = tmp_path / "model.safetensors.index.json"
    index.write_bytes(raw)
    with pytest.raises(ValueError, match=r"model\.safetensors\.index\.json: corrupt index file .*" + message):
        open_checkpoint(index)


def test_truncated_shard_tensor_is_a_tensor_error(tmp_path: Path) -> None:
    folder = _sharded(tmp_path)
    shard = folder / "model-00002-of-00002.safetensors"
    shard.write_bytes(shard.read_bytes()[:-3])
    ckpt = open_checkpoint(folder)
    assert len(ckpt.tensor_errors) == 1
    name, message = ckpt.tensor_errors[0]
    assert "file is truncated" in message and name in message
    with pytest.raises(ValueError, match="file is truncated"):
        ckpt.read(name)


# ---------------------------------------------------------------------- item 10: messages
def test_two_safetensors_without_an_index_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "two"
    folder.mkdir()
    for name in ("a.safetensors", "b.safetensors"):
        write_safetensors(folder / name, {"w": np.ones((2, 2), np.float32)})
    expected = (r"two: holds 2 \.safetensors files \(a\.safetensors, b\.safetensors\) and no "
                r"model\.safetensors\.index\.json")
    with pytest.raises(FileNotFoundError, match=expected):
        resolve_paths([str(folder)])
    with pytest.raises(FileNotFoundError, match=expected):
        open_checkpoint(folder)


def test_torch_pickle_refusal_is_one_clean_line(tmp_path: Path) -> None:
    import argparse

    torch.save({"w": torch.ones(2, 2), "args": argparse.Namespace(lr=0.1)}, tmp_path / "p.bin")
    with pytest.raises(ValueError) as caught:
        open_checkpoint(tmp_path / "p.bin")
    message = str(caught.value)
    assert "\n" not in message and "\x1b" not in message
    assert "weights_only=False" not in message and "weights_only` set to `False" not in message
    assert message.startswith(f"{tmp_path / 'p.bin'}: refused: the file holds a pickled argparse.Namespace")
    assert "never executes pickled code" in message


@pytest.mark.parametrize("name", ["notes.bin", "notes.safetensors", "notes.txt", "model.pt"])
def test_a_text_file_given_as_a_checkpoint_is_named_as_text(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("hello world, these are my notes\n")
    with pytest.raises(ValueError, match=r"the file looks like a text file \(it starts 'hello world"):
        open_checkpoint(tmp_path / name)


def test_other_files_given_as_checkpoints_say_what_they_are(tmp_path: Path) -> None:
    np.save(tmp_path / "w.npy", np.ones(3))
    os.replace(tmp_path / "w.npy", tmp_path / "w.bin")
    with pytest.raises(ValueError, match=r"w\.bin: not a PyTorch checkpoint \(the file looks like a NumPy"):
        open_checkpoint(tmp_path / "w.bin")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.pt: not a PyTorch checkpoint \(the file looks like an emp"):
        open_checkpoint(tmp_path / "empty.pt")
    torch.save({"step": 5}, tmp_path / "nothing.pt")
    with pytest.raises(ValueError, match=r"nothing\.pt: not a PyTorch state dict \(no tensors among its 1"):
        open_checkpoint(tmp_path / "nothing.pt")


# ---------------------------------------------------------------------- item 11
def test_one_checkpoint_spelled_several_ways_is_scanned_once(tmp_path: Path, monkeypatch) -> None:
    state, config = synthetic_state("llama", layers=1, hidden=8, heads=2)
    write_checkpoint(tmp_path / "ck", state, config)
    (tmp_path / "link").symlink_to(tmp_path / "ck")
    monkeypatch.chdir(tmp_path)
    found = resolve_paths(["ck", "./ck/", "link", "ck/model.safetensors", str(tmp_path / "ck")])
    assert [c.label for c in found] == ["ck"]
    frame, _ = scan(["ck", "./ck/"], warn=False)
    assert not frame.duplicated(["tensor", "part", "estimator"]).any()


def test_bin_with_non_tensor_entries_scans_its_tensors_and_lists_the_rest(tmp_path: Path) -> None:
    weight = torch.randn(8, 8, generator=torch.Generator().manual_seed(0))
    torch.save({"layers.0.mlp.up_proj.weight": weight, "step": 5, "note": "hi", "history": [1, 2],
                "extra": {"proj.weight": weight * 2, "lr": 0.1}}, tmp_path / "pytorch_model.bin")
    ckpt = open_checkpoint(tmp_path)
    assert [e.name for e in ckpt.entries] == ["layers.0.mlp.up_proj.weight", "extra.proj.weight"]
    assert dict(ckpt.skipped) == {"step": "not a tensor (int)", "note": "not a tensor (str)",
                                  "history": "not a tensor (list)", "extra.lr": "not a tensor (float)"}
    np.testing.assert_array_equal(ckpt.read("extra.proj.weight"), (weight * 2).numpy())
    frame, _ = scan(tmp_path, out=tmp_path / "out", warn=False)
    assert sorted(frame["tensor"]) == ["extra.proj.weight", "layers.0.mlp.up_proj.weight"]
    skipped = pd.read_csv(tmp_path / "out" / "skipped.csv", keep_default_na=False)
    assert set(skipped["tensor"]) == {"step", "note", "history", "extra.lr"}
    assert pd.read_csv(tmp_path / "out" / "errors.csv").empty


def test_wrapped_state_dict_lists_the_other_keys_as_skipped(tmp_path: Path) -> None:
    torch.save({"model": {"w": torch.ones(2, 2)}, "optimizer": {"state": {0: {"exp_avg": torch.ones(2)}}},
                "epoch": 3}, tmp_path / "train.pt")
    ckpt = open_checkpoint(tmp_path / "train.pt")
    assert [e.name for e in ckpt.entries] == ["w"]
    assert dict(ckpt.skipped) == {"optimizer": "outside the state dict 'model'",
                                  "epoch": "outside the state dict 'model'"}
