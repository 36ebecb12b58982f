"""What an estimator's asymptotic hook returns, and where large-sample errors stop holding.

Each estimator module may declare ``asymptotic(sample, /, **options) -> AsymptoticFit``
(the :attr:`~weibull_stats.estimators._core.Estimator.asymptotic` hook): its fit of the
sample and the large-sample standard errors of ``shape`` and ``ln scale``, computed from
the same sort or the same counts as the fit (never a second pass over the raw data where
the estimator can avoid one). The derivation of each estimator's errors is in the docstring
of its own ``_asymptotic`` code; :func:`weibull_stats.confidence_interval` turns them into
intervals.

Where they break down
---------------------
Every formula here is first order in ``1/sqrt(n)``: the estimate is treated as linear in
the empirical distribution (the influence function). Two situations make that wrong, and
:func:`reliability_reason` names them so every estimator warns
(:class:`UnreliableIntervalWarning`) in the same cases:

* **small samples**: fewer than :data:`MIN_USED` values entered the fit. The sampling
  distribution of the shape is then visibly skewed (at ``n = 50`` the MLE shape is about
  3% biased upwards and its spread is itself uncertain by 10%), so a symmetric Wald
  interval undercovers;
* **heavy ties**: fewer than :data:`MIN_DISTINCT` distinct values among the values the fit
  used. The empirical quantile function is then a staircase of a few steps and the
  estimate moves in jumps as counts cross the trim edges or the probabilities; the
  density (sparsity) estimates of the order-statistic estimators have nothing smooth to
  measure. bfloat16 matrices of real models have thousands of distinct values in the
  middle 80% and are not affected.

The warning is a warning, not an error: the numbers are still the first-order ones, and
the bootstrap (``method="bootstrap"``) is the alternative to use there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from weibull_stats.estimators.results import WeibullFit

#: Fewest values in the fit from which the first-order errors are not flagged.
MIN_USED = 100
#: Fewest distinct values among the fitted ones from which they are not flagged.
MIN_DISTINCT = 30


class UnreliableIntervalWarning(UserWarning):
    """Asymptotic standard errors of a sample where first-order theory is not to be trusted:
    too few values in the fit, or too few distinct values among them (see
    :mod:`weibull_stats.estimators._asymptotic`). Use the bootstrap there."""


@dataclass(frozen=True, slots=True)
class AsymptoticFit:
    """An estimator's fit with the large-sample standard errors of ``shape`` and ``ln scale``.

    Attributes
    ----------
    fit : WeibullFit
        The estimator's fit of the sample, equal to its one-sample function's.
    shape_se : float
        Standard error of ``shape``.
    log_scale_se : float
        Standard error of ``ln scale`` (the scale interval is ``exp`` of its interval).
    method : str
        How the errors were computed (one line).
    distinct_used : int
        Distinct values among those that entered the fit (the tie check).
    warning : str or None
        An estimator's own reason not to trust the errors for this sample, beside the
        generic ones of :func:`reliability_reason` (quantile matching: a quantile whose
        spread is below one cell of the storage format).
    """

    fit: WeibullFit
    shape_se: float
    log_scale_se: float
    method: str
    distinct_used: int
    warning: str | None = None

    def __post_init__(self) -> None:
        for name in ("shape_se", "log_scale_se"):
            value = float(getattr(self, name))
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f"the {self.fit.estimator} asymptotic `{name}` is {value!r}; "
                                 "the first-order variance is not defined for this sample")
            object.__setattr__(self, name, value)


@dataclass(frozen=True, slots=True)
class CoverageCaveat:
    """Where the coverage study finds an estimator's default asymptotic interval systematically
    off nominal (``validation/results/coverage_misses``: a miss that Holm's correction over
    every row does not explain): a sample it applies to gets ``text`` as its
    ``interval_warning`` (and :class:`UnreliableIntervalWarning`).

    The estimator declares its caveats (``Estimator.caveats``); ``tests/test_coverage_study.py``
    checks every systematic miss of the committed study against them.

    Attributes
    ----------
    text : str
        One line: which way the interval errs, by how much, and what to use instead.
    from_n : int
        Smallest sample size (values, before any trim) it applies to.
    storages : tuple of str or None
        Storage formats it applies to (``"bfloat16"``, ``"float64"``, ...); None: every one.

    Examples
    --------
    >>> caveat = CoverageCaveat("conservative", from_n=10**6, storages=("float64", "float32"))
    >>> caveat.applies(10**7, "float32"), caveat.applies(10**7, "bfloat16"), caveat.applies(10**5, "float64")
    (True, False, False)
    """

    text: str
    from_n: int = 0
    storages: tuple[str, ...] | None = None

    def applies(self, n: int, storage: str) -> bool:
        """Whether a sample of ``n`` values stored as ``storage`` is covered."""
        return n >= self.from_n and (self.storages is None or storage in self.storages)


def reliability_reason(n_used: int, distinct_used: int) -> str | None:
    """Why first-order errors are not to be trusted for a fit of ``n_used`` values with
    ``distinct_used`` distinct ones, or None.

    Examples
    --------
    >>> reliability_reason(50, 50)
    'only 50 values entered the fit (asymptotic errors need about 100); use the bootstrap'
    >>> reliability_reason(10_000, 12)
    'only 12 distinct values entered the fit (heavy ties; asymptotic errors need about 30); use the bootstrap'
    >>> reliability_reason(10_000, 5000) is None
    True
    """
    if n_used < MIN_USED:
        return (f"only {n_used} values entered the fit (asymptotic errors need about {MIN_USED}); "
                "use the bootstrap")
    if distinct_used < MIN_DISTINCT:
        return (f"only {distinct_used} distinct values entered the fit (heavy ties; asymptotic "
                f"errors need about {MIN_DISTINCT}); use the bootstrap")
    return None


def distinct_in_ranks(ends: np.ndarray, lo: int, hi: int) -> int:
    """Distinct values of a counts sample among the 1-based ranks ``lo..hi`` (``ends``: the
    cumulative counts, the rank of each value's last copy)."""
    first = int(np.searchsorted(ends, lo, side="left"))
    last = int(np.searchsorted(ends, hi, side="left"))
    return last - first + 1


def distinct_sorted(values: np.ndarray, cap: int = MIN_DISTINCT) -> int:
    """Distinct values of an ascending array, counted exactly up to ``cap`` (above it the
    count is only known to exceed it and ``cap`` plus the steps seen is returned).

    Looks at ``4 cap`` evenly spaced positions first, so a sample with many distinct values
    costs O(cap); only a heavily tied one is counted in full.
    """
    size = values.size
    if size == 0:
        return 0
    probe = values[np.linspace(0, size - 1, min(size, 4 * cap)).astype(np.intp)]
    steps = int(np.count_nonzero(np.diff(probe))) + 1
    if steps >= cap:
        return steps
    return int(np.count_nonzero(np.diff(values))) + 1


def distinct_values(values: np.ndarray | None, distinct: np.ndarray | None, cap: int = MIN_DISTINCT) -> int:
    """Distinct magnitudes of a sample (raw ``values`` in any order, or a counts sample's
    ``distinct``), exact up to ``cap``: a raw sample is probed at ``4 cap`` positions first,
    and only counted in full (:func:`numpy.unique`) when the probe finds fewer than ``cap``."""
    if distinct is not None:
        return int(distinct.size)
    assert values is not None
    probe = values[np.linspace(0, values.size - 1, min(values.size, 4 * cap)).astype(np.intp)]
    found = int(np.unique(probe).size)
    return found if found >= cap else int(np.unique(values).size)
