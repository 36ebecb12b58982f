"""``weibull-stats fit PATH``: fit a .npy array with one or more estimators."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from weibull_stats.commands._output import write_json, write_table
from weibull_stats.registry import ESTIMATORS, fit


def load_npy(path: str) -> np.ndarray:
    """Load a ``.npy`` array without pickles; errors name the file."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return np.load(file, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable .npy array ({exc})") from None


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
    parser.add_argument(
        "--values",
        choices=("magnitudes", "weights"),
        default="magnitudes",
        help="'weights' fits |x| of signed data; with 'magnitudes' negative values are an error",
    )
    parser.add_argument("--zeros", choices=("error", "omit"), default="error")
    parser.add_argument("--nonfinite", choices=("error", "omit"), default="error")
    parser.set_defaults(handler=run)


def selected_estimators(names: list[str] | None) -> list[str]:
    """Expand ``all`` and drop repeats, keeping order; unknown names are errors."""
    chosen: list[str] = []
    for name in names or ["probability_plot"]:
        for item in ESTIMATORS if name == "all" else [name]:
            if item not in ESTIMATORS:
                raise ValueError(f"unknown estimator {item!r}; registered: {', '.join(ESTIMATORS)}, all")
            if item not in chosen:
                chosen.append(item)
    return chosen


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
