"""A lazy safetensors reader: the header is parsed and checked, tensors are read one at a time.

The format is an 8-byte little-endian header length ``N``, ``N`` bytes of JSON mapping each
tensor name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets relative to the
end of the header), then the raw little-endian data. Parsing the header ourselves lets us
read bfloat16 and the 8-bit floats without torch (as ``ml_dtypes`` arrays over the stored bits,
never widened) and check the header as strictly as the reference ``safetensors`` reader
(:func:`parse_header`) before any data is touched, so a truncated or corrupt file gives an
error naming the file and the tensor instead of a crash deep inside a memory map.
"""

from __future__ import annotations

import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from weibull_stats.checkpoints._json import short_repr, strict_json
from weibull_stats.checkpoints._sniff import describe
from weibull_stats.sample.storage import BFLOAT16, BIT_FORMATS  # the stored bit patterns, as they are

#: Bits per element of every dtype the format defines (the dtype list of the reference
#: ``safetensors`` 0.8 reader). A dtype outside it makes the header invalid; one inside it
#: but outside :data:`DTYPES` is listed and fails when it is read.
DTYPE_BITS: dict[str, int] = {
    "BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8,
    "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
    "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64,
}


def _plain_dtype(code: str) -> tuple[str, bool] | None:
    """``(numpy dtype of the stored bytes, floating point?)`` of a plain IEEE float, signed or
    unsigned integer code of whole bytes (``F32``, ``I8``, ``U64``, ...), else None."""
    kinds = {"F": "f", "I": "i", "U": "u"}
    if code[:1] not in kinds or not code[1:].isdigit() or DTYPE_BITS[code] % 8:
        return None
    return np.dtype(f"<{kinds[code[0]]}{DTYPE_BITS[code] // 8}").str, code[0] == "F"


#: The FP8 codes we read -> their format in :data:`~weibull_stats.sample.storage.BIT_FORMATS`
#: (``ml_dtypes`` names, as torch names them too): OCP E4M3 without infinities, and E5M2.
FLOAT8: dict[str, str] = {"F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2"}

#: The dtypes we read: safetensors code -> (numpy dtype of the stored bytes, floating point?).
#: Every plain float and integer code of :data:`DTYPE_BITS`, bfloat16 as its stored 16-bit
#: patterns, the 8-bit floats of :data:`FLOAT8` as their stored bytes, and booleans; not the
#: 4- and 6-bit floats, the other 8-bit ones (E8M0 exponents, the FNUZ variants) nor complex numbers.
DTYPES: dict[str, tuple[str, bool]] = {
    **{code: plain for code in DTYPE_BITS if (plain := _plain_dtype(code)) is not None},
    "BF16": ("<u2", True),
    **dict.fromkeys(FLOAT8, ("u1", True)),
    "BOOL": ("?", False),
}
#: The floating codes we read, widest first (for messages).
FLOATING: tuple[str, ...] = tuple(sorted((code for code, (_, floating) in DTYPES.items() if floating),
                                         key=lambda code: -DTYPE_BITS[code]))

#: Largest header we accept (the reference reader's cap: 100 MB).
MAX_HEADER = 100_000_000

#: Bytes read per system call (a single ``read`` is capped near 2 GiB on Linux).
READ_CHUNK = 1 << 30

_FIELDS = ("dtype", "shape", "data_offsets")


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


@dataclass(frozen=True, slots=True)
class Header:
    """The checked header of a safetensors file.

    Attributes
    ----------
    tensors : dict of str to StoredTensor
        Every tensor, in header order.
    metadata : dict of str to str
        ``__metadata__`` (empty when absent).
    truncated : dict of str to str
        ``tensor -> message`` for the tensors whose data lie (partly) past the end of a
        truncated file; the other tensors are intact and readable.
    """

    tensors: dict[str, StoredTensor]
    metadata: dict[str, str]
    truncated: dict[str, str]


def read_header(path: Path) -> dict[str, StoredTensor]:
    """The tensors of :func:`parse_header` ``(path)``."""
    return parse_header(path).tensors


def parse_header(path: Path) -> Header:
    """Parse and check the header of the safetensors file ``path``, as strictly as the reference.

    The rules of the reference reader (``safetensors`` 0.8), each with its own message that
    names the file and the tensor: a header of at most :data:`MAX_HEADER` bytes that lies
    inside the file; UTF-8 JSON with unique keys, no ``NaN``/``Infinity``, no deep nesting;
    a JSON object whose ``__metadata__`` (optional, may be null) maps strings to strings and
    whose other entries each have a known ``dtype``, a ``shape`` of non-negative integers and
    ``data_offsets`` of two non-negative integers ``begin <= end``; the byte length equal to
    the shape times the dtype size; the tensors, sorted by offsets, contiguous from byte 0
    (no gap, no overlap) and covering the whole data buffer (no trailing bytes).

    One difference, on purpose: the reference refuses a file shorter than its header says as
    a whole; here the tensors whose data are all there stay readable and the others are
    listed in :attr:`Header.truncated`, so that a scan records them and goes on.

    Raises
    ------
    ValueError
        A rule above is broken; the message names the file (and the tensor, where one is at
        fault).
    OSError
        The file cannot be opened.
    """
    size = os.path.getsize(path)
    if size < 8:
        raise ValueError(f"{path}: not a safetensors file (only {size} bytes){_looks_like(path)}")
    with open(path, "rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        if length > MAX_HEADER:
            raise ValueError(f"{path}: corrupt safetensors header (declares {length} header bytes, over "
                             f"the format's cap of {MAX_HEADER}){_looks_like(path)}")
        if 8 + length > size:
            raise ValueError(f"{path}: corrupt or truncated safetensors header (declares {length} header "
                             f"bytes, file has {size} bytes){_looks_like(path)}")
        raw = handle.read(length)
    header = strict_json(path, raw, "safetensors header")
    if not isinstance(header, dict):
        raise ValueError(f"{path}: corrupt safetensors header (not a JSON object)")
    metadata = _check_metadata(path, header.get("__metadata__"))
    start = 8 + length
    tensors: dict[str, StoredTensor] = {}
    for name, entry in header.items():
        if name != "__metadata__":
            dtype, shape, begin, end = _check_entry(path, name, entry)
            tensors[name] = StoredTensor(name, dtype, shape, start + begin, start + end)
    data_end = _check_layout(path, tensors, start)
    truncated: dict[str, str] = {}
    if data_end < size:
        last = max(tensors.values(), key=lambda t: (t.begin, t.end)).name if tensors else None
        after = f"after tensor {last!r}" if last is not None else "after the header (no tensors)"
        raise ValueError(f"{path}: {size - data_end} trailing bytes {after} (the data end at byte "
                         f"{data_end}, the file has {size} bytes)")
    if data_end > size:
        truncated = {t.name: f"{path}: tensor {t.name!r}: file is truncated (data ends at byte {t.end}, "
                             f"file has {size} bytes)" for t in tensors.values() if t.end > size}
    return Header(tensors=tensors, metadata=metadata, truncated=truncated)


def _looks_like(path: Path) -> str:
    what = describe(path)
    return f"; the file looks like {what}" if what else ""


def _check_metadata(path: Path, metadata: Any) -> dict[str, str]:
    if metadata is None:  # absent, or null as the reference allows
        return {}
    if not isinstance(metadata, dict):
        raise ValueError(f"{path}: corrupt safetensors header (__metadata__ must be an object of "
                         f"strings; got {short_repr(metadata)})")
    for key, value in metadata.items():
        if not isinstance(value, str):
            raise ValueError(f"{path}: corrupt safetensors header (__metadata__ must map strings to "
                             f"strings; {key!r} maps to {short_repr(value)})")
    return dict(metadata)


#: The reference reads shapes and offsets as 64-bit unsigned integers (``usize``).
_USIZE = 1 << 64


def _is_count(value: Any) -> bool:
    return type(value) is int and 0 <= value < _USIZE  # not a bool, not a float such as 4.0


def _element_bits(path: Path, name: str, shape: list[int], dtype: str) -> int:
    # the reference multiplies in 64 bits with an overflow check, dimension by dimension
    count = 1
    for size in shape:
        count *= size
        if count >= _USIZE:
            break
    if count * DTYPE_BITS[dtype] >= _USIZE:
        raise ValueError(f"{path}: tensor {name!r}: shape {tuple(shape)} of {dtype} is too large "
                         "(its size overflows 64 bits)")
    return count * DTYPE_BITS[dtype]


def _check_entry(path: Path, name: str, entry: Any) -> tuple[str, tuple[int, ...], int, int]:
    where = f"{path}: tensor {name!r}"
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: malformed header entry {short_repr(entry)} (not an object)")
    missing = [field for field in _FIELDS if field not in entry]
    if missing:
        raise ValueError(f"{where}: malformed header entry {short_repr(entry)} (no {', '.join(missing)})")
    dtype, shape, offsets = (entry[field] for field in _FIELDS)
    if not isinstance(dtype, str) or dtype not in DTYPE_BITS:
        raise ValueError(f"{where}: unknown dtype {short_repr(dtype)} (the format defines "
                         f"{', '.join(DTYPE_BITS)})")
    if not isinstance(shape, list) or not all(_is_count(d) for d in shape):
        raise ValueError(f"{where}: shape must be a list of non-negative integers; got {short_repr(shape)}")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_count(v) for v in offsets):
        raise ValueError(f"{where}: data_offsets must be two non-negative integers [begin, end]; "
                         f"got {short_repr(offsets)}")
    begin, end = offsets
    if end < begin:
        raise ValueError(f"{where}: data_offsets [{begin}, {end}] end before they begin")
    bits = _element_bits(path, name, shape, dtype)
    if bits % 8:
        raise ValueError(f"{where}: shape {tuple(shape)} of {dtype} is not a whole number of bytes")
    if end - begin != bits // 8:
        raise ValueError(f"{where}: {end - begin} data bytes for shape {tuple(shape)} {dtype} "
                         f"(expected {bits // 8})")
    return dtype, tuple(shape), begin, end


def _check_layout(path: Path, tensors: dict[str, StoredTensor], start: int) -> int:
    """Check that the tensors tile the data buffer from its first byte; return where they end."""
    position = start
    previous: StoredTensor | None = None
    for tensor in sorted(tensors.values(), key=lambda t: (t.begin, t.end)):  # the reference sorts too
        if tensor.begin != position:
            offsets = f"data_offsets [{tensor.begin - start}, {tensor.end - start}]"
            if previous is None:
                problem = (f"leave the first {tensor.begin - start} data bytes unused "
                           "(the data must start at 0)")
            elif tensor.begin < position:
                problem = (f"overlap tensor {previous.name!r} (data_offsets [{previous.begin - start}, "
                           f"{previous.end - start}])")
            else:
                problem = f"leave a gap of {tensor.begin - position} bytes after tensor {previous.name!r}"
            raise ValueError(f"{path}: tensor {tensor.name!r}: {offsets} {problem}")
        position = tensor.end
        previous = tensor
    return position


def is_floating(dtype: str) -> bool:
    """True for the floating dtypes we read (:data:`FLOATING`: ``F64``, ``F32``, ``F16``,
    ``BF16``, ``F8_E4M3``, ``F8_E5M2``)."""
    return dtype in DTYPES and DTYPES[dtype][1]


def unsupported(where: str, name: str, dtype: str) -> str:
    """The message of a tensor whose dtype is not read.

    Examples
    --------
    >>> unsupported("f", "w", "C64")
    "f: tensor 'w': unsupported dtype 'C64' (floating dtypes F64, F32, F16, BF16, F8_E4M3, F8_E5M2 are read)"
    """
    return (f"{where}: tensor {name!r}: unsupported dtype {dtype!r} "
            f"(floating dtypes {', '.join(FLOATING)} are read)")


def read_tensor(path: Path, tensor: StoredTensor) -> np.ndarray:
    """Read one floating tensor into memory in its stored precision.

    ``F64``, ``F32`` and ``F16`` become float64, float32 and float16 arrays; ``BF16``
    becomes an ``ml_dtypes.bfloat16`` array over the stored 16-bit patterns (2 bytes per
    value, nothing widened), ``F8_E4M3`` and ``F8_E5M2`` ``ml_dtypes.float8_e4m3fn`` and
    ``float8_e5m2`` arrays over the stored bytes (their scales are separate tensors:
    :mod:`weibull_stats.checkpoints.fp8`). The data are read with one sequential pass of ``readinto``
    into the array (no memory map is left open, no temporary is made).

    Raises
    ------
    ValueError
        The dtype is not floating, or the file is shorter than its header says.

    Examples
    --------
    >>> import tempfile
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
        raise ValueError(unsupported(str(path), tensor.name, tensor.dtype))
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
    elif tensor.dtype in FLOAT8:
        out = out.view(BIT_FORMATS[FLOAT8[tensor.dtype]])
    return out.reshape(tensor.shape)
