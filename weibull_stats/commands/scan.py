"""fit every weight matrix of a checkpoint (or a trajectory of checkpoints)

Fit a Weibull law to |w| of every 2-D weight matrix, named by layer and kind; write
results.csv/.parquet, errors.csv, report.md and plots to --out. PATH is a safetensors/.bin/.npy
file, an index.json, a model folder, a folder of step-N checkpoints, 'minilm' (the embedded
all-MiniLM-L6-v2), or a Hugging Face model id (org/name) found in the local cache (HF_HUB_CACHE or
HF_HOME; never downloaded; an existing path wins).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from pathlib import Path

from weibull_stats.checkpoints.devices import check_device
from weibull_stats.commands._arguments import (
    FITTING_SETTINGS,
    add_fitting_arguments,
    add_progress_argument,
    add_setting_argument,
    selected_estimators,
)
from weibull_stats.commands._options import parse_options
from weibull_stats.commands._output import format_table
from weibull_stats.commands.errors import CommandLineError, to_flags
from weibull_stats.scanning.settings import SCAN_SETTINGS, SETTINGS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    paths = SETTINGS["paths"]
    parser.add_argument(paths.name, nargs="+", metavar=paths.metavar, help=paths.help)
    add_fitting_arguments(parser, repeatable=True)
    for setting in SCAN_SETTINGS:  # the scan's own flags, from their one declaration
        if setting.flag is not None and setting.name not in FITTING_SETTINGS:
            add_setting_argument(parser, setting)
    parser.add_argument("--out", default="out/scan", metavar="DIR",
                        help="output folder (default: %(default)s)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the scan journalled in DIR (default: off, a fresh scan)")
    parser.add_argument("--device", default=None, metavar="DEVICE",
                        help="read each tensor straight to this torch device (cuda, cuda:1, cpu, ...) "
                        "and reduce it there; needs torch; the numbers do not depend on it "
                        "(default: numpy on the CPU)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run the tasks (one per tensor) on the Dask cluster of this scheduler "
                       "(tcp://host:8786); its workers read the checkpoint files, which must be on a "
                       "filesystem they share (default: no cluster)")
    where.add_argument("--cluster", default=None, metavar="local:N",
                       help="run the tasks on a Dask LocalCluster of N worker processes, started "
                       "and closed by this scan (default: no cluster)")
    parser.add_argument("--skip-validation", action="store_true",
                        help="fit without the validation gate, recorded in every row and the report "
                        "(default: off)")
    add_progress_argument(parser)


def _cell(value: float) -> str:
    """A number, or blank where none was computed (as in the report)."""
    return "" if value != value else f"{value:.4f}"


def run(args: argparse.Namespace) -> int:
    # the scan's machinery (pandas, scipy, the report) is imported here, not for --help
    from weibull_stats.report.markdown import kind_summary
    from weibull_stats.scanning.distributed import cluster_client, local_workers
    from weibull_stats.scanning.run import ScanWarning
    from weibull_stats.validation.gate import ValidationFailed
    from weibull_stats.workflow import scan

    estimators = selected_estimators(args.estimator)
    options = parse_options(args.option, estimators)
    distributed = args.scheduler is not None or args.cluster is not None
    if args.cluster is not None:
        try:
            local_workers(args.cluster)
        except ValueError as exc:
            raise CommandLineError(f"--cluster {args.cluster}: {exc}") from None
    try:
        check_device(args.device)
    except ValueError as exc:  # a flag's value, not the input: no file named
        raise CommandLineError(to_flags(str(exc))) from None
    if distributed and args.jobs != 1:
        raise CommandLineError(f"--jobs {args.jobs} with --{'scheduler' if args.scheduler else 'cluster'}: "
                               "the cluster's workers do the work; give one or the other")
    settings = {s.name: getattr(args, s.name) for s in SCAN_SETTINGS
                if s.flag is not None and s.name not in FITTING_SETTINGS}
    out = Path(args.out)
    try:
        with (cluster_client(scheduler=args.scheduler, cluster=args.cluster) if distributed
              else contextlib.nullcontext()) as client, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ScanWarning)
            frame = scan(
                args.paths, estimators=estimators, options=options, values=args.values, zeros=args.zeros,
                nonfinite=args.nonfinite, **settings, out=out, resume=args.resume,
                skip_validation=args.skip_validation, progress=args.progress, device=args.device,
                client=client,
            )
    except ValidationFailed as exc:
        sys.stderr.write(f"weibull-stats scan: validation gate failed: {exc}\n")
        return 2
    for warning in caught:
        if not issubclass(warning.category, ScanWarning):
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    for estimator in dict.fromkeys(frame["estimator"]):
        summary = kind_summary(frame, estimator)
        sys.stdout.write(f"{estimator}: per-kind medians of checkpoint {frame['checkpoint'].iloc[-1]}\n")
        has_width = bool(summary["k_ci_width_median"].notna().any())
        rows = [[r["kind"], r["matrices"], f"{r['k_median']:.4f}", f"{r['k_q25']:.4f}", f"{r['k_q75']:.4f}",
                 f"{r['lambda_median']:.5g}", *([_cell(r["k_ci_width_median"])] if has_width else [])]
                for r in summary.to_dict("records")]
        sys.stdout.write(format_table(["kind", "matrices", "median k", "k q25", "k q75", "median scale",
                                       *(["median CI width k"] if has_width else [])], rows) + "\n")
    sys.stdout.write(f"{len(frame)} rows -> {out / 'results.csv'}, {out / 'results.parquet'}\n")
    sys.stdout.write(f"report: {out / 'report.md'}\n")
    errors = frame.attrs.get("errors", [])
    if errors:
        sys.stderr.write(f"weibull-stats scan: {len(errors)} failures recorded in {out / 'errors.csv'} "
                         f"(first: {errors[0]['error']})\n")
        return 1
    return 0
