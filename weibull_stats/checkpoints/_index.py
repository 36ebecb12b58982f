"""Shard indexes (``*.index.json``): the ``weight_map`` of a sharded checkpoint, checked.

Every shard path must name a weight file inside the checkpoint's folder: an absolute path, a
path that climbs out with ``..``, or a shard that is itself an index (which would let an
index name itself, or a cycle of indexes) is refused with a message naming the index and
the tensor. The JSON is read by :func:`~weibull_stats.checkpoints._json.strict_json`.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath

from weibull_stats.checkpoints._json import short_repr, strict_json

INDEX_SUFFIX = ".index.json"
#: Largest index file read (a real index of a 1000-shard model is a few MB).
MAX_INDEX_BYTES = 100_000_000


def read_index(index: Path) -> dict[Path, list[str]]:
    """``shard path -> tensor names`` of the index file ``index``, in first-seen shard order.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        Not a JSON object with a ``weight_map`` of tensor names to shard file names, or a
        shard path outside the folder of ``index`` or naming an index; the message names
        the index (and the tensor).
    """
    if not index.is_file():
        raise FileNotFoundError(f"{index}: no such file")
    if index.stat().st_size > MAX_INDEX_BYTES:
        raise ValueError(f"{index}: corrupt index file (over {MAX_INDEX_BYTES} bytes)")
    data = strict_json(index, index.read_bytes(), "index file")
    if not isinstance(data, dict) or not isinstance(data.get("weight_map"), dict):
        got = "no weight_map" if isinstance(data, dict) else f"got {short_repr(data)}"
        raise ValueError(f"{index}: corrupt index file (needs a JSON object with a weight_map: {got})")
    shards: dict[Path, list[str]] = {}
    for name, shard in data["weight_map"].items():
        shards.setdefault(shard_path(index, name, shard), []).append(name)
    return shards


def shard_path(index: Path, name: str, shard: object) -> Path:
    """The file of shard ``shard`` (the weight_map value of tensor ``name``), confined to the folder."""
    where = f"{index}: tensor {name!r}"
    if not isinstance(shard, str) or not shard:
        raise ValueError(f"{where}: shard must be a file name; got {short_repr(shard)}")
    if any(ord(char) < 32 or ord(char) == 127 for char in shard):
        raise ValueError(f"{where}: shard name {short_repr(shard)} holds a control character")
    if PurePosixPath(shard).is_absolute() or PureWindowsPath(shard).is_absolute() or shard.startswith("\\"):
        raise ValueError(f"{where}: shard path {shard!r} is absolute; shards must lie in the "
                         f"checkpoint folder {index.parent}")
    normal = os.path.normpath(shard.replace("\\", "/"))
    if normal == ".." or normal.startswith("../") or normal in (".", ""):
        raise ValueError(f"{where}: shard path {shard!r} points outside the checkpoint folder "
                         f"{index.parent}")
    if normal.endswith(INDEX_SUFFIX):
        raise ValueError(f"{where}: shard {shard!r} is an index file; an index lists weight files "
                         "(an index naming an index could name itself)")
    return index.parent / normal
