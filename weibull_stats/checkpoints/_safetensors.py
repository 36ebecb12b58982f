"""A lazy safetensors reader: the header is parsed and checked, tensors are read one at a time.

The format is an 8-byte little-endian header length ``N``, ``N`` bytes of JSON mapping each
tensor name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets relative to the
end of the header), then the raw little-endian data. Parsing the header ourselves lets us
read bfloat16 without torch and check every offset against the file size before any data
is touched, so a truncated or corrupt file gives an error naming the file and the tensor
instead of a crash deep inside a memory map.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: safetensors dtype code -> (numpy dtype of the stored bytes, floating point?)
DTYPES: dict[str, tuple[str, bool]] = {
    "F64": ("<f8", True),
    "F32": ("<f4", True),
    "F16": ("<f2", True),
    "BF16": ("<u2", True),
    "I64": ("<i8", False),
    "I32": ("<i4", False),
    "I16": ("<i2", False),
    "I8": ("i1", False),
    "U8": ("u1", False),
    "U16": ("<u2", False),
    "U32": ("<u4", False),
    "U64": ("<u8", False),
    "BOOL": ("?", False),
}

#: Largest header we accept (the format's own limit is 100 MB).
MAX_HEADER = 100_000_000

#: Elements converted per step when widening bfloat16 (keeps temporaries small).
CONVERT_CHUNK = 1 << 22


@dataclass(frozen=True, slots=True)
class StoredTensor:
    """Where one tensor lies in a safetensors file.

    Attributes
    ----------
    name : str
        Tensor name in the header.
    dtype : str
        safetensors dtype code (``"BF16"``, ``"F32"``, ...), possibly one we cannot read.
    shape : tuple of int
    begin, end : int
        Absolute byte offsets of the data in the file.
    """

    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int


def read_header(path: Path) -> dict[str, StoredTensor]:
    """Parse and check the header of the safetensors file ``path``.

    Raises
    ------
    ValueError
        The file is shorter than its header says, the header is not JSON, or a tensor's
        entry is malformed or points outside the file; the message names the file (and the
        tensor, where one is at fault).
    OSError
        The file cannot be opened.
    """
    size = os.path.getsize(path)
    if size < 8:
        raise ValueError(f"{path}: not a safetensors file (only {size} bytes)")
    with open(path, "rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        if length > MAX_HEADER or 8 + length > size:
            raise ValueError(
                f"{path}: corrupt or truncated safetensors header (declares {length} header bytes, "
                f"file has {size} bytes)"
            )
        raw = handle.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: corrupt safetensors header (not JSON: {exc})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: corrupt safetensors header (not a JSON object)")
    start = 8 + length
    tensors: dict[str, StoredTensor] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        tensors[name] = _check_entry(path, name, entry, start, size)
    return tensors


def _check_entry(path: Path, name: str, entry: Any, start: int, size: int) -> StoredTensor:
    try:
        dtype = str(entry["dtype"])
        shape = tuple(int(d) for d in entry["shape"])
        begin, end = (int(v) for v in entry["data_offsets"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{path}: tensor {name!r}: malformed header entry {entry!r}") from None
    if any(d < 0 for d in shape) or not 0 <= begin <= end:
        raise ValueError(f"{path}: tensor {name!r}: invalid shape {shape} or offsets [{begin}, {end}]")
    if start + end > size:
        raise ValueError(
            f"{path}: tensor {name!r}: file is truncated (data ends at byte {start + end}, "
            f"file has {size} bytes)"
        )
    if dtype in DTYPES:
        expected = math.prod(shape) * np.dtype(DTYPES[dtype][0]).itemsize
        if end - begin != expected:
            raise ValueError(
                f"{path}: tensor {name!r}: {end - begin} data bytes for shape {shape} {dtype} "
                f"(expected {expected})"
            )
    return StoredTensor(name=name, dtype=dtype, shape=shape, begin=start + begin, end=start + end)


def is_floating(dtype: str) -> bool:
    """True for the floating dtypes we read (``F64``, ``F32``, ``F16``, ``BF16``)."""
    return dtype in DTYPES and DTYPES[dtype][1]


def read_tensor(path: Path, tensor: StoredTensor) -> np.ndarray:
    """Read one floating tensor into memory as float16, float32 or float64.

    bfloat16 is widened to float32 exactly (its 16 bits are the high half of a float32),
    in chunks so no temporary is larger than a few MB. The file is memory-mapped only for
    the duration of the copy.
    """
    if not is_floating(tensor.dtype):
        raise ValueError(
            f"{path}: tensor {tensor.name!r}: unsupported dtype {tensor.dtype!r} "
            "(floating dtypes F64, F32, F16, BF16 are read)"
        )
    count = math.prod(tensor.shape)
    stored = np.dtype(DTYPES[tensor.dtype][0])
    if count == 0:
        empty = np.float32 if tensor.dtype == "BF16" else stored.newbyteorder("=")
        return np.empty(tensor.shape, dtype=empty)
    source = np.memmap(path, dtype=stored, mode="r", offset=tensor.begin, shape=(count,))
    try:
        if tensor.dtype == "BF16":
            out = np.empty(count, dtype=np.uint32)
            for a in range(0, count, CONVERT_CHUNK):
                b = min(a + CONVERT_CHUNK, count)
                np.left_shift(source[a:b], 16, out=out[a:b], dtype=np.uint32)
            result = out.view(np.float32)
        else:
            result = np.array(source, dtype=stored.newbyteorder("="), copy=True)
    finally:
        del source
    return result.reshape(tensor.shape)
