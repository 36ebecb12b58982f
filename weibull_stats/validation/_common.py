"""Shared pieces of the validation suite: seeded child streams, checks, provenance stamps."""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from weibull_stats._version import __version__
from weibull_stats.core.formatting import jsonable
from weibull_stats.core.seeds import check_seed, generator
from weibull_stats.estimators.registry import ESTIMATORS, get_estimator

#: Seed of every study unless ``--seed`` says otherwise.
DEFAULT_SEED = 20260526

#: A simulated mean must lie within this many Monte Carlo standard errors of its target.
Z_LIMIT = 3.0
#: Family-wise false-alarm rate of one family of simulation checks (see :func:`family_z`).
FAMILY_ALPHA = 0.01


def child_rng(seed: int, *key: object) -> np.random.Generator:
    """Generator for the stream named by ``key`` under ``seed``: :func:`weibull_stats.core.seeds.generator`.

    The one seed scheme of the package (:mod:`weibull_stats.core.seeds`); key parts that are not
    ``str`` or ``int`` (a float shape, a trim level) enter as their text. The stream depends
    only on ``seed`` and the key, never on how many other streams were made before it, so
    studies give the same numbers in any order and with any subset of estimators.

    Examples
    --------
    >>> a = child_rng(0, "confirm", "mle", 1000).random()
    >>> b = child_rng(0, "confirm", "mle", 1000).random()
    >>> a == b != child_rng(0, "confirm", "quantile", 1000).random()
    True
    """
    parts: list[str | int] = [
        int(p) if isinstance(p, int | np.integer) and not isinstance(p, bool) else p if isinstance(p, str)
        else str(p)
        for p in key
    ]
    return generator(seed, *parts)


def check_estimators(estimators: Sequence[str] | None) -> tuple[str, ...]:
    """Registered names, in registry order, no repeats; None means all.

    Examples
    --------
    >>> check_estimators(["mle", "probability_plot", "mle"])
    ('probability_plot', 'mle')
    """
    if estimators is None:
        return tuple(ESTIMATORS)
    if isinstance(estimators, str):
        raise TypeError("`estimators` must be a sequence of names, not a single string")
    chosen = []
    for name in estimators:
        get_estimator(name)
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise ValueError("`estimators` is empty; name at least one registered estimator")
    return tuple(n for n in ESTIMATORS if n in chosen)


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
        def number(v: float | None) -> float | None:
            return None if v is None else float(v)

        return jsonable({
            "name": self.name,
            "passed": bool(self.passed),
            "value": number(self.value),
            "target": number(self.target),
            "tolerance": number(self.tolerance),
            "detail": self.detail,
        })


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
    from scipy.stats import norm  # imported on use: importing the gate (and `validate --help`) loads no scipy

    if checks < 1:
        raise ValueError(f"`checks` must be at least 1; got {checks}")
    return max(Z_LIMIT, float(norm.isf(FAMILY_ALPHA / (2 * checks))))


def wilson_interval(count: int, nobs: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval of the binomial proportion ``count / nobs`` at ``confidence``.

    statsmodels' ``proportion_confint(count, nobs, alpha=1 - confidence, method="wilson")``
    (Wilson 1927); the one proportion interval of the suite (coverage, GoF size).

    Examples
    --------
    >>> [round(v, 6) for v in wilson_interval(10, 200, 0.95)]
    [0.027383, 0.089578]
    """
    if isinstance(count, bool) or isinstance(nobs, bool) or nobs < 1 or not 0 <= count <= nobs:
        raise ValueError(f"`count` must lie in [0, nobs] with nobs >= 1; got count={count}, nobs={nobs}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"`confidence` must lie strictly between 0 and 1; got {confidence!r}")
    # statsmodels is imported when first used: the gate imports this module, and statsmodels
    # adds about 0.7 s to `import weibull_stats` (and to every command line)
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(int(count), int(nobs), alpha=1.0 - confidence, method="wilson")
    return max(float(low), 0.0), min(float(high), 1.0)


def utc_now() -> str:
    """ISO 8601 UTC timestamp, seconds resolution."""
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


def stamp(seed: int) -> dict[str, Any]:
    """Provenance recorded with every output: seed, package version and date."""
    return {"seed": seed, "package_version": __version__, "date": utc_now()}


__all__ = [
    "DEFAULT_SEED",
    "FAMILY_ALPHA",
    "Z_LIMIT",
    "Check",
    "check_estimators",
    "check_seed",
    "child_rng",
    "family_z",
    "stamp",
    "utc_now",
    "wilson_interval",
    "within",
]
