r"""Goodness of fit's asymptotic nulls in ``validate --full``: the critical-value table and the
size study of every null kind (issue 21, item 3).

* :func:`critical_value_rows`: the 10%, 5%, 2.5% and 1% points of the limiting ``A²`` and
  ``W²`` for every registered estimator that declares an influence function, at its default
  options, and at its published protocol where it declares one
  (``validation/results/gof_critical_values.csv`` and ``.md``).
* :func:`size_study`: the rejection rates at 10% and 5% of every null kind on Weibull(1.5,
  0.02) data, with the rate's Monte Carlo error and whether the level lies within it
  (``validation/results/gof_null_size.csv`` and ``.md``). Regenerate that table alone::

      python -m weibull_stats.validation.gof_tables --out validation/results --workers 1

  - float32 and float64 data at ``n = 10^3 … 10^7`` (:data:`FULL_SIZES`): the asymptotic null
    at every size, the shared null (:data:`NULL_SAMPLES` refits of the standard law, ``p =
    (b+1)/(M+1)``) up to :data:`SHARED_UP_TO`. Every equivariant null is the law of the
    statistic of *any* Weibull sample, so the replicates are drawn from Weibull(1.5, 0.02)
    and tested against the null computed from the standard law. Each replicate is one
    float64 sample (the null's ordered draws, :class:`~weibull_stats.inference.nulls.NullModel`),
    refitted by every estimator as it is and rounded to float32 (common random numbers:
    the rows of one ``n`` share their Monte Carlo error). The asymptotic critical values are
    also checked on the shared null's own ``M`` samples (independent draws of the exact
    finite-n null).
  - bfloat16 data through the null :func:`~weibull_stats.goodness_of_fit` gives them (per
    sample, drawn over the bf16 cells), the public call on independent draws
    (:func:`~weibull_stats.validation.stored_gof.stored_gof_pvalues`) with
    :data:`BF16_MC_SAMPLES` Monte Carlo samples (``p = (b+1)/(M+1)`` has exact size for any
    ``M``) at :data:`BF16_SIZES`; the ``gof_stored`` study
    (:mod:`weibull_stats.validation.stored_gof`) holds the bf16 rows at ``n = 10^6, 10^7``.
  - ``within``: the 99% Wilson interval of the rejection rate (statsmodels'
    ``proportion_confint(method="wilson")``, :func:`~weibull_stats.validation._common.
    wilson_interval`) contains the level (:data:`WITHIN_CONFIDENCE`; per row, not family-wise).

``--scale-reps F`` multiplies every replicate count (not the null samples ``M``).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from weibull_stats.estimators._core import Estimator
from weibull_stats.estimators.registry import ESTIMATORS
from weibull_stats.inference.asymptotic_null import LEVELS, asymptotic_critical_values
from weibull_stats.inference.edf import batch_statistic
from weibull_stats.inference.engine import batched, fit_batch, run_blocks
from weibull_stats.inference.nulls import NullModel
from weibull_stats.sample.batch import RawRows
from weibull_stats.validation._common import DEFAULT_SEED, stamp, wilson_interval
from weibull_stats.validation.report import StudyRun, write_table
from weibull_stats.validation.stored_gof import stored_gof_pvalues

#: Where the committed table lives (relative to a checkout).
TABLE_CSV = Path(__file__).resolve().parents[2] / "validation" / "results" / "gof_critical_values.csv"
COMMAND = "python -m weibull_stats validate --full"
#: The size study alone (``main``); ``validate --full`` runs it too.
SIZE_COMMAND = "python -m weibull_stats.validation.gof_tables --out validation/results --workers 1"
#: The size study's float32/float64 sizes and replicates (the shared null only up to
#: :data:`SHARED_UP_TO`, where its ``M`` refits cost as much as the per-sample null's).
FULL_SIZES: dict[int, int] = {1_000: 2000, 10_000: 2000, 100_000: 1000, 1_000_000: 400, 10_000_000: 200}
SHARED_UP_TO = 100_000
NULL_SAMPLES = 999
#: bfloat16 rows: sizes and replicates, and the Monte Carlo samples of each per-sample null.
BF16_SIZES: dict[int, int] = {1_000: 400, 10_000: 400, 100_000: 400, 1_000_000: 200}
BF16_MC_SAMPLES = 199
SIZE_LEVELS: tuple[float, ...] = (0.10, 0.05)
#: Confidence of the Wilson interval behind the ``within`` column.
WITHIN_CONFIDENCE = 0.99
#: The law of the replicates (any Weibull law serves an equivariant null).
DATA_SHAPE, DATA_SCALE = 1.5, 0.02
#: The estimators exactly equivariant at their default options (as each declares it).
SIZE_ESTIMATORS: tuple[str, ...] = tuple(
    name for name, entry in ESTIMATORS.items() if entry.is_equivariant(entry.split({})[1]))


def critical_value_rows(estimators: Sequence[str] | None = None, statistics: Sequence[str] = ("ad", "cvm")
                        ) -> list[dict[str, Any]]:
    """One row per (estimator, option set, statistic): the asymptotic critical values."""
    rows = []
    for name, entry in ESTIMATORS.items():
        if entry.influence is None or (estimators is not None and name not in estimators):
            continue
        sets: list[tuple[str, dict[str, Any]]] = [("default", {})]
        if entry.published_protocol is not None:
            sets.append(("published_protocol", dict(entry.published_protocol)))
        for label, options in sets:
            _, own = entry.split(options)
            for statistic in statistics:
                values = asymptotic_critical_values(entry, own, statistic, LEVELS)
                rows.append({"estimator": name, "options": label, "statistic": statistic,
                             "equivariant": entry.is_equivariant(own),
                             **{f"{level:g}": round(value, 4) for level, value in values.items()}})
    return rows


def critical_value_outputs(run: StudyRun) -> list[Path]:
    """``gof_critical_values.csv`` and ``.md``."""
    frame = pd.DataFrame.from_records(critical_value_rows(run.names))
    return run.table(
        frame, "gof_critical_values",
        title="Asymptotic critical values of A² and W² with estimated parameters (n → ∞)",
        notes=[f"regenerated by: {COMMAND}",
               "columns: upper-tail levels; Durbin's (1973) limit, Nyström eigenvalues, Imhof's tail "
               "(weibull_stats.inference.asymptotic_null)",
               "mle, ad: Stephens (1977) gives 0.637, 0.757, 0.877, 1.038 (tests/test_gof_nulls.py)",
               "equivariant False (quantile's default x-space interpolation): the limit holds, the "
               "shared finite-n null does not"],
    )


def rate_rows(rejected: Mapping[float, np.ndarray]) -> list[dict[str, Any]]:
    """One row per level from ``{level: boolean rejections of the replicates}``: ``rejections``,
    ``reps``, ``rate``, ``mc_se`` (the binomial SE at the level), the 99% Wilson interval
    ``wilson_low``/``wilson_high`` of the rate and ``within`` (the level inside it)."""
    rows = []
    for level, flags in rejected.items():
        count, reps = int(np.count_nonzero(flags)), int(flags.size)
        low, high = wilson_interval(count, reps, WITHIN_CONFIDENCE)
        rows.append({"level": level, "reps": reps, "rejections": count, "rate": count / reps,
                     "mc_se": math.sqrt(level * (1 - level) / reps), "wilson_low": low, "wilson_high": high,
                     "within": bool(low <= level <= high)})
    return rows


def _statistics(entries: Mapping[str, tuple[Estimator, Mapping[str, Any]]], storages: Sequence[str],
                model: NullModel, statistic: str) -> Callable[[np.random.Generator, int], np.ndarray]:
    """Block function: ``(size, storages x estimators)`` statistics, one float64 draw of
    ``model`` per row, rounded to each storage, refitted by every estimator."""
    dtypes = {"float64": np.float64, "float32": np.float32}

    def block(generator: np.random.Generator, size: int) -> np.ndarray:
        parts = []
        for rows in batched(size, model.size):
            drawn = np.stack([model.ordered_row(generator) for _ in range(rows)])
            columns = []
            for storage in storages:
                batch = RawRows(drawn.astype(dtypes[storage], copy=False), ordered=True)
                for name, (entry, own) in entries.items():
                    lines = fit_batch(entry, batch, own)
                    if not np.all(lines.defined):
                        raise ValueError(f"{name!r} could not refit a Weibull sample of n = {model.size} "
                                         f"({storage}) in the size study")
                    columns.append(batch_statistic(batch, lines.shape, lines.scale, statistic))
            parts.append(np.column_stack(columns))
        return np.concatenate(parts, axis=0)

    return block


def _scaled(sizes: Mapping[int, int], scale_reps: float) -> dict[int, int]:
    return {n: max(1, round(reps * scale_reps)) for n, reps in sizes.items()}


def _silent(part: str) -> None:
    """A ``tell`` that shows nothing."""


def size_study(sizes: Mapping[int, int] | None = None, *, seed: int, workers: int = 2,
               estimators: Sequence[str] = SIZE_ESTIMATORS, storages: Sequence[str] = ("float32", "float64"),
               statistic: str = "ad", bf16_sizes: Mapping[int, int] | None = None,
               scale_reps: float = 1.0, tell: Callable[[str], None] = _silent) -> pd.DataFrame:
    """Rejection rates of every null kind on Weibull data (module documentation).

    ``sizes`` (float32/float64) and ``bf16_sizes`` map ``n`` to replicates (defaults
    :data:`FULL_SIZES`, :data:`BF16_SIZES`), each multiplied by ``scale_reps``; ``workers``
    threads run the float32/float64 blocks; ``tell`` is called with each part as it starts.
    """
    if not scale_reps > 0:
        raise ValueError(f"`scale_reps` must be positive; got {scale_reps!r}")
    sizes = _scaled(FULL_SIZES if sizes is None else sizes, scale_reps)
    bf16_sizes = _scaled(BF16_SIZES if bf16_sizes is None else bf16_sizes, scale_reps)
    entries = {name: (ESTIMATORS[name], ESTIMATORS[name].split({})[1]) for name in estimators}
    for name, (entry, own) in entries.items():
        if not entry.is_equivariant(own) or entry.influence is None:
            raise ValueError(f"the size study needs equivariant estimators with an influence function; "
                             f"{name!r} is not one")
    critical = {name: asymptotic_critical_values(entry, own, statistic, SIZE_LEVELS)
                for name, (entry, own) in entries.items()}
    columns = [(storage, name) for storage in storages for name in entries]
    rows = []
    for n, reps in sizes.items():
        tell(f"{', '.join(storages)}: n = {n:,}, {reps:,} replicates")
        data = _statistics(entries, storages, NullModel.of("float64", n, DATA_SHAPE, DATA_SCALE), statistic)
        observed = run_blocks(data, reps, seed=seed + n, purpose="gof-size", workers=workers)
        null = None
        if n <= SHARED_UP_TO:
            standard = _statistics(entries, storages, NullModel.of("float64", n, 1.0, 1.0), statistic)
            null = run_blocks(standard, NULL_SAMPLES, seed=seed, purpose="null", workers=workers)
        for j, (storage, name) in enumerate(columns):
            base = {"estimator": name, "storage": storage, "n": n, "statistic": statistic}
            cut = critical[name]
            rows += [{**base, "null": "asymptotic", "n_mc_samples": 0, **row}
                     for row in rate_rows({a: observed[:, j] > cut[a] for a in SIZE_LEVELS})]
            if null is None:
                continue
            pvalues = (np.sum(null[None, :, j] >= observed[:, j, None], axis=1) + 1) / (NULL_SAMPLES + 1)
            rows += [{**base, "null": "shared", "n_mc_samples": NULL_SAMPLES, **row}
                     for row in rate_rows({a: pvalues <= a for a in SIZE_LEVELS})]
            rows += [{**base, "null": "asymptotic, on the shared null's samples", "n_mc_samples": 0, **row}
                     for row in rate_rows({a: null[:, j] > cut[a] for a in SIZE_LEVELS})]
    for n, reps in bf16_sizes.items():
        tell(f"bfloat16: n = {n:,}, {reps:,} replicates")
        found = stored_gof_pvalues(seed=seed, sizes=(n,), reps=reps, n_mc_samples=BF16_MC_SAMPLES,
                                   estimators=tuple(entries), statistic=statistic, storage="bfloat16",
                                   shape=DATA_SHAPE, scale=DATA_SCALE)
        for (name, _), p in found.items():
            base = {"estimator": name, "storage": "bfloat16", "n": n, "statistic": statistic}
            rows += [{**base, "null": "per-sample", "n_mc_samples": BF16_MC_SAMPLES, **row}
                     for row in rate_rows({a: p <= a for a in SIZE_LEVELS})]
    frame = pd.DataFrame.from_records(rows)
    order = {name: i for i, name in enumerate(entries)}
    frame["_order"] = frame["estimator"].map(order)
    frame = frame.sort_values(["_order", "storage", "n"], kind="stable", ignore_index=True)
    return frame.drop(columns="_order")


def _reps_note(sizes: Mapping[int, int], scale_reps: float) -> str:
    return "; ".join(f"{reps:,} at n = 10^{round(math.log10(n))}" if n == 10 ** round(math.log10(n))
                     else f"{reps:,} at n = {n:,}" for n, reps in _scaled(sizes, scale_reps).items())


def size_notes(wall: float, cpu: float, *, workers: int, scale_reps: float) -> list[str]:
    """The notes of the ``gof_null_size`` table: command, run time (``wall`` and ``cpu``
    seconds), replicates and the ``within`` rule."""
    return [
        f"regenerated by: {SIZE_COMMAND} (also by {COMMAND})",
        f"run time: {wall / 60:.1f} min wall clock, {cpu / 60:.1f} min of CPU (the process, all threads), "
        f"with --workers {workers} --scale-reps {scale_reps:g} on a machine of {os.cpu_count()} cores "
        "(wall beyond CPU / workers: other jobs shared the cores)",
        f"float32 and float64 replicates: {_reps_note(FULL_SIZES, scale_reps)}; each replicate is one "
        "float64 sample, and the same sample rounded to float32, refitted by every estimator (common "
        "random numbers: the rows of one n share their Monte Carlo error)",
        f"asymptotic: reject when the statistic exceeds the limit's critical value; shared: {NULL_SAMPLES} "
        f"refits of Weibull(1, 1), reject when p = (b+1)/(M+1) <= level, up to n = {SHARED_UP_TO:,} "
        "(above it only the asymptotic null is studied); 'asymptotic, on the shared null's samples': the "
        f"limit's critical values on the {NULL_SAMPLES} exact finite-n null statistics",
        f"bfloat16: ws.goodness_of_fit's own null for 16-bit data (per-sample, drawn over the bf16 cells) "
        f"with M = {BF16_MC_SAMPLES} (p = (b+1)/(M+1) has exact size for any M), replicates "
        f"{_reps_note(BF16_SIZES, scale_reps)}; n = 10^6 and 10^7 (M = 99, mle and probability_plot, "
        "level 0.05): validation/results/gof_stored.md",
        "mc_se: binomial SE of the rate at the level; within: the level lies in the "
        f"{WITHIN_CONFIDENCE:.0%} Wilson interval [wilson_low, wilson_high] of the rate (statsmodels "
        "proportion_confint, method='wilson'), row by row (not family-wise)",
    ]


def write_size_table(out: Path, info: Mapping[str, Any], *, seed: int, workers: int = 2,
                     estimators: Sequence[str] = SIZE_ESTIMATORS, scale_reps: float = 1.0,
                     tell: Callable[[str], None] = _silent) -> list[Path]:
    """Run :func:`size_study`, timed (wall clock and CPU), and write ``gof_null_size.csv`` and
    ``.md`` under ``out``."""
    wall, cpu = time.perf_counter(), time.process_time()
    frame = size_study(seed=seed, workers=workers, estimators=estimators, scale_reps=scale_reps, tell=tell)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return write_table(frame, out, "gof_null_size", stamp=info,
                       title=f"Size of goodness of fit with every null kind (Weibull({DATA_SHAPE:g}, "
                             f"{DATA_SCALE:g}) data)",
                       notes=size_notes(wall, cpu, workers=workers, scale_reps=scale_reps))


def size_outputs(run: StudyRun) -> list[Path]:
    """``gof_null_size.csv`` and ``.md`` as a study of ``validate --full``."""
    names = [n for n in SIZE_ESTIMATORS if n in run.names]
    if not names:
        return []
    run.tell("goodness-of-fit null size")
    return write_size_table(run.out, run.info, seed=run.seed, estimators=names)


def gof_null_studies() -> list[Callable[[StudyRun], list[Path]]]:
    """The goodness-of-fit null studies of ``validate --full``, in order."""
    return [critical_value_outputs, size_outputs]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the size study alone and write ``gof_null_size.*`` (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m weibull_stats.validation.gof_tables")
    parser.add_argument("--out", default="validation/results")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--workers", type=int, default=2, help="threads (default: %(default)s)")
    parser.add_argument("--scale-reps", type=float, default=1.0,
                        help="multiply every replicate count (default: %(default)s, the committed study)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers must be at least 1; got {args.workers}")
    if not args.scale_reps > 0:
        parser.error(f"--scale-reps must be positive; got {args.scale_reps:g}")
    started = time.perf_counter()

    def tell(part: str) -> None:
        sys.stderr.write(f"[{(time.perf_counter() - started) / 60:5.1f} min] {part}\n")
        sys.stderr.flush()

    for path in write_size_table(Path(args.out), stamp(args.seed), seed=args.seed, workers=args.workers,
                                 scale_reps=args.scale_reps, tell=tell):
        sys.stderr.write(f"wrote {path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
