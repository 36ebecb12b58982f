"""The one JSON-cleaning helper and the one Markdown table renderer (core layer).

Every JSON record the package writes (results, run records, validation reports) goes through
:func:`jsonable`; every Markdown table (``to_markdown``, the scan report, the validation
tables) is drawn by :func:`markdown_table`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: Column alignment markers of :func:`markdown_table`.
ALIGNMENTS: Mapping[str | None, str] = {"l": ":--", "r": "--:", None: "---"}


def jsonable(value: Any) -> Any:
    """``value`` with tuples as lists, mapping keys as text and non-finite floats as None.

    Examples
    --------
    >>> jsonable({"a": (1.0, float("nan")), 2: [float("inf"), "x"]})
    {'a': [1.0, None], '2': [None, 'x']}
    """
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def markdown_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, align: Sequence[str | None] | None = None
) -> str:
    """A GitHub-flavoured Markdown table of text cells (``|`` in a cell is escaped).

    Parameters
    ----------
    headers : sequence of str
    rows : sequence of sequences of str
        One sequence of cell texts per row, as long as ``headers``.
    align : sequence of {"l", "r", None}, optional
        Per column: left, right, or unmarked (the default for every column).

    Examples
    --------
    >>> print(markdown_table(["name", "k"], [["a|b", "1.2"]], align=["l", "r"]))
    | name | k |
    |:--|--:|
    | a\\|b | 1.2 |
    """
    marks = [None] * len(headers) if align is None else list(align)
    if len(marks) != len(headers):
        raise ValueError(f"`align` has {len(marks)} entries for {len(headers)} headers")

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    lines = [line(headers), "|" + "|".join(ALIGNMENTS[m] for m in marks) + "|"]
    for i, row in enumerate(rows):
        if len(row) != len(headers):
            raise ValueError(f"`rows[{i}]` has {len(row)} cells for {len(headers)} headers")
        lines.append(line(row))
    return "\n".join(lines)


def option_text(value: Any) -> str:
    """An option value as it is typed on the command line (``0.1,0.9``; ``none``).

    Examples
    --------
    >>> option_text((0.05, 0.95)), option_text(None), option_text("hazen")
    ('0.05,0.95', 'none', 'hazen')
    """
    if value is None:
        return "none"
    if isinstance(value, (tuple, list, np.ndarray)):
        items = [f"{float(v):g}" if isinstance(v, (int, float, np.floating)) else str(v) for v in value]
        if len(items) > 6:
            return f"{items[0]},...,{items[-1]} ({len(items)} values)"
        return ",".join(items)
    return str(value)


__all__ = ["jsonable", "markdown_table", "option_text"]
