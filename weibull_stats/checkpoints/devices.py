"""Where a scan puts each tensor it reads: the ``device`` option (``scan --device cuda``).

With a device, each tensor read from a checkpoint (in its stored precision, bfloat16 never
widened) becomes a torch tensor on that device, and :func:`weibull_stats.as_sample` does its
O(n) passes there (:mod:`weibull_stats.sample.tensors`): for 16-bit storage the pattern counts,
so only 65,536 counts come back to the CPU. Without one (the default) tensors stay numpy
arrays on the CPU. The numbers do not depend on the device.

torch is imported only when a device is asked for (the ``[torch]`` extra).
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from weibull_stats.sample.storage import BFLOAT16

#: The devices a scan can use, as an error message names them.
DEVICE_EXAMPLES = "cpu, cuda, cuda:N or mps"


def _import_torch(device: str) -> Any:
    try:
        return importlib.import_module("torch")
    except ImportError:
        raise ValueError(f"`device` {device!r} needs torch (pip install 'weibull-stats[torch]')") from None


def check_device(device: str | None) -> str | None:
    """``device`` normalised (``"cuda"`` -> ``"cuda:0"``), or a clear error when it is not available.

    ``None`` keeps the tensors as numpy arrays on the CPU.

    Raises
    ------
    ValueError
        torch is missing, the name is not a torch device, or the device is not available
        here (no CUDA, a CUDA index beyond the devices present, no MPS).

    Examples
    --------
    >>> check_device("cpu"), check_device(None)
    ('cpu', None)
    >>> check_device("tpu")
    Traceback (most recent call last):
    ...
    ValueError: `device` 'tpu' is not a torch device (expected cpu, cuda, cuda:N or mps)
    """
    if device is None:
        return None
    if not isinstance(device, str):
        raise ValueError(f"`device` must be a device name such as 'cpu' or 'cuda'; got {device!r}")
    torch = _import_torch(device)
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):  # torch's message lists every device type it was built with
        raise ValueError(f"`device` {device!r} is not a torch device (expected {DEVICE_EXAMPLES})") from None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"`device` {device!r} is not available: torch.cuda.is_available() is False "
                             f"(torch {torch.__version__}, CUDA build {torch.version.cuda})")
        index = 0 if parsed.index is None else parsed.index
        count = torch.cuda.device_count()
        if index >= count:
            raise ValueError(f"`device` {device!r} is not available: {count} CUDA device(s) present")
        return f"cuda:{index}"
    if parsed.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"`device` {device!r} is not available: torch.backends.mps.is_available() is False")
    try:
        torch.empty(1, device=parsed)
    except (RuntimeError, ValueError) as exc:
        raise ValueError(f"`device` {device!r} is not available: {exc}") from None
    return str(parsed)


def to_device(array: np.ndarray, device: str) -> Any:
    """A numpy array read from a checkpoint as a torch tensor on ``device``, same precision.

    ``ml_dtypes.bfloat16`` arrays travel as their 16-bit patterns and become
    ``torch.bfloat16`` on the device: one host-to-device copy of the stored bytes.

    Examples
    --------
    >>> from weibull_stats.sample.storage import BFLOAT16
    >>> t = to_device(np.array([0.5, -2.0], dtype=BFLOAT16), "cpu")
    >>> t.dtype, t.tolist()
    (torch.bfloat16, [0.5, -2.0])
    """
    torch = _import_torch(device)
    if array.dtype == BFLOAT16:
        words = torch.from_numpy(np.ascontiguousarray(array).view(np.int16))
        return words.to(device).view(torch.bfloat16)
    return torch.from_numpy(np.ascontiguousarray(array)).to(device)
