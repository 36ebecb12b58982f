"""The one JSON-cleaning helper, the one Markdown table renderer and the one p-value
formatter (core layer).

Every JSON record the package writes (results, run records, validation reports) goes through
:func:`jsonable`; every Markdown table (``to_markdown``, the scan report, the validation
tables) is drawn by :func:`markdown_table`; every Monte Carlo p-value that is shown (reprs,
command-line text, Markdown and LaTeX tables, the scan report, figures) is written by
:func:`pvalue_text`, which writes one at its floor as ``≤ 1/(M+1)``
(:func:`pvalue_at_floor`).
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


#: Relative tolerance of :func:`pvalue_at_floor`, for p-values read back from a table.
FLOOR_TOLERANCE = 1e-9


def pvalue_at_floor(pvalue: Any, n_samples: Any) -> bool:
    """Whether a Monte Carlo p-value ``(b + 1) / (M + 1)`` sits at its floor ``1/(M+1)``.

    At the floor (``b = 0``) the observed statistic exceeded every one of the ``M`` null
    statistics: the p-value is an upper bound, not an estimate. A missing p-value (None,
    NaN) or ``M`` (0, NaN) is never at the floor.

    Examples
    --------
    >>> pvalue_at_floor(0.05, 19), pvalue_at_floor(0.1, 19), pvalue_at_floor(None, 0)
    (True, False, False)
    """
    try:
        p, m = float(pvalue), float(n_samples)
    except (TypeError, ValueError):  # None, pandas.NA
        return False
    if not (math.isfinite(p) and math.isfinite(m) and m >= 1):
        return False
    return p <= (1.0 + FLOOR_TOLERANCE) / (int(m) + 1)


def pvalue_text(pvalue: Any, n_samples: Any, *, prefix: bool = False, missing: str = "") -> str:
    """A Monte Carlo p-value as every table, repr, command and figure shows it.

    At its floor (:func:`pvalue_at_floor`) it is ``≤ 1/(M+1)`` with ``M + 1`` written out,
    otherwise the value to three significant digits.

    Parameters
    ----------
    pvalue : float or None
        The p-value; None or NaN where none was computed.
    n_samples : int
        ``M``, the Monte Carlo samples behind it.
    prefix : bool, default False
        Start with ``p`` (``p ≤ 1/20``, ``p = 0.35``), for text where it stands alone.
    missing : str, default ""
        The text where there is no p-value.

    Examples
    --------
    >>> pvalue_text(0.05, 19), pvalue_text(0.35, 19), pvalue_text(0.463, 999)
    ('≤ 1/20', '0.35', '0.463')
    >>> pvalue_text(0.05, 19, prefix=True), pvalue_text(0.35, 19, prefix=True)
    ('p ≤ 1/20', 'p = 0.35')
    >>> pvalue_text(None, 0, missing="not tested")
    'not tested'
    """
    try:
        value = float(pvalue)
    except (TypeError, ValueError):  # None, pandas.NA
        return missing
    if not math.isfinite(value):
        return missing
    if pvalue_at_floor(pvalue, n_samples):
        text = f"≤ 1/{int(float(n_samples)) + 1}"
        return f"p {text}" if prefix else text
    text = f"{value:.3g}"
    return f"p = {text}" if prefix else text


__all__ = ["jsonable", "markdown_table", "option_text", "pvalue_at_floor", "pvalue_text"]
