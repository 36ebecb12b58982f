"""One simulated goodness-of-fit null per (estimator, options, n, storage, statistic,
Monte Carlo samples, seed), shared by every sample of that size.

For an estimator that declares itself equivariant
(:attr:`~weibull_stats.estimators._core.Estimator.equivariant`), the fitted probability
transforms of ``s * x**p`` are those of ``x``, so the null law of an EDF statistic with
estimated parameters does not depend on the Weibull parameters. The null is then the
refitting Monte Carlo of :func:`~weibull_stats.goodness_of_fit` drawn once from the standard
Weibull(1, 1) law, stored as the data are (:class:`~weibull_stats.inference.nulls.NullModel`,
same seeded streams): with the same seed its statistics equal the per-sample ones up to
rounding (exactly so in float64 up to ~1e-12; float32 rounding is not exactly scale
equivariant, but its relative 6e-8 moves the statistics by far less than their Monte Carlo
error).

Nulls are kept in memory and on disk under the user cache folder
(:func:`weibull_stats.core.cache.cache_dir`, ``$WEIBULL_STATS_CACHE``), in
``gof-nulls/<code digest>/<key digest>.npy``: the code digest
(:func:`~weibull_stats.core.cache.code_digest`) makes sure a null of other code is never
read. ``$WEIBULL_STATS_GOF_CACHE=off`` (or the ``cache=False`` argument) turns the disk
cache off; a cache that cannot be written is a warning, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from weibull_stats.core.cache import cache_dir, code_digest
from weibull_stats.estimators._core import Estimator
from weibull_stats.inference.asymptotic_null import options_key

#: Set to ``off`` (or ``0``, ``false``, ``no``) to keep shared nulls in memory only; set to a
#: folder to keep them there instead of the user cache folder.
GOF_CACHE_ENV = "WEIBULL_STATS_GOF_CACHE"
_OFF = ("off", "0", "false", "no")
#: The seed of a shared null when the caller gives none (:func:`~weibull_stats.goodness_of_fit`
#: with ``rng=None``), so that calls without a seed share one null.
SHARED_SEED = 0
_MEMORY: dict[str, np.ndarray] = {}
_LOCK = threading.Lock()


class GofCacheWarning(UserWarning):
    """A shared goodness-of-fit null could not be written to (or read from) the disk cache."""


@dataclass(frozen=True, slots=True)
class SharedNull:
    """A shared null and where it came from.

    Attributes
    ----------
    statistics : numpy.ndarray
        The ``m`` null statistics (read-only).
    source : {"simulated", "memory", "disk"}
        Simulated now, or reused from the memory or disk cache.
    key : str
        Digest of the key (estimator, options, n, storage, statistic, m, seed).
    """

    statistics: np.ndarray
    source: str
    key: str


def null_key(entry: Estimator, options: Mapping[str, Any], n: int, storage: str, statistic: str,
             m: int, seed: int) -> str:
    """SHA-256 of the null's key (the options in their canonical JSON text)."""
    text = json.dumps({"estimator": entry.name, "options": options_key(options), "n": int(n),
                       "storage": storage, "statistic": statistic, "m": int(m), "seed": int(seed)},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def disk_folder(cache: bool | str | os.PathLike[str] | None = None) -> Path | None:
    """The folder of the disk cache, or None when it is off: ``cache`` if a path, off if
    False; else ``$WEIBULL_STATS_GOF_CACHE`` (a folder, or ``off``), else
    ``<cache_dir()>/gof-nulls``; always under a subfolder named by the code digest."""
    if cache is False:
        return None
    if cache is None or cache is True:
        configured = os.environ.get(GOF_CACHE_ENV, "")
        if configured.strip().lower() in _OFF:
            return None
        base = Path(configured) if configured else cache_dir() / "gof-nulls"
    else:
        base = Path(cache)
    return base / code_digest()[:32]


def _read(path: Path) -> np.ndarray | None:
    try:
        value = np.load(path, allow_pickle=False)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError) as error:
        warnings.warn(f"shared goodness-of-fit null {path} could not be read ({error}); simulating it again",
                      GofCacheWarning, stacklevel=4)
        return None
    return np.asarray(value, dtype=np.float64)


def _write(path: Path, value: np.ndarray) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with open(temp, "wb") as handle:
            np.save(handle, value, allow_pickle=False)
        os.replace(temp, path)
    except OSError as error:
        warnings.warn(f"shared goodness-of-fit null not written to the cache folder {path.parent} "
                      f"({error.strerror or error}); it is kept in memory only", GofCacheWarning,
                      stacklevel=4)


def shared_null(entry: Estimator, options: Mapping[str, Any], n: int, storage: str, statistic: str,
                m: int, seed: int, simulate: Any, cache: bool | str | os.PathLike[str] | None = None
                ) -> SharedNull:
    """The shared null of this key: from memory, else from disk, else ``simulate()`` (the
    refitting Monte Carlo from the standard law), then kept in both."""
    key = null_key(entry, options, n, storage, statistic, m, seed)
    with _LOCK:
        held = _MEMORY.get(key)
    if held is not None:
        return SharedNull(held, "memory", key)
    folder = disk_folder(cache)
    path = None if folder is None else folder / f"{key}.npy"
    if path is not None:
        value = _read(path)
        if value is not None and value.shape == (m,):
            value.flags.writeable = False
            with _LOCK:
                _MEMORY[key] = value
            return SharedNull(value, "disk", key)
    value = np.asarray(simulate(), dtype=np.float64)
    value.flags.writeable = False
    if path is not None and bool(np.isfinite(value).all()):
        _write(path, value)
    with _LOCK:
        _MEMORY[key] = value
    return SharedNull(value, "simulated", key)


def clear_memory() -> None:
    """Forget the shared nulls held in memory (the disk cache is kept)."""
    with _LOCK:
        _MEMORY.clear()
