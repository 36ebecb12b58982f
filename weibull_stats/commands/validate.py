"""``weibull-stats validate``: exact anchors, checks and simulation studies."""

from __future__ import annotations

import argparse
import sys

from weibull_stats.commands._arguments import add_format_argument
from weibull_stats.commands._output import format_table, write_json
from weibull_stats.registry import ESTIMATORS
from weibull_stats.validation._common import DEFAULT_SEED, check_seed
from weibull_stats.validation.gate import record_pass


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="exact anchors and simulation checks of every estimator",
        description="Compute every estimator's exact population values (anchors) under the half-normal "
        "law, check them against closed forms and true Weibull data, and confirm them by seeded "
        "simulation. --quick (the default) takes seconds and records a pass for the gate; --full "
        "regenerates every table and plot of the committed validation results.",
    )
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
        help="every study, tables and plots, several minutes (default: --quick)",
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
    add_format_argument(parser)
    parser.add_argument(
        "--estimator",
        action="append",
        metavar="NAME",
        help=f"registered estimator ({', '.join(ESTIMATORS)}); repeatable (default: all)",
    )
    parser.set_defaults(handler=run)


def _progress(message: str) -> None:
    sys.stderr.write(f"weibull-stats validate: {message}\n")
    sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    # the suite needs mpmath (the `validation` extra): imported when validation runs, so that
    # the other commands (a scan with --skip-validation included) never import it
    from weibull_stats.validation.suite import run_full, run_quick

    seed = check_seed(DEFAULT_SEED if args.seed is None else args.seed)
    if args.mode == "full":
        report = run_full(args.estimator, seed=seed, out=args.out or "validation/results", progress=_progress)
    else:
        report = run_quick(args.estimator, seed=seed, out=args.out, progress=_progress)
        if report.passed:
            record_pass(report.estimators, seed=report.seed, date=report.date, checks=len(report.checks))
    if args.format == "json":
        write_json(report.to_dict())
    else:
        rows = [
            [a.estimator, ", ".join(f"{k}={v}" for k, v in a.options.items()), a.shape, a.scale]
            for a in report.anchors
        ]
        sys.stdout.write(
            f"weibull-stats {report.package_version} validate --{report.mode}, seed {report.seed}, "
            f"{report.date}\nExact population values under HalfNormal(sigma):\n"
        )
        sys.stdout.write(format_table(["estimator", "options", "shape", "scale/sigma"], rows) + "\n")
        failed = report.failed
        sys.stdout.write(f"{len(report.checks) - len(failed)} of {len(report.checks)} checks passed\n")
        for check in failed:
            sys.stdout.write(f"FAILED {check.name}: {check.detail}\n")
        if report.files:
            sys.stdout.write(f"wrote {len(report.files)} files under {args.out or 'validation/results'}\n")
    return 0 if report.passed else 1
