"""List the tensors of weight files from their headers: safetensors, torch files, shard indexes.

:func:`list_file` lists one weight file, :func:`list_index` a sharded checkpoint (a shard
that cannot be read is recorded and the others listed). What cannot be listed as a readable
tensor is kept beside the entries, each with its message: unreadable shards, tensors cut off
by a truncated file, entries of a torch file that are not tensors.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from weibull_stats.checkpoints import _safetensors
from weibull_stats.checkpoints._index import INDEX_SUFFIX, read_index
from weibull_stats.checkpoints._sniff import describe
from weibull_stats.checkpoints._torch import load_torch_file, tensor_problem

TORCH_SUFFIXES: tuple[str, ...] = (".bin", ".pt", ".pth")
#: numpy dtype name -> safetensors code, for ``.npy`` files and in-memory arrays.
NUMPY_DTYPES: dict[str, str] = {
    "float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16", "int64": "I64",
    "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "uint16": "U16", "uint32": "U32",
    "uint64": "U64", "bool": "BOOL",
    **{name: code for code, name in _safetensors.FLOAT8.items()},
}
#: torch dtype name -> safetensors code, for state-dict checkpoints.
TORCH_DTYPES: dict[str, str] = {
    "torch.float64": "F64",
    "torch.float32": "F32",
    "torch.float16": "F16",
    "torch.bfloat16": "BF16",
    "torch.int64": "I64",
    "torch.int32": "I32",
    "torch.int16": "I16",
    "torch.int8": "I8",
    "torch.uint8": "U8",
    "torch.uint16": "U16",
    "torch.uint32": "U32",
    "torch.uint64": "U64",
    "torch.bool": "BOOL",
    "torch.float8_e4m3fn": "F8_E4M3",
    "torch.float8_e5m2": "F8_E5M2",
}


@dataclass(frozen=True, slots=True)
class TensorEntry:
    """One stored tensor, known from the file headers without reading its data.

    Attributes
    ----------
    name : str
        Name in the state dict.
    dtype : str
        safetensors-style code: ``"F64"``, ``"F32"``, ``"F16"``, ``"BF16"``, ``"I64"``, ...
    shape : tuple of int
    file : pathlib.Path
        The file holding it.
    """

    name: str
    dtype: str
    shape: tuple[int, ...]
    file: Path

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def floating(self) -> bool:
        """A floating dtype we read (:data:`~weibull_stats.checkpoints._safetensors.FLOATING`)."""
        return _safetensors.is_floating(self.dtype)

    @property
    def integral(self) -> bool:
        """A known integer or boolean dtype (buffers such as position ids)."""
        return self.dtype in _safetensors.DTYPES and not self.floating


def torch_entries(file: Path, state: Mapping[str, Any]) -> list[TensorEntry]:
    entries = []
    for name, tensor in state.items():
        dtype = TORCH_DTYPES.get(str(tensor.dtype), str(tensor.dtype).removeprefix("torch.").upper())
        entries.append(TensorEntry(str(name), dtype, tuple(int(d) for d in tensor.shape), file))
    return entries


def numpy_code(dtype: Any) -> str:
    """safetensors-style code of a numpy dtype (its upper-cased name where there is none)."""
    name = np.dtype(dtype).name
    return NUMPY_DTYPES.get(name, name.upper())


def check_npy_size(file: Path) -> None:
    """Refuse a ``.npy`` file whose header declares more data than the file holds, before any
    data is read or allocated (a header claiming 10^12 values in a 200-byte file).

    Raises
    ------
    ValueError
        Not a readable ``.npy`` header, or data shorter than the header's shape and dtype;
        the message names the file and both sizes.
    """
    try:
        with open(file, "rb") as handle:
            check_npy_header(handle, os.fstat(handle.fileno()).st_size, str(file))
    except OSError as exc:
        raise ValueError(f"{file}: not a readable .npy array ({exc})") from None


def check_npy_header(handle: IO[bytes], size: int, where: str) -> None:
    """:func:`check_npy_size` of the ``.npy`` stream ``handle`` (at its start) of ``size`` bytes,
    such as a member of a ``.npz`` archive; the message starts with ``where``."""
    try:
        version = np.lib.format.read_magic(handle)
        # versions 2.0 and 3.0 share one layout (3.0 only encodes field names in UTF-8)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
        held = size - handle.tell()
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{where}: not a readable .npy array ({exc})") from None
    if dtype.hasobject:  # pickled objects: refused when loaded, never unpickled
        return
    count = math.prod(shape)
    needed = count * dtype.itemsize
    if held < needed:
        raise ValueError(f"{where}: the .npy header declares {count:,} values of dtype {dtype.str} "
                         f"({needed:,} bytes) but the file holds {held:,} bytes of data (truncated or "
                         "corrupt)")


def load_npy(file: Path) -> np.ndarray:
    """A ``.npy`` file memory-mapped (header read, no data); ``ValueError`` naming the file."""
    check_npy_size(file)
    try:
        return np.load(file, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{file}: not a readable .npy array ({exc})") from None


@dataclass
class Listing:
    """What opening the weight files found: tensors, and what could not be listed as one."""

    entries: list[TensorEntry] = field(default_factory=list)
    file_errors: list[tuple[str, str]] = field(default_factory=list)
    tensor_errors: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def list_file(file: Path) -> Listing:
    """List one weight file (not an index); ``ValueError``/``OSError`` when it cannot be read."""
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such file")
    listing = Listing()
    if file.suffix == ".safetensors":
        header = _safetensors.parse_header(file)
        listing.entries = [TensorEntry(t.name, t.dtype, t.shape, file) for t in header.tensors.values()
                           if t.name not in header.truncated]
        listing.tensor_errors = list(header.truncated.items())
    elif file.suffix in TORCH_SUFFIXES:
        tensors, skipped = load_torch_file(file)
        problems = {name: tensor_problem(tensor) for name, tensor in tensors.items()}
        listing.entries = torch_entries(file, {n: t for n, t in tensors.items() if problems[n] is None})
        listing.tensor_errors = [(name, f"{file}: tensor {name!r}: {problem}")
                                 for name, problem in problems.items() if problem is not None]
        listing.skipped = skipped
    elif file.suffix == ".npy":  # one array: one tensor named after the file
        array = load_npy(file)
        listing.entries = [TensorEntry(file.stem, numpy_code(array.dtype), tuple(array.shape), file)]
    else:
        what = describe(file)
        looks = f"; the file looks like {what}" if what else ""
        raise ValueError(f"{file}: unknown checkpoint format (expected .safetensors, .bin, .pt, .pth, "
                         f".npy or *{INDEX_SUFFIX}){looks}")
    return listing


def list_index(index: Path) -> Listing:
    """List a sharded checkpoint: a shard that cannot be read is recorded, the others listed."""
    listing = Listing()
    for shard_path, names in read_index(index).items():
        try:
            shard = list_file(shard_path)
        except (ValueError, OSError) as exc:
            listing.file_errors.append((str(shard_path), str(exc)))
            continue
        by_name = {e.name: e for e in shard.entries}
        cut = dict(shard.tensor_errors)
        listing.skipped += shard.skipped
        for tensor in names:
            if tensor in by_name:
                listing.entries.append(by_name[tensor])
            elif tensor in cut:
                listing.tensor_errors.append((tensor, cut[tensor]))
            else:
                listing.file_errors.append((str(shard_path), f"{shard_path}: tensor {tensor!r} listed in "
                                            f"{index.name} is missing from the shard"))
    return listing
