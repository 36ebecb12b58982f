"""bootstrap confidence intervals for shape and scale

Bootstrap confidence intervals for the Weibull shape and scale of an array. The same --seed
gives the same output bytes.
"""

from __future__ import annotations

import argparse
import sys

from weibull_stats.commands._arguments import (
    add_monte_carlo_arguments,
    confidence_level,
    monte_carlo_input,
    positive_int,
)
from weibull_stats.commands._output import options_line, write_json, write_table
from weibull_stats.inference.bootstrap import KINDS, METHODS, bootstrap


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_monte_carlo_arguments(parser)
    parser.add_argument("--method", choices=METHODS, default="percentile",
                        help="interval: percentile, basic, or BCa (grouped-jackknife acceleration) "
                        "(default: %(default)s)")
    parser.add_argument("--kind", choices=KINDS, default="nonparametric",
                        help="resample the data (nonparametric) or simulate from the fitted Weibull "
                        "law (parametric) (default: %(default)s)")
    parser.add_argument("--n-resamples", type=positive_int, default=999, metavar="B",
                        help="bootstrap resamples (default: %(default)s)")
    parser.add_argument("--confidence-level", type=confidence_level, default=0.95, metavar="LEVEL",
                        help="coverage of the intervals, between 0 and 1 (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    data, keywords = monte_carlo_input(args, null_draws=args.kind == "parametric")
    result = bootstrap(data, args.estimator, n_resamples=args.n_resamples, method=args.method,
                       confidence_level=args.confidence_level, kind=args.kind, **keywords)
    if args.format == "json":
        write_json(result.to_dict())
        return 0
    ci = result.confidence_interval
    write_table(
        ["parameter", "estimate", "low", "high", "standard_error"],
        [
            ["shape", result.estimate.shape, ci.shape.low, ci.shape.high, result.standard_error.shape],
            ["scale", result.estimate.scale, ci.scale.low, ci.scale.high, result.standard_error.scale],
        ],
    )
    sys.stdout.write(
        f"{result.confidence_level:g} {result.method} interval, {result.n_resamples} {result.kind} "
        f"resamples, estimator {result.estimate.estimator}, n={result.estimate.n}, seed={result.seed}\n"
        f"{options_line(result.estimate)}\n"
    )
    return 0
