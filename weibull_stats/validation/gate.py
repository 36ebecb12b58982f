"""The gate: real weights are fitted only with estimators that passed validation.

:func:`ensure_validated` returns a cached pass when one covers the requested estimators and
was made by this very installation, and otherwise runs the quick validation for them
(:func:`weibull_stats.validation.suite.run_quick`, seconds) and caches the pass. The cache
is one JSON file per package version under ``$WEIBULL_STATS_CACHE`` if set, else
``~/.cache/weibull-stats/``. Skipping is explicit (``skip=True``) and the returned record
says so, so that a scan can write it into its output.

A cached pass is trusted only when it proves what was validated: it records the digest of
this installation's code (:func:`code_digest`: every module of the package and its shipped
data, so the validation code, its settings and the estimators it checks), the seed, the
anchors and the table of checks that passed, and a digest over all of that. A file written
by another version or other code, edited by hand, or holding no passed checks is not used:
the quick validation runs again and the record says why (:attr:`GateRecord.note`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from weibull_stats._version import __version__
from weibull_stats.core.cache import CACHE_ENV as CACHE_ENV
from weibull_stats.core.cache import cache_dir, code_digest
from weibull_stats.core.formatting import jsonable
from weibull_stats.validation._common import DEFAULT_SEED, check_estimators, utc_now


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
    note : str or None
        Why a cache file that was there was not used (the validation then ran again).
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
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["estimators"] = list(self.estimators)
        return data


def cache_path(version: str = __version__) -> Path:
    """The cache file of one package version."""
    return cache_dir() / f"validation-{version}.json"


def _content_digest(entry: dict[str, Any]) -> str:
    """SHA-256 over everything a cache entry records but its own digest."""
    body = {key: value for key, value in entry.items() if key != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def check_cache(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """``(entry, None)`` for a cached pass this installation can trust, else ``(None, why)``.

    ``why`` is None when there is no file at all.
    """
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None, None
    except OSError as error:
        return None, f"the cache file could not be read ({error.strerror})"
    try:
        data = json.loads(text)
    except ValueError:
        return None, "the cache file is not valid JSON"
    if not isinstance(data, dict):
        return None, "the cache file does not hold a validation record"
    if data.get("package_version") != __version__:
        return None, f"the cache was written by version {data.get('package_version')!r}, not {__version__}"
    if data.get("code_digest") != code_digest():
        return None, "the cache was written by other code (its code digest differs from this installation's)"
    if data.get("digest") != _content_digest(data):
        return None, "the cache's contents do not match its digest (edited or damaged)"
    results = data.get("results")
    estimators = data.get("estimators")
    if not isinstance(results, list) or not results or data.get("checks") != len(results):
        return None, "the cache records no table of checks"
    if data.get("passed") is not True or not all(isinstance(r, dict) and r.get("passed") is True
                                                  for r in results):
        return None, "the cache does not record a pass of every check"
    anchored = {a.get("estimator") for a in data.get("anchors", []) if isinstance(a, dict)}
    if not isinstance(estimators, list) or not set(estimators) <= anchored:
        return None, "the cache records no anchors for some of its estimators"
    return data, None


def read_cache(path: Path) -> dict[str, Any] | None:
    """The cached pass, or None when absent, unreadable, or not this installation's (see
    :func:`check_cache` for why)."""
    return check_cache(path)[0]


def record_pass(report: Any) -> Path:
    """Add a passed quick run (a :class:`~weibull_stats.validation.suite.ValidationReport`) to
    this installation's cached pass (atomic write); return the file.

    The entry keeps the anchors and the table of checks of every run it merges, the code
    digest, the seed and a digest over all of it.
    """
    if not report.passed or not report.checks:
        raise ValueError("only a validation run whose checks all passed can be cached")
    path = cache_path()
    old = read_cache(path)
    if old is not None and old.get("seed") != report.seed:
        old = None
    results = {r["name"]: r for r in (old["results"] if old else [])}
    results.update({c.name: {"name": c.name, "passed": bool(c.passed)} for c in report.checks})
    anchors = {json.dumps(a, sort_keys=True): a for a in (old["anchors"] if old else [])}
    new_anchors = (jsonable(a.to_dict()) for a in report.anchors)
    anchors.update({json.dumps(d, sort_keys=True): d for d in new_anchors})
    payload: dict[str, Any] = {
        "package_version": __version__,
        "code_digest": code_digest(),
        "passed": True,
        "estimators": sorted(set(report.estimators) | set(old["estimators"] if old else ())),
        "seed": report.seed,
        "date": report.date or utc_now(),
        "checks": len(results),
        "results": [results[name] for name in sorted(results)],
        "anchors": [anchors[key] for key in sorted(anchors)],
    }
    payload["digest"] = _content_digest(payload)
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
    cached, note = check_cache(path)
    if cached is not None and not set(names) <= set(cached["estimators"]):
        cached = None  # a trusted pass of other estimators: run these, then merge
    if cached is not None:
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
    written = record_pass(report)
    return GateRecord(
        True, False, "run", __version__, asked, report.seed, report.date, str(written), len(report.checks),
        None if note is None else f"the cached pass was not used: {note}",
    )
