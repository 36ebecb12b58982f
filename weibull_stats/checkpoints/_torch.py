"""PyTorch state-dict files: loaded with ``weights_only=True``, never executing a pickle.

A checkpoint saved with ``torch.save`` often holds more than tensors: a training step, a
config dict, nested dicts of tensors. :func:`load_torch_file` keeps every tensor (nested
dicts flattened to dotted names, as ``state_dict`` names are) and lists every other entry
with the reason it is skipped, instead of refusing the whole file. torch's own refusal of
a pickle it will not run becomes one plain line (no terminal colour codes, and no advice to
load with ``weights_only=False``: we never execute pickles).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from weibull_stats.checkpoints._sniff import describe

#: Keys under which training code stores the state dict beside other things.
WRAPPER_KEYS: tuple[str, ...] = ("state_dict", "model", "module")
#: Deepest dict nesting flattened into tensor names.
MAX_NESTING = 16

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")
#: How :func:`weibull_stats.checkpoints._sniff.describe` may start on a file torch can load.
_TORCH_LIKE = ("a zip archive", "a pickle")


def load_torch_file(file: Path) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The tensors of a ``torch.save`` file and its skipped entries.

    Returns
    -------
    tensors : dict of str to torch.Tensor
        Every tensor, in file order; tensors in nested dicts are named ``outer.inner``. Where
        the file holds no tensor at its top level but a dict of tensors under
        ``state_dict``, ``model`` or ``module``, that dict is the state dict.
    skipped : list of (str, str)
        ``(name, reason)`` for every entry that is not a tensor.

    Raises
    ------
    ValueError
        The file is not a loadable torch file, holds objects ``weights_only=True`` refuses,
        or holds no tensor; one line naming the file.
    FileNotFoundError
        No such file.
    """
    import torch

    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such file")
    what = describe(file)
    if what and not what.startswith(_TORCH_LIKE):
        raise ValueError(f"{file}: not a PyTorch checkpoint (the file looks like {what})")
    try:
        try:
            state = torch.load(file, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a corrupt file
        raise ValueError(torch_error_line(file, exc)) from None
    if not isinstance(state, Mapping):
        raise ValueError(f"{file}: not a PyTorch state dict (it holds a {type(state).__name__}, "
                         "not a mapping of names to tensors)")
    tensors, skipped = split_state(state, torch.Tensor)
    if not tensors:
        raise ValueError(f"{file}: not a PyTorch state dict (no tensors among its {len(state)} entries)")
    return tensors, skipped


def tensor_problem(value: Any) -> str | None:
    """Why the values of a torch tensor (or numpy array) of a state dict cannot be read, or None.

    A tensor on the meta device has a shape and no values; a quantized tensor holds integers
    and a scale; a sparse (or other non-strided) tensor stores its values apart from its
    zeros; a numpy object array holds Python objects. Each is listed as an unreadable tensor
    with this reason (a scan records it in ``errors.csv``) instead of failing when read.
    Unknown dtypes are not a problem here: reading them fails with the dtype named.

    Examples
    --------
    >>> tensor_problem(np.ones(3)) is None, tensor_problem(np.array([None, 1], dtype=object))
    (True, 'a numpy array of Python objects (dtype object), not numbers')
    """
    if isinstance(value, np.ndarray):
        objects = value.dtype.hasobject
        return "a numpy array of Python objects (dtype object), not numbers" if objects else None
    dtype = str(getattr(value, "dtype", "")).removeprefix("torch.")
    if getattr(value, "is_meta", False):
        return (f"a {dtype} tensor on the meta device: a shape without values (load or materialise the "
                "weights before scanning)")
    if getattr(value, "is_quantized", False):
        return (f"a quantized tensor ({dtype}): integers with a scale, not floats (tensor.dequantize() "
                "gives its values to fit)")
    if getattr(value, "is_nested", False):
        return "a nested tensor (rows of different lengths), not a matrix"
    layout = str(getattr(value, "layout", "torch.strided")).removeprefix("torch.")
    if layout != "strided":
        return (f"a {layout} {dtype} tensor: its zeros are not stored (tensor.to_dense() gives the "
                "matrix to fit)")
    return None


def split_state(state: Mapping[Any, Any], tensor_type: type | tuple[type, ...]
                ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Tensors (nested dicts flattened) and ``(name, reason)`` of the other entries of ``state``."""
    skipped: list[tuple[str, str]] = []
    if not any(isinstance(value, tensor_type) for value in state.values()):
        for key in WRAPPER_KEYS:
            inner = state.get(key)
            if isinstance(inner, Mapping) and any(isinstance(v, tensor_type) for v in inner.values()):
                skipped = [(str(name), f"outside the state dict {key!r}") for name in state if name != key]
                state = inner
                break
    tensors: dict[str, Any] = {}
    _flatten(state, "", tensor_type, tensors, skipped, 0)
    return tensors, skipped


def _flatten(state: Mapping[Any, Any], prefix: str, tensor_type: type | tuple[type, ...],
             tensors: dict[str, Any], skipped: list[tuple[str, str]], depth: int) -> None:
    for key, value in state.items():
        name = f"{prefix}{key}"
        if isinstance(value, tensor_type):
            if name in tensors:
                skipped.append((name, "a second tensor of the same (flattened) name"))
            else:
                tensors[name] = value
        elif isinstance(value, Mapping) and value and depth < MAX_NESTING:
            _flatten(value, f"{name}.", tensor_type, tensors, skipped, depth + 1)
        elif isinstance(value, Mapping) and value:
            skipped.append((name, f"dict nested more than {MAX_NESTING} levels deep"))
        else:
            skipped.append((name, f"not a tensor ({type(value).__name__})"))


def torch_error_line(file: Path, exc: BaseException) -> str:
    """One plain line for an exception of ``torch.load``: no colour codes, no unsafe advice."""
    text = _ANSI.sub("", str(exc))
    if "Weights only load failed" in text or "WeightsUnpickler" in text:
        found = _GLOBAL.search(text)
        if found:
            return (f"{file}: refused: the file holds a pickled {found.group(1)} object beyond tensors "
                    "and plain containers, and weibull-stats never executes pickled code (save the state "
                    "dict alone, or as safetensors)")
        detail = text.split("WeightsUnpickler error:", 1)[1] if "WeightsUnpickler error:" in text else ""
        text = detail.split("Check the documentation", 1)[0]
        reason = _first_line(text) or "the weights-only unpickler refused it"
    else:
        reason = f"{type(exc).__name__}: {_first_line(text)}"
    what = describe(file)
    looks = f"; the file looks like {what}" if what else ""
    return f"{file}: not a readable PyTorch state dict ({reason}){looks}"


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:200]
