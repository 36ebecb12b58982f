"""Shared output helpers for subcommands: tables and JSON on stdout."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from weibull_stats.commands._options import format_value
from weibull_stats.core.formatting import jsonable
from weibull_stats.estimators.registry import ESTIMATORS


def write_json(payload: Any) -> None:
    """Deterministic, valid JSON (sorted keys, two-space indent, non-finite as null) on stdout."""
    sys.stdout.write(json.dumps(jsonable(payload), indent=2, sort_keys=True) + "\n")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Plain fixed-width text table; floats with 10 significant digits."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.10g}"
        return "" if value is None else str(value)

    text_rows = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in text_rows)) if text_rows else len(h)
              for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines.extend("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in text_rows)
    return "\n".join(lines)


def write_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    sys.stdout.write(format_table(headers, rows) + "\n")


def options_line(fit: Any) -> str:
    """What a fit used, as typed on the command line, and what it left out:
    ``probability_plot: --values weights --zeros omit (3 left out) ... --option trim=0.1,0.9``."""
    options = dict(fit.options)
    omitted = dict(fit.n_omitted)
    words = []
    for name in ("values", "zeros", "nonfinite"):
        if name in options:
            count = omitted.get(name, 0)
            words.append(f"--{name} {options.pop(name)}" + (f" ({count} left out)" if count else ""))
    if omitted.get("masked"):
        words.append(f"--mask ({omitted['masked']} masked)")
    own = ESTIMATORS[fit.estimator].options if fit.estimator in ESTIMATORS else {}
    words.extend(f"--option {k}={format_value(v)}" for k, v in options.items() if k in own)
    return f"{fit.estimator}: {' '.join(words)}"


def write_options(fits: Sequence[Any]) -> None:
    """One :func:`options_line` per fit on stdout."""
    for fit in fits:
        sys.stdout.write(options_line(fit) + "\n")
