"""exact anchors and simulation checks of every estimator

Compute every estimator's exact population values (anchors) under the half-normal law, check
them against closed forms and true Weibull data, and confirm them by seeded simulation. --quick
(the default) takes seconds and records a pass for the gate; --full regenerates every table and
plot of the committed validation results.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from weibull_stats.commands._arguments import add_progress_argument
from weibull_stats.commands._output import format_table, write_json
from weibull_stats.core.seeds import check_seed
from weibull_stats.estimators.registry import ESTIMATORS
from weibull_stats.validation import DEFAULT_SEED
from weibull_stats.validation.gate import record_pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--quick",
        dest="mode",
        action="store_const",
        const="quick",
        help="anchors + quick simulation (default)",
    )
    mode.add_argument(
        "--full",
        dest="mode",
        action="store_const",
        const="full",
        help="every study, tables and plots, about 65 min on 2 cores (default: --quick)",
    )
    parser.set_defaults(mode="quick")
    parser.add_argument("--seed", type=int, default=None, metavar="S",
                        help=f"seed of every simulation stream (default: {DEFAULT_SEED})")
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="output folder (default: none for --quick, validation/results for --full)",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="table: a one-line summary of the checks; json: the whole report "
                        "(default: %(default)s)")
    parser.add_argument("--table", action="store_true",
                        help="also print the table of exact population values (anchors); it is "
                        "always written to the --out folder as anchors.md (default: off)")
    parser.add_argument(
        "--estimator",
        action="append",
        metavar="NAME",
        help=f"registered estimator ({', '.join(ESTIMATORS)}); repeatable (default: all)",
    )
    add_progress_argument(parser)


def summary_line(report: Any, out: str | None, table_shown: bool = False) -> str:
    """One line: what passed, with which seed, and where the full table is.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> report = SimpleNamespace(mode="quick", checks=[1, 2, 3], failed=[], estimators=("mle",),
    ...                          seed=7, files=("x/anchors.md",))
    >>> summary_line(report, "build/validation-quick")
    'validation gate: 3/3 checks passed (1 estimator, seed 7); full table: build/validation-quick/anchors.md'
    >>> summary_line(report, None)
    'validation gate: 3/3 checks passed (1 estimator, seed 7); full table: weibull-stats validate --table'
    """
    total = len(report.checks)
    passed = total - len(report.failed)
    count = len(report.estimators)
    what = "validation gate" if report.mode == "quick" else f"validation --{report.mode}"
    line = (f"{what}: {passed}/{total} checks passed ({count} estimator{'s' if count != 1 else ''}, "
            f"seed {report.seed})")
    if out is not None and report.files:
        line += f"; full table: {Path(out) / 'anchors.md'}"
    elif not table_shown:
        line += "; full table: weibull-stats validate --table"
    return line


def run(args: argparse.Namespace) -> int:
    # the suite needs mpmath (the `validation` extra): imported when validation runs, so that
    # the other commands (a scan with --skip-validation included) never import it
    from weibull_stats.validation.suite import run_full, run_quick

    seed = check_seed(DEFAULT_SEED if args.seed is None else args.seed)
    if args.mode == "full":
        report = run_full(args.estimator, seed=seed, out=args.out or "validation/results",
                          progress=args.progress)
    else:
        report = run_quick(args.estimator, seed=seed, out=args.out, progress=args.progress)
        if report.passed:
            record_pass(report)
    if args.format == "json":
        write_json(report.to_dict())
        return 0 if report.passed else 1
    out = args.out or ("validation/results" if args.mode == "full" else None)
    if args.table:
        rows = [
            [a.estimator, ", ".join(f"{k}={v}" for k, v in a.options.items()), a.shape, a.scale]
            for a in report.anchors
        ]
        sys.stdout.write(
            f"weibull-stats {report.package_version} validate --{report.mode}, seed {report.seed}, "
            f"{report.date}\nExact population values under HalfNormal(sigma):\n"
        )
        sys.stdout.write(format_table(["estimator", "options", "shape", "scale/sigma"], rows) + "\n")
    sys.stdout.write(summary_line(report, out, args.table) + "\n")
    for check in report.failed:
        sys.stdout.write(f"FAILED {check.name}: {check.detail}\n")
    return 0 if report.passed else 1
