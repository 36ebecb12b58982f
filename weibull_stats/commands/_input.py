"""The array a one-sample command reads: a ``.npy`` file, or one array of a ``.npz`` file.

Nothing here ever unpickles. The file is recognised by its first bytes (the NumPy magic
string of ``.npy``, the zip signature of ``.npz``), not by its name, so that a text file,
a checkpoint or a folder gets a message that says what it is and what to do instead.
A ``.npz`` file may carry a boolean mask beside the data (``--mask NAME``, True where a
value is left out, as in :mod:`numpy.ma`); the masked count is recorded in the output.

A ``.npy`` header's shape and dtype are checked against the file's size before any data is
read (the scan's check, :func:`~weibull_stats.checkpoints._listing.check_npy_size`). Float
arrays are fitted as they are. Integer arrays are refused: quantized weights need their
scales. 16-bit and 8-bit words (``numpy.save`` writes an ``ml_dtypes.bfloat16`` array as
``|V2``) are read as the float format named by ``--storage``
(:data:`~weibull_stats.sample.storage.BIT_FORMATS`); 8-bit floats are widened exactly to
float32.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from weibull_stats.checkpoints import check_npy_header, check_npy_size
from weibull_stats.sample.storage import BIT_FORMATS

#: First bytes of every ``.npy`` file (``numpy.lib.format.MAGIC_PREFIX``).
NPY_MAGIC = b"\x93NUMPY"
#: First bytes of a zip archive (with members, or empty), which every ``.npz`` file is.
ZIP_MAGIC: tuple[bytes, ...] = (b"PK\x03\x04", b"PK\x05\x06")
#: File names that are checkpoints, read by ``weibull-stats scan``.
CHECKPOINT_SUFFIXES: tuple[str, ...] = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".json")


def load_array(path: str, *, key: str | None = None, mask: str | None = None,
               storage: str | None = None) -> np.ndarray:
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
    storage : str, optional
        The ``--storage`` of the command: read the array's 16-bit or 8-bit words as this
        format of :data:`~weibull_stats.sample.storage.BIT_FORMATS` (:func:`read_storage`).

    Returns
    -------
    numpy.ndarray or numpy.ma.MaskedArray
        A float array (masked when ``mask`` is given).

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        A folder, a file that is neither ``.npy`` nor ``.npz``, an object (pickled) array,
        a ``.npy`` header that declares more data than the file holds, a ``.npz`` file
        without the array asked for, a bad mask, an integer array, or words of a format
        numpy cannot name without ``--storage`` (or of another width than it).
    """
    return read_storage(_load(path, key, mask), storage, path)


def _load(path: str, key: str | None, mask: str | None) -> np.ndarray:
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
    check_npy_size(file)
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
    members = archive.zip
    assert members is not None  # an open archive
    member = f"{name}.npy" if f"{name}.npy" in members.namelist() else name
    with members.open(member) as handle:  # the header against the member's size, before any data
        check_npy_header(handle, members.getinfo(member).file_size, f"array {name!r} of {path}")
    try:
        return np.asarray(archive[name])
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise ValueError(f"array {name!r} of {path} is an object (pickled) array, which is "
                             "never loaded") from None
        raise ValueError(f"array {name!r} of {path} is not readable ({exc})") from None


def _formats(itemsize: int) -> list[str]:
    return [name for name, dtype in BIT_FORMATS.items() if dtype.itemsize == itemsize]


def read_storage(array: Any, storage: str | None, path: str) -> Any:
    """``array`` as the command fits it: floats as they are, words read as ``storage``.

    Without ``storage``, integer arrays and words numpy cannot name (``|V2``) are refused
    with one line that says which ``--storage`` values fit their width. With it, the array
    must hold words of that format's width (any integer or ``|V`` dtype, or that format
    itself); their bits are read as the format, and 8-bit floats are widened exactly to
    float32. A mask is kept.

    Examples
    --------
    >>> read_storage(np.array([0x3F80, 0x4000], dtype=np.uint16), "bfloat16", "w.npy").astype(float)
    array([1., 2.])
    >>> read_storage(np.array([3, 4], dtype=np.int8), None, "w.npy")
    Traceback (most recent call last):
    ...
    ValueError: w.npy holds integers (dtype int8), which are not fitted: quantized weights need their
    scales (dequantize them to floats first); for the bits of 8-bit floats pass --storage float8_e4m3fn
    or --storage float8_e5m2
    """
    data = np.ma.getdata(array)
    dtype = data.dtype
    fits = " or ".join(f"--storage {name}" for name in _formats(dtype.itemsize))
    if storage is None:
        if dtype.kind == "V" and dtype.names is None:
            advice = f"pass {fits} to read them as that format" if fits else "save a float array"
            raise ValueError(f"{path} holds {dtype.itemsize}-byte words of a format numpy cannot name "
                             f"(dtype {dtype.str}, as numpy.save writes ml_dtypes arrays); {advice}")
        if dtype.kind in "iu":
            bits = f"; for the bits of {dtype.itemsize * 8}-bit floats pass {fits}" if fits else ""
            raise ValueError(f"{path} holds integers (dtype {dtype}), which are not fitted: quantized "
                             f"weights need their scales (dequantize them to floats first){bits}")
        return array
    target = BIT_FORMATS[storage]
    if dtype.itemsize != target.itemsize or dtype.names is not None or (dtype.kind not in "iuV"
                                                                        and dtype != target):
        plain = " (float arrays are read as they are without --storage)" if dtype.kind == "f" else ""
        raise ValueError(f"--storage {storage} reads {target.itemsize * 8}-bit words; {path} holds "
                         f"dtype {dtype}{plain}")
    if dtype.kind in "iu" and not dtype.isnative:
        data = data.astype(dtype.newbyteorder("="))
    values = data.view(target)
    if target.itemsize == 1:  # every 8-bit float is a float32: widened exactly
        values = values.astype(np.float32)
    return np.ma.MaskedArray(values, mask=np.ma.getmask(array)) if np.ma.isMaskedArray(array) else values
