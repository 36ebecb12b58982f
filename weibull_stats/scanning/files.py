"""The checkpoint files a scan reads: their fingerprints, checked before a resume and after a scan.

Fingerprints
------------
A scan records, for every file a checkpoint is read from (weight files, shards, the index
and ``config.json``), its size, its modification time in nanoseconds and a SHA-256 digest
(:func:`fingerprint`):

* a ``.safetensors`` file: the digest of its first ``8 + N`` bytes, the length prefix and
  the JSON header, which name every tensor, its dtype, shape and offsets (``"header"``);
* any other file up to :data:`WHOLE_FILE_LIMIT` bytes (``config.json``, an index, a small
  state dict): the digest of the whole file (``"whole"``);
* a larger non-safetensors file (a ``.bin`` state dict): the digest of its size, its first
  and its last :data:`EDGE_BYTES` bytes (``"edges"``).

Reading a header or two MiB costs nothing beside the scan; hashing every tensor would cost a
second pass over the weights. Together with the size and modification time, which change on
any ordinary rewrite, the digests catch a file replaced by another of the same size.

The output folder's lock, manifest and atomic writes are in
:mod:`weibull_stats.scanning.folder`; this module re-exports them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

from weibull_stats.checkpoints import Checkpoint
from weibull_stats.checkpoints.readers import weights_file
from weibull_stats.checkpoints.sources import MEMORY_PREFIX, MemoryCheckpoint

#: Files up to this size are hashed whole.
WHOLE_FILE_LIMIT = 2 << 20
#: Bytes hashed at each end of a larger non-safetensors file.
EDGE_BYTES = 1 << 20
#: Largest safetensors header hashed (the readers refuse larger ones anyway).
HEADER_LIMIT = 100 << 20


# ---------------------------------------------------------------------- fingerprints
def _digest(handle: IO[bytes], size: int, safetensors: bool) -> tuple[str, str]:
    digest = hashlib.sha256()
    if safetensors and size >= 8:
        prefix = handle.read(8)
        length = int.from_bytes(prefix, "little")
        digest.update(prefix)
        digest.update(handle.read(min(length, HEADER_LIMIT, size - 8)))
        return "header", digest.hexdigest()
    if size <= WHOLE_FILE_LIMIT:
        digest.update(handle.read())
        return "whole", digest.hexdigest()
    digest.update(str(size).encode())
    digest.update(handle.read(EDGE_BYTES))
    handle.seek(size - EDGE_BYTES)
    digest.update(handle.read(EDGE_BYTES))
    return "edges", digest.hexdigest()


def fingerprint(path: str | Path) -> dict[str, Any]:
    """Size, modification time (ns) and SHA-256 digest of one checkpoint file.

    Returns
    -------
    dict
        ``{"size", "mtime_ns", "hashed", "sha256"}``, where ``hashed`` says what the digest
        covers (``"header"``, ``"whole"`` or ``"edges"``: see the module docstring), or
        ``{"missing": True}`` for a file that does not exist.

    Raises
    ------
    OSError
        The file exists but cannot be read (the message names it).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     file = pathlib.Path(folder) / "config.json"
    ...     _ = file.write_text("{}")
    ...     record = fingerprint(file)
    >>> record["size"], record["hashed"], record["sha256"][:12]
    (2, 'whole', '44136fa355b3')
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            status = os.fstat(handle.fileno())
            hashed, digest = _digest(handle, status.st_size, path.suffix == ".safetensors")
    except FileNotFoundError:
        return {"missing": True}
    except OSError as exc:
        raise OSError(f"{path}: cannot read the checkpoint file to fingerprint it ({exc.strerror or exc})"
                      ) from None
    return {"size": status.st_size, "mtime_ns": status.st_mtime_ns, "hashed": hashed, "sha256": digest}


def checkpoint_files(checkpoints: Iterable[Checkpoint]) -> list[str]:
    """Every file the checkpoints are read from, sorted: weights, shards, index, ``config.json``.

    In-memory checkpoints (:class:`~weibull_stats.checkpoints.sources.MemoryCheckpoint`) have none.
    """
    files: set[str] = set()
    for ckpt in checkpoints:
        if isinstance(ckpt, MemoryCheckpoint):
            continue
        path = Path(ckpt.path)
        folder = path if path.is_dir() else path.parent
        main = weights_file(path) if path.is_dir() else path
        if main is not None:
            files.add(str(main))
        files.update(str(entry.file) for entry in ckpt.entries)
        files.update(str(file) for file, _ in ckpt.file_errors if not Path(file).is_dir())
        if (folder / "config.json").is_file():
            files.add(str(folder / "config.json"))
    return sorted(files)


def fingerprints(checkpoints: Iterable[Checkpoint], *, memory: bool = True) -> dict[str, dict[str, Any]]:
    """``file -> fingerprint`` of every file of ``checkpoints`` (:func:`checkpoint_files`).

    With ``memory``, an in-memory checkpoint adds ``"<memory>/<label>" -> {"memory": True,
    "sha256": ...}``, the digest of its names, dtypes, shapes and values
    (:meth:`~weibull_stats.checkpoints.sources.MemoryCheckpoint.fingerprint` with
    ``content=True``: one pass over its tensors).
    """
    checkpoints = list(checkpoints)
    records = {file: fingerprint(file) for file in checkpoint_files(checkpoints)}
    if memory:
        for ckpt in checkpoints:
            if isinstance(ckpt, MemoryCheckpoint):
                records[f"{MEMORY_PREFIX}/{ckpt.label}"] = {"memory": True,
                                                            "sha256": ckpt.fingerprint(content=True)}
    return records


def shown(value: Any) -> str:
    """``value`` for a one-line message: a printable string as it is, anything else as its repr.

    Examples
    --------
    >>> shown("seed"), shown("con\\nfig"), shown(5)
    ('seed', "'con\\\\nfig'", '5')
    """
    return value if isinstance(value, str) and value.isprintable() else repr(value)


def check_fingerprints(recorded: Any, current: Mapping[str, Mapping[str, Any]], source: Path, *,
                       during: bool = False) -> None:
    """Refuse when a checkpoint file differs from its fingerprint recorded in ``source``.

    ``during``: the fingerprints were taken when this scan started (the file changed while
    it was read) rather than by the journalled scan being resumed.

    Raises
    ------
    ValueError
        ``recorded`` is not a ``file -> fingerprint`` mapping, or a file was added, removed
        or changed (the message names the file and what changed).
    """
    if not isinstance(recorded, dict) or not all(isinstance(v, dict) for v in recorded.values()):
        raise ValueError(f"{source}: corrupt record of the checkpoint files (not a file -> fingerprint map)")
    advice = "scan into a new folder, or rerun without --resume"
    if during:  # in-memory checkpoints are not hashed twice
        for file in sorted(set(recorded) | set(current)):
            if not file.startswith(MEMORY_PREFIX) and recorded.get(file) != current.get(file):
                raise ValueError(f"checkpoint file {shown(file)} changed on disk during the scan; no "
                                 f"tables were written; {advice} once it is stable")
        return
    for file in sorted(set(recorded) | set(current)):
        before, now = recorded.get(file), current.get(file)
        if before == now:
            continue
        if before is None:
            what = "is new (not in the journalled scan)"
        elif now is None:
            what = "is no longer part of the checkpoints"
        elif now.get("missing"):
            what = "was removed"
        elif now.get("memory"):
            what = "holds other tensors or values"
        else:
            changed = [key for key in ("size", "mtime_ns", "sha256") if before.get(key) != now.get(key)]
            what = f"changed on disk ({', '.join(changed) or 'fingerprint'} differ)"
        raise ValueError(f"cannot resume: checkpoint {'' if file.startswith(MEMORY_PREFIX) else 'file '}"
                         f"{shown(file)} {what} since the scan recorded in "
                         f"{source}; {advice}")


__all__ = ["EDGE_BYTES", "WHOLE_FILE_LIMIT", "check_fingerprints", "checkpoint_files", "fingerprint",
           "fingerprints", "shown"]
