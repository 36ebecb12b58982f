"""Benchmark: the bootstrap engine against ``scipy.stats.bootstrap`` (same statistic, same run).

Usage::

    .venv/bin/python benchmarks/bootstrap.py            # n = 10^6 ratio, then n = 4096^2 in a child
    .venv/bin/python benchmarks/bootstrap.py --quick    # n = 10^5, a few seconds, for development

1. Ratio at ``n`` (default 10^6): a 999-resample percentile interval of the
   probability-plot fit (shape and scale) by :func:`weibull_stats.bootstrap` against
   ``scipy.stats.bootstrap`` with the statistic ``fit_probability_plot(x)`` ->
   ``(shape, scale)``. scipy is timed on ``--scipy-resamples`` resamples (its cost is linear
   in the number of resamples: one index resample, one sort and one fit each) and scaled to
   999; the report says so. Target: ratio >= 20.
2. The big case: ``n = 4096 * 4096`` float32 |N(0, 0.02)| magnitudes, 999 resamples, in a
   child process so that its peak resident memory is measured alone (``ru_maxrss`` of the
   child). Target: under 120 s on 2 cores with peak memory under 3 GB.

Wall-clock and CPU times are both recorded, with the load average: on a shared machine the
wall clock measures the neighbours as much as the code. Results go to
``benchmarks/results/bootstrap.json`` (``bootstrap_quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

import weibull_stats as ws

RESULTS = Path(__file__).resolve().parent / "results"


def sample(n: int, seed: int = 0) -> np.ndarray:
    """|N(0, 0.02)| magnitudes in float32, as a weight matrix would give."""
    return np.abs(np.random.default_rng(seed).normal(0.0, 0.02, n)).astype(np.float32)


def ratio(n: int, scipy_resamples: int, workers: int) -> dict:
    x = sample(n)
    t0, c0 = time.perf_counter(), time.process_time()
    ours = ws.bootstrap(x, "probability_plot", n_resamples=999, rng=0, workers=workers)
    ours_s, ours_cpu = time.perf_counter() - t0, time.process_time() - c0

    def statistic(data: np.ndarray) -> tuple[float, float]:
        fit = ws.fit_probability_plot(data)
        return fit.shape, fit.scale

    t0, c0 = time.perf_counter(), time.process_time()
    reference = stats.bootstrap((x,), statistic, n_resamples=scipy_resamples, vectorized=False,
                                method="percentile", rng=np.random.default_rng(1))
    scipy_s, scipy_cpu = time.perf_counter() - t0, time.process_time() - c0
    scipy_999 = scipy_s * 999 / scipy_resamples
    scipy_cpu_999 = scipy_cpu * 999 / scipy_resamples
    return {
        "n": n,
        "workers": workers,
        "ours_seconds_999": round(ours_s, 3),
        "ours_cpu_seconds_999": round(ours_cpu, 3),
        "scipy_seconds": round(scipy_s, 3),
        "scipy_resamples": scipy_resamples,
        "scipy_seconds_scaled_to_999": round(scipy_999, 3),
        "scipy_cpu_seconds_scaled_to_999": round(scipy_cpu_999, 3),
        "ratio": round(scipy_999 / ours_s, 1),
        "cpu_ratio": round(scipy_cpu_999 / ours_cpu, 1),
        "load_average": os.getloadavg()[0],
        "ours_shape_interval": list(ours.confidence_interval.shape),
        "scipy_shape_interval": [float(v) for v in np.asarray(reference.confidence_interval.low)[:1]]
        + [float(v) for v in np.asarray(reference.confidence_interval.high)[:1]],
    }


def big_child(n: int, workers: int) -> None:
    x = sample(n)
    t0, c0 = time.perf_counter(), time.process_time()
    res = ws.bootstrap(x, "probability_plot", n_resamples=999, rng=0, workers=workers)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    json.dump({"n": n, "workers": workers, "seconds_999": round(seconds, 2), "cpu_seconds_999": round(cpu, 2),
               "load_average": os.getloadavg()[0],
               "peak_rss_gib": round(peak_kib / 2**20, 3),
               "shape": res.estimate.shape, "shape_interval": list(res.confidence_interval.shape)},
              sys.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 10^5 and no big case")
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--scipy-resamples", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--big-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.big_child is not None:
        big_child(args.big_child, args.workers)
        return 0
    n = args.n or (100_000 if args.quick else 1_000_000)
    summary = ratio(n, args.scipy_resamples, args.workers)
    print(json.dumps(summary, indent=2))
    print(f"ratio at n={n}: {summary['ratio']}x wall clock, {summary['cpu_ratio']}x CPU time (scipy timed "
          f"on {args.scipy_resamples} resamples, scaled linearly to 999); target >= 20x")
    record: dict = {
        "benchmark": "bootstrap",
        "command": "python benchmarks/bootstrap.py " + " ".join(sys.argv[1:]),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "package_version": ws.__version__,
        "machine": {"node": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
                    "numpy": np.__version__, "load_average_1_5_15": list(os.getloadavg())},
        "ratio_case": summary,
    }
    if not (args.quick or args.skip_big):
        big = 4096 * 4096
        child = [sys.executable, __file__, "--big-child", str(big), "--workers", str(args.workers)]
        out = subprocess.run(child, check=True, capture_output=True, text=True).stdout
        result = json.loads(out)
        print(json.dumps(result, indent=2))
        print(f"n=4096^2: {result['seconds_999']} s wall, {result['cpu_seconds_999']} s CPU for 999 "
              f"resamples on {args.workers} workers (target < 120 s), peak RSS {result['peak_rss_gib']} GiB "
              "(target < 3 GB)")
        record["big_case"] = result
    RESULTS.mkdir(exist_ok=True)
    name = "bootstrap_quick.json" if args.quick else "bootstrap.json"
    (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
