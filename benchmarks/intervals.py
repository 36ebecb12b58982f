"""Benchmark: asymptotic intervals against the fit alone and the bootstrap (same matrix, same run).

Usage::

    .venv/bin/python benchmarks/intervals.py            # a float32 4096 x 4096 matrix
    .venv/bin/python benchmarks/intervals.py --quick    # 1024 x 1024, a few seconds

On ``|N(0, 0.02)|`` magnitudes in float32 (a weight matrix), best of ``--repeats``:

1. the exact (default, middle-80%) probability-plot fit, ``ws.fit_probability_plot``;
2. its asymptotic interval, ``ws.confidence_interval(x)`` (the fit and the errors from the
   same window sort). Target: at most 1.1 times (1);
3. the percentile bootstrap of the same matrix, ``ws.confidence_interval(x,
   method="bootstrap")`` with ``--resamples`` resamples (default 999), timed once.

The ratios are measured in one run, so the machine's speed cancels. Results go to
``benchmarks/results/intervals.json`` (``intervals_quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import weibull_stats as ws

RESULTS = Path(__file__).resolve().parent / "results"


def best_of(function: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Smallest wall-clock time of ``repeats`` calls, and the last value."""
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--resamples", type=int, default=999)
    args = parser.parse_args()
    side = 1024 if args.quick else 4096
    x = np.abs(np.random.default_rng(0).normal(0.0, 0.02, (side, side))).astype(np.float32)
    fit_s, fit = best_of(lambda: ws.fit_probability_plot(x), args.repeats)
    interval_s, interval = best_of(lambda: ws.confidence_interval(x), args.repeats)
    assert interval.estimate == fit
    start = time.perf_counter()
    boot = ws.confidence_interval(x, method="bootstrap", n_resamples=args.resamples, rng=0)
    boot_s = time.perf_counter() - start
    ratio = interval_s / fit_s
    record = {
        "benchmark": "asymptotic interval vs fit vs bootstrap",
        "matrix": f"float32 {side}x{side} |N(0, 0.02)|",
        "n": int(x.size),
        "repeats": args.repeats,
        "fit_seconds": round(fit_s, 4),
        "asymptotic_interval_seconds": round(interval_s, 4),
        "ratio_interval_to_fit": round(ratio, 3),
        "target_ratio": 1.1,
        "meets_target": bool(ratio <= 1.1),
        "bootstrap_resamples": args.resamples,
        "bootstrap_seconds": round(boot_s, 2),
        "ratio_bootstrap_to_interval": round(boot_s / interval_s, 1),
        "shape": fit.shape,
        "asymptotic_shape_interval": list(interval.confidence_interval.shape),
        "bootstrap_shape_interval": list(boot.confidence_interval.shape),
        "asymptotic_shape_se": interval.standard_error.shape,
        "bootstrap_shape_se": boot.standard_error.shape,
        "package_version": ws.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()),
        "date": datetime.date.today().isoformat(),
    }
    RESULTS.mkdir(exist_ok=True)
    name = "intervals_quick.json" if args.quick else "intervals.json"
    (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
