"""Lazy numba compilation of the kernels of :mod:`weibull_stats.core.kernels`, and their cache.

A kernel is compiled on its first call in a process (:func:`call`); numba is imported only
then, so ``import weibull_stats`` does not pay for it. Kernels are compiled with
``cache=True``: the machine code is kept in ``__pycache__`` beside the kernels' module, or,
where the package folder is read-only, in the user's cache folder
(``$XDG_CACHE_HOME/weibull-stats/numba``, by default ``~/.cache/weibull-stats/numba``;
``NUMBA_CACHE_DIR`` set by the user wins). Where neither can be written the kernels are
compiled without a cache and a :class:`KernelCacheWarning` says so once: a failure to cache is
never an error.
"""

from __future__ import annotations

import os
import tempfile
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Folder of the compiled-kernel cache under the user's cache folder.
USER_CACHE = ("weibull-stats", "numba")



class KernelCacheWarning(RuntimeWarning):
    """The compiled kernels could not be cached: each new process compiles them again."""


def user_cache_folder() -> Path:
    """The kernels' cache folder under the user's cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, *USER_CACHE)


def writable(folder: Path) -> bool:
    """Whether a file can be created in ``folder`` (made if missing)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


def cache_folder() -> Path | None:
    """Where the compiled kernels are cached: ``NUMBA_CACHE_DIR`` if the user set it, else
    ``__pycache__`` beside the kernels if it can be written, else :func:`user_cache_folder` if
    it can be written, else ``None`` (no cache)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    if writable(_in_tree()):
        return _in_tree()
    user = user_cache_folder()
    return user if writable(user) else None


def _in_tree() -> Path:
    """numba's own cache folder for the kernels (:mod:`weibull_stats.core.kernels`, beside this
    module): ``__pycache__`` beside them."""
    return Path(__file__).resolve().parent / "__pycache__"


_LOCK = threading.Lock()
_COMPILED: dict[Callable[..., Any], Any] = {}
_FOLDER: list[Path | None] = []
_OPTIONS: dict[Callable[..., Any], dict[str, Any]] = {}

#: LLVM may reorder a kernel's sums (several accumulators, so a loop is vectorised) and fuse a
#: multiply and an add; it keeps NaN, infinities and IEEE division (numba's ``fastmath`` flags).
REASSOCIATE = frozenset({"reassoc", "contract", "nsz"})


def vectorised(function: Callable[..., Any]) -> Callable[..., Any]:
    """Mark the kernel ``function`` to be compiled with :data:`REASSOCIATE`: its reductions are
    then summed in several lanes (a different rounding, as accurate) and its loop vectorised."""
    _OPTIONS[function] = {"fastmath": set(REASSOCIATE)}
    return function


def compiled(function: Callable[..., Any]) -> Any:
    """The numba dispatcher of the kernel ``function`` (compiled on its first call, from the
    cache when there is one). numba is imported here, on the first request."""
    kernel = _COMPILED.get(function)
    if kernel is not None:
        return kernel
    with _LOCK:
        if function not in _COMPILED:
            _COMPILED[function] = _jit(function)
    return _COMPILED[function]


def _jit(function: Callable[..., Any]) -> Any:
    import numba
    from numba.core import config as numba_config

    config: Any = numba_config  # its settings are module attributes read from the environment
    if not _FOLDER:
        _FOLDER.append(cache_folder())
        if _FOLDER[0] is None:
            warnings.warn(
                f"the compiled kernels cannot be cached (the package folder and {user_cache_folder()} "
                "are not writable; set NUMBA_CACHE_DIR to a writable folder): each new process compiles "
                "them again", KernelCacheWarning, stacklevel=4)
    folder = _FOLDER[0]
    options = _OPTIONS.get(function, {})
    if folder is None:
        return numba.njit(nogil=True, **options)(function)
    # numba's cache locator reads its CACHE_DIR when the dispatcher is made: point it at our
    # folder for this call only, so that other numba users in the process keep theirs
    saved = config.CACHE_DIR
    config.CACHE_DIR = "" if folder == _in_tree() else str(folder)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", numba.NumbaWarning)
            return numba.njit(nogil=True, cache=True, **options)(function)
    except (OSError, RuntimeError, numba.NumbaWarning) as error:
        warnings.warn(f"the compiled kernels cannot be cached ({error}): each new process compiles them "
                      "again", KernelCacheWarning, stacklevel=4)
        return numba.njit(nogil=True, **options)(function)
    finally:
        config.CACHE_DIR = saved


def call(function: Callable[..., Any], *args: Any) -> Any:
    """Run the kernel ``function`` compiled; a cache that fails while saving becomes a warning
    and an uncached kernel."""
    try:
        return compiled(function)(*args)
    except OSError as error:
        import numba

        warnings.warn(f"the compiled kernel {function.__name__!r} could not be cached ({error}); compiled "
                      "without a cache", KernelCacheWarning, stacklevel=2)
        with _LOCK:
            _COMPILED[function] = numba.njit(nogil=True, **_OPTIONS.get(function, {}))(function)
        return _COMPILED[function](*args)


__all__ = ["REASSOCIATE", "KernelCacheWarning", "cache_folder", "call", "compiled", "user_cache_folder",
           "vectorised", "writable"]
