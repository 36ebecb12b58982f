"""goodness of fit of the Weibull law (parameters estimated)

Monte Carlo goodness-of-fit test of an array against the Weibull law, refitting every Monte
Carlo sample with the same estimator and options; effect sizes and a likelihood comparison with
lognormal, gamma and half-normal laws. The same --seed gives the same output bytes.
"""

from __future__ import annotations

import argparse
import sys

from weibull_stats.commands._arguments import add_monte_carlo_arguments, monte_carlo_input, non_negative_int
from weibull_stats.commands._output import options_line, write_json, write_table
from weibull_stats.core.formatting import pvalue_text
from weibull_stats.inference.gof import STATISTICS, goodness_of_fit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_monte_carlo_arguments(parser)
    parser.add_argument("--statistic", choices=STATISTICS, default="ad",
                        help="Anderson-Darling (ad), Cramer-von Mises (cvm) or Kolmogorov-Smirnov (ks) "
                        "(default: %(default)s)")
    parser.add_argument("--n-mc-samples", "--gof-samples", dest="n_mc_samples", type=non_negative_int,
                        default=999, metavar="M",
                        help="Monte Carlo samples of the null distribution (--gof-samples, as in scan); 0: "
                        "effect sizes and model comparison only (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    data, keywords = monte_carlo_input(args, null_draws=args.n_mc_samples > 0)
    result = goodness_of_fit(data, args.estimator, statistic=args.statistic, n_mc_samples=args.n_mc_samples,
                             **keywords)
    if args.format == "json":
        write_json(result.to_dict())
        return 0
    effect = result.effect_sizes
    p = pvalue_text(result.pvalue, result.n_mc_samples, prefix=True, missing="p = n/a")
    sys.stdout.write(
        f"{result.statistic_name} = {result.statistic:.6g}, {p} ({result.n_mc_samples} Monte Carlo "
        f"samples refitted by {result.fit.estimator}; seed={result.seed})\n"
        f"fit: shape {result.fit.shape:.10g}, scale {result.fit.scale:.10g}, n={result.fit.n}\n"
        f"{options_line(result.fit)}\n"
        f"effect sizes: correlation {effect.correlation:.6f}, R^2 {effect.r2:.6f}, "
        f"curvature {effect.curvature:+.4f}, KS distance {effect.ks_distance:.4g}\n"
    )
    comparison = result.model_comparison
    delta = comparison.delta_aic
    write_table(
        ["family", "log_likelihood", "aic", "bic", "delta_aic_vs_weibull"],
        [[f.family, f.log_likelihood, f.aic, f.bic, delta[f.family]] for f in comparison.fits],
    )
    return 0
