r"""Coverage of the asymptotic and bootstrap intervals (``validate --full``, or on its own).

Run it alone and write ``coverage.*`` and ``coverage_by_n.*`` under a folder::

    python -m weibull_stats.validation.coverage --out validation/results
    python -m weibull_stats.validation.coverage --out validation/results --redraw   # tables, figure

For every registered estimator, a seeded replicate draws one sample of a law and asks
:func:`weibull_stats.confidence_interval` for the interval of every estimator on that same
sample; the interval covers when it contains the **target**, the estimator's limit under the
law *as stored* (:func:`~weibull_stats.validation.coverage_laws.coverage_target`):

* laws (:data:`~weibull_stats.validation.coverage_laws.LAWS`): the half-normal, Weibull(1.5),
  ``|t_5|``, ``|Laplace|``, a two-component Gaussian scale mixture and the empirical law of a
  real MiniLM matrix stored in bf16; how each is drawn and what each target is, in
  :mod:`weibull_stats.validation.coverage_laws`;
* asymptotic (Wald) intervals (:data:`ASYMPTOTIC_REPS`): float64 at ``n = 10^3 .. 10^6`` with
  1000 replicates (Monte Carlo error of a 0.95 coverage about ``+-1.4%``) and ``10^7`` with
  400 (``+-2.1%``); bfloat16 at ``n = 10^3 .. 10^8`` with 1000 replicates, each one multinomial
  over the stored law's cells;
* bootstrap intervals at the sizes of the bootstrap study: every estimator under Weibull at
  ``n = 10^3`` (nonparametric and parametric; 400 replicates, ``+-2.1%``), the probability
  plot under the half-normal at ``n = 10^3, 10^4`` (nonparametric; 800 replicates), 499
  resamples; one BCa bootstrap per replicate, the percentile and basic intervals from the
  same bootstrap distribution; float64 draws and the same draws rounded to bf16 (paired).

All estimators see the same samples; every stream is keyed by the seed and the case's name
(:func:`~weibull_stats.validation._common.child_rng`), so the numbers do not depend on the
order of the cases or on ``workers``. :mod:`weibull_stats.validation.coverage_table` adds
the Wilson intervals (statsmodels) and the smallest ``n`` from which coverage is within
Monte Carlo error of nominal.

The whole study takes about an hour on two cores (``--workers 2``); ``--scale-reps 0.01``
runs every case with a few replicates for a quick look.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from weibull_stats.estimators.registry import declared_estimator
from weibull_stats.inference.bootstrap import bootstrap
from weibull_stats.inference.confidence import UnreliableIntervalWarning, confidence_interval
from weibull_stats.inference.intervals import ConfidenceInterval
from weibull_stats.sample.degenerate import FewResamplesWarning
from weibull_stats.validation._common import DEFAULT_SEED, check_estimators, child_rng, stamp
from weibull_stats.validation.coverage_laws import (
    COVERAGE_SHAPE,
    LAWS,
    STORAGES,
    Target,
    coverage_target,
    draw_sample,
    law_options,
    stored_values,
)
from weibull_stats.validation.coverage_table import (
    coverage_at_a_glance,
    coverage_figure,
    coverage_records,
    covering_sizes,
    misses,
    summary_for_output,
)
from weibull_stats.validation.figures import read_stamp
from weibull_stats.validation.kept import run_kept
from weibull_stats.validation.report import StudyRun, write_table

#: Asymptotic (Wald) cases: storage -> {n: replicates}. float64 reaches 10^7 (a replicate costs
#: a draw, a sort and five fits of n values); 16-bit storage reaches 10^8 (a replicate is one
#: multinomial over the stored law's cells and five fits of its counts).
ASYMPTOTIC_REPS: dict[str, dict[int, int]] = {
    "float64": {10**3: 1000, 10**4: 1000, 10**5: 1000, 10**6: 1000, 10**7: 400},
    "bfloat16": {10**k: 1000 for k in range(3, 9)},
}
#: Replicates per worker task of a case whose replicates are costly (the pool's grain).
CHUNK_VALUES = 2 * 10**8
#: Bootstrap cases: (population, estimators or None for all, kinds, sizes, replicates). The
#: anchor case (the package-anchor estimator, the probability plot, under the half-normal)
#: gets 800 replicates; the 28 Weibull cases 400 (+-2.1%).
BOOTSTRAP_CASES: tuple[tuple[str, tuple[str, ...] | None, tuple[str, ...], tuple[int, ...], int], ...] = (
    (f"weibull(k={COVERAGE_SHAPE:g})", None, ("nonparametric", "parametric"), (1000,), 400),
    ("halfnormal", (declared_estimator("package_anchor").name,), ("nonparametric",), (1000, 10_000), 800),
)
N_RESAMPLES = 499
BOOTSTRAP_METHODS: tuple[str, ...] = ("percentile", "basic", "bca")
CONFIDENCE_LEVEL = 0.95


def _hits(ci: ConfidenceInterval, target: Target) -> tuple[bool, bool, float, float]:
    assert target.shape is not None and target.scale is not None
    return (ci.shape.low <= target.shape <= ci.shape.high, ci.scale.low <= target.scale <= ci.scale.high,
            ci.shape.high - ci.shape.low, (ci.scale.high - ci.scale.low) / target.scale)


def _asymptotic_hits(estimators: Sequence[str], population: str, storage: str, n: int, reps: int, seed: int,
                     chunk: int = 0, level: float = CONFIDENCE_LEVEL) -> dict[str, tuple[np.ndarray, int]]:
    """Per estimator with a target: the hits of ``reps`` replicates (one stream per chunk) and
    how many warned."""
    targets = {name: coverage_target(name, population, storage) for name in estimators}
    live = [name for name, t in targets.items() if t.shape is not None]
    hits = {name: np.zeros((reps, 4)) for name in live}
    warned = dict.fromkeys(live, 0)
    rng = child_rng(seed, "coverage", "asymptotic", population, storage, n, chunk)
    with warnings.catch_warnings():
        # counted per case instead (the `warned` column): an unreliable interval is a row here
        warnings.simplefilter("ignore", UnreliableIntervalWarning)
        for r in range(reps if live else 0):
            sample = draw_sample(population, storage, rng, n)
            for name in live:
                try:
                    result = confidence_interval(sample, name, confidence_level=level, **law_options(name))
                except (ValueError, ArithmeticError):  # no interval: counted as a miss that warned
                    hits[name][r] = (False, False, np.nan, np.nan)
                    warned[name] += 1
                    continue
                hits[name][r] = _hits(result.confidence_interval, targets[name])
                warned[name] += result.warning is not None
    return {name: (hits[name], warned[name]) for name in live}


def _asymptotic_records(estimators: Sequence[str], population: str, storage: str, n: int, reps: int,
                        found: Mapping[str, tuple[np.ndarray, int]], level: float) -> list[dict[str, Any]]:
    records = []
    for name in estimators:
        target = coverage_target(name, population, storage)
        case = {"population": population, "storage": storage, "estimator": name, "method": "asymptotic",
                "interval": "wald", "kind": "", "n": n, "reps": reps, "n_resamples": 0}
        hits, warned = found.get(name, (None, 0))
        records += coverage_records(case, target.shape, target.scale, target.source, hits, warned, level)
    return records


def asymptotic_case(estimators: Sequence[str], population: str, n: int, reps: int, seed: int,
                    level: float = CONFIDENCE_LEVEL, storages: Sequence[str] | None = None
                    ) -> list[dict[str, Any]]:
    """Coverage of every estimator's asymptotic interval on ``reps`` replicates of
    ``population`` at size ``n`` in each of ``storages`` (default: the law's), one record per
    estimator, storage and parameter (see
    :func:`~weibull_stats.validation.coverage_table.coverage_records`). All estimators see the
    same samples.

    Examples
    --------
    >>> rows = asymptotic_case(["mle"], "weibull(k=1.5)", 500, 20, seed=1, storages=["float64"])
    >>> [(r["parameter"], r["reps"], 0 <= r["hits"] <= 20) for r in rows]
    [('shape', 20, True), ('scale', 20, True)]
    """
    records = []
    for storage in storages or LAWS[population].storages:
        found = _asymptotic_hits(estimators, population, storage, n, reps, seed, level=level)
        records += _asymptotic_records(estimators, population, storage, n, reps, found, level)
    return records


def bootstrap_case(estimator: str, kind: str, population: str, storage: str, n: int, reps: int, seed: int,
                   n_resamples: int = N_RESAMPLES, level: float = CONFIDENCE_LEVEL) -> list[dict[str, Any]]:
    """Coverage of the percentile, basic and BCa bootstrap intervals of ``estimator`` (one
    BCa bootstrap per replicate, the others from its distribution). Replicates whose BCa
    tail lay beyond the resamples (:class:`~weibull_stats.FewResamplesWarning`) are counted
    in the BCa row's ``warned``."""
    target = coverage_target(estimator, population, storage)
    found: dict[str, np.ndarray | None] = dict.fromkeys(BOOTSTRAP_METHODS)
    warned = dict.fromkeys(BOOTSTRAP_METHODS, 0)
    if target.shape is not None:
        found = {m: np.zeros((reps, 4)) for m in BOOTSTRAP_METHODS}
        rng = child_rng(seed, "coverage", "bootstrap", population, storage, estimator, kind, n)
        for r in range(reps):
            sample = stored_values(population, storage, rng, n)
            with warnings.catch_warnings(record=True) as caught:
                # counted per method instead (the `warned` column): a BCa tail beyond the resamples
                warnings.simplefilter("always", FewResamplesWarning)
                result = bootstrap(sample, estimator, n_resamples=n_resamples, method="bca", kind=kind,
                                   rng=rng, confidence_level=level, workers=1)
                for method in BOOTSTRAP_METHODS:
                    ci = result if method == "bca" else result.with_method(method)
                    found[method][r] = _hits(ci.confidence_interval, target)  # type: ignore[index]
            warned["bca"] += any(issubclass(w.category, FewResamplesWarning) for w in caught)
            for w in caught:
                if not issubclass(w.category, FewResamplesWarning):
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    records = []
    for method in BOOTSTRAP_METHODS:
        case = {"population": population, "storage": storage, "estimator": estimator, "method": "bootstrap",
                "interval": method, "kind": kind, "n": n, "reps": reps, "n_resamples": n_resamples}
        records += coverage_records(case, target.shape, target.scale, target.source, found[method],
                                    warned[method], level)
    return records


def _tasks(estimators: Sequence[str], seed: int, scale_reps: float) -> list[tuple[float, str, tuple]]:
    """Every case as ``(cost, kind, arguments)``, the costliest first (for the worker pool); a
    costly asymptotic case is split into chunks of replicates, each its own stream."""
    def reps(count: int) -> int:
        return max(2, round(count * scale_reps))

    tasks: list[tuple[float, str, tuple]] = []
    for population, spec in LAWS.items():
        for storage in spec.storages:
            for n, count in ASYMPTOTIC_REPS[storage].items():
                total = reps(count)
                per_value = n if storage == "float64" else 2_000  # a multinomial: O(cells)
                step = max(1, min(total, CHUNK_VALUES // per_value))
                for chunk, start in enumerate(range(0, total, step)):
                    size = min(step, total - start)
                    tasks.append((per_value * size, "asymptotic",
                                  (tuple(estimators), population, storage, n, size, seed, chunk)))
    for population, chosen, kinds, sizes, count in BOOTSTRAP_CASES:
        for name in [e for e in estimators if chosen is None or e in chosen]:
            for kind in kinds:
                # a case without a target is listed once, by the asymptotic rows
                targeted = [s for s in STORAGES if coverage_target(name, population, s).shape is not None]
                for storage in targeted:
                    for n in sizes:
                        tasks.append((500 * n * reps(count) / 20, "bootstrap",
                                      (name, kind, population, storage, n, reps(count), seed)))
    tasks.sort(key=lambda t: -t[0])
    return tasks


def _run(task: tuple[float, str, tuple]) -> tuple[str, tuple, Any]:
    _, kind, args = task
    if kind == "asymptotic":
        return kind, args, _asymptotic_hits(*args)
    return kind, args, bootstrap_case(*args)


def coverage_study(estimators: Sequence[str] | None = None, *, seed: int = DEFAULT_SEED, workers: int = 1,
                   scale_reps: float = 1.0, progress: Callable[[str], None] | None = None,
                   parts: Path | None = None) -> pd.DataFrame:
    """Every case of the study as one long table (a row per case and parameter).

    ``workers`` processes share the cases (the numbers do not depend on it);
    ``scale_reps`` multiplies every replicate count (1 for the committed study; small for
    a quick look); ``progress`` is told of each finished task; ``parts``: a folder where each
    finished task's result is kept, so a run that stops (or fails) goes on where it was
    (delete it after a change of code). Columns: see
    :func:`~weibull_stats.validation.coverage_table.coverage_records`.
    """
    names = check_estimators(estimators)
    tasks = _tasks(names, seed, scale_reps)
    for population, spec in LAWS.items():  # the targets, cached before the workers fork
        for storage in spec.storages:
            for name in names:
                coverage_target(name, population, storage)
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            done: list[tuple[str, tuple, Any]] = []
            futures = [pool.submit(run_kept, _run, task, parts) for task in tasks]
            for i, future in enumerate(as_completed(futures), 1):
                done.append(future.result())
                if progress is not None:
                    progress(f"{i}/{len(tasks)} tasks: {done[-1][0]} {done[-1][1][1:5]}")
    else:
        done = [run_kept(_run, task, parts) for task in tasks]
    rows: list[dict[str, Any]] = []
    merged: dict[tuple, dict[str, list[tuple[int, np.ndarray, int]]]] = {}
    for kind, args, result in done:
        if kind == "bootstrap":
            rows += result
            continue
        for name, hits in result.items():  # args: estimators, population, storage, n, reps, seed, chunk
            merged.setdefault(args[1:4], {}).setdefault(name, []).append((args[6], *hits))
    for (population, storage, n), chunks_of in merged.items():
        joined = {name: (np.concatenate([h for _, h, _ in sorted(chunks, key=lambda c: c[0])]),
                         sum(w for _, _, w in chunks)) for name, chunks in chunks_of.items()}
        total = next(iter(joined.values()))[0].shape[0]
        rows += _asymptotic_records(names, population, storage, n, total, joined, CONFIDENCE_LEVEL)
    frame = pd.DataFrame.from_records(rows)
    order = ["population", "storage", "estimator", "method", "kind", "interval", "parameter", "n"]
    return frame.sort_values(order, kind="stable", ignore_index=True)


def write_coverage(frame: pd.DataFrame, out: Path, info: Mapping[str, Any], *,
                   figure_formats: Sequence[str] | None = None, dpi: float | None = None) -> list[Path]:
    """``coverage.*`` (the smallest ``n`` table), ``coverage_by_n.*`` (every row) and the figure
    (``coverage.png`` and ``.pdf``; ``figure_formats`` and ``dpi`` as in
    :func:`~weibull_stats.validation.report.save_figure`)."""
    reps = "; ".join(f"{storage}: " + ", ".join(f"{r} at n = {n:.0e}" for n, r in sizes.items())
                     for storage, sizes in ASYMPTOTIC_REPS.items())
    files = write_table(
        summary_for_output(covering_sizes(frame)), out, "coverage", stamp=info,
        title="Interval coverage: smallest n from which coverage is within Monte Carlo error of nominal 0.95",
        notes=["within Monte Carlo error: the 95% Wilson interval of the coverage (statsmodels "
               "proportion_confint) contains 0.95 at that n and at every larger n tested",
               "targets: each estimator's exact limit under the population as stored (bf16: the limit "
               "of the rounded law; minilm: the estimator on the matrix's own bf16 counts); laws and "
               "draws: weibull_stats.validation.coverage_laws",
               f"asymptotic: Wald intervals, replicates {reps}; bootstrap: {N_RESAMPLES} resamples, "
               "800 replicates under the half-normal, 400 under Weibull",
               "regenerate: python -m weibull_stats.validation.coverage --out validation/results"])
    files += write_table(
        frame, out, "coverage_by_n", stamp=info,
        title="Interval coverage (nominal 0.95) per estimator, method, population, storage and n",
        notes=["wilson_low/high: 95% Wilson interval of the coverage (statsmodels); mean_width: shape "
               "absolute, scale relative to the target; warned: replicates with UnreliableIntervalWarning "
               "(asymptotic) or FewResamplesWarning (BCa: a tail beyond the resamples)"])
    files += write_table(
        coverage_at_a_glance(frame), out, "coverage_sizes", stamp=info,
        title=("Asymptotic interval coverage at n = 10^4, 10^6 and the largest size "
               "(float64: 10^7; bf16: 10^8)"),
        notes=["each cell: coverage [95% Wilson interval]; * where the Wilson interval excludes 0.95",
               "every row and size: coverage_by_n; misses that are more than chance: coverage_misses"])
    files += write_table(
        misses(frame), out, "coverage_misses", stamp=info,
        title="Asymptotic rows at n >= 10^4 whose 95% Wilson interval excludes nominal",
        notes=["p_value: exact binomial test of coverage = 0.95 (scipy binomtest); holm_p_value: Holm's "
               "correction over every asymptotic row at n >= 10^4 (statsmodels multipletests); "
               "systematic: holm_p_value < 0.05 (a miss that chance among hundreds of rows does not "
               "explain); the others are the one-in-twenty misses expected of 95% intervals"])
    files += coverage_figure(frame, out, info, formats=figure_formats, dpi=dpi)
    return files


def read_coverage(results: str | Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """The study frame and stamp back from ``results/coverage_by_n.csv``."""
    path = Path(results) / "coverage_by_n.csv"
    frame = pd.read_csv(path, comment="#", keep_default_na=False, na_values={"": []},
                        dtype={"kind": str, "interval": str})
    for column in ("target", "coverage", "mc_se", "wilson_low", "wilson_high", "mean_width"):
        frame[column] = pd.to_numeric(frame[column].replace("", np.nan))
    for column in ("hits", "warned"):
        frame[column] = [None if v == "" else int(float(v)) for v in frame[column]]
    frame["within"] = [None if v == "" else str(v) == "True" for v in frame["within"]]
    return frame, read_stamp(path)


def redraw_coverage(results: str | Path, *, figure_formats: Sequence[str] | None = None) -> list[Path]:
    """Rewrite ``coverage.*`` and the figure from ``coverage_by_n.csv`` (no simulation),
    keeping the run's stamp: for a change of table logic or drawing."""
    frame, info = read_coverage(results)
    return write_coverage(frame, Path(results), info, figure_formats=figure_formats)


def coverage_outputs(run: StudyRun, *, workers: int = 2) -> list[Path]:
    """The coverage study as a study of ``validate --full`` (no pass/fail checks: a table)."""
    run.tell("interval coverage (asymptotic and bootstrap)")
    frame = coverage_study(run.names, seed=run.seed, workers=workers, progress=run.tell)
    return write_coverage(frame, run.out, run.info)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the coverage study alone (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m weibull_stats.validation.coverage")
    parser.add_argument("--out", default="validation/results")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--estimator", action="append", default=None)
    parser.add_argument("--workers", type=int, default=2, help="processes (default: %(default)s)")
    parser.add_argument("--scale-reps", type=float, default=1.0,
                        help="multiply every replicate count (default: %(default)s, the committed study)")
    parser.add_argument("--parts", type=Path, default=None,
                        help="keep each finished task here, reused on a rerun (a run that stops goes on)")
    parser.add_argument("--redraw", action="store_true",
                        help="rewrite coverage.* and the figure from OUT/coverage_by_n.csv, no simulation")
    args = parser.parse_args(argv)
    if args.redraw:
        for path in redraw_coverage(args.out):
            sys.stderr.write(f"wrote {path}\n")
        return 0
    info = stamp(args.seed)
    started = time.perf_counter()

    def tell(line: str) -> None:
        sys.stderr.write(f"[{(time.perf_counter() - started) / 60:5.1f} min] {line}\n")

    frame = coverage_study(args.estimator, seed=args.seed, workers=args.workers, scale_reps=args.scale_reps,
                           progress=tell, parts=args.parts)
    tell("done")
    for path in write_coverage(frame, Path(args.out), info):
        sys.stderr.write(f"wrote {path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
