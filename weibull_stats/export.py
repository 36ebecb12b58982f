"""Notebook and paper helpers: a table of results as pandas, Markdown and LaTeX.

A cited Weibull number needs its estimator, its interval, the sample size, the seed that
produced the interval and the package version. :func:`results_table` collects these into
one tidy :class:`pandas.DataFrame`; :func:`to_markdown` and :func:`to_latex` render such a
table (or a list of :class:`~weibull_stats.WeibullFit` directly) as text a paper or a
README can paste.

Columns understood by the renderers
-----------------------------------
``estimator``, ``shape``, ``scale``, ``n`` (or a scan's ``numel``): the fit. ``shape_low``,
``shape_high``, ``scale_low``, ``scale_high``: optional interval endpoints, shown as
``value [low, high]``.
``confidence_level`` and ``interval_method``: optional, describe the intervals in the
header and the note. ``seed``: the seed behind the row (``none`` when absent: a
deterministic fit has none). ``package_version``: written once in the note when every row
agrees, as a column otherwise. Any other columns can lead the table as row labels
(``labels=``), for example the ``layer`` and ``kind`` of a scan.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from weibull_stats.results import WeibullFit

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Interval endpoint columns, per parameter.
INTERVAL_COLUMNS: dict[str, tuple[str, str]] = {
    "shape": ("shape_low", "shape_high"),
    "scale": ("scale_low", "scale_high"),
}

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def _interval_pair(value: Any, parameter: str, row: int) -> tuple[float, float] | None:
    """``(low, high)`` for ``parameter`` from a mapping or an object with that attribute."""
    if isinstance(value, Mapping):
        pair = value.get(parameter)
    else:
        pair = getattr(value, parameter, None)
    if pair is None:
        return None
    try:
        low, high = (float(v) for v in pair)
    except (TypeError, ValueError):
        raise ValueError(
            f"`intervals[{row}]` must give `{parameter}` as a (low, high) pair; got {pair!r}"
        ) from None
    if low > high:
        raise ValueError(f"`intervals[{row}]` has `{parameter}` low {low} above high {high}")
    return low, high


def _interval_fields(value: Any, row: int) -> dict[str, Any]:
    """Interval columns of one row from a mapping or a bootstrap-like result.

    Accepted: ``{"shape": (low, high), "scale": (low, high)}`` (either key optional), or
    any object with a ``confidence_interval`` attribute holding such pairs as attributes
    or keys (a :class:`~weibull_stats.BootstrapResult`); ``confidence_level``,
    ``method``, ``kind``, ``n_resamples`` and ``seed`` are read from it when present.
    """
    fields: dict[str, Any] = {}
    source = getattr(value, "confidence_interval", value)
    for parameter, (low_name, high_name) in INTERVAL_COLUMNS.items():
        pair = _interval_pair(source, parameter, row)
        if pair is not None:
            fields[low_name], fields[high_name] = pair
    def read(name: str) -> Any:
        return value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)

    for column, names in (
        ("confidence_level", ("confidence_level",)),
        ("interval_method", ("interval_method", "method")),
        ("seed", ("seed",)),
    ):
        for name in names:
            found = read(name)
            if found is not None:
                fields[column] = found
                break
    kind, resamples = read("kind"), read("n_resamples")
    if "interval_method" in fields and kind is not None and resamples is not None:
        # a bootstrap result: say which bootstrap, with how many resamples
        fields["interval_method"] = f"{kind} {fields['interval_method']} bootstrap, {resamples} resamples"
    if not any(name in fields for pair in INTERVAL_COLUMNS.values() for name in pair):
        raise ValueError(f"`intervals[{row}]` gives neither a `shape` nor a `scale` interval")
    return fields


def _is_bootstrap(value: Any) -> bool:
    """A bootstrap result: a fit in ``estimate`` and its ``confidence_interval``."""
    return isinstance(getattr(value, "estimate", None), WeibullFit) and hasattr(value, "confidence_interval")


def results_table(
    results: Sequence[Any],
    *,
    labels: Sequence[str] | None = None,
    intervals: Sequence[Any] | None = None,
    seed: int | None = None,
    confidence_level: float | None = None,
    interval_method: str | None = None,
) -> pd.DataFrame:
    """A citable :class:`pandas.DataFrame` of fits, one row per result.

    Parameters
    ----------
    results : sequence of WeibullFit or BootstrapResult
        The fits, in row order. A :class:`~weibull_stats.BootstrapResult` gives
        its ``estimate`` and, unless ``intervals`` is passed, its interval.
    labels : sequence of str, optional
        One label per row (a tensor name, a model, ...), placed in a leading ``label`` column.
    intervals : sequence, optional
        One entry per row, ``None`` for a row without one: a mapping
        ``{"shape": (low, high), "scale": (low, high)}`` or a bootstrap result whose
        ``confidence_interval`` holds ``shape`` and ``scale`` pairs (its
        ``confidence_level``, ``method`` and ``seed`` are recorded when present).
    seed : int, optional
        Seed recorded on every row that does not carry its own.
    confidence_level : float, optional
        Confidence level of the intervals (for example 0.95), on rows that lack one.
    interval_method : str, optional
        How the intervals were made (for example ``"bootstrap bca"``), on rows that lack one.

    Returns
    -------
    pandas.DataFrame
        Columns ``[label,] estimator, shape, scale, n, n_used``, the interval columns when
        any interval is given (``shape_low``, ``shape_high``, ``scale_low``, ``scale_high``,
        ``confidence_level``, ``interval_method``), then ``seed`` and ``package_version``.

    Examples
    --------
    >>> import weibull_stats as ws
    >>> fit = ws.WeibullFit(shape=1.2, scale=0.5, estimator="mle", n=100, n_used=100)
    >>> table = ws.results_table([fit], intervals=[{"shape": (1.1, 1.3)}], seed=7)
    >>> list(table.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['estimator', 'shape', 'scale', 'n', 'n_used', 'shape_low', 'shape_high', 'scale_low',
     'scale_high', 'confidence_level', 'interval_method', 'seed', 'package_version']
    >>> float(table.loc[0, "shape_high"])
    1.3
    """
    import pandas as pd

    given: list[Any] = list(results)
    if intervals is None and any(_is_bootstrap(r) for r in given):
        intervals = [r if _is_bootstrap(r) else None for r in given]
    results = [r.estimate if _is_bootstrap(r) else r for r in given]
    for i, result in enumerate(results):
        if not isinstance(result, WeibullFit):
            raise TypeError(
                f"`results[{i}]` must be a WeibullFit or a bootstrap result; got {type(result).__name__}"
            )
    if labels is not None and len(labels) != len(results):
        raise ValueError(f"`labels` has {len(labels)} entries for {len(results)} results")
    if intervals is not None and len(intervals) != len(results):
        raise ValueError(f"`intervals` has {len(intervals)} entries for {len(results)} results")
    rows: list[dict[str, Any]] = []
    for i, result in enumerate(results):
        row: dict[str, Any] = {}
        if labels is not None:
            row["label"] = str(labels[i])
        row.update(
            estimator=result.estimator,
            shape=result.shape,
            scale=result.scale,
            n=result.n,
            n_used=result.n_used,
        )
        extra = {} if intervals is None or intervals[i] is None else _interval_fields(intervals[i], i)
        if intervals is not None:
            for low_name, high_name in INTERVAL_COLUMNS.values():
                row[low_name] = extra.get(low_name, math.nan)
                row[high_name] = extra.get(high_name, math.nan)
            row["confidence_level"] = extra.get("confidence_level", confidence_level)
            row["interval_method"] = extra.get("interval_method", interval_method)
        row["seed"] = extra.get("seed", seed)
        row["package_version"] = result.package_version
        rows.append(row)
    return pd.DataFrame(rows)


def _as_frame(table: Any) -> pd.DataFrame:
    import pandas as pd

    if isinstance(table, pd.DataFrame):
        return table
    if isinstance(table, WeibullFit):
        return results_table([table])
    if isinstance(table, Sequence) and all(isinstance(r, WeibullFit) or _is_bootstrap(r) for r in table):
        return results_table(table)
    raise TypeError(
        "`table` must be a pandas DataFrame or a sequence of WeibullFit or bootstrap results; "
        f"got {type(table).__name__}"
    )


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(math.isnan(value))
    except TypeError:
        return False


def _number(value: Any, digits: int) -> str:
    if _is_missing(value):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if float(value).is_integer() and digits >= len(str(abs(int(value)))):
        return str(int(value))
    return f"{float(value):.{digits}g}"


def _unique(frame: pd.DataFrame, column: str) -> list[Any]:
    if column not in frame.columns:
        return []
    seen: list[Any] = []
    for value in frame[column]:
        if not _is_missing(value) and value not in seen:
            seen.append(value)
    return seen


def _level_text(level: Any) -> str:
    return f"{_number(100 * float(level), 6)}%"


def _size_column(frame: pd.DataFrame) -> str:
    """The sample-size column: ``n``, else a scan's ``numel``, else ``n_used``."""
    for name in ("n", "numel", "n_used"):
        if name in frame.columns:
            return name
    return "n"


def _build(
    frame: pd.DataFrame, labels: Sequence[str] | str | None, extra: Sequence[str] | str | None, digits: int
) -> dict[str, Any]:
    """Headers, alignments, cell texts and the note shared by both renderers."""
    if not isinstance(digits, int) or digits < 1:
        raise ValueError(f"`digits` must be a positive integer; got {digits!r}")
    labels = [labels] if isinstance(labels, str) else labels
    extra = [extra] if isinstance(extra, str) else list(extra or [])
    if labels is None:
        labels = ["label"] if "label" in frame.columns else []
    size = _size_column(frame)
    missing = [c for c in [*labels, "shape", "scale", size, *extra] if c not in frame.columns]
    if missing:
        raise ValueError(f"`table` lacks the column(s) {', '.join(f'`{c}`' for c in missing)}")
    levels = _unique(frame, "confidence_level")
    methods = _unique(frame, "interval_method")
    versions = _unique(frame, "package_version")
    has_interval = {
        p: all(c in frame.columns for c in cols) and frame[list(cols)].notna().any(axis=None)
        for p, cols in INTERVAL_COLUMNS.items()
    }
    interval_header = f" [{_level_text(levels[0])} CI]" if len(levels) == 1 else " [CI]"

    columns: list[tuple[str, str, Any]] = [(c, "l", c) for c in labels]
    if "estimator" in frame.columns:
        columns.append(("estimator", "l", "estimator"))
    for parameter in ("shape", "scale"):
        header = parameter + (interval_header if has_interval[parameter] else "")
        columns.append((header, "r", parameter))
    columns.append(("n", "r", size))
    columns.extend((name, "r", name) for name in extra)
    columns.append(("seed", "r", "seed"))
    if len(versions) > 1:
        columns.append(("version", "l", "package_version"))

    cells: list[list[tuple[str, bool]]] = []  # (text, is_number)
    for _, record in frame.iterrows():
        out: list[tuple[str, bool]] = []
        for _, _, source in columns:
            value = record.get(source) if source in frame.columns else None
            if source in INTERVAL_COLUMNS:
                text = _number(value, digits)
                low, high = (record.get(c) for c in INTERVAL_COLUMNS[source])
                if has_interval[source] and not (_is_missing(low) or _is_missing(high)):
                    text += f" [{_number(low, digits)}, {_number(high, digits)}]"
                out.append((text, True))
            elif source == "seed":
                out.append(("none" if _is_missing(value) else _number(value, digits), True))
            elif source in (size, *extra):
                out.append((_number(value, digits), True))
            else:
                out.append(("" if _is_missing(value) else str(value), False))
        cells.append(out)

    note_parts = []
    if len(versions) == 1:
        note_parts.append(f"Fitted with weibull-stats {versions[0]}.")
    if any(has_interval.values()):
        level = ", ".join(_level_text(v) for v in levels) if levels else "unstated level"
        resamples = [r for r in _unique(frame, "n_resamples") if r]
        if not methods and resamples:  # a scan table: bootstrap intervals, counted resamples
            methods = [f"bootstrap, {', '.join(_number(r, digits) for r in resamples)} resamples"]
        how = f" ({'; '.join(str(m) for m in methods)})" if methods else ""
        note_parts.append(f"Intervals: {level}{how}.")
    return {"columns": columns, "cells": cells, "note": " ".join(note_parts)}


def to_markdown(
    table: Any,
    *,
    labels: Sequence[str] | str | None = None,
    extra: Sequence[str] | str | None = None,
    digits: int = 5,
    note: bool = True,
) -> str:
    """A results table as a GitHub-flavoured Markdown table.

    Parameters
    ----------
    table : pandas.DataFrame or sequence of WeibullFit or BootstrapResult
        Output of :func:`results_table`, :func:`~weibull_stats.results_to_frame`, a scan
        table, or the fits (or bootstrap results) themselves. Needs ``shape`` and ``scale`` columns and a size
        column: ``n``, else ``numel`` (a scan table), else ``n_used``.
    labels : str or sequence of str, optional
        Columns that lead each row (default ``label`` when present).
    extra : str or sequence of str, optional
        Further numeric columns placed after ``n`` (for example ``"r2"`` or ``"gof_pvalue"``).
    digits : int, default 5
        Significant digits of the estimates, interval endpoints and ``extra`` columns.
    note : bool, default True
        Append a line naming the package version and the interval level and method.

    Returns
    -------
    str
        The table: shape and scale as ``value [low, high]`` where an interval exists,
        ``n``, ``seed`` (``none`` when the row has none) and, when rows disagree, the
        version.

    Examples
    --------
    >>> import weibull_stats as ws
    >>> fit = ws.WeibullFit(shape=1.205434, scale=0.017749, estimator="probability_plot",
    ...                     n=1000, n_used=800, package_version="0.1.0")
    >>> print(ws.to_markdown([fit]))
    | estimator | shape | scale | n | seed |
    |:--|--:|--:|--:|--:|
    | probability_plot | 1.2054 | 0.017749 | 1000 | none |
    <BLANKLINE>
    Fitted with weibull-stats 0.1.0.
    """
    built = _build(_as_frame(table), labels, extra, digits)
    columns = built["columns"]

    def escape(text: str) -> str:
        return text.replace("|", r"\|")

    lines = ["| " + " | ".join(escape(c[0]) for c in columns) + " |"]
    lines.append("|" + "|".join(":--" if c[1] == "l" else "--:" for c in columns) + "|")
    lines.extend("| " + " | ".join(escape(text) for text, _ in row) + " |" for row in built["cells"])
    text = "\n".join(lines)
    if note and built["note"]:
        text += "\n\n" + built["note"]
    return text


def _latex_text(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


_EXPONENT = re.compile(r"(-?[0-9.]+)e([+-])0*([0-9]+)")


def _latex_number(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        sign = "-" if match.group(2) == "-" else ""
        return f"${match.group(1)}\\times 10^{{{sign}{match.group(3)}}}$"

    return _EXPONENT.sub(replace, text)


def to_latex(
    table: Any,
    *,
    labels: Sequence[str] | str | None = None,
    extra: Sequence[str] | str | None = None,
    digits: int = 5,
    caption: str | None = None,
    label: str | None = None,
    note: bool = True,
) -> str:
    """A results table as a LaTeX ``table`` with a booktabs ``tabular``.

    Parameters
    ----------
    table : pandas.DataFrame or sequence of WeibullFit
        As in :func:`to_markdown`.
    labels : str or sequence of str, optional
        Columns that lead each row (default ``label`` when present).
    extra : str or sequence of str, optional
        Further numeric columns placed after ``n``, as in :func:`to_markdown`.
    digits : int, default 5
        Significant digits of the estimates, interval endpoints and ``extra`` columns.
    caption : str, optional
        ``\\caption`` text (LaTeX, inserted verbatim).
    label : str, optional
        ``\\label`` key.
    note : bool, default True
        Append the version and interval note under the table in ``\\footnotesize``.

    Returns
    -------
    str
        LaTeX source; needs ``\\usepackage{booktabs}``. Text cells are escaped; numbers in
        exponent notation become ``$m\\times 10^{e}$``.

    Examples
    --------
    >>> import weibull_stats as ws
    >>> fit = ws.WeibullFit(shape=1.2, scale=0.5, estimator="mle", n=100, n_used=100,
    ...                     package_version="0.1.0")
    >>> print(ws.to_latex([fit], note=False))
    \\begin{table}
    \\centering
    \\begin{tabular}{lrrrr}
    \\toprule
    estimator & shape & scale & n & seed \\\\
    \\midrule
    mle & 1.2 & 0.5 & 100 & none \\\\
    \\bottomrule
    \\end{tabular}
    \\end{table}
    """
    built = _build(_as_frame(table), labels, extra, digits)
    columns = built["columns"]
    lines = [r"\begin{table}", r"\centering"]
    if caption is not None:
        lines.append(f"\\caption{{{caption}}}")
    if label is not None:
        lines.append(f"\\label{{{label}}}")
    lines.append(r"\begin{tabular}{" + "".join(c[1] for c in columns) + "}")
    lines.append(r"\toprule")
    lines.append(" & ".join(_latex_text(c[0]) for c in columns) + r" \\")
    lines.append(r"\midrule")
    for row in built["cells"]:
        texts = [_latex_number(t) if is_number else _latex_text(t) for t, is_number in row]
        lines.append(" & ".join(texts) + r" \\")
    lines.append(r"\bottomrule")
    lines.append(r"\end{tabular}")
    if note and built["note"]:
        lines.append(r"\par\smallskip{\footnotesize " + _latex_text(built["note"]) + "}")
    lines.append(r"\end{table}")
    return "\n".join(lines)
