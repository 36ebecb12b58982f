"""A lazy safetensors reader: the header is parsed and checked, tensors are read one at a time.

The format is an 8-byte little-endian header length ``N``, ``N`` bytes of JSON mapping each
tensor name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets relative to the
end of the header), then the raw little-endian data. Parsing the header ourselves lets us
read bfloat16 without torch (as ``ml_dtypes.bfloat16`` arrays over the stored bits, never
widened) and check every offset against the file size before any data
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

from weibull_stats.storage import BFLOAT16  # bfloat16 data: the stored 16-bit patterns, as they are

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

#: Bytes read per system call (a single ``read`` is capped near 2 GiB on Linux).
READ_CHUNK = 1 << 30


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
    """Read one floating tensor into memory in its stored precision.

    ``F64``, ``F32`` and ``F16`` become float64, float32 and float16 arrays; ``BF16``
    becomes an ``ml_dtypes.bfloat16`` array over the stored 16-bit patterns (2 bytes per
    value, nothing widened). The data are read with one sequential pass of ``readinto``
    into the array (no memory map is left open, no temporary is made).

    Raises
    ------
    ValueError
        The dtype is not floating, or the file is shorter than its header says.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from pathlib import Path
    >>> from weibull_stats.checkpoints.synthetic import write_safetensors
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_safetensors(Path(folder) / "w.safetensors",
    ...                              {"w": np.array([[0.5, -2.0]], dtype=np.float32)}, dtype="BF16")
    ...     array = read_tensor(path, read_header(path)["w"])
    >>> array.dtype.name, array.shape, array.astype(np.float32).tolist()
    ('bfloat16', (1, 2), [[0.5, -2.0]])
    """
    if not is_floating(tensor.dtype):
        raise ValueError(
            f"{path}: tensor {tensor.name!r}: unsupported dtype {tensor.dtype!r} "
            "(floating dtypes F64, F32, F16, BF16 are read)"
        )
    stored = np.dtype(DTYPES[tensor.dtype][0])
    out = np.empty(math.prod(tensor.shape), dtype=stored)
    buffer = out.data.cast("B")
    with open(path, "rb") as handle:
        handle.seek(tensor.begin)
        done = 0
        while done < buffer.nbytes:
            got = handle.readinto(buffer[done : done + READ_CHUNK])
            if not got:
                raise ValueError(
                    f"{path}: tensor {tensor.name!r}: file is truncated (data ends at byte "
                    f"{tensor.end}, read stopped at byte {tensor.begin + done})"
                )
            done += got
    if not out.dtype.isnative:  # a big-endian machine: the file is little-endian
        out = out.astype(out.dtype.newbyteorder("="))
    if tensor.dtype == "BF16":
        out = out.view(BFLOAT16)
    return out.reshape(tensor.shape)
