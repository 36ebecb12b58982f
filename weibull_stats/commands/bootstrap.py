"""``weibull-stats bootstrap PATH``: bootstrap confidence intervals for one estimator."""

from __future__ import annotations

import argparse
import sys

from weibull_stats.bootstrapping import KINDS, METHODS, bootstrap
from weibull_stats.commands._arguments import add_policy_arguments, add_random_arguments, load_npy
from weibull_stats.commands._output import write_json, write_table
from weibull_stats.registry import ESTIMATORS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bootstrap",
        help="bootstrap confidence intervals for shape and scale",
        description="Bootstrap confidence intervals for the Weibull shape and scale of a .npy array. "
        "The same --seed gives the same output bytes.",
    )
    parser.add_argument("path", metavar="PATH", help=".npy file of any shape and float dtype")
    parser.add_argument("--estimator", default="probability_plot", choices=tuple(ESTIMATORS),
                        metavar="NAME", help=f"registered estimator ({', '.join(ESTIMATORS)})")
    parser.add_argument("--method", choices=METHODS, default="percentile",
                        help="interval: percentile (default), basic or BCa (grouped-jackknife acceleration)")
    parser.add_argument("--kind", choices=KINDS, default="nonparametric",
                        help="resample the data (default) or simulate from the fitted Weibull law")
    parser.add_argument("--n-resamples", type=int, default=999, metavar="B", help="resamples (default 999)")
    parser.add_argument("--confidence-level", type=float, default=0.95, metavar="LEVEL",
                        help="default 0.95")
    add_random_arguments(parser)
    add_policy_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    data = load_npy(args.path)
    result = bootstrap(
        data,
        args.estimator,
        n_resamples=args.n_resamples,
        method=args.method,
        confidence_level=args.confidence_level,
        kind=args.kind,
        rng=args.seed,
        workers=args.workers,
        progress=sys.stderr.isatty(),
        values=args.values,
        zeros=args.zeros,
        nonfinite=args.nonfinite,
    )
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
    )
    return 0
