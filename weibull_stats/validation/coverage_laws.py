r"""The laws of the coverage study, how a replicate is drawn from each, and the target its
intervals must cover.

Real weights are neither Weibull nor small, so the study
(:mod:`weibull_stats.validation.coverage`) draws from laws like them:

* ``halfnormal``: ``0.02 |Z|``, Gaussian initialisation (the anchor population);
* ``weibull(k=1.5)``: a true Weibull law (scale 1), where every estimator but histogram mode
  is consistent for the true parameters;
* ``abs_t(nu=5)``: ``0.02 |T_5|``, heavy tails (finite moments below order 5);
* ``abs_laplace``: ``0.02 |L|`` for a Laplace ``L``. ``|L|`` is exactly exponential, a Weibull
  law of shape 1, so every estimator but histogram mode targets ``(1, 0.02)``;
* ``gaussian_mixture(r=3)``: ``0.02 |Z|`` with ``Z`` from ``N(0, 1)`` with probability 0.9, else
  ``N(0, 9)``: the wide shoulders of trained matrices;
* ``minilm``: the empirical law of a real matrix, all-MiniLM-L6-v2's
  :data:`MINILM_MATRIX` (589,824 values) stored in bfloat16: a discrete law over its distinct
  stored magnitudes, each with its count's share (bf16 only: the law *is* the stored values).

Replicates
----------
float64 rows draw ``n`` values of the continuous law. 16-bit rows draw the *counts* of the
stored law directly: one multinomial over the cells of the law rounded to the storage grid
(:func:`~weibull_stats.validation.stored.law_counts`; for ``minilm`` the matrix's own
counts), O(cells) whatever ``n``, which is what makes ``n = 10^8`` cheap. A sample of ``n``
values rounded to bf16 is exactly such a multinomial, so the two routes give samples of the
same law.

Targets
-------
What an interval must cover is the estimator's limit under the law *as stored*
(:func:`coverage_target`): the exact limit (quadrature of the estimator's population hook,
:mod:`weibull_stats.validation.anchors`) for float64; for 16-bit storage the quadrature on the
rounded law where the hook reads only the quantile function, else the estimator applied to the
rounded law's cell probabilities (:func:`~weibull_stats.validation.stored.discrete_limit`);
for ``minilm`` the estimator applied to the matrix's own counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from weibull_stats.sample.checked import as_sample
from weibull_stats.validation.anchors import HISTOGRAM_SIGMA, exact_limit, population_hook
from weibull_stats.validation.populations import HALFNORMAL, Population, abs_t, gaussian_mixture, weibull
from weibull_stats.validation.stored import (
    RoundedPopulation,
    draw_patterns,
    evaluable_on_rounded_law,
    fit_of_counts,
    law_counts,
    round_to_storage,
)

#: The Weibull population's true shape (scale 1).
COVERAGE_SHAPE = 1.5
#: The matrix of the embedded real model whose bf16 values are the empirical law.
MINILM_MATRIX = "encoder.layer.2.intermediate.dense.weight"
STORAGES: tuple[str, ...] = ("float64", "bfloat16")


@dataclass(frozen=True, slots=True)
class CoverageLaw:
    """One law of the study.

    Attributes
    ----------
    law : Population or None
        The continuous law at scale 1; None for the empirical law of a stored matrix.
    sigma : float
        Absolute scale of the draws (``sigma * law``).
    storages : tuple of str
        The storages the study draws it in.
    """

    law: Population | None
    sigma: float
    storages: tuple[str, ...] = STORAGES


#: Study name -> law. ``abs_laplace`` is the exponential law (module docstring).
LAWS: dict[str, CoverageLaw] = {
    "halfnormal": CoverageLaw(HALFNORMAL, HISTOGRAM_SIGMA),
    f"weibull(k={COVERAGE_SHAPE:g})": CoverageLaw(weibull(COVERAGE_SHAPE), 1.0),
    "abs_t(nu=5)": CoverageLaw(abs_t(5), HISTOGRAM_SIGMA),
    "abs_laplace": CoverageLaw(weibull(1.0), HISTOGRAM_SIGMA),
    "gaussian_mixture(r=3)": CoverageLaw(gaussian_mixture(3), HISTOGRAM_SIGMA),
    "minilm": CoverageLaw(None, 1.0, ("bfloat16",)),
}


@dataclass(frozen=True, slots=True)
class Target:
    """What an interval must cover: the estimator's limit under the population as stored.

    ``shape`` and ``scale`` are None where no limit is derived; ``source`` says which.
    """

    shape: float | None
    scale: float | None
    source: str


@lru_cache(maxsize=8)
def stored_counts(population: str, storage: str) -> np.ndarray:
    """The law ``population`` as stored: counts of the 2^16 ``storage`` bit patterns."""
    spec = LAWS[population]
    if spec.law is not None:
        return law_counts(spec.law, spec.sigma, storage)
    from weibull_stats.checkpoints.readers import resolve_paths

    [checkpoint] = resolve_paths(["minilm"])
    stored = round_to_storage(np.abs(checkpoint.read(MINILM_MATRIX).astype(np.float64)).ravel(), storage)
    patterns = np.bincount(stored.view(np.uint16), minlength=1 << 16).astype(np.int64)
    patterns[0] = 0  # +0: a weight that rounds to zero is not a positive value (none do here)
    return patterns


def coverage_target(estimator: str, population: str, storage: str) -> Target:
    """The limit of ``estimator``'s default fit under ``population`` stored as ``storage``.

    Examples
    --------
    >>> coverage_target("mle", "weibull(k=1.5)", "float64")
    Target(shape=1.5, scale=1.0, source='exact limit')
    >>> coverage_target("mle", "halfnormal", "bfloat16").source
    'the estimator on the bfloat16-rounded law (cell probabilities)'
    """
    spec = LAWS[population]
    hook = population_hook(estimator)
    if spec.law is None:
        shape, scale = fit_of_counts(estimator, stored_counts(population, storage), storage)
        return Target(shape, scale, f"the estimator on the matrix's own {storage} counts (the law)")
    if storage == "float64":
        at: Any = spec.law.at_sigma(spec.sigma) if hook.absolute_scale else spec.law
        source = "exact limit"
    elif evaluable_on_rounded_law(hook):
        at = RoundedPopulation(spec.law, storage, spec.sigma)
        source = f"exact limit of the {storage}-rounded law"
    else:  # the hook reads what a rounded law does not offer (moments, the CDF)
        shape, scale = fit_of_counts(estimator, stored_counts(population, storage), storage)
        return Target(shape, scale, f"the estimator on the {storage}-rounded law (cell probabilities)")
    shape, scale, _ = exact_limit(estimator, at, **hook.option_sets[0])
    return Target(float(shape), float(scale) * spec.sigma, source)


def law_options(estimator: str) -> dict[str, Any]:
    """The options a replicate is fitted with: those the estimator's population hook declares
    for fitting a law (``law_options``), so the fits tend to the target. Histogram mode's is
    ``outside="omit"``: at ``n = 10^8`` a half-normal sample holds values below its grid's
    ``10^-12`` (probability ``4e-11`` each), which its default refuses."""
    return dict(population_hook(estimator).law_options)


def draw_values(population: str, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` float64 values of a continuous ``population`` at its absolute scale."""
    spec = LAWS[population]
    if spec.law is None:
        raise ValueError(f"population {population!r} is an empirical stored law: it has no float64 draws")
    return spec.sigma * spec.law.sample(rng, (n,))


def draw_sample(population: str, storage: str, rng: np.random.Generator, n: int) -> Any:
    """One replicate: ``n`` float64 values, or the multinomial counts of ``n`` stored values."""
    if storage == "float64":
        return as_sample(draw_values(population, rng, n))
    return draw_patterns(stored_counts(population, storage), storage, rng, n)


def stored_values(population: str, storage: str, rng: np.random.Generator, n: int) -> Any:
    """``n`` float64 draws rounded to ``storage`` (the same draws in both storages: the
    bootstrap cases pair them)."""
    x = draw_values(population, rng, n)
    return as_sample(x if storage == "float64" else round_to_storage(x, storage))
