"""Run every benchmark script in ``benchmarks/`` (except this one) in sequence.

    .venv/bin/python benchmarks/run.py                    # full sizes (what `make bench` runs)
    .venv/bin/python benchmarks/run.py --quick            # arguments are passed to every script
    .venv/bin/python benchmarks/run.py --only core,bootstrap --quick   # some scripts only

The scripts: ``bootstrap.py``, ``core.py`` (the issue 9 ratios), ``estimators.py`` and
``scan_memory.py``; see ``benchmarks/README.md`` for the results file each one writes.

Each script runs in its own process (so memory and timings do not leak between them) with
the same interpreter; the exit status is non-zero if any script failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scripts() -> list[Path]:
    """Benchmark scripts in name order: every ``benchmarks/*.py`` but this runner."""
    this = Path(__file__).name
    return sorted(p for p in HERE.glob("*.py") if p.name != this and not p.name.startswith("_"))


def main(argv: list[str]) -> int:
    only = None
    if argv[:1] == ["--only"] and len(argv) > 1:
        only, argv = set(argv[1].split(",")), argv[2:]
    chosen = [p for p in scripts() if only is None or p.stem in only]
    if only is not None and len(chosen) != len(only):
        known = ", ".join(p.stem for p in scripts())
        sys.stdout.write(f"--only: unknown script in {sorted(only)}; known: {known}\n")
        return 2
    failed = []
    for script in chosen:
        sys.stdout.write(f"== {script.name} {' '.join(argv)}\n")
        sys.stdout.flush()
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *argv], cwd=HERE.parent)
        sys.stdout.write(f"== {script.name}: exit {code}, {time.perf_counter() - start:.1f} s\n\n")
        if code:
            failed.append(script.name)
    if failed:
        sys.stdout.write(f"failed: {', '.join(failed)}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
