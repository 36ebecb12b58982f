"""Shared pieces of the validation suite: seeded child streams, checks, provenance stamps."""

from __future__ import annotations

import datetime as _dt
import math
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from weibull_stats._version import __version__

#: Seed of every study unless ``--seed`` says otherwise.
DEFAULT_SEED = 20260526

#: A simulated mean must lie within this many Monte Carlo standard errors of its target.
Z_LIMIT = 3.0
#: Family-wise false-alarm rate of one family of simulation checks (see :func:`family_z`).
FAMILY_ALPHA = 0.01


def check_seed(seed: Any) -> int:
    """A non-negative integer seed (recorded with every output)."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer; got {seed!r}")
    return int(seed)


def child_rng(seed: int, *key: object) -> np.random.Generator:
    """Generator for the stream named by ``key`` under ``seed``.

    The stream depends only on ``seed`` and the key (CRC-32 of each part's text as the
    ``SeedSequence`` spawn key), never on how many other streams were made before it, so
    studies give the same numbers in any order and with any subset of estimators.

    Examples
    --------
    >>> a = child_rng(0, "confirm", "mle", 1000).random()
    >>> b = child_rng(0, "confirm", "mle", 1000).random()
    >>> a == b != child_rng(0, "confirm", "quantile", 1000).random()
    True
    """
    spawn_key = tuple(zlib.crc32(str(part).encode()) for part in key)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=spawn_key))


@dataclass(frozen=True, slots=True)
class Check:
    """One pass/fail check of the suite.

    Attributes
    ----------
    name : str
        Stable dotted name, e.g. ``simulation.halfnormal.mle.n=1000.shape``.
    passed : bool
    value, target : float or None
        What was measured and what it was compared with.
    tolerance : float or None
        The allowed absolute difference (for simulations ``Z_LIMIT`` standard errors).
    detail : str
        One line for humans.
    """

    name: str
    passed: bool
    value: float | None = None
    target: float | None = None
    tolerance: float | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        def clean(v: float | None) -> float | None:
            return None if v is None or not math.isfinite(v) else float(v)

        return {
            "name": self.name,
            "passed": bool(self.passed),
            "value": clean(self.value),
            "target": clean(self.target),
            "tolerance": clean(self.tolerance),
            "detail": self.detail,
        }


def within(name: str, value: float, target: float, tolerance: float, detail: str = "") -> Check:
    """``Check`` that ``|value - target| <= tolerance`` (NaN fails)."""
    ok = bool(math.isfinite(value) and abs(value - target) <= tolerance)
    return Check(name, ok, value, target, tolerance, detail)


def family_z(checks: int) -> float:
    """Standard-error multiple for a family of ``checks`` simulation checks.

    Each check alone would use :data:`Z_LIMIT` = 3 (a 0.27% false-alarm rate), but a run
    makes many: 100 checks at 3 SE fail somewhere in 24% of seeds although nothing is
    wrong. The limit is therefore the Bonferroni bound ``z`` with
    ``P(|Z| > z) = FAMILY_ALPHA / checks``, never below 3: 3.66 for 40 checks, 3.89 for 100.

    Examples
    --------
    >>> round(family_z(1), 2), round(family_z(40), 2), round(family_z(100), 2)
    (3.0, 3.66, 3.89)
    """
    from scipy.stats import norm

    if checks < 1:
        raise ValueError(f"`checks` must be at least 1; got {checks}")
    return max(Z_LIMIT, float(norm.isf(FAMILY_ALPHA / (2 * checks))))


def utc_now() -> str:
    """ISO 8601 UTC timestamp, seconds resolution."""
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


def stamp(seed: int) -> dict[str, Any]:
    """Provenance recorded with every output: seed, package version and date."""
    return {"seed": seed, "package_version": __version__, "date": utc_now()}
