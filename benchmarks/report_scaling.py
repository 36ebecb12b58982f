"""Time of a scan's report (report.md and its figures) against the number of matrices (issue 22, item 4).

Scans (untimed, validation skipped) seeded synthetic Llama-layout checkpoints of 5 and 32
blocks: 35 and 224 block matrices, plus the embedding and the head (37 and 226 results rows;
32 blocks is Llama-2-7B's count, the matrices are small: the report reads the results table,
not the weights). Then times, in this process with the modules imported and one report drawn
before the clock starts, the best of ``--repeat`` runs of:

1. ``report_from_folder(DIR)``: what ``weibull-stats report DIR`` does (report.md, and each
   figure as PNG and PDF);
2. ``report_from_folder(DIR, plots=False)``: report.md alone.

The target: the report with its figures in at most 3 s at any number of matrices (roughly the
same time at 226 rows as at 37). The per-matrix probability plots (``--matrix-plots``) re-read
one matrix per kind and are not timed here. The numbers go to
``benchmarks/results/report_scaling.json`` (``report_scaling_quick.json`` with ``--quick``).

    .venv/bin/python benchmarks/report_scaling.py
    .venv/bin/python benchmarks/report_scaling.py --quick     # 1 run each
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")

import weibull_stats as ws
from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
from weibull_stats.report.markdown import report_from_folder

RESULTS = Path(__file__).resolve().parent / "results"
#: Seconds of report and figures at any number of matrices, issue 22.
TARGET_SECONDS = 3.0
#: Transformer blocks of the two checkpoints (7 matrices each).
BLOCKS = (5, 32)


def best_of(repeat: int, call: object) -> tuple[float, list[float], float]:
    """Best wall-clock seconds of ``repeat`` calls, each call's, and the best CPU seconds of this
    process (the figure a busy machine inflates least)."""
    times, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        call()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return min(times), times, min(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs of each report (default: 5; 1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="one run each, for checking that the script works")
    args = parser.parse_args()
    repeat = args.repeat or (1 if args.quick else 5)

    folder = Path(tempfile.mkdtemp(prefix="report-scaling-"))
    try:
        outs = {}
        for blocks in BLOCKS:
            state, config = synthetic_state("llama", layers=blocks, hidden=64, heads=4, vocab=256, rng=blocks)
            path = write_checkpoint(folder / f"ckpt{blocks}", state, config)
            outs[blocks] = folder / f"out{blocks}"
            ws.scan(path, out=outs[blocks], skip_validation=True, progress=False, report=False)
        report_from_folder(outs[BLOCKS[0]])  # warm: imports done, fonts cached, first figure drawn
        rows = {}
        for blocks, out in outs.items():
            full, full_times, full_cpu = best_of(repeat, lambda out=out: report_from_folder(out))
            text, text_times, text_cpu = best_of(repeat, lambda out=out: report_from_folder(out, plots=False))
            figures = sorted(p.name for p in out.iterdir() if p.suffix in (".png", ".pdf"))
            rows[str(blocks)] = {
                "blocks": blocks, "results_rows": len(pd.read_parquet(out / "results.parquet")),
                "report_seconds": round(full, 3), "report_md_only_seconds": round(text, 3),
                "figures_seconds": round(full - text, 3), "figures": figures,
                "report_cpu_seconds": round(full_cpu, 3), "report_md_only_cpu_seconds": round(text_cpu, 3),
                "rounds": [round(t, 3) for t in full_times],
                "rounds_md_only": [round(t, 3) for t in text_times],
            }
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    small, large = (rows[str(b)] for b in BLOCKS)
    growth = large["report_seconds"] / small["report_seconds"]
    met = all(r["report_seconds"] <= TARGET_SECONDS for r in rows.values())
    out = sys.stdout
    out.write(f"{'results rows':>12s} {'report s':>9s} {'report.md s':>12s} {'figures s':>10s} "
              f"{'report CPU s':>13s}\n")
    for row in rows.values():
        out.write(f"{row['results_rows']:12d} {row['report_seconds']:9.2f} "
                  f"{row['report_md_only_seconds']:12.2f} {row['figures_seconds']:10.2f} "
                  f"{row['report_cpu_seconds']:13.2f}\n")
    out.write(f"report at {large['results_rows']} rows / at {small['results_rows']} rows = {growth:.2f}; "
              f"target <= {TARGET_SECONDS:g} s at each: {'met' if met else 'NOT met'}\n")
    record = {
        "benchmark": "report_scaling",
        "command": "python benchmarks/report_scaling.py " + " ".join(sys.argv[1:]),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "package_version": ws.__version__,
        "machine": {"node": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
                    "numpy": np.__version__, "matplotlib": matplotlib.__version__,
                    "load_average_1_5_15": list(os.getloadavg())},
        "repeat": repeat,
        "rows": rows,
        "growth_large_over_small": round(growth, 3),
        "target_seconds": TARGET_SECONDS,
        "met": met,
    }
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    if load > cpus:
        record["note"] = (f"machine busy: load average {load:.1f} on {cpus} CPUs during the run; "
                          "timings are not quiet-machine numbers")
    RESULTS.mkdir(exist_ok=True)
    name = "report_scaling_quick.json" if args.quick else "report_scaling.json"
    (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
