"""The quick and full validation runs: anchors, checks, simulation, outputs.

``run_quick`` is what the gate and ``make test`` run (seconds); ``run_full`` regenerates
every committed table and plot under ``validation/results/`` (minutes).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from weibull_stats._version import __version__
from weibull_stats.core.formatting import jsonable
from weibull_stats.core.progress import ProgressOption, Stages
from weibull_stats.estimators.registry import (
    declared_estimator,
    get_estimator,
)
from weibull_stats.validation import figures, studies, uncertainty
from weibull_stats.validation._common import (
    DEFAULT_SEED,
    Check,
    check_estimators,
    check_seed,
    family_z,
    stamp,
)
from weibull_stats.validation.anchors import Anchor, depends_on_sigma, population_hook
from weibull_stats.validation.checks import EXACT_TOLERANCE, RECOVERY_SHAPES, anchor_checks
from weibull_stats.validation.gof_tables import gof_null_studies
from weibull_stats.validation.report import StudyRun, write_table
from weibull_stats.validation.simulation import (
    FULL_SIZES,
    QUICK_SIZES,
    ConfirmationRow,
    confirmation_study,
    study_work,
)
from weibull_stats.validation.step0 import step0_study
from weibull_stats.validation.stored_gof import storage_studies

__all__ = [
    "EXACT_TOLERANCE",
    "RECOVERY_SHAPES",
    "ValidationReport",
    "anchor_checks",
    "check_estimators",
    "citation_table",
    "run_full",
    "run_quick",
]

@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Everything one validation run found.

    Attributes
    ----------
    mode : {"quick", "full"}
    seed : int
    package_version, date : str
    estimators : tuple of str
    anchors : tuple of Anchor
        Half-normal population values, every option set that matters.
    checks : tuple of Check
    confirmation : tuple of ConfirmationRow
    files : tuple of str
        Paths written (empty when no output folder was given).
    """

    mode: str
    seed: int
    package_version: str
    date: str
    estimators: tuple[str, ...]
    anchors: tuple[Anchor, ...]
    checks: tuple[Check, ...]
    confirmation: tuple[ConfirmationRow, ...] = ()
    files: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "seed": self.seed,
            "package_version": self.package_version,
            "date": self.date,
            "estimators": list(self.estimators),
            "passed": self.passed,
            "anchors": [a.to_dict() for a in self.anchors],
            "checks": [c.to_dict() for c in self.checks],
            "confirmation": [jsonable(r.to_dict()) for r in self.confirmation],
            "files": list(self.files),
        }


def run_quick(
    estimators: Sequence[str] | None = None,
    *,
    seed: int = DEFAULT_SEED,
    out: str | Path | None = None,
    progress: ProgressOption = None,
) -> ValidationReport:
    """Anchors, exactness checks and the quick simulation confirmation.

    Parameters
    ----------
    estimators : sequence of str, optional
        Registered names; default all.
    seed : int
        Seed of every simulation stream (recorded).
    out : path, optional
        Folder for ``validation.json``, ``anchors``, ``checks`` and ``confirmation`` tables.
    progress : bool, None or ticker, default None
        A bar with the time left on stderr, naming each stage; None shows it when stderr is
        a terminal (:mod:`weibull_stats.core.progress`).
    """
    names = check_estimators(estimators)
    seed = check_seed(seed)
    # relative costs of the stages, as measured on 2 cores (anchors 3 s, simulation 7 s)
    with Stages(progress, {"anchors": 3.0, "simulation": 7.0}, description="validate --quick") as tell:
        tell("anchors")
        anchors, checks = anchor_checks(names)
        tell("simulation")
        rows, sim_checks = confirmation_study(names, QUICK_SIZES, seed=seed, recovery_reps=200,
                                              ticker=tell.within(study_work(names, QUICK_SIZES,
                                                                            recovery_reps=200)))
    report = ValidationReport(
        "quick",
        seed,
        __version__,
        stamp(seed)["date"],
        names,
        tuple(anchors),
        tuple(checks + sim_checks),
        tuple(rows),
    )
    if out is not None:
        report = _write_common(report, Path(out))
    return report


def _limit_options(anchor: Anchor) -> dict[str, Any]:
    """The anchor's options without the estimator options its hook does not vary (those that
    leave the limit unchanged, listed once per value in the anchor table: the plotting
    position); descriptive entries that are no option (the histogram's bins) stay."""
    varied = {k for options in population_hook(anchor.estimator).option_sets for k in options}
    fixed = set(get_estimator(anchor.estimator).options) - varied
    return {k: v for k, v in anchor.options.items() if k not in fixed}


def citation_table(report: ValidationReport) -> pd.DataFrame:
    """One row per distinct anchor (plotting positions merged) with version, seed and date."""
    rows = []
    seen = set()
    for anchor in report.anchors:
        options = _limit_options(anchor)
        text = ", ".join(f"{k}={v}" for k, v in options.items()) or "(defaults)"
        if anchor.sigma is not None:
            text += f", sigma={anchor.sigma:g}"
        if (anchor.estimator, text) in seen:
            continue
        seen.add((anchor.estimator, text))
        rows.append(
            {
                "estimator": anchor.estimator,
                "options": text,
                "shape": f"{anchor.shape:.10f}",
                "scale/sigma": f"{anchor.scale:.10f}",
                "weibull-stats": report.package_version,
                "validation seed": report.seed,
                "validated": report.date[:10],
                "checks passed": f"{len(report.checks) - len(report.failed)}/{len(report.checks)}",
            }
        )
    return pd.DataFrame.from_records(rows)


def _write_common(report: ValidationReport, out: Path, extra: Sequence[Path] = ()) -> ValidationReport:
    info = {"seed": report.seed, "package_version": report.package_version, "date": report.date}
    files = list(extra)
    anchors = pd.DataFrame.from_records([a.to_dict() for a in report.anchors]).drop(columns=["details"])
    files += write_table(
        anchors,
        out,
        "anchors",
        title="Exact population values under HalfNormal(sigma)",
        stamp=info,
        notes=[
            "scale_over_sigma = population scale / sigma; error = stated absolute error of the quadrature"
        ],
    )
    files += write_table(
        citation_table(report),
        out,
        "citation",
        title="Exact population values to cite",
        stamp=info,
        level=2,
        notes=[
            "shape and scale/sigma of each estimator's limit under HalfNormal(sigma) (|w| of N(0, sigma^2) "
            "weights), computed by quadrature with stated error below 1e-12; the probability-plot limit "
            "is the same for every plotting position",
        ],
    )
    checks = pd.DataFrame.from_records([c.to_dict() for c in report.checks])
    files += write_table(checks, out, "checks", title=f"Validation checks ({report.mode})", stamp=info)
    confirmation = pd.DataFrame.from_records([r.to_dict() for r in report.confirmation])
    files += write_table(
        confirmation,
        out,
        "confirmation",
        stamp=info,
        title="Simulation confirmation: mean of seeded fits against the exact limit",
        notes=[
            "halfnormal rows: scale columns are scale/sigma (histogram mode at its regular sigma); "
            "z = (mean - limit - predicted bias) / MC SE; pass when |z| <= "
            f"{family_z(2 * max(len(report.confirmation), 1)):.3g}, the family-wise bound for "
            f"{2 * len(report.confirmation)} checks (validation/README.md)"
        ],
    )
    json_path = out / "validation.json"
    files.append(json_path)
    final = ValidationReport(
        report.mode,
        report.seed,
        report.package_version,
        report.date,
        report.estimators,
        report.anchors,
        report.checks,
        report.confirmation,
        tuple(str(p) for p in files),
    )
    json_path.write_text(json.dumps(final.to_dict(), indent=2, sort_keys=True) + "\n")
    return final


def run_full(
    estimators: Sequence[str] | None = None,
    *,
    seed: int = DEFAULT_SEED,
    out: str | Path = "validation/results",
    progress: ProgressOption = None,
) -> ValidationReport:
    """Every study; regenerates all tables and plots under ``out`` (65 minutes on 2 cores at
    0.4.0: the interval coverage study, :mod:`weibull_stats.validation.coverage`, 44, the
    goodness-of-fit size study, :mod:`weibull_stats.validation.gof_tables`, 10).

    ``progress``: a bar with the time left on stderr, one step per study (None: when stderr
    is a terminal; see :mod:`weibull_stats.core.progress`).
    """
    names = check_estimators(estimators)
    seed = check_seed(seed)
    out = Path(out)
    extras = [*uncertainty.available_studies(), *storage_studies(), *gof_null_studies()]
    with Stages(progress, _full_plan(names, len(extras)), description="validate --full") as tell:
        return _run_full(names, seed, out, tell, extras)


def _anchor_studies(names: Sequence[str]) -> bool:
    """The studies of the package's anchor run when its estimator is validated."""
    return declared_estimator("package_anchor").name in names


def _sigma_sweep(names: Sequence[str]) -> bool:
    """The sigma sweep runs when an estimator whose limit depends on sigma is validated."""
    return any(depends_on_sigma(name) for name in names)


def _full_plan(names: Sequence[str], extras: int) -> dict[str, float]:
    """The studies of :func:`run_full` for ``names``, one step each on the bar."""
    plan = ["anchors", "simulation confirmation", "finite-n bias", "bias, sd and RMSE under Weibull"]
    plan += ["trim study"] * _anchor_studies(names)
    plan += ["histogram sigma sweep"] * _sigma_sweep(names)
    plan += ["step-0 architectures"] * _anchor_studies(names)
    plan += [f"study {i + 1}" for i in range(extras)]
    return dict.fromkeys(plan, 1.0)


def _run_full(names: tuple[str, ...], seed: int, out: Path, tell: Stages, extras: list[Any]
              ) -> ValidationReport:
    tell("anchors")
    anchors, checks = anchor_checks(names)
    run = StudyRun(names, seed, out, stamp(seed), tell, checks)
    weib = pd.DataFrame.from_records(
        [
            {
                "estimator": c.name.split(".")[2].split("[")[0],
                "check": c.name,
                "value": c.value,
                "target": c.target,
                "tolerance": c.tolerance,
                "passed": c.passed,
            }
            for c in checks
            if c.name.startswith("anchor.weibull.")
        ]
    )
    files = run.table(
        weib, "anchors_weibull",
        title="Every anchor under true Weibull(k, 1) data returns the true parameters",
        notes=["value = limit shape / k or limit scale; histogram: binned limit, bin-width tolerance"],
    )
    tell("simulation confirmation")
    rows, sim_checks = confirmation_study(names, FULL_SIZES, seed=seed, recovery_reps=400)
    checks += sim_checks
    files.append(figures.confirmation_figure(pd.DataFrame.from_records([r.to_dict() for r in rows]), out,
                                             run.info))
    tell("finite-n bias")
    derived = [name for name in names if population_hook(name).bias is not None]
    files += run.table(
        studies.finite_n_bias_study(names, seed=seed), "finite_n_bias", figure=figures.finite_n_bias_figure,
        title="Finite-n bias under HalfNormal(0.02), estimators and plotting positions",
        notes=[f"predicted_n_bias: O(1/n) theory where derived ({', '.join(sorted(derived))})"],
    )
    tell("bias, sd and RMSE under Weibull")
    errors = studies.weibull_error_study(names, seed=seed)
    files += run.table(errors, "weibull_errors", figure=figures.weibull_errors_figure,
                       title="Bias, sd and RMSE under true Weibull(k, scale=1)",
                       notes=["bias_mc_se and sd_mc_se: Monte Carlo standard errors; "
                              "efficiency_mc_se: of MSE(MLE) / MSE"])
    if declared_estimator("maximum_likelihood").name in names:
        files += run.table(
            studies.efficiency_table(errors), "efficiency", figure=figures.efficiency_figure,
            title="Relative efficiency against MLE under true Weibull data",
            notes=["efficiency = MSE(MLE) / MSE(estimator); same samples for all estimators",
                   "efficiency_mc_se: Monte Carlo SE of the ratio, delta method on the paired squared "
                   "errors"],
        )
    if _anchor_studies(names):
        tell("trim study")
        files += run.table(studies.trim_study(seed=seed), "trim", figure=figures.trim_figure,
                           title="HalfNormal probability-plot limit against the trim (a, 1 - a)")
    if _sigma_sweep(names):
        tell("histogram sigma sweep")
        files += run.table(studies.histogram_sigma_table(seed=seed), "histogram_sigma",
                           figure=figures.histogram_sigma_figure,
                           title="Histogram-mode HalfNormal limit as sigma crosses one bin width")
    if _anchor_studies(names):
        tell("step-0 architectures")
        step0, step0_checks = step0_study(seed=seed, size="full")
        checks += step0_checks
        files += run.table(
            step0, "step0", figure=figures.step0_figure,
            title="Step-0 check: freshly initialised architectures against exact anchors",
            notes=[
                "z = (fit - anchor) / asymptotic SE at the matrix size; pass when |z| <= z_limit "
                "(the family-wise bound for all matrices, validation/README.md) for shape and ln scale"
            ],
        )
    for i, extra in enumerate(extras):
        tell(f"study {i + 1}")
        files += extra(run)
    report = ValidationReport(
        "full", seed, __version__, run.info["date"], names, tuple(anchors), tuple(checks), tuple(rows)
    )
    return _write_common(report, out, files)
