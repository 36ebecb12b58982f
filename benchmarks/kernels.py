"""The compiled-kernel targets of issue 22, item 2, each a ratio against a baseline timed in the same run.

    .venv/bin/python benchmarks/kernels.py            # full sizes -> results/kernels.json and kernels.md
    .venv/bin/python benchmarks/kernels.py --quick    # small sizes -> results/kernels_quick.json and .md
    .venv/bin/python benchmarks/kernels.py --out benchmarks/results/kernels_before.json  # on older code

Figures (ours / baseline unless the target reads ">="; then baseline / ours, a speed-up):

1. a bfloat16 4096x11008 N(0, 0.02^2) matrix checked and counted (``ws.as_sample``) and fitted by
   all five estimators on that sample / a numpy sum of its 16-bit words (``words.sum()``, one
   streaming pass over the bytes): target <= 2;
2. histogram mode ``ws.fit_histogram`` of float32 magnitudes at n = 10^6 and 4096^2 against
   npm-weibull-py's ``extract_to_histogram`` + ``weibull_fit``: target >= 2, and the bins must be
   identical to ``extract_to_histogram``'s (checked: ``ws.log10_histogram`` against it, recorded
   as ``bins_identical``);
3. the exact probability-plot fit of float32 4096^2 magnitudes / npm-weibull-py's binned fit
   (``extract_to_histogram`` + ``weibull_fit``) of the same values: target <= 1.0;
4. ``ws.bootstrap`` of the float32 4096^2 magnitudes, 999 percentile resamples of the
   probability-plot fit / one fit of them: target <= 150 (timed on 4, 16... resamples first
   and extrapolated as ``benchmarks/core.py`` does when the full 999 would exceed ``--budget``);
5. no regression: ``scipy.stats.weibull_min.fit(floc=0)`` / ``ws.fit_mle`` at 10^6 (>= 30); the
   bootstrap and the goodness of fit (AD, 999 Monte Carlo samples) of a bfloat16 4096^2 matrix
   in seconds (<= 0.5 s each: the baseline is one second);
6. compile and cache (no target): a fresh interpreter's first call of every kernel with an
   empty numba cache folder, and again with that cache filled.

Times are the best of ``--repeat`` runs, ours and the baseline interleaved; the median per-round
ratio is recorded too. The JSON records the command, date, git commit and machine with its load
average (figures taken under load are noisier: rerun them on a quiet machine). With ``--before
PATH.json`` (a run of this script on older code, e.g. ``results/kernels_before.json``) the
Markdown shows that run's ratio beside each row.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
from core import Bench, best_of, git_commit, line, machine, markdown, paired, scaled
from scipy import stats

import weibull_stats as ws
from weibull_stats.inference.engine import BLOCK

HERE = Path(__file__).resolve().parent
SIGMA = 0.02

#: A fresh interpreter's first call of every kernel (``weibull_stats.core.kernels.warm_up``).
COMPILE_PROBE = """
import json, sys, time
t0 = time.perf_counter()
import weibull_stats
t1 = time.perf_counter()
from weibull_stats.core import kernels
kernels.warm_up()
t2 = time.perf_counter()
print(json.dumps({"import_seconds": t1 - t0, "first_calls_seconds": t2 - t1}))
"""


def gaussian(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """N(0, SIGMA^2) float32 weights, as a weight matrix would hold."""
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32) * np.float32(SIGMA)


def npm_fit(x: np.ndarray) -> dict[str, Any]:
    import npm_weibull  # a dev dependency: the paper's library

    h = npm_weibull.extract_to_histogram(x)
    return npm_weibull.weibull_fit((h["edges"], h["hist"]), trim="mid_80")


class Only(Bench):
    """A :class:`Bench` that measures only the rows whose description contains ``text``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def add(self, what: str, size: str, target: str, measure: Any) -> None:
        if self.text in what:
            super().add(what, size, target, measure)


def merged(earlier: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """``earlier``'s results with the rows of ``payload`` (a partial rerun) put in place of theirs;
    each rerun row and the list ``reruns`` say the command, date, commit and load that made it."""
    stamp = {key: payload[key] for key in ("command", "date", "git", "machine", "load_average_at_end")}
    fresh = {(row["what"], row["size"]): {**row, "rerun": stamp} for row in payload["rows"]}
    rows = [fresh.pop((row["what"], row["size"]), row) for row in earlier["rows"]]
    rerun = {**stamp, "rows": [row["what"] for row in payload["rows"]]}
    return {**earlier, "rows": rows + list(fresh.values()), "reruns": [*earlier.get("reruns", []), rerun]}


def bench_five(bench: Bench, rows: int, cols: int, repeat: int) -> None:
    wide = gaussian((rows, cols), 1).astype(ml_dtypes.bfloat16)
    words = wide.view(np.uint16)

    def five() -> dict[str, Any]:
        totals, sums, shapes = [], [], {}
        for _ in range(repeat):
            start = time.perf_counter()
            sample = ws.as_sample(wide, values="weights", zeros="omit")
            for name in ws.ESTIMATORS:
                shapes[name] = ws.fit(sample, name, values="weights", zeros="omit").shape
            totals.append(time.perf_counter() - start)
            sums.append(best_of(words.sum, 1))
        return {"seconds_ours": min(totals), "seconds_baseline": min(sums), "shapes": shapes,
                "seconds_check_and_count": best_of(
                    lambda: ws.as_sample(wide, values="weights", zeros="omit"), repeat),
                "median_round_ratio": float(np.median(np.array(totals) / np.array(sums)))}

    bench.add("check, count and five estimators on bf16 / numpy sum of its 16-bit words",
              f"{rows}x{cols}", "<= 2", five)


def bench_histogram(bench: Bench, n: int, size: str, repeat: int) -> None:
    import npm_weibull

    x = np.abs(gaussian((n,), 2))
    # the bins are checked on the values with a few at and beyond the range's ends added
    probe = np.concatenate([x, np.array([1e-13, 1e-12, 99.99, 100.0, 1e-30, 1e30], dtype=np.float32)])

    def histogram() -> dict[str, Any]:
        times = paired(lambda: ws.fit_histogram(x), lambda: npm_fit(x), repeat)
        theirs = npm_weibull.extract_to_histogram(probe)["hist"]
        ours = ws.log10_histogram(probe).counts
        return {"seconds_ours": times["ours"], "seconds_baseline": times["baseline"],
                "median_round_ratio": 1.0 / times["median_round_ratio"],
                "bins_identical": bool(np.array_equal(ours, theirs)),
                "shape_ours": ws.fit_histogram(x).shape, "shape_npm": float(npm_fit(x)["k"])}

    bench.add("npm-weibull-py extract+fit / ws.fit_histogram", size, ">= 2", histogram)


def bench_square(bench: Bench, side: int, args: argparse.Namespace) -> None:
    repeat = args.repeat
    size = f"{side}x{side}"
    matrix = gaussian((side, side), 0)
    magnitudes = np.abs(matrix)

    def exact() -> dict[str, Any]:
        times = paired(lambda: ws.fit(magnitudes, "probability_plot", zeros="omit"),
                       lambda: npm_fit(magnitudes), repeat)
        return {"seconds_ours": times["ours"], "seconds_baseline": times["baseline"],
                "median_round_ratio": times["median_round_ratio"]}

    bench.add("exact probability_plot float32 / npm-weibull-py binned fit", size, "<= 1.0", exact)

    def boot() -> dict[str, Any]:
        one = best_of(lambda: ws.fit(magnitudes, "probability_plot", zeros="omit"), repeat)
        # pilots of 4 and 16 resamples: under load a 1-resample pilot makes the slope noise
        # pilots of two blocks and more (BLOCK resamples each), so that they run on both workers as
        # the full run does: under load a 1-resample pilot makes the slope noise
        ours = scaled(lambda r: ws.bootstrap(magnitudes, "probability_plot", n_resamples=r, zeros="omit",
                                             rng=0), args.budget, repeat, start=2 * BLOCK)
        return {"seconds_ours": ours.pop("seconds"), "seconds_baseline": one, **ours}

    bench.add("bootstrap float32, 999 percentile resamples / one fit", size, "<= 150", boot)

    bf16 = matrix.astype(ml_dtypes.bfloat16)

    def absolute(run: Any) -> Any:
        def measure() -> dict[str, Any]:
            ours = scaled(lambda r: run(bf16, r), args.budget, repeat)
            return {"seconds_ours": ours.pop("seconds"), "seconds_baseline": 1.0,
                    "baseline_note": "an absolute target: the baseline is one second", **ours}
        return measure

    bench.add("bootstrap bf16, 999 percentile resamples (seconds)", size, "<= 0.5",
              absolute(lambda x, r: ws.bootstrap(x, "probability_plot", n_resamples=r, values="weights",
                                                 zeros="omit", rng=0)))
    bench.add("goodness_of_fit bf16, AD, 999 MC samples (seconds)", size, "<= 0.5",
              absolute(lambda x, r: ws.goodness_of_fit(x, "probability_plot", statistic="ad", n_mc_samples=r,
                                                       values="weights", zeros="omit", rng=0)))


def bench_mle(bench: Bench, n: int, repeat: int) -> None:
    x = np.abs(gaussian((n,), 0))

    def mle() -> dict[str, Any]:
        ours = best_of(lambda: ws.fit_mle(x), repeat)
        theirs = best_of(lambda: stats.weibull_min.fit(x, floc=0), max(1, repeat // 3))
        return {"seconds_ours": ours, "seconds_baseline": theirs}

    bench.add("scipy weibull_min.fit(floc=0) / ws.fit_mle", f"n={n}", ">= 30", mle)


def compile_figures() -> dict[str, Any]:
    """First calls of every kernel in a fresh interpreter: empty cache, then the cache filled."""
    try:
        import weibull_stats.core.kernels  # noqa: F401
    except ImportError:
        return {"kernels": False}
    out: dict[str, Any] = {"kernels": True}
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "NUMBA_CACHE_DIR": folder}
        for phase in ("cold_cache", "warm_cache"):
            done = subprocess.run([sys.executable, "-c", COMPILE_PROBE], env=env, capture_output=True,
                                  text=True, check=True)
            out[phase] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def before_and_after(before: dict[str, Any], after: dict[str, Any]) -> str:
    """A Markdown table of each row's ratio in ``before`` (an earlier run) and in ``after``."""
    earlier = {(row["what"], row["size"]): row for row in before["rows"]}
    out = ["", f"Before: `{before['command']}` ({before['date']}, commit `{before['git']['commit']}`).", "",
           "| What | Size | Target | Ratio before | Ratio now |", "|---|---|---|---:|---:|"]
    for row in after["rows"]:
        old = earlier.get((row["what"], row["size"]), {})
        ratios = [f"{r['ratio']:.3g}" if r.get("ratio") is not None else "" for r in (old, row)]
        out.append(f"| {row['what']} | {row['size']} | {row['target']} | {ratios[0]} | {ratios[1]} |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, fewer repeats, budget 10 s")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON path (default results/kernels.json, kernels_quick.json with --quick); "
                        "the Markdown summary goes beside it with the suffix .md")
    parser.add_argument("--repeat", type=int, default=None,
                        help="repetitions per timing (default 5, quick 3)")
    parser.add_argument("--before", type=Path, default=None,
                        help="results of an earlier run whose ratios the Markdown shows beside these")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds a full 999-resample run may take before it is extrapolated "
                        "(60; quick 10)")
    parser.add_argument("--only", default=None,
                        help="measure only the rows whose description contains this text and put them in "
                        "place of those rows of the existing results file (the rest is kept)")
    args = parser.parse_args(argv)
    args.repeat = args.repeat or (3 if args.quick else 5)
    args.budget = args.budget if args.budget is not None else (10.0 if args.quick else 60.0)
    out = args.out or HERE / "results" / ("kernels_quick.json" if args.quick else "kernels.json")

    started = datetime.datetime.now(datetime.UTC)
    payload: dict[str, Any] = {
        "benchmark": "kernels", "quick": args.quick,
        "command": shlex.join(["python", "benchmarks/kernels.py", *(sys.argv[1:] if argv is None else argv)]),
        "date": started.isoformat(timespec="seconds"), "package_version": ws.__version__,
        "package_path": str(Path(ws.__file__).parent), "git": git_commit(), "machine": machine(),
        "repeat": args.repeat, "budget": args.budget,
    }
    payload["compile"] = compile_figures() if args.only is None else {}
    bench = Bench() if args.only is None else Only(args.only)
    rows, cols, side, small = (1024, 2752, 1024, 10**5) if args.quick else (4096, 11008, 4096, 10**6)
    bench_five(bench, rows, cols, args.repeat)
    bench_histogram(bench, small, f"n={small}", args.repeat)
    bench_histogram(bench, side * side, f"{side}x{side}", args.repeat)
    bench_square(bench, side, args)
    bench_mle(bench, small, args.repeat)
    payload["rows"] = bench.rows
    payload["seconds_total"] = (datetime.datetime.now(datetime.UTC) - started).total_seconds()
    payload["load_average_at_end"] = list(os.getloadavg())

    if args.only is not None and out.exists():
        payload = merged(json.loads(out.read_text(encoding="utf-8")), payload)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    summary = markdown(payload).replace("# Core benchmark", "# Kernel benchmark", 1)
    if args.before is not None:
        summary += before_and_after(json.loads(args.before.read_text(encoding="utf-8")), payload)
    for rerun in payload.get("reruns", []):
        summary += (f"\nRows rerun by `{rerun['command']}` ({rerun['date']}, "
                    f"commit `{rerun['git']['commit']}`, "
                    f"load average {rerun['load_average_at_end'][0]:.2f} at its end): "
                    + "; ".join(rerun["rows"]) + ".\n")
    if payload["compile"].get("kernels"):
        cold, warm = payload["compile"]["cold_cache"], payload["compile"]["warm_cache"]
        summary += ("\nFirst call of every kernel in a fresh interpreter: "
                    f"{cold['first_calls_seconds']:.2f} s "
                    f"with an empty cache (compiling), {warm['first_calls_seconds']:.2f} s with the cache "
                    f"filled; `import weibull_stats` {warm['import_seconds']:.2f} s.\n")
    out.with_suffix(".md").write_text(summary, encoding="utf-8")
    sys.stdout.write("\n" + "\n".join(line(row) for row in bench.rows) + "\n")
    sys.stdout.write(f"wrote {out} and {out.with_suffix('.md').name}\n")
    return 1 if any(row.get("error") for row in bench.rows) else 0


if __name__ == "__main__":
    sys.exit(main())
