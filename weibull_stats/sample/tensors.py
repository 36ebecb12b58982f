"""torch tensors reduced where they live: the O(n) passes of :func:`~weibull_stats.as_sample`
on the tensor's device.

:func:`~weibull_stats.as_sample` hands a torch tensor (any float dtype, any device, any
strides) to the functions here, which run the O(n) work with torch operations on the
tensor's device and bring back only what the estimators need:

* **16-bit storage** (bfloat16, float16, and float32/float64 tensors whose values all lie
  on one of those grids): the grid test and the count of the 2^16 bit patterns run on the
  device (:func:`torch.bincount` on the int16 view of the bits); the 65,536 counts come
  back, and :func:`weibull_stats.sample.checked.as_sample` builds the same counts sample as from a
  numpy array, bit for bit. Every estimator, bootstrap resample and goodness-of-fit null
  sample then costs O(distinct values) on the CPU, whatever ``n``.
* **Raw storage** (other float32/float64 data): the clean-data test (one min/max
  reduction), the counts of bad values, ``|x|`` and the omissions run on the device; the
  usable magnitudes then come back once, in input order, for the estimator kernels.

A CPU tensor is counted by :func:`~weibull_stats.core.kernels.count_patterns16` over a zero-copy
numpy view (numpy's ``bincount`` is about twice as fast as torch's on the CPU); every other
step is the same torch code on every device.

torch is never imported here: every function receives a tensor and reaches torch through
it (``type(tensor).__module__``), so ``import weibull_stats`` needs no torch.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from weibull_stats.core.kernels import count_patterns16
from weibull_stats.sample.storage import PROBE

#: Patterns counted per :func:`torch.bincount` call (bounds the int32 copy on the device).
COUNT_CHUNK = 1 << 24

_DTYPE_NAMES = {"bfloat16": "bfloat16", "float16": "float16", "float32": "float32", "float64": "float64"}


def is_tensor(x: Any) -> bool:
    """True for a torch tensor (a ``torch.nn.Parameter`` included), without importing torch.

    Examples
    --------
    >>> is_tensor(np.ones(3)), is_tensor([1.0])
    (False, False)
    """
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _torch() -> Any:
    return sys.modules["torch"]  # only reached with a tensor in hand, so torch is imported


def tensor_dtype_name(tensor: Any) -> str:
    """``"bfloat16"``, ``"float16"``, ``"float32"`` or ``"float64"``."""
    return _DTYPE_NAMES[str(tensor.dtype).removeprefix("torch.")]


def float_tensor(x: Any, name: str = "x") -> Any:
    """``x`` detached, as a float tensor on its own device (integers become float64).

    Boolean and complex tensors are refused with a message naming ``name``, as
    :func:`~weibull_stats.sample.storage.to_array` refuses such arrays.
    """
    torch = _torch()
    tensor = x.detach()
    if tensor.dtype == torch.bool or tensor.is_complex():
        raise TypeError(f"`{name}` must hold real floating-point numbers; got dtype {tensor.dtype}")
    if tensor.is_sparse:
        tensor = tensor.to_dense()
    if not tensor.is_floating_point():
        return tensor.to(torch.float64)
    if str(tensor.dtype).removeprefix("torch.") not in _DTYPE_NAMES:  # float8 and friends
        return tensor.to(torch.float32)
    return tensor


def _same(narrow: Any, wide: Any) -> bool:
    """Every value of ``wide`` equals its rounding ``narrow`` (NaN equal to NaN)."""
    back = narrow.to(wide.dtype)
    return bool(((back == wide) | (wide.isnan() & back.isnan())).all())


def sixteen_bit_words(tensor: Any) -> tuple[Any, str] | None:
    """The int16 bit patterns (same device) and format of a tensor on a 16-bit grid, or None.

    The torch twin of :func:`~weibull_stats.sample.storage.sixteen_bit_patterns`: bfloat16 and
    float16 tensors are viewed, float32 data whose low 16 bits are all zero are bfloat16,
    float32 data that survive a round trip through float16 are float16, float64 data are
    first narrowed to float32 where that is exact. A probe of the first values refuses
    most other data before a full pass.
    """
    torch = _torch()
    flat = tensor.reshape(-1)
    if flat.dtype == torch.bfloat16:
        return flat.view(torch.int16), "bfloat16"
    if flat.dtype == torch.float16:
        return flat.view(torch.int16), "float16"
    if flat.dtype == torch.float64:
        if not _same(flat[:PROBE].to(torch.float32), flat[:PROBE]):
            return None
        narrow = flat.to(torch.float32)
        if not _same(narrow, flat):
            return None
        flat = narrow
    if flat.dtype != torch.float32:
        return None
    words = flat.view(torch.int32)
    low = 0xFFFF
    if not bool((words[:PROBE] & low).any()) and not bool((words & low).any()):
        return (words >> 16).to(torch.int16), "bfloat16"
    if not _same(flat[:PROBE].to(torch.float16), flat[:PROBE]):
        return None
    half = flat.to(torch.float16)
    if not _same(half, flat):
        return None
    return half.view(torch.int16), "float16"


def pattern_counts(words: Any, *, on_device: bool | None = None) -> np.ndarray:
    """Counts (int64, length 2^16) of each unsigned 16-bit pattern of an int16 tensor.

    On the tensor's device with :func:`torch.bincount`, in chunks of :data:`COUNT_CHUNK`;
    only the 65,536 counts come back. A CPU tensor is counted through a zero-copy numpy
    view by :func:`~weibull_stats.core.kernels.count_patterns16` unless ``on_device=True``
    (the tests use it to run the torch route on the CPU). Both give the same integers.

    Examples
    --------
    >>> import torch
    >>> words = torch.tensor([3, 3, -1], dtype=torch.int16)
    >>> counts = pattern_counts(words, on_device=True)
    >>> int(counts[3]), int(counts[65535]), bool((counts == pattern_counts(words)).all())
    (2, 1, True)
    """
    torch = _torch()
    flat = words.reshape(-1)
    if on_device is None:
        on_device = flat.device.type != "cpu"
    if not on_device:
        return count_patterns16(flat.contiguous().numpy().view(np.uint16))
    counts = torch.zeros(1 << 16, dtype=torch.int64, device=flat.device)
    for start in range(0, flat.numel(), COUNT_CHUNK):
        part = flat[start : start + COUNT_CHUNK].to(torch.int32) & 0xFFFF
        counts += torch.bincount(part, minlength=1 << 16)
    return np.asarray(counts.cpu().numpy(), dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Census:
    """Bad values of a raw tensor, counted on its device in one synchronisation.

    ``negative`` counts finite negative values, ``zeros`` the values equal to zero (both
    signs); the order in which :func:`~weibull_stats.as_sample` applies the policy makes
    these the numbers its messages give.
    """

    nonfinite: int
    nan: int
    negative: int
    zeros: int


def census(flat: Any) -> Census:
    """Count the non-finite, NaN, finite negative and zero values of a 1-D tensor."""
    torch = _torch()
    finite = flat.isfinite()
    counts = torch.stack([
        (~finite).sum(), flat.isnan().sum(), ((flat < 0) & finite).sum(), (flat == 0).sum(),
    ]).tolist()
    return Census(*(int(c) for c in counts))


def value_range(candidate: Any) -> tuple[float, float] | None:
    """``(min, max)`` of a non-empty 1-D tensor in one reduction (NaN when a value is NaN);
    None when it is empty."""
    if candidate.numel() == 0:
        return None
    low, high = _torch().aminmax(candidate)
    return float(low), float(high)


def is_clean(bounds: tuple[float, float] | None) -> bool:
    """Every value positive and finite, from :func:`value_range` (NaN fails it)."""
    return bounds is not None and bounds[0] > 0 and bounds[1] < float("inf")


@dataclass(frozen=True, slots=True)
class Magnitudes:
    """The usable magnitudes of a raw tensor, brought to the CPU once.

    Attributes
    ----------
    values : numpy.ndarray
        1-D float32 or float64, in input order.
    storage : str
        ``"float32"`` for float64 values that all lie on the float32 grid, else the dtype.
    low, high : float
        Smallest and largest value (from the device).
    owned : bool
        False when ``values`` shares memory with the caller's (CPU) tensor.
    """

    values: np.ndarray
    storage: str
    low: float
    high: float
    owned: bool


def tensor_magnitudes(candidate: Any, *, drop_nonfinite: bool, drop_zeros: bool, source: Any,
                      bounds: tuple[float, float] | None = None) -> Magnitudes:
    """``candidate`` (1-D magnitudes) less the dropped values, with its grid and range,
    computed on the device; the result's values are the only O(n) transfer. ``source`` is
    the caller's flattened tensor: values that still share its memory are not ``owned``.
    ``bounds`` is ``candidate``'s :func:`value_range` when nothing is dropped (not redone)."""
    torch = _torch()
    keep = None
    if drop_nonfinite:
        keep = candidate.isfinite()
    if drop_zeros:
        nonzero = candidate != 0
        keep = nonzero if keep is None else keep & nonzero
    if keep is not None:
        candidate = candidate[keep]
        bounds = None
    storage = tensor_dtype_name(candidate)
    low, high = (bounds or value_range(candidate)) or (0.0, 0.0)
    if candidate.dtype == torch.float64 and _same(candidate.to(torch.float32), candidate):
        storage = "float32"
    host = candidate.cpu().contiguous()
    shared = host.data_ptr() == source.data_ptr()
    return Magnitudes(np.asarray(host.numpy()), storage, low, high, owned=not shared)

