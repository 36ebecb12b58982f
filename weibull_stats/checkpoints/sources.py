"""Where the model is: turn whatever a scan is given into :class:`Checkpoint` objects.

A scan source is any of

- a path (``str`` or ``os.PathLike``): a weight file (``.safetensors``, ``.bin``/``.pt``,
  ``.npy``, ``*.index.json``), a model folder, a folder of ``step-N`` checkpoints, or
  ``"minilm"`` (see :func:`~weibull_stats.checkpoints.resolve_paths`);
- a Hugging Face model id (``org/name``) that is not an existing path: resolved from the
  **local** Hugging Face cache only (:func:`hub_snapshot`), never downloaded;
- a ``torch.nn.Module``: its ``state_dict()`` (labelled with the class name; its
  ``config.to_dict()`` is the config where it has one, as transformers models do);
- a state dict: a mapping of names to torch tensors or numpy arrays, nested dicts flattened
  to dotted names as for ``.bin`` files (labelled ``state_dict``);
- a :class:`Checkpoint`, such as :func:`from_module` or :func:`from_state_dict` with a label
  of your choosing;
- a list or tuple of these (a trajectory, or a mixed list).

An existing path wins over a hub id of the same spelling. Automatic labels of in-memory
sources are made unique in a list (``state_dict``, ``state_dict-2``, ...). In-memory tensors
are converted one at a time when read (bfloat16 stays bfloat16), as files are.

In-memory checkpoints cannot be re-opened by another process, so they scan with one worker;
they have no file to fingerprint, so :meth:`MemoryCheckpoint.fingerprint` hashes their
names, dtypes and shapes (and optionally their values) instead.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from weibull_stats.checkpoints._listing import TORCH_DTYPES, TensorEntry, numpy_code
from weibull_stats.checkpoints._safetensors import unsupported
from weibull_stats.checkpoints._torch import split_state, tensor_problem
from weibull_stats.checkpoints.readers import Checkpoint, expand_path, open_checkpoint, open_unique, unopened
from weibull_stats.sample.storage import torch_to_numpy

#: A Hugging Face model id: ``org/name`` (letters, digits, ``-``, ``_``, ``.``).
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*$")
#: Prefix of the ``path`` of an in-memory checkpoint (it names no file).
MEMORY_PREFIX = "<memory>"

_MEMORY: weakref.WeakValueDictionary[str, MemoryCheckpoint] = weakref.WeakValueDictionary()


@dataclass(frozen=True)
class MemoryCheckpoint(Checkpoint):
    """A checkpoint held in memory: a module's state dict, or a mapping of tensors or arrays.

    Its :attr:`path` is ``<memory>/<label>/<id>`` (no file); :meth:`read` converts one tensor
    at a time, in its stored precision, as :meth:`Checkpoint.read` does for files. A ``live``
    checkpoint (the view of a model being trained, :class:`weibull_stats.Monitor`) reads its
    torch tensors in place instead, never copied: a CPU tensor as a numpy view of its storage,
    a tensor on another device detached, where it is (16-bit ones are counted there).
    """

    tensors: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    live: bool = False

    def read(self, name: str) -> Any:
        """Tensor ``name`` as a fresh numpy array in its own precision (bfloat16 and float8 kept); in a
        ``live`` checkpoint a torch tensor is read in place (see the class docstring)."""
        entry = self.entry(name)
        if not entry.floating:
            raise ValueError(unsupported(self.label, name, entry.dtype))
        value = self.tensors[name]
        if self.live and not isinstance(value, np.ndarray):
            # shares the storage (whoever reads it must not write to it): on the CPU a numpy view,
            # whose passes are single-threaded numpy's; elsewhere the tensor, reduced on its device
            return torch_to_numpy(value) if value.device.type == "cpu" else value.detach()
        array = value if isinstance(value, np.ndarray) else torch_to_numpy(value)
        if np.ma.isMaskedArray(array):  # a masked array keeps its mask: the sample omits and counts it
            return np.ma.array(array, copy=True)
        return np.array(array, copy=True)

    def fingerprint(self, *, content: bool = False) -> str:
        """A SHA-256 hex digest standing in for a file fingerprint.

        It covers every tensor's name, dtype and shape, in order (and its bytes with
        ``content=True``, which reads every tensor once). Two checkpoints with equal
        fingerprints have the same layout; only ``content=True`` says they hold the same
        values, so a resumed scan of a model that was trained in between is caught only then.

        Examples
        --------
        >>> a = from_state_dict({"w": np.zeros((2, 3), np.float32)})
        >>> b = from_state_dict({"w": np.ones((2, 3), np.float32)})
        >>> a.fingerprint() == b.fingerprint(), a.fingerprint(content=True) == b.fingerprint(content=True)
        (True, False)
        """
        digest = hashlib.sha256()
        for entry in self.entries:
            digest.update(f"{entry.name}\0{entry.dtype}\0{'x'.join(map(str, entry.shape))}\n".encode())
            if content:
                digest.update(stored_bytes(self.tensors[entry.name]))
        for name, message in self.tensor_errors:  # unreadable tensors: their reasons, no values
            digest.update(f"{name}\0{message}\n".encode())
        return digest.hexdigest()


def stored_bytes(value: Any) -> bytes:
    """The stored bytes of a dense numpy array or torch tensor, whatever its dtype (float8,
    bool, complex and integer dtypes included), for a fingerprint; never converted.

    Examples
    --------
    >>> stored_bytes(np.array([1, 2], dtype=np.uint8))
    b'\\x01\\x02'
    """
    if isinstance(value, np.ndarray):
        return np.ascontiguousarray(value).reshape(-1).view(np.uint8).tobytes()
    torch = _torch()
    flat = value.detach().resolve_conj().resolve_neg().cpu().contiguous().reshape(-1)
    return flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""


def _torch() -> Any:
    return sys.modules.get("torch")  # torch is imported by whoever built a module or a tensor


def _is_module(item: Any) -> bool:
    torch = _torch()
    return torch is not None and isinstance(item, torch.nn.Module)


def _tensor_types() -> tuple[type, ...]:
    torch = _torch()
    return (np.ndarray,) if torch is None else (np.ndarray, torch.Tensor)


def _code(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return numpy_code(value.dtype)
    return TORCH_DTYPES.get(str(value.dtype), str(value.dtype).removeprefix("torch.").upper())


def from_state_dict(state: Mapping[str, Any], *, label: str = "state_dict",
                    config: Mapping[str, Any] | None = None, step: int | None = None,
                    live: bool = False) -> MemoryCheckpoint:
    """A checkpoint over a mapping of names to torch tensors or numpy arrays.

    Nested mappings are flattened to dotted names and entries that are not tensors are
    listed in :attr:`~Checkpoint.skipped`, as for ``.bin`` files. Nothing is copied here.
    ``step`` is the training step it records (the ``step`` column of a scan); ``live``: its
    torch tensors are read in place (:class:`MemoryCheckpoint`).

    Raises
    ------
    ValueError
        The mapping holds no tensor or array.

    Examples
    --------
    >>> ckpt = from_state_dict({"model": {"layers": {"0": {"mlp.down_proj.weight": np.ones((4, 2))}}}})
    >>> [(e.name, e.dtype, e.shape) for e in ckpt.entries]
    [('model.layers.0.mlp.down_proj.weight', 'F64', (4, 2))]
    """
    tensors, skipped = split_state(state, _tensor_types())
    if not tensors:
        shown = ", ".join(map(repr, list(state)[:4])) + (", ..." if len(state) > 4 else "")
        raise ValueError(f"{label}: a state dict must map names to torch tensors or numpy arrays; "
                         f"none among its {len(state)} entries ({shown})")
    path = Path(MEMORY_PREFIX, label, f"{id(tensors):x}")
    problems = {name: tensor_problem(value) for name, value in tensors.items()}
    entries = tuple(TensorEntry(name, _code(value), tuple(int(d) for d in value.shape), path)
                    for name, value in tensors.items() if problems[name] is None)
    unreadable = tuple((name, f"{label}: tensor {name!r}: {problem}")
                       for name, problem in problems.items() if problem is not None)
    ckpt = MemoryCheckpoint(label=label, path=path, step=step, config=dict(config or {}), entries=entries,
                            tensor_errors=unreadable, skipped=tuple(skipped), tensors=tensors, live=live)
    _MEMORY[str(path)] = ckpt
    return ckpt


def from_module(module: Any, *, label: str | None = None, step: int | None = None,
                live: bool = False) -> MemoryCheckpoint:
    """A checkpoint over ``module.state_dict()`` (tensors referenced, not copied).

    ``label`` defaults to the class name; a ``config`` attribute with ``to_dict()`` (a
    transformers model) becomes the config, so the family comes from its ``model_type``.
    ``step`` and ``live`` as :func:`from_state_dict`.
    """
    config_object = getattr(module, "config", None)
    to_dict = getattr(config_object, "to_dict", None)
    config = to_dict() if callable(to_dict) else {}
    return from_state_dict(module.state_dict(), label=label or type(module).__name__,
                           config=config if isinstance(config, Mapping) else {}, step=step, live=live)


def reopen(path: str, label: str) -> Checkpoint:
    """The checkpoint a scan task names: an in-memory one of this process, else the file."""
    if path.startswith(MEMORY_PREFIX):
        found = _MEMORY.get(path)
        if found is None:
            raise ValueError(f"{label}: an in-memory checkpoint can be read only by the process that "
                             "holds it (scan it with jobs=1, or save it as safetensors)")
        return found
    return open_checkpoint(path, label=label)


# ---------------------------------------------------------------------- the Hugging Face cache
def hub_cache_dir() -> Path:
    """The Hugging Face hub cache folder, from the environment at call time.

    ``HF_HUB_CACHE`` (or the older ``HUGGINGFACE_HUB_CACHE``), else ``$HF_HOME/hub``, else
    ``$XDG_CACHE_HOME/huggingface/hub``, else ``~/.cache/huggingface/hub``: the rules of
    ``huggingface_hub``.
    """
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(name):
            return Path(os.environ[name]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(xdg).expanduser() / "huggingface" / "hub"


def hub_snapshot(repo_id: str, *, revision: str = "main") -> Path:
    """The local snapshot folder of Hugging Face model ``repo_id``: never a download.

    Uses ``huggingface_hub.snapshot_download(..., local_files_only=True)`` where the package
    is installed, and reads the cache layout (``models--org--name/refs/<revision>``,
    ``snapshots/<commit>/``) directly where it is not.

    Raises
    ------
    FileNotFoundError
        The model is not in the cache; the message names the cache folder searched.
    """
    cache = hub_cache_dir()
    try:
        import huggingface_hub
    except ImportError:  # optional: the cache layout is simple enough to read
        found = _cached_snapshot(cache, repo_id, revision)
    else:
        try:
            found = Path(huggingface_hub.snapshot_download(
                repo_id, revision=revision, cache_dir=cache, local_files_only=True))
        except Exception:  # LocalEntryNotFoundError, HFValidationError, ...: not in the cache
            found = None
    if found is None or not found.is_dir():
        raise FileNotFoundError(
            f"{repo_id}: no such file or folder, and no Hugging Face model {repo_id!r} in the local "
            f"cache {cache} (set HF_HUB_CACHE or HF_HOME to search another); weibull-stats never "
            f"downloads: fetch it first (huggingface-cli download {repo_id})")
    return found


def _cached_snapshot(cache: Path, repo_id: str, revision: str) -> Path | None:
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    ref = repo / "refs" / revision
    commit = ref.read_text(encoding="utf-8").strip() if ref.is_file() else revision
    folder = repo / "snapshots" / commit
    return folder if folder.is_dir() else None


# ---------------------------------------------------------------------- any source
def _items(sources: Any) -> list[Any]:
    if isinstance(sources, str | os.PathLike | Mapping | Checkpoint) or _is_module(sources):
        return [sources]
    if isinstance(sources, Sequence):
        return list(sources)
    raise TypeError(f"`paths`: expected a path, a model id, a torch module, a state dict or a list of "
                    f"them; got {type(sources).__name__}")


def _auto_label(item: Any) -> str | None:
    if isinstance(item, Checkpoint):
        return None
    if _is_module(item):
        return type(item).__name__
    if isinstance(item, Mapping):
        return "state_dict"
    return None


def _labels(items: list[Any]) -> list[str | None]:
    """Automatic labels of in-memory items, unique in the list; None for the others."""
    taken = {os.fspath(i) for i in items if isinstance(i, str | os.PathLike)}
    taken |= {i.label for i in items if isinstance(i, Checkpoint)}
    labels: list[str | None] = []
    for item in items:
        label = _auto_label(item)
        if label is not None:
            base, count = label, 1
            while label in taken:
                count += 1
                label = f"{base}-{count}"
            taken.add(label)
        labels.append(label)
    return labels


def source_names(sources: Any) -> list[str]:
    """What each source is called in the scan's settings (``run.json``): the path or model id
    as given, the label of an in-memory source.

    Examples
    --------
    >>> source_names(["runs/a", {"w": np.ones((2, 2))}, {"w": np.ones((2, 2))}])
    ['runs/a', 'state_dict', 'state_dict-2']
    """
    items = _items(sources)
    names = []
    for item, label in zip(items, _labels(items), strict=True):
        if isinstance(item, Checkpoint):
            names.append(item.label)
        elif label is not None:
            names.append(label)
        elif isinstance(item, str | os.PathLike):
            names.append(os.fspath(item))
        else:
            raise TypeError(f"`paths`: cannot scan a {type(item).__name__} (give a path, a model id, a "
                            "torch module or a state dict)")
    return names


def open_sources(sources: Any, *, jobs: int = 1, errors: str = "raise") -> list[Checkpoint]:
    """The checkpoints of every source (see the module docstring), in the order given.

    A checkpoint named twice through paths is opened once (as
    :func:`~weibull_stats.checkpoints.resolve_paths` does).

    Parameters
    ----------
    sources : source or sequence of sources
    jobs : int, default 1
        The scan's worker processes (in-memory sources need one).
    errors : {"raise", "record"}, default "raise"
        What a path that cannot be opened does (missing, corrupt, a folder without weights,
        one step of a trajectory): raise, or stand in the list as a checkpoint without
        tensors whose ``file_errors`` holds the message, so that a scan records it and goes
        on with the others. When every source fails, the first failure is raised either way.

    Raises
    ------
    FileNotFoundError
        A path that does not exist and is not a cached hub id (the message names the cache).
    ValueError
        An in-memory source with ``jobs > 1``, a label given twice, a corrupt file.
    TypeError
        A source of another type.
    """
    if errors not in ("raise", "record"):
        raise ValueError(f"`errors` must be 'raise' or 'record'; got {errors!r}")
    items = _items(sources)
    if not items:
        raise ValueError("`paths` is empty; give at least one checkpoint")
    failures: list[BaseException] | None = [] if errors == "record" else None
    found: list[Checkpoint | tuple[Path, str]] = []
    for item, label in zip(items, _labels(items), strict=True):
        if isinstance(item, Checkpoint):
            found.append(item)
        elif _is_module(item):
            found.append(from_module(item, label=label))
        elif isinstance(item, Mapping):
            found.append(from_state_dict(item, label=label or "state_dict"))
        elif isinstance(item, str | os.PathLike):
            text = os.fspath(item)
            try:
                if not Path(text).exists() and text != "minilm" and HUB_ID.match(text):
                    found.append((hub_snapshot(text), text))
                else:
                    found += expand_path(text)
            except (ValueError, OSError) as exc:
                if failures is None:
                    raise
                failures.append(exc)
                found.append(unopened(Path(text), text, exc))
        else:
            raise TypeError(f"`paths`: cannot scan a {type(item).__name__} (give a path, a model id, a "
                            "torch module or a state dict)")
    result = open_unique(found, failures)
    if failures and len(failures) == len(result):  # nothing opened: the first failure says why
        raise failures[0]
    memory = [c.label for c in result if isinstance(c, MemoryCheckpoint)]
    if memory and jobs > 1:
        raise ValueError(f"`jobs` = {jobs}: in-memory sources ({', '.join(memory)}) are read by this "
                         "process only; scan them with jobs=1, or save them as safetensors")
    return result


__all__ = ["HUB_ID", "MemoryCheckpoint", "from_module", "from_state_dict", "hub_cache_dir", "hub_snapshot",
           "open_sources", "reopen", "source_names", "stored_bytes"]
