"""Run the storage-aware validation studies on their own (they are also part of ``validate --full``)::

    python -m weibull_stats.validation.storage --out validation/results              # both
    python -m weibull_stats.validation.storage --out validation/results --only anchors
    python -m weibull_stats.validation.storage --out validation/results --only gof

Exit status 1 when a check fails; one line per check on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from weibull_stats.validation._common import DEFAULT_SEED, stamp
from weibull_stats.validation.report import StudyRun
from weibull_stats.validation.stored_gof import GOF_ESTIMATORS, storage_studies


def main(argv: Sequence[str] | None = None) -> int:
    """Run the storage studies on their own (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m weibull_stats.validation.storage")
    parser.add_argument("--out", default="validation/results")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--only", choices=("anchors", "gof"), default=None)
    args = parser.parse_args(argv)
    run = StudyRun(GOF_ESTIMATORS, args.seed, Path(args.out), stamp(args.seed))
    studies = storage_studies()
    if args.only is not None:
        studies = [studies[0] if args.only == "anchors" else studies[1]]
    for study in studies:
        study(run)
    failed = [c for c in run.checks if not c.passed]
    for check in run.checks:
        sys.stderr.write(f"{'ok  ' if check.passed else 'FAIL'} {check.name}: {check.detail}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
