"""Arguments and input loading shared by several subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from weibull_stats.registry import ESTIMATORS


def load_npy(path: str) -> np.ndarray:
    """Load a ``.npy`` array without pickles; errors name the file."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return np.load(file, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable .npy array ({exc})") from None


def add_policy_arguments(parser: argparse.ArgumentParser) -> None:
    """``--values``, ``--zeros`` and ``--nonfinite``: the bad-input policy of the estimators."""
    parser.add_argument(
        "--values",
        choices=("magnitudes", "weights"),
        default="magnitudes",
        help="'weights' fits |x| of signed data; with 'magnitudes' negative values are an error",
    )
    parser.add_argument("--zeros", choices=("error", "omit"), default="error")
    parser.add_argument("--nonfinite", choices=("error", "omit"), default="error")


def add_random_arguments(parser: argparse.ArgumentParser) -> None:
    """``--seed``, ``--workers`` and ``--format`` of the Monte Carlo commands."""
    parser.add_argument("--seed", type=int, default=None, metavar="S",
                        help="seed (default: fresh entropy, printed in the output)")
    parser.add_argument("--workers", type=int, default=None, help="threads (default: every CPU)")
    parser.add_argument("--format", choices=("table", "json"), default="table")


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
