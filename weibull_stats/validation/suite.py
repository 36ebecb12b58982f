"""The quick and full validation runs: anchors, checks, simulation, outputs.

``run_quick`` is what the gate and ``make test`` run (seconds); ``run_full`` regenerates
every committed table and plot under ``validation/results/`` (minutes).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from weibull_stats import HALFNORMAL_ANCHOR_SCALE, HALFNORMAL_ANCHOR_SHAPE
from weibull_stats._version import __version__
from weibull_stats.registry import ESTIMATORS, get_estimator
from weibull_stats.validation import figures, studies
from weibull_stats.validation._common import DEFAULT_SEED, Check, check_seed, family_z, stamp, within
from weibull_stats.validation.anchors import (
    Anchor,
    all_anchors,
    anchor_option_sets,
    histogram_weibull_tolerance,
    limit_for,
    log_moment_limit,
    probability_plot_limit,
)
from weibull_stats.validation.populations import HALFNORMAL, weibull
from weibull_stats.validation.report import write_table
from weibull_stats.validation.simulation import FULL_SIZES, QUICK_SIZES, ConfirmationRow, confirmation_study
from weibull_stats.validation.stored_gof import storage_studies

#: True shapes at which every anchor must give back the true parameters.
RECOVERY_SHAPES: tuple[float, ...] = (0.7, 1.2, 2.0)
#: Relative tolerance of an exact anchor (quadrature) against a closed form or true value.
EXACT_TOLERANCE = 1e-10

Progress = Callable[[str], None]


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
            "confirmation": [_clean(r.to_dict()) for r in self.confirmation],
            "files": list(self.files),
        }


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}


def check_estimators(estimators: Sequence[str] | None) -> tuple[str, ...]:
    """Registered names, in registry order, no repeats; None means all."""
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


def anchor_checks(estimators: Sequence[str]) -> tuple[list[Anchor], list[Check]]:
    """Half-normal anchors and the exactness checks (constants, precision, Weibull recovery)."""
    anchors = all_anchors(estimators, HALFNORMAL)
    checks: list[Check] = []
    if "probability_plot" in estimators:
        shape, scale, _ = probability_plot_limit(HALFNORMAL)
        checks.append(
            within(
                "anchor.constant.HALFNORMAL_ANCHOR_SHAPE",
                HALFNORMAL_ANCHOR_SHAPE,
                shape,
                5e-11,
                "package constant (10 decimals) against the quadrature",
            )
        )
        checks.append(
            within(
                "anchor.constant.HALFNORMAL_ANCHOR_SCALE",
                HALFNORMAL_ANCHOR_SCALE,
                scale,
                5e-11,
                "package constant (10 decimals) against the quadrature",
            )
        )
    if "log_moment" in estimators:
        checks.append(
            within(
                "anchor.closed_form.log_moment.shape",
                log_moment_limit(HALFNORMAL)[0],
                2 / math.sqrt(3),
                1e-14,
                "shape = 2 / sqrt(3) exactly under HalfNormal",
            )
        )
    for name in estimators:
        worst = max(a.error / max(1.0, abs(a.shape), abs(a.scale)) for a in anchors if a.estimator == name)
        checks.append(
            Check(
                f"anchor.precision.{name}",
                worst <= EXACT_TOLERANCE,
                worst,
                0.0,
                EXACT_TOLERANCE,
                "stated relative error of every half-normal anchor (10 significant digits)",
            )
        )
        tolerance = histogram_weibull_tolerance() if name == "histogram" else EXACT_TOLERANCE
        for options in anchor_option_sets(name):
            label = ",".join(f"{k}={v}" for k, v in options.items())
            for true_shape in RECOVERY_SHAPES:
                shape, scale = limit_for(name, weibull(true_shape), options)
                detail = (
                    "binned limit: bin-width error allowed"
                    if name == "histogram"
                    else "exact limit must equal the truth"
                )
                base = f"anchor.weibull.{name}" + (f"[{label}]" if label else "") + f".k={true_shape:g}"
                checks.append(within(f"{base}.shape", shape / true_shape, 1.0, tolerance, detail))
                checks.append(within(f"{base}.scale", scale, 1.0, tolerance, detail))
    return anchors, checks


def run_quick(
    estimators: Sequence[str] | None = None,
    *,
    seed: int = DEFAULT_SEED,
    out: str | Path | None = None,
    progress: Progress | None = None,
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
    progress : callable, optional
        Called with a short message before each stage (the CLI prints it to stderr).
    """
    names = check_estimators(estimators)
    seed = check_seed(seed)
    tell = progress or (lambda message: None)
    tell("anchors")
    anchors, checks = anchor_checks(names)
    tell("simulation")
    rows, sim_checks = confirmation_study(names, QUICK_SIZES, seed=seed, recovery_reps=200)
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


def citation_table(report: ValidationReport) -> pd.DataFrame:
    """One row per distinct anchor (plotting positions merged) with version, seed and date."""
    rows = []
    seen = set()
    for anchor in report.anchors:
        options = {k: v for k, v in anchor.options.items() if k not in ("plotting_position", "method")}
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
    progress: Progress | None = None,
) -> ValidationReport:
    """Every study; regenerates all tables and plots under ``out`` (4-7 minutes on 2 cores)."""
    names = check_estimators(estimators)
    seed = check_seed(seed)
    out = Path(out)
    tell = progress or (lambda message: None)
    info = stamp(seed)
    files: list[Path] = []
    tell("anchors")
    anchors, checks = anchor_checks(names)
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
    files += write_table(
        weib,
        out,
        "anchors_weibull",
        stamp=info,
        title="Every anchor under true Weibull(k, 1) data returns the true parameters",
        notes=["value = limit shape / k or limit scale; histogram: binned limit, bin-width tolerance"],
    )
    tell("simulation confirmation")
    rows, sim_checks = confirmation_study(names, FULL_SIZES, seed=seed, recovery_reps=400)
    checks += sim_checks
    frame = pd.DataFrame.from_records([r.to_dict() for r in rows])
    files.append(figures.confirmation_figure(frame, out, info))
    tell("finite-n bias")
    bias = studies.finite_n_bias_study(names, seed=seed)
    files += write_table(
        bias,
        out,
        "finite_n_bias",
        stamp=info,
        title="Finite-n bias under HalfNormal(0.02), estimators and plotting positions",
        notes=["predicted_n_bias: O(1/n) theory where derived (log_moment, quantile)"],
    )
    files.append(figures.finite_n_bias_figure(bias, out, info))
    tell("bias, sd and RMSE under Weibull")
    errors = studies.weibull_error_study(names, seed=seed)
    files += write_table(
        errors,
        out,
        "weibull_errors",
        stamp=info,
        title="Bias, sd and RMSE under true Weibull(k, scale=1)",
        notes=["bias_mc_se and sd_mc_se: Monte Carlo standard errors"],
    )
    files.append(figures.weibull_errors_figure(errors, out, info))
    if "mle" in names:
        efficiency = studies.efficiency_table(errors)
        files += write_table(
            efficiency,
            out,
            "efficiency",
            stamp=info,
            title="Relative efficiency against MLE under true Weibull data",
            notes=["efficiency = MSE(MLE) / MSE(estimator); same samples for all estimators"],
        )
        files.append(figures.efficiency_figure(efficiency, out, info))
    if "probability_plot" in names:
        tell("trim study")
        trim = studies.trim_study(seed=seed)
        files += write_table(
            trim,
            out,
            "trim",
            stamp=info,
            title="HalfNormal probability-plot limit against the trim (a, 1 - a)",
        )
        files.append(figures.trim_figure(trim, out, info))
    if "histogram" in names:
        tell("histogram sigma sweep")
        sweep = studies.histogram_sigma_table(seed=seed)
        files += write_table(
            sweep,
            out,
            "histogram_sigma",
            stamp=info,
            title="Histogram-mode HalfNormal limit as sigma crosses one bin width",
        )
        files.append(figures.histogram_sigma_figure(sweep, out, info))
    if "probability_plot" in names:
        tell("step-0 architectures")
        from weibull_stats.validation.step0 import step0_study

        step0, step0_checks = step0_study(seed=seed, size="full")
        checks += step0_checks
        files += write_table(
            step0,
            out,
            "step0",
            stamp=info,
            title="Step-0 check: freshly initialised architectures against exact anchors",
            notes=[
                "z = (fit - anchor) / asymptotic SE at the matrix size; pass when |z| <= z_limit "
                "(the family-wise bound for all matrices, validation/README.md) for shape and ln scale"
            ],
        )
        files.append(figures.step0_figure(step0, out, info))
    for extra in [*_uncertainty_studies(), *storage_studies()]:
        files += extra(names, seed, out, info, tell, checks)
    report = ValidationReport(
        "full", seed, __version__, info["date"], names, tuple(anchors), tuple(checks), tuple(rows)
    )
    return _write_common(report, out, files)


def _uncertainty_studies() -> list[Callable[..., list[Path]]]:
    """Coverage and GoF studies, present once the uncertainty API exists."""
    from weibull_stats.validation import uncertainty

    return uncertainty.available_studies()
