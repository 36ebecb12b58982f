"""Start-up time of the command line's help against ``python -c "import numpy"`` (issue 22, item 2).

Times, in fresh processes of this interpreter, interleaved round by round:

1. ``python -c "import numpy"``: the baseline, a Python start that loads numpy;
2. ``python -m weibull_stats --help``;
3. ``python -m weibull_stats COMMAND --help`` for every command (``fit`` first).

Each figure is the best of ``--repeat`` rounds (9; 3 with ``--quick``) and its ratio to the
baseline's best in the same run; the target is at most 5x for ``--help`` and ``fit --help``
(``weibull-stats --help`` took 13x before the command line stopped importing scipy, pandas,
matplotlib, torch and statsmodels for its help). The numbers go to
``benchmarks/results/cli_startup.json`` (``cli_startup_quick.json`` with ``--quick``) with the
command that produced them.

    .venv/bin/python benchmarks/cli_startup.py
    .venv/bin/python benchmarks/cli_startup.py --quick
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from weibull_stats._version import __version__
from weibull_stats.cli import COMMANDS

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]
#: help time / ``python -c "import numpy"`` time, issue 22.
TARGET_RATIO = 5.0
#: The runs whose ratio has a target.
TARGETED = ("--help", "fit --help")


def timed(argv: list[str]) -> float:
    """Wall-clock seconds of one fresh process (output discarded; a failure is an error)."""
    started = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True, cwd=ROOT)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=None, help="rounds (default: 9; 3 with --quick)")
    parser.add_argument("--quick", action="store_true", help="3 rounds, for checking that the script works")
    args = parser.parse_args()
    repeat = args.repeat or (3 if args.quick else 9)

    runs: dict[str, list[str]] = {"import numpy": [sys.executable, "-c", "import numpy"]}
    runs["--help"] = [sys.executable, "-m", "weibull_stats", "--help"]
    for name in COMMANDS:
        runs[f"{name} --help"] = [sys.executable, "-m", "weibull_stats", name, "--help"]
    for argv in runs.values():  # warm the page cache and the bytecode once, untimed
        timed(argv)
    times: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(repeat):
        for label, argv in runs.items():
            times[label].append(timed(argv))

    best = {label: min(values) for label, values in times.items()}
    baseline = best["import numpy"]
    out = sys.stdout
    out.write(f"{'run':24s} {'best s':>8s} {'x import numpy':>15s}\n")
    rows = {}
    for label, seconds in best.items():
        ratio = seconds / baseline
        target = TARGET_RATIO if label in TARGETED else None
        rows[label] = {"seconds": round(seconds, 4), "ratio": round(ratio, 2),
                       "rounds": [round(t, 4) for t in times[label]],
                       **({"target": target, "met": ratio <= target} if target else {})}
        verdict = "met" if target is not None and ratio <= target else "NOT met"
        mark = "" if target is None else f"  (target <= {target:g}: {verdict})"
        out.write(f"{label:24s} {seconds:8.3f} {ratio:15.2f}{mark}\n")
    record = {
        "benchmark": "cli_startup",
        "command": "python benchmarks/cli_startup.py " + " ".join(sys.argv[1:]),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "package_version": __version__,
        "machine": {"node": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
                    "numpy": np.__version__, "load_average_1_5_15": list(os.getloadavg())},
        "repeat": repeat,
        "baseline": "python -c 'import numpy'",
        "runs": rows,
        "met": all(rows[label]["met"] for label in TARGETED),
    }
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    if load > cpus:
        record["note"] = (f"machine busy: load average {load:.1f} on {cpus} CPUs during the run; "
                          "timings are not quiet-machine numbers")
    RESULTS.mkdir(exist_ok=True)
    name = "cli_startup_quick.json" if args.quick else "cli_startup.json"
    (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
