"""``weibull-stats fit PATH``: fit an array with one or more estimators."""

from __future__ import annotations

import argparse

from weibull_stats.commands._arguments import (
    add_estimator_argument,
    add_format_argument,
    add_input_arguments,
    add_option_argument,
    add_policy_arguments,
    load_input,
    policy,
    selected_estimators,
)
from weibull_stats.commands._options import parse_options
from weibull_stats.commands._output import write_json, write_options, write_table
from weibull_stats.estimators.registry import fit


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fit",
        help="fit a Weibull law to an array",
        description="Fit a two-parameter Weibull law F(x) = 1 - exp(-(x/scale)^shape) to |w| of an "
        "array (any shape). The table is followed by one line per estimator giving every option "
        "it used and the values it left out.",
    )
    add_input_arguments(parser)
    add_estimator_argument(parser, repeatable=True)
    add_option_argument(parser)
    add_format_argument(parser)
    add_policy_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    names = selected_estimators(args.estimator)
    options = parse_options(args.option, names)
    data = load_input(args)
    results = [fit(data, name, **options[name], **policy(args)) for name in names]
    if args.format == "json":
        write_json([r.to_dict() for r in results])
    else:
        write_table(
            ["estimator", "shape", "scale", "n", "n_used", "r2", "converged"],
            [[r.estimator, r.shape, r.scale, r.n, r.n_used, r.r2, r.converged] for r in results],
        )
        write_options(results)
    return 0
