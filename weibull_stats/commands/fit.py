"""``weibull-stats fit PATH``: fit a .npy array with one or more estimators."""

from __future__ import annotations

import argparse

from weibull_stats.commands._arguments import add_policy_arguments, load_npy, selected_estimators
from weibull_stats.commands._output import write_json, write_table
from weibull_stats.registry import ESTIMATORS, fit


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fit",
        help="fit a Weibull law to a .npy array",
        description="Fit a two-parameter Weibull law to the values of a .npy array (any shape).",
    )
    parser.add_argument("path", metavar="PATH", help=".npy file of any shape and float dtype")
    parser.add_argument(
        "--estimator",
        action="append",
        metavar="NAME",
        help=f"registered estimator ({', '.join(ESTIMATORS)}) or 'all'; repeatable; "
        "default probability_plot",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    add_policy_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    names = selected_estimators(args.estimator)
    data = load_npy(args.path)
    policy = {"values": args.values, "zeros": args.zeros, "nonfinite": args.nonfinite}
    results = [fit(data, name, **policy) for name in names]
    if args.format == "json":
        write_json([r.to_dict() for r in results])
    else:
        write_table(
            ["estimator", "shape", "scale", "n", "n_used", "r2", "converged"],
            [[r.estimator, r.shape, r.scale, r.n, r.n_used, r.r2, r.converged] for r in results],
        )
    return 0
