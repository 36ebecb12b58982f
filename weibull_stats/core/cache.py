"""The package's user cache folder and the digest of its code.

The folder is ``$WEIBULL_STATS_CACHE`` if set, else ``~/.cache/weibull-stats``: the
validation gate keeps its passes there, goodness of fit its shared nulls. The digest
(:func:`code_digest`) keys both, so nothing computed by other code is ever reused.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

CACHE_ENV = "WEIBULL_STATS_CACHE"


def cache_dir() -> Path:
    """``$WEIBULL_STATS_CACHE`` if set, else ``~/.cache/weibull-stats``."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "weibull-stats"


@functools.cache
def code_digest() -> str:
    """SHA-256 of this installation's code: every module of the package and its data files.

    Any change to the validation code, its settings (seeds, sizes, tolerances are code), the
    estimators or the shipped tables gives another digest, so a cached pass of other code is
    never taken for this one.
    """
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    files = sorted([*root.rglob("*.py"), *root.joinpath("data").glob("*")])
    for file in files:
        digest.update(file.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()
