"""The one resampling engine behind bootstrap intervals and goodness-of-fit p-values.

It only draws batches and hands them to the estimator's kernel; the estimator only fits
rows. It uses of a registry entry nothing but ``kernel``, ``check`` (through
:meth:`~weibull_stats.estimators._core.Estimator.sample`), ``plan`` and its ``min_n``.

* Randomness: work is cut into fixed blocks of :data:`BLOCK` replicates; block ``b`` of a
  run with seed ``s`` draws from ``seeds.generator(s, purpose, b)`` (``purpose`` is
  ``"bootstrap"``, ``"parametric"`` or ``"null"``), so results do not depend on the number
  of worker threads, and a result can be extended later with new blocks of the same seed.
* Nonparametric resamples: a counts sample's resample is ``Multinomial(n, counts / n)`` over
  its distinct values, a :class:`~weibull_stats.sample.batch.CountRows` row (O(d) per resample); a
  raw sample goes through the estimator's ``plan`` (order-statistic fast path, no resample
  formed) from ``plan.min_n`` values on, else through ``(rows, n)`` index resamples as
  :class:`~weibull_stats.sample.batch.RawRows`.
* Parametric resamples and goodness-of-fit null samples: drawn as the data are stored
  (:mod:`weibull_stats.inference.nulls`).
* The BCa acceleration: grouped jackknife, ``G`` delete-a-group fits in one kernel call; on
  counts the random partition of the ``n`` values into groups is drawn group by group with
  :meth:`numpy.random.Generator.multivariate_hypergeometric`: O(G d).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from weibull_stats.core.progress import ProgressOption, progress_bar
from weibull_stats.core.seeds import generator as stream
from weibull_stats.estimators import Estimator
from weibull_stats.estimators.registry import ESTIMATORS, get_estimator
from weibull_stats.estimators.results import WeibullFit
from weibull_stats.inference.edf import batch_statistic
from weibull_stats.inference.nulls import NullModel
from weibull_stats.sample.batch import Batch, CountRows, Lines, RawRows
from weibull_stats.sample.checked import Sample

#: Replicates per block; each block has its own random stream.
BLOCK = 32
#: Bytes of working memory one worker may use for a batch of rows.
MEMORY_PER_WORKER = 1 << 28
#: Groups of the grouped jackknife that estimates the BCa acceleration.
JACKKNIFE_GROUPS = 50

BlockFunction = Callable[[np.random.Generator, int], np.ndarray]


def check_workers(workers: Any) -> int:
    """``None`` means every CPU; otherwise a positive int."""
    if workers is None:
        return max(1, os.cpu_count() or 1)
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise ValueError(f"`workers` must be a positive int or None; got {workers!r}")
    return int(workers)


def run_blocks(function: BlockFunction, total: int, *, seed: int, purpose: str, first_block: int = 0,
               workers: int = 1, progress: ProgressOption = None, description: str = "resampling"
               ) -> np.ndarray:
    """``function(generator, size)`` on ``ceil(total / BLOCK)`` blocks, concatenated in block order.

    Block ``first_block + i`` draws from ``seeds.generator(seed, purpose, first_block + i)``;
    blocks run on ``workers`` threads; the result is the same for any ``workers``.
    """
    sizes = [min(BLOCK, total - start) for start in range(0, total, BLOCK)]

    def one(i: int) -> np.ndarray:
        return function(stream(seed, purpose, first_block + i), sizes[i])

    parts: list[np.ndarray] = []
    with progress_bar(progress, total, description=description, leave=False) as bar:
        if workers == 1 or len(sizes) == 1:
            for i in range(len(sizes)):
                parts.append(one(i))
                bar.update(sizes[i])
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for i, part in enumerate(pool.map(one, range(len(sizes)))):
                    parts.append(part)
                    bar.update(sizes[i])
    return np.concatenate(parts, axis=0)


def rows_per_batch(width: int) -> int:
    """Rows of ``width`` columns handled at once, bounded by :data:`MEMORY_PER_WORKER`
    (about 48 bytes per element for the draws and the kernel's temporaries)."""
    return max(1, min(BLOCK, MEMORY_PER_WORKER // (48 * max(width, 1))))


def batched(size: int, width: int) -> Iterator[int]:
    """Sizes of the batches that make up ``size`` rows of ``width`` columns."""
    step = rows_per_batch(width)
    for start in range(0, size, step):
        yield min(step, size - start)


def fit_batch(entry: Estimator, batch: Batch, options: Mapping[str, Any]) -> Lines:
    """The estimator's kernel on ``batch``."""
    return entry.kernel(batch, **options)


# ---------------------------------------------------------------------- nonparametric
def plan_for(entry: Estimator, sample: Sample, options: Mapping[str, Any]) -> Any:
    """The estimator's fast path for a raw sample, or ``None`` where index rows are used."""
    if entry.plan is None or sample.magnitudes is None:
        return None
    min_n = getattr(entry.plan, "min_n", None)
    if min_n is not None and sample.size < min_n:
        return None
    plan = entry.plan(np.sort(sample.magnitudes), **options)
    return plan if sample.size >= getattr(plan, "min_n", 0) else None


def resample_counts(generator: np.random.Generator, counts: np.ndarray, rows: int,
                    order: np.ndarray | None = None) -> np.ndarray:
    """``(rows, d)`` nonparametric resamples of a counts sample: ``Multinomial(n, counts / n)``.

    ``order`` (default: decreasing counts) is the order in which numpy's sequential binomial
    draws visit the cells; they stop once every value is placed, so the rarest cells come
    last. The law does not depend on it.
    """
    n = int(counts.sum())
    if order is None:
        order = np.argsort(-counts, kind="stable")
    out = np.empty((rows, counts.size), dtype=np.int64)
    out[:, order] = generator.multinomial(n, counts[order] / n, size=rows)
    return out


def nonparametric_function(entry: Estimator, sample: Sample, options: Mapping[str, Any]) -> BlockFunction:
    """Block function of the nonparametric bootstrap of ``sample`` (``(size, 2)`` fits)."""
    if sample.counts is not None:
        distinct, counts = sample.distinct, sample.counts
        assert distinct is not None
        order = np.argsort(-counts, kind="stable")

        def count_block(generator: np.random.Generator, size: int) -> np.ndarray:
            parts = [fit_batch(entry, CountRows(distinct, resample_counts(generator, counts, rows, order)),
                               options).pairs for rows in batched(size, counts.size)]
            return np.concatenate(parts)

        return count_block
    plan = plan_for(entry, sample, options)
    if plan is not None:
        return plan.nonparametric
    data = sample.magnitudes
    assert data is not None
    n = data.size

    def index_block(generator: np.random.Generator, size: int) -> np.ndarray:
        parts = []
        for rows in batched(size, n):
            idx = generator.integers(0, n, size=(rows, n))
            parts.append(fit_batch(entry, RawRows(data[idx], owned=True), options).pairs)
        return np.concatenate(parts)

    return index_block


# ---------------------------------------------------------------------- parametric and null
def null_function(entry: Estimator, model: NullModel, options: Mapping[str, Any],
                  statistic: str | None = None) -> BlockFunction:
    """Block function of null samples from ``model``, each refitted by the kernel: ``(size, 2)``
    fits, or with ``statistic`` the ``(size,)`` statistics of each sample against its own fit
    (``nan`` where the refit is undefined)."""
    width = model.cells if model.cells is not None else model.size

    def block(generator: np.random.Generator, size: int) -> np.ndarray:
        parts = []
        for rows in batched(size, width):
            batch = model.draw(generator, rows)
            lines = fit_batch(entry, batch, options)
            if statistic is None:
                parts.append(lines.pairs)
                continue
            out = np.full(rows, np.nan)
            ok = lines.defined
            if ok.all():
                out = batch_statistic(batch, lines.shape, lines.scale, statistic)
            elif ok.any():
                kept = _rows(batch, ok)
                out[ok] = batch_statistic(kept, lines.shape[ok], lines.scale[ok], statistic)
            parts.append(out)
        return np.concatenate(parts)

    return block


def _rows(batch: Batch, keep: np.ndarray) -> Batch:
    if isinstance(batch, CountRows):
        return CountRows(batch.values, batch.counts[keep])
    return RawRows(batch.values[keep], ordered=batch.ordered, owned=True)


# ---------------------------------------------------------------------- choosing the route
def resolve_estimator(estimator: Any) -> Estimator:
    """A registry entry from its name, the entry itself or its function."""
    if isinstance(estimator, Estimator):
        return estimator
    if callable(estimator):
        for entry in ESTIMATORS.values():
            if estimator in (entry.function, getattr(entry.function, "__wrapped__", None)):
                return entry
        raise ValueError(
            f"`estimator` {getattr(estimator, '__name__', estimator)!r} is not a registered "
            f"estimator; registered: {', '.join(ESTIMATORS)}"
        )
    return get_estimator(estimator)


def resample_function(
    entry: Estimator, sample: Sample, options: Mapping[str, Any], estimate: WeibullFit, kind: str
) -> BlockFunction:
    """Block function that draws and fits one block of resamples (see :mod:`weibull_stats.inference.engine`):
    nonparametric resamples of ``sample``, or samples of the fitted law drawn as ``sample`` is
    stored (:class:`~weibull_stats.inference.nulls.NullModel`). ``options`` are the kernel options."""
    if kind == "parametric":
        model = NullModel.of(sample.storage, sample.size, estimate.shape, estimate.scale)
        return null_function(entry, model, options)
    return nonparametric_function(entry, sample, options)


def route(entry: Estimator, sample: Sample, options: Mapping[str, Any], kind: str,
          function: BlockFunction | None = None) -> str:
    """How the resamples were drawn, for the record; ``function``, the block function of
    :func:`resample_function` when there is one, saves building the estimator's plan again
    (a plan's block function is its bound ``nonparametric`` method)."""
    if kind == "parametric":
        return f"parametric, drawn as stored ({sample.storage})"
    if sample.counts is not None:
        return "multinomial counts over the distinct values"
    planned = (getattr(function, "__self__", None) is not None if function is not None
               else plan_for(entry, sample, options) is not None)
    return "order-statistic plan" if planned else "index resampling"


# ---------------------------------------------------------------------- jackknife
def group_sizes(n: int, groups: int) -> np.ndarray:
    """Sizes of ``groups`` groups of ``n`` values, equal within one (larger groups first)."""
    sizes = np.full(groups, n // groups, dtype=np.int64)
    sizes[: n % groups] += 1
    return sizes


def count_groups(generator: np.random.Generator, counts: np.ndarray, groups: int) -> np.ndarray:
    """``(groups, d)``: a uniformly random partition of the values of a counts sample into
    groups of :func:`group_sizes`, as per-group counts (group by group, multivariate
    hypergeometric draws from what is left)."""
    remaining = counts.astype(np.int64).copy()
    out = np.empty((groups, counts.size), dtype=np.int64)
    for g, size in enumerate(group_sizes(int(counts.sum()), groups)[:-1]):
        out[g] = generator.multivariate_hypergeometric(remaining, int(size))
        remaining -= out[g]
    out[-1] = remaining
    return out


def jackknife_estimates(
    entry: Estimator, sample: Sample, options: Mapping[str, Any], seed: int
) -> np.ndarray:
    """``(G, 2)`` delete-a-group estimates, ``G = min(n, JACKKNIFE_GROUPS)``."""
    n = sample.size
    groups = min(n, JACKKNIFE_GROUPS)
    generator = stream(seed, "jackknife")
    if sample.counts is not None:
        assert sample.distinct is not None
        left = sample.counts[None, :] - count_groups(generator, sample.counts, groups)
        lines = fit_batch(entry, CountRows(sample.distinct, left), options)
        return lines.pairs
    data = sample.magnitudes
    assert data is not None
    labels = np.empty(n, dtype=np.intp)
    labels[generator.permutation(n)] = np.arange(n) % groups
    out = np.empty((groups, 2))
    for g in range(groups):
        out[g] = fit_batch(entry, RawRows(data[labels != g][None, :], owned=True), options).pairs[0]
    return out


def acceleration(estimates: np.ndarray) -> np.ndarray:
    """BCa acceleration ``sum d^3 / (6 (sum d^2)^(3/2))`` of jackknife ``estimates`` (per column),
    ``d = mean - estimate`` (Efron 1987); 0 where the estimates do not vary."""
    d = estimates.mean(axis=0) - estimates
    ss = (d * d).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ss > 0, (d**3).sum(axis=0) / (6.0 * ss**1.5), 0.0)
