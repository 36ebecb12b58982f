"""Shared output helpers for subcommands: tables and JSON on stdout."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from weibull_stats.formatting import jsonable


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
