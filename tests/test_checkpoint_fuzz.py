"""Fuzzing the checkpoint readers: every corruption is a clean result or one clear error.

Random corruptions of a valid safetensors file (byte flips, truncations, appended bytes, a
rewritten header length, header edits of offsets, shapes, dtypes, keys, nesting and metadata)
and of a valid ``model.safetensors.index.json``. Opening the checkpoint and reading every
tensor must either succeed or raise ``ValueError``/``OSError`` with a one-line message that
names the file; no other exception type may escape. Where our reader accepts a safetensors
file whole, the reference ``safetensors`` reader must accept it too (we are never laxer).

``make test`` runs a few hundred derandomized examples; the ``slow`` variants run 10,000+.
"""

from __future__ import annotations

import json
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weibull_stats.checkpoints import open_checkpoint
from weibull_stats.checkpoints.synthetic import write_checkpoint, write_safetensors

FAST = settings(max_examples=300, derandomize=True, database=None, deadline=None,
                suppress_health_check=list(HealthCheck))
SLOW = settings(FAST, max_examples=10_000)


def _base_file() -> bytes:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        path = write_safetensors(Path(folder) / "base.safetensors", {
            "w": rng.normal(size=(4, 3)).astype(np.float32),
            "h": rng.normal(size=(2, 2)).astype(np.float16),
            "empty": np.zeros((0, 3), np.float32),
            "ids": np.arange(3, dtype=np.int64),
            "s": np.array(0.5, np.float64),
        }, metadata={"format": "pt"})
        return path.read_bytes()


BASE = _base_file()
(BASE_LENGTH,) = struct.unpack("<Q", BASE[:8])
BASE_HEADER: dict[str, Any] = json.loads(BASE[8 : 8 + BASE_LENGTH])
BASE_DATA = BASE[8 + BASE_LENGTH :]
NAMES = [name for name in BASE_HEADER if name != "__metadata__"]

json_scalars = st.one_of(
    st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.booleans(), st.none(),
    st.text(max_size=6), st.sampled_from([0, 1, 4, 12, 24, 48, 2**63, 2**64, -1]),
)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6)


@st.composite
def header_edits(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    """An edited copy of the header and raw-text edits (duplicate keys, deep nesting)."""
    header = json.loads(json.dumps(BASE_HEADER))
    raw_edits: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(NAMES))
        kind = draw(st.sampled_from(["offsets", "offset", "shape", "dim", "dtype", "field", "entry",
                                     "drop", "add", "metadata", "duplicate", "nest", "constant"]))
        entry = header.get(name)
        if not isinstance(entry, dict):
            continue
        if kind == "offsets":
            entry["data_offsets"] = draw(json_values)
        elif kind == "offset" and isinstance(entry.get("data_offsets"), list) and entry["data_offsets"]:
            entry["data_offsets"][draw(st.integers(0, len(entry["data_offsets"]) - 1))] = draw(
                st.one_of(st.integers(-8, 200), json_scalars))
        elif kind == "shape":
            entry["shape"] = draw(st.one_of(st.lists(st.integers(-2, 2**40), max_size=4), json_values))
        elif kind == "dim" and isinstance(entry.get("shape"), list) and entry["shape"]:
            entry["shape"][draw(st.integers(0, len(entry["shape"]) - 1))] = draw(json_scalars)
        elif kind == "dtype":
            entry["dtype"] = draw(st.one_of(st.sampled_from(["F32", "BF16", "F16", "F64", "I64", "F8_E4M3",
                                                             "F4", "C64", "BOOL", "f32", ""]), json_values))
        elif kind == "field":
            entry.pop(draw(st.sampled_from(["dtype", "shape", "data_offsets"])), None)
        elif kind == "entry":
            header[name] = draw(json_values)
        elif kind == "drop":
            header.pop(name)
        elif kind == "add":
            header[draw(st.text(max_size=5))] = draw(st.one_of(json_values, st.just(dict(entry))))
        elif kind == "metadata":
            header["__metadata__"] = draw(json_values)
        elif kind in ("duplicate", "nest", "constant"):
            raw_edits.append(f"{kind}:{name}:{draw(st.integers(1, 300))}")
    return header, raw_edits


def _header_text(header: dict[str, Any], raw_edits: list[str]) -> str:
    text = json.dumps(header)
    for edit in raw_edits:
        kind, name, number = edit.split(":", 2)
        key = json.dumps(name) + ":"
        if key not in text:
            continue
        if kind == "duplicate":  # the key again, with the entry of another tensor
            other = json.dumps(BASE_HEADER[NAMES[int(number) % len(NAMES)]])
            text = text.replace(key, f"{key}{other},{key}", 1)
        elif kind == "nest":
            depth = int(number) * (1 if int(number) < 200 else 500)
            text = text.replace(key, key + "[" * depth + "0" + "]" * depth + ",\"_\":", 1)
        else:
            text = text.replace(key, key + '{"data_offsets": [0, Infinity]},"_":', 1)
    return text


@st.composite
def safetensors_files(draw: st.DrawFn) -> bytes:
    """A corruption of the valid file :data:`BASE`."""
    kind = draw(st.sampled_from(["flip", "truncate", "append", "length", "header", "header+cut"]))
    if kind in ("header", "header+cut"):
        header, raw_edits = draw(header_edits())
        text = _header_text(header, raw_edits).encode()
        data = BASE_DATA
        if kind == "header+cut":
            data = data[: draw(st.integers(0, len(data)))] + draw(st.binary(max_size=8))
        return struct.pack("<Q", len(text)) + text + data
    content = bytearray(BASE)
    if kind == "flip":
        for _ in range(draw(st.integers(1, 6))):
            position = draw(st.integers(0, len(content) - 1))
            content[position] ^= draw(st.integers(1, 255))
    elif kind == "truncate":
        del content[draw(st.integers(0, len(content) - 1)) :]
    elif kind == "append":
        content += draw(st.binary(min_size=1, max_size=16))
    else:
        content[:8] = struct.pack("<Q", draw(st.one_of(st.integers(0, 2**64 - 1), st.integers(0, 400))))
    return bytes(content)


def _outcomes(path: Path) -> Iterator[str]:
    """Open ``path`` and read every tensor; yield every clear error message, raise anything else."""
    try:
        ckpt = open_checkpoint(path)
    except (ValueError, OSError) as exc:
        yield str(exc)
        return
    for _name, message in (*ckpt.file_errors, *ckpt.tensor_errors):
        yield message
    for entry in ckpt.entries:
        try:
            ckpt.read(entry.name)
        except (ValueError, OSError) as exc:
            yield str(exc)


def _check(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    messages = list(_outcomes(path))
    for message in messages:
        assert path.name in message, message
        assert "\n" not in message, message
    if not messages or all("unsupported dtype" in m for m in messages):
        from safetensors import safe_open  # never laxer than the reference reader

        with safe_open(str(path), "np") as handle:
            handle.keys()


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def _safetensors_property(folder: Path, content: bytes) -> None:
    _check(folder / "fuzz.safetensors", content)


@FAST
@given(content=safetensors_files())
def test_corrupt_safetensors_gives_a_result_or_a_clear_error(folder: Path, content: bytes) -> None:
    _safetensors_property(folder, content)


@pytest.mark.slow
@SLOW
@given(content=safetensors_files())
def test_corrupt_safetensors_gives_a_result_or_a_clear_error_long(folder: Path, content: bytes) -> None:
    _safetensors_property(folder, content)


# ---------------------------------------------------------------------- index files
def _sharded(root: Path) -> tuple[Path, dict[str, Any]]:
    from weibull_stats.checkpoints.synthetic import synthetic_state

    state, config = synthetic_state("llama", layers=1, hidden=8, heads=2)
    folder = write_checkpoint(root / "sharded", state, config, shards=2)
    return folder, json.loads((folder / "model.safetensors.index.json").read_text())


shard_names = st.one_of(
    st.sampled_from(["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                     "../x.safetensors", "/etc/passwd", "model.safetensors.index.json",
                     "sub/../model-00001-of-00002.safetensors",
                     "missing.safetensors", "config.json", "..", ".", "", "a\0b",
                     "model-00001-of-00002.safet\nsors"]),
    json_values,
)


@st.composite
def index_texts(draw: st.DrawFn, index: dict[str, Any]) -> bytes:
    data = json.loads(json.dumps(index))
    weight_map = data["weight_map"]
    kind = draw(st.sampled_from(["shard", "name", "drop", "map", "top", "raw", "flip", "truncate"]))
    names = list(weight_map)
    if kind == "shard":
        for _ in range(draw(st.integers(1, 3))):
            weight_map[draw(st.sampled_from(names))] = draw(shard_names)
    elif kind == "name":
        weight_map[draw(st.text(max_size=8))] = draw(shard_names)
    elif kind == "drop":
        weight_map.pop(draw(st.sampled_from(names)))
    elif kind == "map":
        data["weight_map"] = draw(json_values)
    elif kind == "top":
        data = draw(json_values)
    text = json.dumps(data).encode()
    if kind == "raw":
        text = text.replace(b'"weight_map": {', draw(st.sampled_from([
            b'"weight_map": {"a": "x", "a": "y", ', b'"weight_map": {"a": NaN, ',
            b'"weight_map": {"a": Infinity, ',
            b'"weight_map": ' + b"[" * 5000 + b"{"])), 1)
    elif kind == "flip":
        content = bytearray(text)
        for _ in range(draw(st.integers(1, 4))):
            content[draw(st.integers(0, len(content) - 1))] ^= draw(st.integers(1, 255))
        text = bytes(content)
    elif kind == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    return text


@pytest.fixture(scope="module")
def sharded() -> Iterator[tuple[Path, dict[str, Any]]]:
    with tempfile.TemporaryDirectory() as name:
        yield _sharded(Path(name))


def _index_property(sharded: tuple[Path, dict[str, Any]], data: st.DataObject) -> None:
    folder, index = sharded
    path = folder / "model.safetensors.index.json"
    path.write_bytes(data.draw(index_texts(index)))
    for message in _outcomes(path):
        assert "\n" not in message, message
        assert folder.name in message, message


@FAST
@given(data=st.data())
def test_corrupt_index_gives_a_result_or_a_clear_error(sharded: tuple[Path, dict[str, Any]],
                                                       data: st.DataObject) -> None:
    _index_property(sharded, data)


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_corrupt_index_gives_a_result_or_a_clear_error_long(sharded: tuple[Path, dict[str, Any]],
                                                            data: st.DataObject) -> None:
    _index_property(sharded, data)
