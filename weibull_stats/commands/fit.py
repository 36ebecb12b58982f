"""fit a Weibull law to an array

Fit a two-parameter Weibull law F(x) = 1 - exp(-(x/scale)^shape) to |w| of an array (any shape).
The table is followed by one line per estimator giving every option it used and the values it
left out.
"""

from __future__ import annotations

import argparse

from weibull_stats.commands._arguments import add_array_arguments, add_format_argument, fitting_input
from weibull_stats.commands._output import write_json, write_options, write_table
from weibull_stats.estimators.registry import fit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_array_arguments(parser, repeatable=True)
    add_format_argument(parser)


def run(args: argparse.Namespace) -> int:
    data, keywords = fitting_input(args)
    results = [fit(data, name, **each) for name, each in keywords.items()]
    if args.format == "json":
        write_json([r.to_dict() for r in results])
    else:
        write_table(
            ["estimator", "shape", "scale", "n", "n_used", "r2", "converged"],
            [[r.estimator, r.shape, r.scale, r.n, r.n_used, r.r2, r.converged] for r in results],
        )
        write_options(results)
    return 0
