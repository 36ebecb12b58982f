r"""Coverage of the asymptotic and bootstrap intervals (``validate --full``, or on its own).

Run it alone and write ``coverage.*`` and ``coverage_by_n.*`` under a folder::

    python -m weibull_stats.validation.coverage --out validation/results
    python -m weibull_stats.validation.coverage --out validation/results --redraw   # tables, figure

For every registered estimator, a seeded replicate draws one sample of the population and
asks :func:`weibull_stats.confidence_interval` for the interval of every estimator on that
same sample; the interval covers when it contains the **target**, the estimator's exact
limit under the population *as stored*:

* populations: the half-normal ``sigma |Z|`` with ``sigma = 0.02`` (the anchor population;
  the target is the estimator's exact anchor, :func:`~weibull_stats.validation.anchors.
  exact_limit`) and Weibull(k = 1.5, scale 1) (the target is the estimator's exact limit
  there: the true ``(1.5, 1)`` for every estimator except histogram mode, whose binned limit
  is ``(1.49972, 1.00002)``);
* storage: the float64 draws, and the same draws rounded to bfloat16 (round to nearest,
  :func:`~weibull_stats.validation.stored.round_to_storage`), whose target is the limit of
  the *rounded* law (:class:`~weibull_stats.validation.stored.RoundedPopulation`). That
  limit is the quadrature of the population hook for the estimators whose hook reads only
  what a rounded law offers (its declared ``reads``: the quantile function, for the
  probability plot and quantile matching); for the others (MLE, log-moment: power moments
  of the law; histogram mode: its CDF at the bin edges) it is the estimator applied to the
  rounded law itself, a discrete law over the stored values
  (:func:`~weibull_stats.validation.stored.discrete_limit`), which agrees with the
  quadrature where both exist;
* asymptotic (Wald) intervals at ``n = 10^3, 10^4, 10^5`` (800 replicates: Monte Carlo error
  of a 0.95 coverage about ``+-1.5%``) and ``10^6`` (200 replicates, ``+-3%``);
* bootstrap intervals at the sizes of the bootstrap study: every estimator under Weibull at
  ``n = 10^3`` (nonparametric and parametric; 400 replicates, ``+-2.1%``), the probability
  plot under the half-normal at ``n = 10^3, 10^4`` (nonparametric; 800 replicates), 499
  resamples; one BCa bootstrap per replicate, the percentile and basic intervals from the
  same bootstrap distribution.

The float64 and bf16 rows of one population and size are paired (the same draws), and all
estimators see the same samples; every stream is keyed by the seed and the case's name
(:func:`~weibull_stats.validation._common.child_rng`), so the numbers do not depend on the
order of the cases or on ``workers``. :mod:`weibull_stats.validation.coverage_table` adds
the Wilson intervals (statsmodels) and the smallest ``n`` from which coverage is within
Monte Carlo error of nominal.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from weibull_stats.estimators.registry import declared_estimator
from weibull_stats.inference.bootstrap import bootstrap
from weibull_stats.inference.confidence import UnreliableIntervalWarning, confidence_interval
from weibull_stats.inference.intervals import ConfidenceInterval
from weibull_stats.sample.checked import as_sample
from weibull_stats.sample.degenerate import FewResamplesWarning
from weibull_stats.validation._common import DEFAULT_SEED, check_estimators, child_rng, stamp
from weibull_stats.validation.anchors import HISTOGRAM_SIGMA, exact_limit, population_hook
from weibull_stats.validation.coverage_table import (
    coverage_figure,
    coverage_records,
    covering_sizes,
    summary_for_output,
)
from weibull_stats.validation.figures import read_stamp
from weibull_stats.validation.populations import HALFNORMAL, weibull
from weibull_stats.validation.report import StudyRun, write_table
from weibull_stats.validation.stored import (
    RoundedPopulation,
    discrete_limit,
    evaluable_on_rounded_law,
    round_to_storage,
)

#: The Weibull population's true shape (scale 1), as in the bootstrap study before.
COVERAGE_SHAPE = 1.5
#: Population name -> (law, absolute scale of the draws).
POPULATIONS: dict[str, tuple[Any, float]] = {
    "halfnormal": (HALFNORMAL, HISTOGRAM_SIGMA),
    f"weibull(k={COVERAGE_SHAPE:g})": (weibull(COVERAGE_SHAPE), 1.0),
}
STORAGES: tuple[str, ...] = ("float64", "bfloat16")
#: Sizes of the asymptotic intervals and their replicates (fewer at 10^6, where a replicate
#: costs a draw, a sort and five fits of a million values).
ASYMPTOTIC_REPS: dict[int, int] = {10**3: 800, 10**4: 800, 10**5: 800, 10**6: 200}
#: Bootstrap cases: (population, estimators or None for all, kinds, sizes, replicates). The
#: anchor case (the package-anchor estimator, the probability plot, under the half-normal)
#: gets 800 replicates; the 28 Weibull cases 400 (+-2.1%), which keeps the whole study near
#: 10 minutes on 2 loaded cores.
BOOTSTRAP_CASES: tuple[tuple[str, tuple[str, ...] | None, tuple[str, ...], tuple[int, ...], int], ...] = (
    (f"weibull(k={COVERAGE_SHAPE:g})", None, ("nonparametric", "parametric"), (1000,), 400),
    ("halfnormal", (declared_estimator("package_anchor").name,), ("nonparametric",), (1000, 10_000), 800),
)
N_RESAMPLES = 499
BOOTSTRAP_METHODS: tuple[str, ...] = ("percentile", "basic", "bca")
CONFIDENCE_LEVEL = 0.95


@dataclass(frozen=True, slots=True)
class Target:
    """What an interval must cover: the estimator's limit under the population as stored.

    ``shape`` and ``scale`` are None where no limit is derived; ``source`` says which.
    """

    shape: float | None
    scale: float | None
    source: str


def coverage_target(estimator: str, population: str, storage: str) -> Target:
    """The exact limit of ``estimator``'s default fit under ``population`` stored as ``storage``.

    A stored (bfloat16) target is the limit of the rounded law: the quadrature of the
    population hook where the hook reads only what a rounded law offers
    (:func:`~weibull_stats.validation.stored.evaluable_on_rounded_law`), else
    :func:`~weibull_stats.validation.stored.discrete_limit` (the estimator on the law's cell probabilities).

    Examples
    --------
    >>> coverage_target("mle", "weibull(k=1.5)", "float64")
    Target(shape=1.5, scale=1.0, source='exact limit')
    >>> coverage_target("mle", "halfnormal", "bfloat16").source
    'the estimator on the bfloat16-rounded law (cell probabilities)'
    """
    law, sigma = POPULATIONS[population]
    hook = population_hook(estimator)
    if storage == "float64":
        at = law.at_sigma(sigma) if hook.absolute_scale else law
        source = "exact limit"
    elif evaluable_on_rounded_law(hook):
        at = RoundedPopulation(law, storage, sigma)
        source = f"exact limit of the {storage}-rounded law"
    else:  # the hook reads what a rounded law does not offer (moments, the CDF)
        shape, scale = discrete_limit(estimator, law, sigma, storage)
        return Target(shape, scale, f"the estimator on the {storage}-rounded law (cell probabilities)")
    shape, scale, _ = exact_limit(estimator, at, **hook.option_sets[0])
    return Target(float(shape), float(scale) * sigma, source)


def _draw(population: str, rng: np.random.Generator, n: int) -> np.ndarray:
    """One float64 sample of ``population`` at its absolute scale."""
    law, sigma = POPULATIONS[population]
    if law is HALFNORMAL:
        return sigma * np.abs(rng.standard_normal(n))
    return sigma * rng.weibull(COVERAGE_SHAPE, n)


def _stored(x: np.ndarray, storage: str) -> Any:
    return as_sample(x if storage == "float64" else round_to_storage(x, storage))


def _hits(ci: ConfidenceInterval, target: Target) -> tuple[bool, bool, float, float]:
    assert target.shape is not None and target.scale is not None
    return (ci.shape.low <= target.shape <= ci.shape.high, ci.scale.low <= target.scale <= ci.scale.high,
            ci.shape.high - ci.shape.low, (ci.scale.high - ci.scale.low) / target.scale)


def asymptotic_case(estimators: Sequence[str], population: str, n: int, reps: int, seed: int,
                    level: float = CONFIDENCE_LEVEL, storages: Sequence[str] = STORAGES
                    ) -> list[dict[str, Any]]:
    """Coverage of every estimator's asymptotic interval on ``reps`` samples of ``population``
    at size ``n``, float64 and bf16-stored (``storages``; the same draws), one record per
    estimator, storage and parameter (see
    :func:`~weibull_stats.validation.coverage_table.coverage_records`).

    Examples
    --------
    >>> rows = asymptotic_case(["mle"], "weibull(k=1.5)", 500, 20, seed=1, storages=["float64"])
    >>> [(r["parameter"], r["reps"], 0 <= r["hits"] <= 20) for r in rows]
    [('shape', 20, True), ('scale', 20, True)]
    """
    targets = {(name, s): coverage_target(name, population, s) for name in estimators for s in storages}
    live = [(name, s) for (name, s), t in targets.items() if t.shape is not None]
    hits = {key: np.zeros((reps, 4)) for key in live}
    warned = dict.fromkeys(live, 0)
    rng = child_rng(seed, "coverage", "asymptotic", population, n)
    with warnings.catch_warnings():
        # counted per case instead (the `warned` column): an unreliable interval is a row here
        warnings.simplefilter("ignore", UnreliableIntervalWarning)
        for r in range(reps):
            x = _draw(population, rng, n)
            for storage in storages:
                names = [name for name in estimators if (name, storage) in hits]
                sample = _stored(x, storage) if names else None
                for name in names:
                    result = confidence_interval(sample, name, confidence_level=level)
                    hits[(name, storage)][r] = _hits(result.confidence_interval, targets[(name, storage)])
                    warned[(name, storage)] += result.warning is not None
    records = []
    for (name, storage), target in targets.items():
        case = {"population": population, "storage": storage, "estimator": name, "method": "asymptotic",
                "interval": "wald", "kind": "", "n": n, "reps": reps, "n_resamples": 0}
        found = hits.get((name, storage))
        records += coverage_records(case, target.shape, target.scale, target.source, found,
                                    warned.get((name, storage), 0), level)
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
            sample = _stored(_draw(population, rng, n), storage)
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


def _tasks(estimators: Sequence[str], seed: int, scale_reps: float) -> list[tuple[Callable[..., Any], tuple]]:
    """Every case as ``(function, arguments)``, the costliest first (for the worker pool)."""
    def reps(count: int) -> int:
        return max(2, round(count * scale_reps))

    tasks: list[tuple[float, Callable[..., Any], tuple]] = []
    # the targets first: cached here, so forked workers inherit them instead of recomputing
    targets = {(name, population, storage): coverage_target(name, population, storage)
               for name in estimators for population in POPULATIONS for storage in STORAGES}
    for population in POPULATIONS:
        for n, count in ASYMPTOTIC_REPS.items():
            args = (tuple(estimators), population, n, reps(count), seed)
            tasks.append((n * reps(count), asymptotic_case, args))
    for population, chosen, kinds, sizes, count in BOOTSTRAP_CASES:
        for name in [e for e in estimators if chosen is None or e in chosen]:
            for kind in kinds:
                # a case without a target is listed once, by the asymptotic rows
                for storage in [s for s in STORAGES if targets[(name, population, s)].shape is not None]:
                    for n in sizes:
                        cost = 500 * n * reps(count) / 20
                        tasks.append((cost, bootstrap_case,
                                      (name, kind, population, storage, n, reps(count), seed)))
    tasks.sort(key=lambda t: -t[0])
    return [(function, args) for _, function, args in tasks]


def _run(task: tuple[Callable[..., Any], tuple]) -> list[dict[str, Any]]:
    function, args = task
    return list(function(*args))


def coverage_study(estimators: Sequence[str] | None = None, *, seed: int = DEFAULT_SEED, workers: int = 1,
                   scale_reps: float = 1.0) -> pd.DataFrame:
    """Every case of the study as one long table (a row per case and parameter).

    ``workers`` processes share the cases (the numbers do not depend on it);
    ``scale_reps`` multiplies every replicate count (1 for the committed study; small for
    a quick look). Columns: see :func:`~weibull_stats.validation.coverage_table.coverage_records`.
    """
    names = check_estimators(estimators)
    tasks = _tasks(names, seed, scale_reps)
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(_run, tasks))
    else:
        parts = [_run(task) for task in tasks]
    frame = pd.DataFrame.from_records([row for part in parts for row in part])
    order = ["population", "storage", "estimator", "method", "kind", "interval", "parameter", "n"]
    return frame.sort_values(order, kind="stable", ignore_index=True)


def write_coverage(frame: pd.DataFrame, out: Path, info: Mapping[str, Any], *,
                   figure_formats: Sequence[str] | None = None, dpi: float | None = None) -> list[Path]:
    """``coverage.*`` (the smallest ``n`` table), ``coverage_by_n.*`` (every row) and the figure
    (``coverage.png`` and ``.pdf``; ``figure_formats`` and ``dpi`` as in
    :func:`~weibull_stats.validation.report.save_figure`)."""
    reps = ", ".join(f"{r} at n = {n:g}" for n, r in ASYMPTOTIC_REPS.items())
    files = write_table(
        summary_for_output(covering_sizes(frame)), out, "coverage", stamp=info,
        title="Interval coverage: smallest n from which coverage is within Monte Carlo error of nominal 0.95",
        notes=["within Monte Carlo error: the 95% Wilson interval of the coverage (statsmodels "
               "proportion_confint) contains 0.95 at that n and at every larger n tested",
               "targets: each estimator's exact limit under the population as stored (bf16: the limit "
               "of the rounded law)",
               f"asymptotic: Wald intervals, replicates {reps}; bootstrap: {N_RESAMPLES} resamples, "
               "800 replicates under the half-normal, 400 under Weibull",
               "regenerate: python -m weibull_stats.validation.coverage --out validation/results"])
    files += write_table(
        frame, out, "coverage_by_n", stamp=info,
        title="Interval coverage (nominal 0.95) per estimator, method, population, storage and n",
        notes=["wilson_low/high: 95% Wilson interval of the coverage (statsmodels); mean_width: shape "
               "absolute, scale relative to the target; warned: replicates with UnreliableIntervalWarning "
               "(asymptotic) or FewResamplesWarning (BCa: a tail beyond the resamples)"])
    files.append(coverage_figure(frame, out, info, formats=figure_formats, dpi=dpi))
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
    return write_coverage(coverage_study(run.names, seed=run.seed, workers=workers), run.out, run.info)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the coverage study alone (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m weibull_stats.validation.coverage")
    parser.add_argument("--out", default="validation/results")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--estimator", action="append", default=None)
    parser.add_argument("--workers", type=int, default=2, help="processes (default: %(default)s)")
    parser.add_argument("--scale-reps", type=float, default=1.0,
                        help="multiply every replicate count (default: %(default)s, the committed study)")
    parser.add_argument("--redraw", action="store_true",
                        help="rewrite coverage.* and the figure from OUT/coverage_by_n.csv, no simulation")
    args = parser.parse_args(argv)
    if args.redraw:
        for path in redraw_coverage(args.out):
            sys.stderr.write(f"wrote {path}\n")
        return 0
    info = stamp(args.seed)
    frame = coverage_study(args.estimator, seed=args.seed, workers=args.workers, scale_reps=args.scale_reps)
    for path in write_coverage(frame, Path(args.out), info):
        sys.stderr.write(f"wrote {path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
