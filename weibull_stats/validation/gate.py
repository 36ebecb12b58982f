"""The gate: real weights are fitted only with estimators that passed validation.

:func:`ensure_validated` returns a cached pass for this package version when one covers
the requested estimators, and otherwise runs the quick validation for them
(:func:`weibull_stats.validation.suite.run_quick`, seconds) and caches the pass. The cache
is one JSON file per package version under ``$WEIBULL_STATS_CACHE`` if set, else
``~/.cache/weibull-stats/``. Skipping is explicit (``skip=True``) and the returned record
says so, so that a scan can write it into its output.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from weibull_stats._version import __version__
from weibull_stats.validation._common import DEFAULT_SEED, check_estimators, utc_now

CACHE_ENV = "WEIBULL_STATS_CACHE"


class ValidationFailed(RuntimeError):
    """The quick validation failed; the message names every failed check."""

    def __init__(self, message: str, failed: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.failed = tuple(failed)


@dataclass(frozen=True, slots=True)
class GateRecord:
    """What the gate decided, for the provenance of a scan.

    Attributes
    ----------
    validated : bool
        True when the estimators passed (now or in a cached run of this version).
    skipped : bool
        True when the caller skipped validation explicitly.
    source : {"cache", "run", "skipped"}
    package_version : str
    estimators : tuple of str
        The estimators asked for.
    seed : int or None
        Seed of the validation run that passed.
    validated_at : str or None
        UTC date of that run.
    cache_path : str or None
        The cache file read or written.
    checks : int
        Number of checks in the run that passed (0 when skipped).
    """

    validated: bool
    skipped: bool
    source: str
    package_version: str
    estimators: tuple[str, ...]
    seed: int | None = None
    validated_at: str | None = None
    cache_path: str | None = None
    checks: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["estimators"] = list(self.estimators)
        return data


def cache_dir() -> Path:
    """``$WEIBULL_STATS_CACHE`` if set, else ``~/.cache/weibull-stats``."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "weibull-stats"


def cache_path(version: str = __version__) -> Path:
    """The cache file of one package version."""
    return cache_dir() / f"validation-{version}.json"


def read_cache(path: Path) -> dict[str, Any] | None:
    """The cached pass, or None when absent, unreadable or for another version."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("package_version") != __version__:
        return None
    if not isinstance(data.get("estimators"), list) or data.get("passed") is not True:
        return None
    return data


def record_pass(estimators: Sequence[str], *, seed: int, date: str, checks: int) -> Path:
    """Add ``estimators`` to this version's cached pass (atomic write); return the file."""
    path = cache_path()
    old = read_cache(path)
    merged = sorted(set(estimators) | set(old["estimators"] if old else ()))
    payload = {
        "package_version": __version__,
        "passed": True,
        "estimators": merged,
        "seed": seed,
        "date": date,
        "checks": checks,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    os.replace(temp, path)
    return path


def ensure_validated(estimators: Sequence[str], *, skip: bool = False, progress: Any = None) -> GateRecord:
    """Make sure the quick validation passed for ``estimators`` at this package version.

    Parameters
    ----------
    estimators : sequence of str
        Registered estimator names the caller is about to use on real weights.
    skip : bool, default False
        Skip validation explicitly: nothing runs and the record says ``skipped=True``,
        ``validated=False``, ``source="skipped"``.
    progress : bool, None or ticker, default None
        A bar on stderr while the quick validation runs (None: when stderr is a terminal).

    Returns
    -------
    GateRecord

    Raises
    ------
    ValidationFailed
        The quick validation failed, or an estimator has no derived anchor; the message
        names the failed checks.
    ValueError
        An unknown estimator name, or an empty list.

    Examples
    --------
    >>> record = ensure_validated(["mle"], skip=True)
    >>> record.skipped, record.validated, record.source
    (True, False, 'skipped')
    """
    if isinstance(estimators, str):
        raise TypeError("`estimators` must be a sequence of names, not a single string")
    asked = tuple(dict.fromkeys(estimators))
    if not asked:
        raise ValueError("`estimators` is empty; name at least one registered estimator")
    names = check_estimators(asked)
    if skip:
        return GateRecord(False, True, "skipped", __version__, asked)
    return _validate(asked, names, progress)


def _validate(asked: tuple[str, ...], names: tuple[str, ...], progress: Any = None) -> GateRecord:
    """The cached pass, or the quick run (the anchors need mpmath, the ``validation`` extra).

    The suite is imported here, not at the top: the quadrature behind the anchors needs
    mpmath, an optional dependency, and a skipped gate (and ``import weibull_stats``) must
    not import it. This is the only reason; ``suite`` does not import this module.
    """
    from weibull_stats.validation import anchors
    from weibull_stats.validation.suite import run_quick

    underived = [name for name in names if name not in anchors.ANCHORED_ESTIMATORS]
    if underived:
        raise ValidationFailed(
            f"no exact anchor is derived for {', '.join(underived)}: it cannot be validated "
            "(add its derivation to weibull_stats.validation.anchors)",
            [f"anchor.derivation.{name}" for name in underived],
        )
    path = cache_path()
    cached = read_cache(path)
    if cached is not None and set(names) <= set(cached["estimators"]):
        return GateRecord(
            True,
            False,
            "cache",
            __version__,
            asked,
            cached.get("seed"),
            cached.get("date"),
            str(path),
            int(cached.get("checks", 0)),
        )
    report = run_quick(names, seed=DEFAULT_SEED, progress=progress)
    if not report.passed:
        failed = [c.name for c in report.failed]
        shown = ", ".join(failed[:20]) + (f" and {len(failed) - 20} more" if len(failed) > 20 else "")
        raise ValidationFailed(
            f"quick validation failed for {', '.join(names)} ({len(failed)} of {len(report.checks)} checks): "
            f"{shown}; run `weibull-stats validate --quick` for details",
            failed,
        )
    written = record_pass(names, seed=report.seed, date=report.date or utc_now(), checks=len(report.checks))
    return GateRecord(
        True, False, "run", __version__, asked, report.seed, report.date, str(written), len(report.checks)
    )
