"""Storage formats: input as numpy arrays, 16-bit bit patterns, counting them, and the grid
a float array lies on.

bfloat16 and float16 values are counted by bit pattern: for non-negative floats the order
of the patterns is the order of the values, so one count over the 2^16 patterns is the
sorted sample in O(n), never sorted. float32 and float64 arrays whose values all lie on a
16-bit grid (a bf16 model saved in fp32) are counted the same way.
"""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np

BFLOAT16 = np.dtype(ml_dtypes.bfloat16)
#: Storage formats, narrowest first.
STORAGES: tuple[str, ...] = ("bfloat16", "float16", "float32", "float64")
#: Narrow float formats whose stored bits an array of 16-bit or 8-bit words can be read as
#: (the ``--storage`` of the one-array commands): ``numpy.save`` writes an
#: ``ml_dtypes.bfloat16`` or float8 array with the dtype ``|V2`` or ``|V1``, which names no format.
BIT_FORMATS: dict[str, np.dtype] = {
    "bfloat16": BFLOAT16,
    "float16": np.dtype(np.float16),
    "float8_e4m3fn": np.dtype(ml_dtypes.float8_e4m3fn),
    "float8_e5m2": np.dtype(ml_dtypes.float8_e5m2),
}

#: 16-bit formats: (sign bit, first non-finite magnitude pattern).
SIGN = 0x8000
FIRST_NONFINITE = {"bfloat16": 0x7F80, "float16": 0x7C00}
#: Values examined before a full representability check of a wide array.
PROBE = 4096
def dtype_name(array: np.ndarray) -> str:
    return "bfloat16" if array.dtype == BFLOAT16 else str(array.dtype)


def pattern_values(patterns: np.ndarray, storage: str) -> np.ndarray:
    """float64 values of non-negative 16-bit ``patterns`` in format ``storage``.

    Examples
    --------
    >>> pattern_values(np.array([0x3F80, 0x4000]), "bfloat16").tolist()
    [1.0, 2.0]
    """
    bits = np.asarray(patterns, dtype=np.uint16)
    if storage == "bfloat16":
        return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32).astype(np.float64)
    return bits.view(np.float16).astype(np.float64)


def sixteen_bit_patterns(array: np.ndarray) -> tuple[np.ndarray, str] | None:
    """The uint16 patterns and format of an array whose values all lie on a 16-bit grid."""
    if array.dtype == BFLOAT16:
        return array.view(np.uint16), "bfloat16"
    if array.dtype == np.float16:
        return array.view(np.uint16), "float16"
    flat = array.reshape(-1)
    if array.dtype == np.float64:
        head = flat[:PROBE]
        with np.errstate(over="ignore"):  # beyond float32's range: not on a narrower grid
            if not np.array_equal(head.astype(np.float32), head, equal_nan=True):
                return None
            narrow = flat.astype(np.float32)
        if not np.array_equal(narrow, flat, equal_nan=True):
            return None
        flat = narrow
    if flat.dtype != np.float32:
        return None
    words = flat.view(np.uint32)
    if not (words[:PROBE] & np.uint32(0xFFFF)).any() and not (words & np.uint32(0xFFFF)).any():
        return (words >> np.uint32(16)).astype(np.uint16), "bfloat16"
    head = flat[:PROBE]
    with np.errstate(over="ignore"):
        if not np.array_equal(head.astype(np.float16).astype(np.float32), head, equal_nan=True):
            return None
        half = flat.astype(np.float16)
    if not np.array_equal(half.astype(np.float32), flat, equal_nan=True):
        return None
    return half.view(np.uint16), "float16"


def raw_storage(magnitudes: np.ndarray) -> str:
    """``"float32"`` for float64 magnitudes that all lie on the float32 grid, else the dtype."""
    if magnitudes.dtype == np.float64:
        head = magnitudes[:PROBE]
        with np.errstate(over="ignore"):  # beyond float32's range: not on the float32 grid
            if np.array_equal(head.astype(np.float32), head) and np.array_equal(
                magnitudes.astype(np.float32), magnitudes
            ):
                return "float32"
    return dtype_name(magnitudes)


# ---------------------------------------------------------------------- conversion
def torch_to_numpy(x: Any) -> np.ndarray:
    """A floating torch tensor as a numpy array on the CPU, in its own precision.

    A bfloat16 tensor's bits are viewed as int16, then as uint16 in numpy, then as
    ``ml_dtypes.bfloat16``; a ``float8_e4m3fn`` or ``float8_e5m2`` tensor's bytes become the
    ``ml_dtypes`` float8 array of that name: the values are relabelled, not converted. The
    array may share memory with the tensor.

    Examples
    --------
    >>> import torch
    >>> array = torch_to_numpy(torch.tensor([0.5, -2.0], dtype=torch.bfloat16))
    >>> array.dtype.name, array.astype("float32").tolist()
    ('bfloat16', [0.5, -2.0])
    """
    import torch  # torch is optional: only a torch tensor brings us here

    tensor = x.detach()
    if tensor.dtype == torch.bfloat16:
        bits = tensor.cpu().contiguous().view(torch.int16).numpy().view(np.uint16)
        return bits.view(BFLOAT16)
    name = str(tensor.dtype).removeprefix("torch.")
    if name in BIT_FORMATS and BIT_FORMATS[name].itemsize == 1:  # float8: the stored bytes, relabelled
        return tensor.cpu().contiguous().view(torch.uint8).numpy().view(BIT_FORMATS[name])
    return np.asarray(tensor.cpu().numpy())


def to_array(x: Any, name: str = "x") -> np.ndarray:
    """``x`` as a numpy float array: bfloat16, float16, float32 or float64.

    torch tensors are moved to the CPU (bfloat16 tensors become ``ml_dtypes.bfloat16``
    arrays over the same bits); integer input becomes float64; boolean, complex, string and
    object input is refused with a message naming ``name``. Masked arrays keep their mask.

    Examples
    --------
    >>> to_array([1, 2, 3]).dtype, to_array(np.ones(2, dtype=np.float32)).dtype
    (dtype('float64'), dtype('float32'))
    """
    if type(x).__module__.startswith("torch"):
        x = torch_to_numpy(x)
    if isinstance(x, np.ma.MaskedArray):
        return x
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}` could not be converted to a numeric array: {exc}") from None
    if array.dtype == BFLOAT16:
        return array
    if array.dtype.kind in "iu":
        return array.astype(np.float64)
    if array.dtype.kind != "f":
        raise TypeError(f"`{name}` must hold real floating-point numbers; got dtype {array.dtype}")
    if array.dtype.itemsize > 8:
        return array.astype(np.float64)
    return array
