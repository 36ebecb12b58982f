"""Speed of the estimator core (issue 9, item 7), each a ratio against a baseline timed in the same run.

    .venv/bin/python benchmarks/core.py            # full sizes -> results/core.json and core.md
    .venv/bin/python benchmarks/core.py --quick    # small sizes -> results/core_quick.json and .md

Figures (ours / baseline unless the target reads ">="; then baseline / ours, a speed-up):

1. all five estimators (``ws.fit(x, name, values="weights", zeros="omit")`` for each name in
   ``ws.ESTIMATORS``) on one bfloat16 4096x11008 N(0, 0.02^2) matrix, total time / one
   ``np.sort`` of the same values as float32: target <= 0.5;
2. ``ws.bootstrap`` of a bfloat16 4096x4096 matrix, 999 percentile resamples / one ``np.sort``
   of it as float32: target <= 2;
3. ``ws.goodness_of_fit``, Anderson-Darling, 999 Monte Carlo samples, same matrix / one
   ``np.sort``: target <= 3; and on float32 4096x4096 magnitudes that are not bf16- or
   fp16-representable: target <= 300;
4. the exact probability-plot fit of those float32 magnitudes / one single-threaded ``np.sort``
   of them (the baseline runs under ``threadpoolctl.threadpool_limits(1)``): target <= 1.0;
5. no regression: ``scipy.stats.weibull_min.fit(floc=0)`` / ``ws.fit_mle`` at n = 10^6 (>= 30);
   ``scipy.stats.bootstrap`` / ``ws.bootstrap`` at 10^6, scipy timed on ``--scipy-resamples``
   resamples and scaled linearly to 999 as ``benchmarks/bootstrap.py`` does (>= 20);
   npm-weibull-py ``extract_to_histogram`` + ``weibull_fit`` / ``ws.fit_histogram`` (>= 2).

Every baseline ``np.sort`` sorts the flattened matrix (one sort of all its values). Times are
the best of ``--repeat`` runs on both sides, ours and the baseline interleaved; the median
over rounds of the per-round ratio is recorded too (the machine may be shared).

Bootstrap and goodness of fit are first timed on 1, 4, 16... resamples (pilots: the cost is
modelled as ``fixed + count * per_sample`` through the last two, which separates the fit on
the data from the cost per resample). When the predicted time of the full 999 exceeds
``--budget`` seconds (default 180; 10 with ``--quick``) and the next pilot would take over a
quarter of it, the figure is the prediction ``fixed + 999 * per_sample``, marked *extrapolated* in
both outputs; otherwise the full 999 are timed. Only the public API is used (``ws.fit``,
``ws.bootstrap``, ``ws.goodness_of_fit``, ``ws.fit_mle``, ``ws.fit_histogram``), so the script
measures whatever core is installed. If that core rejects a bfloat16 numpy array, the same
bits are passed as a ``torch.bfloat16`` tensor and the row says so. A missed target is
reported, not raised; the exit status is 1 only if a figure could not be measured (or, with
``--strict``, if a target is missed).
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
import scipy
import threadpoolctl
from scipy import stats

import weibull_stats as ws

HERE = Path(__file__).resolve().parent
SIGMA = 0.02
FULL = 999


def best_of(function: Callable[[], Any], repeat: int) -> float:
    """Smallest wall time of ``repeat`` calls."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def paired(ours: Callable[[], Any], baseline: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Best-of-``repeat`` times of both sides, run alternately, and the median per-round ratio."""
    mine, theirs = [], []
    for _ in range(repeat):
        mine.append(best_of(ours, 1))
        theirs.append(best_of(baseline, 1))
    return {"ours": min(mine), "baseline": min(theirs),
            "median_round_ratio": float(np.median(np.array(mine) / np.array(theirs)))}


def sort_time(values: np.ndarray, repeat: int, single_thread: bool = False) -> float:
    """Best time of one ``np.sort`` of all of ``values`` (flattened, a copy sorted)."""
    flat = values.reshape(-1)
    if not single_thread:
        return best_of(lambda: np.sort(flat), repeat)
    with threadpoolctl.threadpool_limits(limits=1):
        return best_of(lambda: np.sort(flat), repeat)


def scaled(call: Callable[[int], Any], budget: float, repeat: int, start: int = 1, factor: int = 4
           ) -> dict[str, Any]:
    """Time ``call(FULL)``, or predict it from pilot runs ``call(start)``, ``call(start * factor)``...

    The cost is modelled as ``fixed + count * per_sample`` through the last two pilots. Pilots
    grow by ``factor`` until the predicted full time is within ``budget`` (then ``call(FULL)``
    is timed, best of up to ``repeat`` runs that fit in the budget) or the next pilot would
    take over a quarter of the budget (then the prediction is returned, ``extrapolated=True``).
    A pilot under half a second is the best of three runs.
    """
    counts: list[int] = []
    seconds: list[float] = []
    count = start
    while True:
        pilot = functools.partial(call, count)
        first = best_of(pilot, 1)
        seconds.append(min(first, best_of(pilot, 2 if first < 0.5 else 0)))
        counts.append(count)
        if len(counts) >= 2:
            per = (seconds[-1] - seconds[-2]) / (counts[-1] - counts[-2])
            if per <= 0:  # noise larger than the per-sample cost: charge everything per sample
                per = seconds[-1] / counts[-1]
            fixed = max(seconds[-1] - counts[-1] * per, 0.0)
            predicted = fixed + FULL * per
            out = {"pilot_counts": counts, "pilot_seconds": seconds, "seconds_per_sample": per,
                   "seconds_fixed": fixed, "predicted_seconds": predicted}
            if predicted <= budget:
                runs = max(1, min(repeat, int(budget // max(predicted, 1e-9))))
                return {"seconds": best_of(lambda: call(FULL), runs), "extrapolated": False,
                        "full_runs": runs, **out}
            if seconds[-1] * factor > budget / 4 or count * factor >= FULL:
                return {"seconds": predicted, "extrapolated": True, **out}
        count *= factor


def bf16_input(values: np.ndarray, probe: Callable[[Any], Any]) -> tuple[Any, str]:
    """The bfloat16 matrix as the installed core takes it: the numpy array, else a torch tensor.

    ``probe`` (the figure's calls) runs on an 8x256 corner; if it raises ``TypeError`` on the
    numpy array, the same bits are viewed as a ``torch.bfloat16`` tensor (no copy).
    """
    try:
        probe(values[:8, :256])
        return values, "ml_dtypes.bfloat16 numpy array"
    except TypeError as error:
        import torch  # an optional extra: only needed when the core rejects ml_dtypes arrays

        tensor = torch.from_numpy(values.view(np.int16)).view(torch.bfloat16)
        return tensor, f"torch.bfloat16 tensor (the core rejected the numpy bfloat16 array: {error})"


class Bench:
    """Collects rows; a figure that raises becomes a row with ``error`` set."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, what: str, size: str, target: str, measure: Callable[[], dict[str, Any]]) -> None:
        sys.stdout.write(f"... {what} [{size}]\n")
        sys.stdout.flush()
        row: dict[str, Any] = {"what": what, "size": size, "target": target}
        try:
            row.update(measure())
        except Exception as error:  # report and go on: one broken figure must not hide the rest
            row.update({"seconds_ours": None, "seconds_baseline": None, "ratio": None, "meets_target": None,
                        "error": f"{type(error).__name__}: {error}"})
            self.rows.append(row)
            sys.stdout.write(f"    error: {row['error']}\n")
            return
        ours, base = row["seconds_ours"], row["seconds_baseline"]
        bound = float(target.split()[1])
        if target.startswith(">="):
            row["ratio"] = base / ours
            row["meets_target"] = bool(row["ratio"] >= bound)
        else:
            row["ratio"] = ours / base
            row["meets_target"] = bool(row["ratio"] <= bound)
        self.rows.append(row)
        sys.stdout.write("    " + line(row) + "\n")


def line(row: dict[str, Any]) -> str:
    """One line of output: what, our time, baseline time, ratio, target, pass or FAIL."""
    if row.get("error"):
        return f"{row['what']} [{row['size']}]: ERROR {row['error']}"
    ours = " (extrapolated)" if row.get("extrapolated") else ""
    base = " (extrapolated)" if row.get("baseline_extrapolated") else ""
    verdict = "pass" if row["meets_target"] else "FAIL"
    return (f"{row['what']} [{row['size']}]: ours {row['seconds_ours']:.4g} s{ours}, baseline "
            f"{row['seconds_baseline']:.4g} s{base}, ratio {row['ratio']:.3g}, target {row['target']}: "
            f"{verdict}")


def gaussian(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """N(0, SIGMA^2) float32 weights, as a weight matrix would hold."""
    return (np.random.default_rng(seed).standard_normal(shape, dtype=np.float32) * np.float32(SIGMA))


def bench_five(bench: Bench, rows: int, cols: int, args: argparse.Namespace) -> None:
    repeat = args.repeat
    wide = gaussian((rows, cols), 1).astype(ml_dtypes.bfloat16)
    wide_f32 = wide.astype(np.float32)

    def fit_all(x: Any) -> dict[str, float]:
        return {name: ws.fit(x, name, values="weights", zeros="omit").shape for name in ws.ESTIMATORS}

    def five() -> dict[str, Any]:
        x, form = bf16_input(wide, fit_all)
        per: dict[str, list[float]] = {name: [] for name in ws.ESTIMATORS}
        totals, sorts, shapes = [], [], {}
        for _ in range(repeat):
            for name in ws.ESTIMATORS:
                start = time.perf_counter()
                shapes[name] = ws.fit(x, name, values="weights", zeros="omit").shape
                per[name].append(time.perf_counter() - start)
            totals.append(sum(times[-1] for times in per.values()))
            sorts.append(sort_time(wide_f32, 1))
        return {"seconds_ours": min(totals), "seconds_baseline": min(sorts), "input": form,
                "median_round_ratio": float(np.median(np.array(totals) / np.array(sorts))),
                "seconds_each": {name: min(times) for name, times in per.items()}, "shapes": shapes}

    bench.add("five estimators ws.fit(bf16) / np.sort(float32)", f"{rows}x{cols}", "<= 0.5", five)

    def five_on_one_sample() -> dict[str, Any]:
        # as the scan fits a matrix: checked and counted once (ws.as_sample), then every
        # estimator on that Sample
        totals, sorts, shapes = [], [], {}
        for _ in range(repeat):
            start = time.perf_counter()
            sample = ws.as_sample(wide, values="weights", zeros="omit")
            for name in ws.ESTIMATORS:
                shapes[name] = ws.fit(sample, name, values="weights", zeros="omit").shape
            totals.append(time.perf_counter() - start)
            sorts.append(sort_time(wide_f32, 1))
        return {"seconds_ours": min(totals), "seconds_baseline": min(sorts), "shapes": shapes,
                "median_round_ratio": float(np.median(np.array(totals) / np.array(sorts)))}

    bench.add("five estimators on one ws.as_sample(bf16) / np.sort(float32)", f"{rows}x{cols}", "<= 0.5",
              five_on_one_sample)


def bench_bf16(bench: Bench, matrix_f32: np.ndarray, args: argparse.Namespace) -> None:
    repeat = args.repeat
    square = "x".join(map(str, matrix_f32.shape))
    matrix = matrix_f32.astype(ml_dtypes.bfloat16)
    values_f32 = matrix.astype(np.float32)

    def against_sort(run: Callable[[Any, int], Any]) -> Callable[[], dict[str, Any]]:
        def measure() -> dict[str, Any]:
            x, form = bf16_input(matrix, lambda corner: run(corner, 1))
            base = sort_time(values_f32, repeat)
            ours = scaled(lambda count: run(x, count), args.budget, repeat)
            base = min(base, sort_time(values_f32, repeat))
            return {"seconds_ours": ours.pop("seconds"), "seconds_baseline": base, "input": form,
                    "distinct_magnitudes": int(np.unique(np.abs(values_f32)).size), **ours}
        return measure

    bench.add("bootstrap bf16, 999 percentile resamples / np.sort(float32)", square, "<= 2",
              against_sort(lambda x, r: ws.bootstrap(x, "probability_plot", n_resamples=r, values="weights",
                                                     zeros="omit", rng=0)))
    bench.add("goodness_of_fit bf16, AD, 999 MC samples / np.sort(float32)", square, "<= 3",
              against_sort(lambda x, r: ws.goodness_of_fit(x, "probability_plot", statistic="ad",
                                                           n_mc_samples=r, values="weights", zeros="omit",
                                                           rng=0)))


def bench_f32(bench: Bench, magnitudes: np.ndarray, args: argparse.Namespace) -> None:
    repeat = args.repeat
    square = "x".join(map(str, magnitudes.shape))
    on_grid = {dtype.__name__: bool(np.array_equal(magnitudes.astype(dtype).astype(np.float32), magnitudes))
               for dtype in (ml_dtypes.bfloat16, np.float16)}
    facts = {"representable": on_grid, "min": float(magnitudes.min())}

    def gof() -> dict[str, Any]:
        base = sort_time(magnitudes, repeat)
        ours = scaled(lambda r: ws.goodness_of_fit(magnitudes, "probability_plot", statistic="ad",
                                                   n_mc_samples=r, zeros="omit", rng=0), args.budget, repeat)
        return {"seconds_ours": ours.pop("seconds"), "seconds_baseline": base, **facts, **ours}

    bench.add("goodness_of_fit float32 (not 16-bit), AD, 999 MC samples / np.sort", square, "<= 300", gof)

    def exact() -> dict[str, Any]:
        mine, theirs = [], []
        for _ in range(repeat):
            mine.append(best_of(lambda: ws.fit(magnitudes, "probability_plot", zeros="omit"), 1))
            theirs.append(sort_time(magnitudes, 1, single_thread=True))
        return {"seconds_ours": min(mine), "seconds_baseline": min(theirs), "baseline_single_thread": True,
                "median_round_ratio": float(np.median(np.array(mine) / np.array(theirs))), **facts}

    bench.add("exact probability_plot float32 / single-threaded np.sort", square, "<= 1.0", exact)


def bench_regression(bench: Bench, n: int, args: argparse.Namespace) -> None:
    repeat = args.repeat
    x = np.abs(gaussian((n,), 0))

    def mle() -> dict[str, Any]:
        ours = best_of(lambda: ws.fit_mle(x), repeat)
        theirs = best_of(lambda: stats.weibull_min.fit(x, floc=0), max(1, repeat // 3))
        return {"seconds_ours": ours, "seconds_baseline": theirs}

    bench.add("scipy weibull_min.fit(floc=0) / ws.fit_mle", f"n={n}", ">= 30", mle)

    def boot() -> dict[str, Any]:
        ours = scaled(lambda r: ws.bootstrap(x, "probability_plot", n_resamples=r, rng=0), args.budget,
                      repeat)

        def statistic(data: np.ndarray) -> tuple[float, float]:
            fit = ws.fit(data, "probability_plot")
            return fit.shape, fit.scale

        r = args.scipy_resamples
        theirs = best_of(lambda: stats.bootstrap((x,), statistic, n_resamples=r, vectorized=False,
                                                 method="percentile", rng=np.random.default_rng(1)), 1)
        return {"seconds_ours": ours.pop("seconds"), "seconds_baseline": theirs * FULL / r,
                "baseline_extrapolated": True, "baseline_note": f"scipy timed on {r} resamples, x {FULL}/{r}",
                **ours}

    bench.add("scipy.stats.bootstrap / ws.bootstrap, 999 percentile resamples", f"n={n}", ">= 20", boot)

    def histogram() -> dict[str, Any]:
        import npm_weibull  # a dev dependency: the reference implementation of histogram mode

        def npm() -> dict[str, Any]:
            h = npm_weibull.extract_to_histogram(x)
            return npm_weibull.weibull_fit((h["edges"], h["hist"]), trim="mid_80")

        times = paired(lambda: ws.fit_histogram(x), npm, repeat)
        return {"seconds_ours": times["ours"], "seconds_baseline": times["baseline"],
                "median_round_ratio": 1.0 / times["median_round_ratio"],
                "shape_ours": ws.fit_histogram(x).shape, "shape_npm": float(npm()["k"])}

    bench.add("npm-weibull-py extract+fit / ws.fit_histogram", f"n={n}", ">= 2", histogram)


def git_commit() -> dict[str, Any]:
    def git(*command: str) -> str:
        done = subprocess.run(["git", *command], cwd=HERE, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    return {"commit": git("rev-parse", "HEAD") or None, "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def machine() -> dict[str, Any]:
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        affinity = None
    return {"node": platform.node(), "machine": platform.machine(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "cpus_usable": affinity, "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__,
            "ml_dtypes": ml_dtypes.__version__, "threadpoolctl": threadpoolctl.__version__,
            "threadpools": threadpoolctl.threadpool_info(),
            "load_average_1_5_15": list(os.getloadavg())}


def markdown(payload: dict[str, Any]) -> str:
    m = payload["machine"]
    git = payload["git"]
    out = [f"# Core benchmark{' (quick sizes)' if payload['quick'] else ''}", "",
           f"Regenerate: `{payload['command']}`", "",
           f"{payload['date']}, weibull-stats {payload['package_version']} at "
           f"`{git['commit']}`{' (uncommitted changes)' if git['dirty'] else ''}, {m['cpus']} CPUs "
           f"({m['cpus_usable']} usable), numpy {m['numpy']}, scipy {m['scipy']}, Python {m['python']}, "
           f"load average {m['load_average_1_5_15'][0]:.2f} at the start. Best of {payload['repeat']}; "
           "bootstrap and GoF timed on 1, 4, 16... samples first and extrapolated when the full 999 "
           f"would take over {payload['budget']:g} s.", "",
           "| What | Size | Ours (s) | Baseline (s) | Ratio | Target | Result |",
           "|---|---|---:|---:|---:|---|---|"]
    notes = []
    for row in payload["rows"]:
        if row.get("error"):
            out.append(f"| {row['what']} | {row['size']} | | | | {row['target']} | error |")
            notes.append(f"{row['what']}: {row['error']}")
            continue
        ours = f"{row['seconds_ours']:.4g}" + (" (extrapolated)" if row.get("extrapolated") else "")
        base = f"{row['seconds_baseline']:.4g}"
        base += " (extrapolated)" if row.get("baseline_extrapolated") else ""
        verdict = "pass" if row["meets_target"] else "**FAIL**"
        out.append(f"| {row['what']} | {row['size']} | {ours} | {base} | {row['ratio']:.3g} "
                   f"| {row['target']} | {verdict} |")
        if row.get("extrapolated"):
            (low, high), (t_low, t_high) = row["pilot_counts"][-2:], row["pilot_seconds"][-2:]
            notes.append(f"{row['what']}: ours = {row['seconds_fixed']:.3g} s fixed + 999 x "
                         f"{row['seconds_per_sample']:.3g} s per sample, from runs of {low} and {high} "
                         f"samples ({t_low:.3g} s, {t_high:.3g} s)")
        if row.get("baseline_note"):
            notes.append(f"{row['what']}: {row['baseline_note']}")
        if row.get("input", "").startswith("torch"):
            notes.append(f"{row['what']}: input passed as {row['input']}")
    if notes:
        out += ["", "Notes:", "", *(f"- {note}" for note in notes)]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, fewer repeats, budget 10 s")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON path (default results/core.json, core_quick.json with --quick); "
                        "the Markdown summary goes beside it with the suffix .md")
    parser.add_argument("--repeat", type=int, default=None,
                        help="repetitions per timing (default 5, quick 3)")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds a full 999-sample run may take before it is extrapolated "
                        "(180; quick 10)")
    parser.add_argument("--scipy-resamples", type=int, default=20)
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    args = parser.parse_args(argv)
    args.repeat = args.repeat or (3 if args.quick else 5)
    args.budget = args.budget if args.budget is not None else (10.0 if args.quick else 180.0)
    out = args.out or HERE / "results" / ("core_quick.json" if args.quick else "core.json")

    started = datetime.datetime.now(datetime.UTC)
    payload: dict[str, Any] = {
        "benchmark": "core", "quick": args.quick,
        "command": " ".join(["python", "benchmarks/core.py", *(sys.argv[1:] if argv is None else argv)]),
        "date": started.isoformat(timespec="seconds"), "package_version": ws.__version__,
        "package_path": str(Path(ws.__file__).parent), "git": git_commit(), "machine": machine(),
        "repeat": args.repeat, "budget": args.budget,
    }
    bench = Bench()
    rows, cols, square, n = (1024, 2752, 1024, 10**5) if args.quick else (4096, 11008, 4096, 10**6)
    bench_five(bench, rows, cols, args)
    matrix = gaussian((square, square), 0)
    bench_bf16(bench, matrix, args)
    bench_f32(bench, np.abs(matrix), args)
    del matrix
    bench_regression(bench, n, args)
    payload["rows"] = bench.rows
    payload["seconds_total"] = (datetime.datetime.now(datetime.UTC) - started).total_seconds()
    payload["load_average_at_end"] = list(os.getloadavg())

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    summary = markdown(payload)
    out.with_suffix(".md").write_text(summary, encoding="utf-8")
    sys.stdout.write("\n" + "\n".join(line(row) for row in bench.rows) + "\n")
    sys.stdout.write(f"wrote {out} and {out.with_suffix('.md').name}\n")
    errors = [row for row in bench.rows if row.get("error")]
    missed = [row for row in bench.rows if row.get("meets_target") is False]
    return 1 if errors or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
