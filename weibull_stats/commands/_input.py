"""The array a one-sample command reads: a ``.npy`` file, or one array of a ``.npz`` file.

Nothing here ever unpickles. The file is recognised by its first bytes (the NumPy magic
string of ``.npy``, the zip signature of ``.npz``), not by its name, so that a text file,
a checkpoint or a folder gets a message that says what it is and what to do instead.
A ``.npz`` file may carry a boolean mask beside the data (``--mask NAME``, True where a
value is left out, as in :mod:`numpy.ma`); the masked count is recorded in the output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: First bytes of every ``.npy`` file (``numpy.lib.format.MAGIC_PREFIX``).
NPY_MAGIC = b"\x93NUMPY"
#: First bytes of a zip archive (with members, or empty), which every ``.npz`` file is.
ZIP_MAGIC: tuple[bytes, ...] = (b"PK\x03\x04", b"PK\x05\x06")
#: File names that are checkpoints, read by ``weibull-stats scan``.
CHECKPOINT_SUFFIXES: tuple[str, ...] = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".json")


def load_array(path: str, *, key: str | None = None, mask: str | None = None) -> np.ndarray:
    """The array held by ``path``, never unpickled; every error names the file.

    Parameters
    ----------
    path : str
        A ``.npy`` file, or a ``.npz`` file with exactly one array (or one chosen by ``key``).
    key : str, optional
        The ``--key`` of the command: which array of a ``.npz`` file to fit.
    mask : str, optional
        The ``--mask`` of the command: a boolean array of the same ``.npz`` file and shape,
        True where a value is left out.

    Returns
    -------
    numpy.ndarray or numpy.ma.MaskedArray
        A masked array when ``mask`` is given.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        A folder, a file that is neither ``.npy`` nor ``.npz``, an object (pickled) array,
        a ``.npz`` file without the array asked for, or a bad mask.
    """
    file = Path(path)
    if file.is_dir():
        raise ValueError(
            f"{path} is a directory, not a .npy or .npz file "
            f"(for a checkpoint folder use `weibull-stats scan {path}`)"
        )
    if not file.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    with file.open("rb") as handle:
        head = handle.read(len(NPY_MAGIC))
    if head.startswith(ZIP_MAGIC) and file.suffix.lower() not in CHECKPOINT_SUFFIXES:
        return _load_npz(file, path, key, mask)
    if key is not None or mask is not None:
        flag = "--key" if key is not None else "--mask"
        raise ValueError(f"{flag} applies to .npz files only; {path} is not a .npz file")
    if head != NPY_MAGIC:
        raise ValueError(_not_numpy(file, path))
    try:
        return np.load(file, allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise ValueError(f"{path} holds an object (pickled) array, which is never loaded; "
                             "save a float array with numpy.save") from None
        raise ValueError(f"{path}: not a readable .npy array ({exc})") from None
    except (OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable .npy array ({exc})") from None


def _not_numpy(file: Path, path: str) -> str:
    if file.suffix.lower() in CHECKPOINT_SUFFIXES:
        return (f"{path} is not a .npy or .npz file; for a checkpoint use "
                f"`weibull-stats scan {path}`")
    return (f"{path} is not a .npy or .npz file (it does not start with the NumPy magic "
            "string); save the array with numpy.save")


def _load_npz(file: Path, path: str, key: str | None, mask: str | None) -> np.ndarray:
    try:
        with np.load(file, allow_pickle=False) as archive:
            names = list(archive.files)
            name = _choose(names, path, key, mask)
            data = _member(archive, name, path)
            if mask is None:
                return data
            flags = _member(archive, mask, path)
    except (OSError, EOFError, KeyError) as exc:
        raise ValueError(f"{path}: not a readable .npz file ({exc})") from None
    if flags.dtype != np.bool_:
        raise ValueError(f"--mask {mask}: array {mask!r} of {path} must be boolean; got dtype {flags.dtype}")
    if flags.shape != data.shape:
        raise ValueError(f"--mask {mask}: array {mask!r} of {path} has shape {flags.shape}; "
                         f"the data {name!r} have shape {data.shape}")
    return np.ma.MaskedArray(data, mask=flags)


def _choose(names: list[str], path: str, key: str | None, mask: str | None) -> str:
    listed = ", ".join(names) or "none"
    if mask is not None and mask not in names:
        raise ValueError(f"--mask {mask}: {path} has no array {mask!r} (arrays: {listed})")
    if key is not None:
        if key not in names:
            raise ValueError(f"--key {key}: {path} has no array {key!r} (arrays: {listed})")
        return key
    candidates = [n for n in names if n != mask]
    if len(candidates) != 1:
        if not candidates:
            raise ValueError(f"{path} holds no array to fit (arrays: {listed})")
        raise ValueError(f"{path} holds {len(candidates)} arrays ({', '.join(candidates)}); "
                         "choose one with --key NAME")
    return candidates[0]


def _member(archive: np.lib.npyio.NpzFile, name: str, path: str) -> np.ndarray:
    try:
        return np.asarray(archive[name])
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise ValueError(f"array {name!r} of {path} is an object (pickled) array, which is "
                             "never loaded") from None
        raise ValueError(f"array {name!r} of {path} is not readable ({exc})") from None
