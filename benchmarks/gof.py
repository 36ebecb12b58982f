"""Benchmark: goodness of fit in O(n) with the asymptotic and shared nulls (issue 21, item 3).

Usage::

    .venv/bin/python benchmarks/gof.py            # 4096 x 4096 float32 matrix and a synthetic checkpoint
    .venv/bin/python benchmarks/gof.py --quick    # 1024 x 1024, for development

1. A float32 4096 x 4096 matrix of |N(0, 0.02)|: one fit (``ws.fit``, the default
   probability plot) against ``ws.goodness_of_fit`` with its defaults (A², ``null="auto"``,
   here the asymptotic null): the first call (eigenvalues computed) and a second call (the
   null kept in memory), the fit and the second call best of ``--rounds`` interleaved rounds
   (the median of the rounds' ratios beside). Target: both at most 5x the fit. ``breakdown``: each part of the
   call timed alone in its order (the check, the sort, the fit of the sorted values, the one
   pass for the statistic and the effect sizes, the null, the model comparison), in seconds
   and in fits.
2. ``ws.scan`` of a small synthetic float32 checkpoint
   (:func:`weibull_stats.checkpoints.synthetic.synthetic_state`) with and without ``gof=True``,
   timed in the same run after an untimed scan without it (the process's first scan loads the
   reader), the scan with ``--gof`` computing its nulls. Target: at most 2x.

All ratios are timed in one process, one after the other; wall-clock and CPU times are both
recorded with the load average (the machine may be shared). Results go to
``benchmarks/results/gof.json`` (``gof_quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

import weibull_stats as ws
from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
from weibull_stats.core import fused
from weibull_stats.core.fused import edf_plot_sums
from weibull_stats.estimators.probability_plot import (
    PLOTTING_POSITIONS,
    hazen_block_ordinates,
    last_window_ordinates,
)
from weibull_stats.inference import asymptotic_null, shared_null
from weibull_stats.inference.effect_sizes import effect_sizes_of_sums
from weibull_stats.inference.gof import fitted_test
from weibull_stats.inference.model_comparison import sample_comparison

RESULTS = Path(__file__).resolve().parent / "results"


def _timed(function: Any) -> tuple[Any, float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    value = function()
    return value, time.perf_counter() - t0, time.process_time() - c0


def matrix_case(side: int, rounds: int = 3) -> dict[str, Any]:
    x = np.abs(np.random.default_rng(0).normal(0.0, 0.02, (side, side))).astype(np.float32)
    # warm-up of the process (imports, compiled kernels loaded), not of any null: a small test
    # with no null, the one-pass kernels of large samples, and scipy.integrate, which the
    # influence functions import on first use (1-2 s of a cold import, any null's first)
    ws.goodness_of_fit(x.ravel()[:2000], n_mc_samples=0)
    fused.warm_up()
    importlib.import_module("scipy.integrate")
    asymptotic_null._eigenvalues.cache_clear()
    fit, fit_s, fit_cpu = _timed(lambda: ws.fit(x))
    first, first_s, first_cpu = _timed(lambda: ws.goodness_of_fit(x, rng=0))
    # then `rounds` rounds of a fit and a call with the null in memory, interleaved: the best of
    # each (a busy machine only slows a run down) and the median of the rounds' ratios
    fits, calls = [(fit_s, fit_cpu)], []
    for _ in range(rounds):
        fits.append(_timed(lambda: ws.fit(x))[1:])
        second, second_s, second_cpu = _timed(lambda: ws.goodness_of_fit(x, rng=0))
        calls.append((second_s, second_cpu))
    round_ratios = [call[0] / each[0] for call, each in zip(calls, fits[1:], strict=True)]
    fit_s, fit_cpu = min(fits)
    second_s, second_cpu = min(calls)
    entry = ws.ESTIMATORS[fit.estimator]

    def test_only() -> float:  # what a scan records: the fit, the sort, the statistic and its p-value
        sample, own = entry.sample(x, {})
        own_fit = entry.function(sample)
        return fitted_test(sample, entry, own, own_fit, "ad", 999, seed=0, workers=1,
                           sorted_x=np.sort(sample.magnitudes))[1].pvalue

    _, test_s, test_cpu = _timed(test_only)
    return {
        "n": side * side, "dtype": "float32", "estimator": fit.estimator, "statistic": "ad",
        "null": first.null, "pvalue": first.pvalue, "statistic_value": first.statistic,
        "fit_seconds": round(fit_s, 3), "fit_cpu_seconds": round(fit_cpu, 3),
        "gof_first_seconds": round(first_s, 3), "gof_first_cpu_seconds": round(first_cpu, 3),
        "gof_cached_seconds": round(second_s, 3), "gof_cached_cpu_seconds": round(second_cpu, 3),
        "ratio_first": round(first_s / fit_s, 2), "ratio_cached": round(second_s / fit_s, 2),
        "ratio_cached_rounds": [round(r, 2) for r in round_ratios],
        "ratio_cached_median": round(float(np.median(round_ratios)), 2),
        "timing": f"fit and cached call: best of {len(fits)} and {len(calls)} (interleaved); first call once",
        "test_only_seconds": round(test_s, 3), "test_only_cpu_seconds": round(test_cpu, 3),
        "ratio_test_only": round(test_s / fit_s, 2),
        "breakdown": breakdown(x, entry, fit_s),
        "same_pvalue": first.pvalue == second.pvalue, "target_ratio": 5.0,
    }


def breakdown(x: np.ndarray, entry: Any, fit_seconds: float) -> dict[str, Any]:
    """Seconds (wall, CPU) of each part of ``goodness_of_fit`` with the null in memory, in the
    order it runs them, each also in fits (``of_fit``: over ``fit_seconds``, one ``ws.fit``)."""
    parts: dict[str, Any] = {}

    def part(name: str, function: Any) -> Any:
        value, wall, cpu = _timed(function)
        parts[name] = {"seconds": round(wall, 3), "cpu_seconds": round(cpu, 3),
                       "of_fit": round(wall / fit_seconds, 2)}
        return value

    sample, own = part("check (as_sample)", lambda: entry.sample(x, {}))
    sorted_x = part("sort", lambda: np.sort(sample.magnitudes))
    ordered = replace(sample, magnitudes=sorted_x, ordered=True, owned=False)
    fit = part("fit of the sorted values", lambda: entry.function(ordered))
    window = last_window_ordinates(sorted_x.size, PLOTTING_POSITIONS["hazen"])
    sums = part("statistic and effect sizes (one pass)",
                lambda: edf_plot_sums(sorted_x, fit.shape, fit.scale,
                                      ordinates=hazen_block_ordinates(sorted_x.size, window)))
    part("effect sizes from the sums", lambda: effect_sizes_of_sums(sums, sorted_x.size))
    part("null (p-value)", lambda: fitted_test(ordered, entry, own, fit, "ad", 999, seed=0, workers=1,
                                               observed=sums["ad"])[1].pvalue)
    part("model comparison (MLE from the fit's shape, lognormal, gamma, half-normal)",
         lambda: sample_comparison(ordered, start=fit.shape))
    return parts


def scan_case(hidden: int, layers: int, gof_samples: int) -> dict[str, Any]:
    state, config = synthetic_state("llama", layers=layers, hidden=hidden, heads=4, vocab=256, rng=0)
    shared_null.clear_memory()
    asymptotic_null._eigenvalues.cache_clear()
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = Path(folder) / "ckpt"
        write_checkpoint(checkpoint, state, config)
        common = {"skip_validation": True, "report": False, "progress": False, "gof_samples": gof_samples}
        os.environ[shared_null.GOF_CACHE_ENV] = str(Path(folder) / "cache")
        # an untimed scan first: the process's first scan loads the reader and the scan's machinery,
        # which neither timed scan should carry (it computes no null: the gof scan still does)
        ws.scan(checkpoint, out=Path(folder) / "warm-up", **common)
        plain, plain_s, plain_cpu = _timed(lambda: ws.scan(checkpoint, out=Path(folder) / "a", **common))
        tested, gof_s, gof_cpu = _timed(lambda: ws.scan(checkpoint, out=Path(folder) / "b", gof=True,
                                                        **common))
        del os.environ[shared_null.GOF_CACHE_ENV]
    sizes = sorted({int(n) for n in tested["n"]})
    return {
        "family": "llama", "hidden": hidden, "layers": layers, "matrices": len(tested), "sizes": sizes,
        "gof_samples": gof_samples, "nulls": tested["gof_null"].value_counts().to_dict(),
        "scan_seconds": round(plain_s, 3), "scan_cpu_seconds": round(plain_cpu, 3),
        "scan_gof_seconds": round(gof_s, 3), "scan_gof_cpu_seconds": round(gof_cpu, 3),
        "ratio": round(gof_s / plain_s, 2), "target_ratio": 2.0, "rows_equal": len(plain) == len(tested),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of a fit and a cached call")
    args = parser.parse_args()
    side = 1024 if args.quick else 4096
    result = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(), "cpus": os.cpu_count(), "version": ws.__version__,
        "load_average_start": os.getloadavg()[0],
        "matrix": matrix_case(side, args.rounds),
        "scan": scan_case(hidden=128 if args.quick else 512, layers=2, gof_samples=99),
        "load_average_end": os.getloadavg()[0],
        "note": "timed on a machine shared with other jobs: see the load averages",
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / ("gof_quick.json" if args.quick else "gof.json")
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
