"""Degenerate samples: the one set of rules every estimator applies, and their warnings.

A Weibull law has two parameters. Some samples pass every input check (positive, finite,
not constant) and still cannot tell the shape: every estimator then returns a number, but
the number is set by the rounding of the data or by two points, not by a distribution.
:func:`degenerate_reason` decides, from the :class:`~weibull_stats.Sample` alone, whether a
sample is one of them, so that every registered estimator (and so the bootstrap and the
goodness-of-fit test, which fit the data with one) warns in exactly the same situations:

* **few values**: fewer than :data:`MIN_VALUES` (10) usable values. The relative error
  ``shape_hat / shape`` of a fit does not depend on the true shape or scale; under a
  Weibull law at ``n = 10`` the central 90% of the maximum-likelihood ``shape_hat / shape``
  spans 0.73 to 1.81 and its median is 10% high (log-moment: 0.66 to 1.85), wider and more
  biased below (``n = 5``: 0.69 to 2.86), so a shape from fewer values does not distinguish
  the paper's transmission band from its selection band.
* **few distinct values**: fewer than :data:`MIN_DISTINCT` (3) distinct magnitudes. Two
  points (with any multiplicities) are fitted exactly by a two-parameter law: the shape is
  whatever the two values and the estimator's weights make it.
* **near-constant**: a relative spread ``(max - min) / max`` below
  :data:`NEAR_CONSTANT_STEPS` (64) machine epsilons of the storage format (bfloat16
  ``2^-7``, float16 ``2^-10``, float32 ``2^-23``, float64 ``2^-52``), that is fewer than
  about 64 to 128 representable values between the smallest and the largest. Each stored
  value is rounded by up to half a step, so the spread, and the fitted shape that scales as
  its inverse, is set by the rounding to no better than about ``1/64 = 1.6%``, the width
  of the paper's transmission band (median shapes 1.186 to 1.204): the shape then measures
  the storage grid as much as the data (float64 data ``1 + 1e-15 i``, ``i < 10``, give shapes
  near ``3e15``). For bfloat16 this flags samples within a factor of about 2; real weight
  matrices span many binades.

Each estimator's one-sample fit warns :class:`DegenerateSampleWarning` with the reason
(the condition and its numbers) and records it as ``details["degenerate"]`` of the
:class:`~weibull_stats.WeibullFit`; it still fits, or raises its own error where its fit
is undefined (a trimmed probability plot of 2 values). Resamples and Monte Carlo samples
are fitted by the kernels and never warn. The bootstrap warns
:class:`FewResamplesWarning` (a subclass) when there are too few resamples for the
interval asked (:func:`few_resamples_reason`).

Examples
--------
>>> degenerate_reason(ws.as_sample(np.array([1.0, 2.0, 2.0, 1.0] * 5)))
'`x` has 2 distinct values (at least 3 are needed to estimate a Weibull shape)'
>>> degenerate_reason(ws.as_sample(np.random.default_rng(0).weibull(1.5, 100))) is None
True
"""

from __future__ import annotations

import math

import numpy as np

from weibull_stats.sample.checked import Sample

#: Fewest usable values from which a fit is not flagged.
MIN_VALUES = 10
#: Fewest distinct magnitudes from which a fit is not flagged.
MIN_DISTINCT = 3
#: A relative spread below this many machine epsilons of the storage format is near-constant.
NEAR_CONSTANT_STEPS = 64
#: Machine epsilon (spacing of the values in [1, 2)) of each storage format.
EPSILON: dict[str, float] = {
    "bfloat16": 2.0**-7, "float16": 2.0**-10, "float32": 2.0**-23, "float64": 2.0**-52,
}
#: Values examined for a third distinct value before a full pass over a raw sample.
PROBE = 4096
#: Relative slack of the resample-count rule.
SLACK = 1e-9


class DegenerateSampleWarning(UserWarning):
    """A fit of a sample that cannot determine a Weibull shape: very few values, fewer
    than three distinct values, or data constant to the storage precision.

    The message names the condition and its numbers; the fit records it as
    ``details["degenerate"]``. See :mod:`weibull_stats.sample.degenerate` for the rules.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     fit = ws.fit_mle(np.array([1.0, 2.0]))
    >>> caught[0].category is ws.DegenerateSampleWarning, fit.details["degenerate"]
    (True, '`x` has 2 usable values (at least 10 are needed to estimate a Weibull shape reliably)')
    """


class FewResamplesWarning(DegenerateSampleWarning):
    """A bootstrap interval from too few resamples to reach its confidence level (see
    :func:`few_resamples_reason`)."""


def distinct_up_to_three(sample: Sample) -> int:
    """Distinct magnitudes of ``sample``, counted up to 3 (1, 2 or 3 meaning "3 or more").

    O(1) on a counts sample; on a raw one a minimum, a maximum and a search for a value
    strictly between them (the first :data:`PROBE` values first, the rest only if needed).

    Examples
    --------
    >>> distinct_up_to_three(ws.as_sample(np.array([1.0, 3.0, 1.0, 3.0]), form="raw"))
    2
    """
    low, high = _extremes(sample)
    return _distinct(sample, low, high)


def _distinct(sample: Sample, low: float, high: float) -> int:
    if sample.distinct is not None:
        return min(int(sample.distinct.size), 3)
    x = sample.magnitudes
    assert x is not None
    if low == high:
        return 1
    head = x[:PROBE]
    if np.any((head > low) & (head < high)) or np.any((x > low) & (x < high)):
        return 3
    return 2


def _extremes(sample: Sample) -> tuple[float, float]:
    if sample.distinct is not None:
        return float(sample.distinct[0]), float(sample.distinct[-1])
    assert sample.magnitudes is not None
    return float(sample.magnitudes.min()), float(sample.magnitudes.max())


def degenerate_reason(sample: Sample, name: str = "x") -> str | None:
    """Why ``sample`` cannot determine a Weibull shape, or ``None`` when it can.

    The rules (module documentation) are checked in order: few values, few distinct values,
    near-constant. O(1) on a counts sample; on a raw sample a minimum and a maximum, and a
    full pass only when the first :data:`PROBE` values hold no third distinct value.

    Parameters
    ----------
    sample : Sample
        A checked sample.
    name : str, default "x"
        Argument name used in the message.

    Returns
    -------
    str or None

    Examples
    --------
    >>> degenerate_reason(ws.as_sample(1.0 + 1e-16 * np.arange(20)))  # doctest: +ELLIPSIS
    '`x` is near-constant: relative spread 2e-15 = 9 float64 epsilons (below 64; ...)'
    """
    size = sample.size
    if size < MIN_VALUES:
        return (f"`{name}` has {size} usable values (at least {MIN_VALUES} are needed to estimate "
                "a Weibull shape reliably)")
    low, high = _extremes(sample)
    distinct = _distinct(sample, low, high)
    if distinct < MIN_DISTINCT:
        return (f"`{name}` has {distinct} distinct values (at least {MIN_DISTINCT} are needed to "
                "estimate a Weibull shape)")
    epsilon = EPSILON[sample.storage]
    spread = (high - low) / high
    if spread < NEAR_CONSTANT_STEPS * epsilon:
        return (f"`{name}` is near-constant: relative spread {spread:.2g} = {spread / epsilon:.2g} "
                f"{sample.storage} epsilons (below {NEAR_CONSTANT_STEPS}; the shape is set by the "
                "rounding of the stored values)")
    return None


def few_resamples_reason(n_resamples: int, tail: float, method: str) -> str | None:
    """Why ``n_resamples`` are too few for an interval whose smaller tail probability is
    ``tail``, or ``None``.

    An interval endpoint at tail probability ``p`` is an order statistic of the ``M``
    bootstrap estimates only when ``(M + 1) p >= 1``; below that it lies at or beyond the
    most extreme estimate. The range of ``M`` exchangeable estimates holds a further one
    with probability ``(M - 1) / (M + 1)``, so it cannot reach level ``1 - 2 p`` when
    ``(M + 1) p < 1``; with one resample the interval has zero width. For a 95% percentile
    interval (``p = 0.025``) this asks for ``M >= 39``; BCa checks its adjusted tails.

    Examples
    --------
    >>> few_resamples_reason(999, 0.025, "percentile") is None
    True
    >>> few_resamples_reason(19, 0.025, "percentile")  # doctest: +ELLIPSIS
    '19 resamples are too few for a percentile interval with tail probability 0.025: ...'
    """
    # a relative slack absorbs the rounding of 1 - level (1 - 0.9 is 0.09999999999999998)
    if not (n_resamples + 1) * tail < 1.0 - SLACK:
        return None
    needed = math.ceil(1.0 / tail - 1.0 - SLACK) if tail > 0 else math.inf
    return (f"{n_resamples} resamples are too few for a {method} interval with tail probability "
            f"{tail:.3g}: (n_resamples + 1) * {tail:.3g} < 1, so an endpoint lies at or beyond the most "
            f"extreme bootstrap estimate and the interval cannot reach its level; use at least {needed}")
