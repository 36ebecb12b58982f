"""rewrite report.md and the plots of a scan folder

Rebuild DIR/report.md and its PNG plots from the files a scan wrote to DIR (results.parquet,
errors.csv, skipped.csv, run.json). The probability plots of single matrices are drawn with
--matrix-plots only (as in the scan, which does not record it: give it again here).
"""

from __future__ import annotations

import argparse
import sys

from weibull_stats.commands._arguments import add_setting_argument
from weibull_stats.scanning.settings import SETTINGS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", metavar="DIR", help="the --out folder of a scan")
    parser.add_argument("--no-plots", action="store_true", help="only report.md, no plots (default: off)")
    add_setting_argument(parser, SETTINGS["matrix_plots"])


def run(args: argparse.Namespace) -> int:
    from weibull_stats.report.markdown import report_from_folder  # pandas, matplotlib: not for --help

    path = report_from_folder(args.folder, plots=not args.no_plots, matrix_plots=args.matrix_plots)
    sys.stdout.write(f"report: {path}\n")
    return 0
