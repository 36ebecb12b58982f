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
header and the note. ``gof_statistic`` (with ``gof_test``), ``gof_pvalue`` (with
``gof_samples``: a p-value at its floor is written ``≤ 1/(M+1)``) and ``best_family``:
shown after ``n`` whenever a row has them (a goodness-of-fit result, a model comparison, a
scan with ``gof``). ``seed``: the seed behind the row (``none`` when absent: a
deterministic fit has none). ``package_version``: written once in the note when every row
agrees, as a column otherwise. Any other columns can lead the table as row labels
(``labels=``), for example the ``layer`` and ``kind`` of a scan.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd

from weibull_stats.core.display import figure
from weibull_stats.core.formatting import markdown_table, pvalue_text
from weibull_stats.estimators.results import digit_errors
from weibull_stats.report.fit_table import INTERVAL_COLUMNS, results_table, table_frame

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


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(math.isnan(value))
    except TypeError:
        return False


#: Significant digits of the columns that have no standard error, and of estimates without one.
DIGITS = 5


def _estimate(value: Any, error: float | None, digits: int | None) -> str:
    """A shape or scale (or an interval end): down to about a tenth of ``error`` (trailing
    zeros kept: they are significant), or ``digits`` significant digits when given."""
    if _is_missing(value):
        return ""
    return figure(float(value), error if digits is None else None, digits=digits or DIGITS)


def _errors(record: pd.Series, size: str) -> dict[str, float | None]:
    """``{"shape": error, "scale": error}`` that set a row's digits: its standard errors
    (``shape_se``; ``scale_se``, or a scan's ``log_scale_se`` times the scale), else the
    sampling rule from ``n_used`` (or the ``size`` column where there is none;
    :func:`~weibull_stats.estimators.results.digit_errors`)."""
    shape: Any = record.get("shape")
    scale: Any = record.get("scale")
    if _is_missing(shape) or _is_missing(scale):
        return {"shape": None, "scale": None}
    scale_se: Any = record.get("scale_se")
    log_se: Any = record.get("log_scale_se")
    if _is_missing(scale_se) and not _is_missing(log_se):
        scale_se = float(scale) * float(log_se)
    n_used = record.get("n_used", record.get(size))
    count = None if _is_missing(n_used) else n_used
    errors = digit_errors(float(shape), float(scale), count, record.get("shape_se"), scale_se)
    return dict(zip(("shape", "scale"), errors, strict=True))


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


#: Columns shown without being asked for when a table has them: ``(header, alignment, source)``.
AUTOMATIC: tuple[tuple[str, str, str], ...] = (
    ("GoF statistic", "r", "gof_statistic"),
    ("GoF p-value", "r", "gof_pvalue"),
    ("best family (AIC)", "l", "best_family"),
)
AUTOMATIC_SOURCES = tuple(source for _, _, source in AUTOMATIC)


def _automatic(record: pd.Series, source: str, digits: int) -> str:
    """A GoF statistic with its test's name, a p-value at its floor as ``≤ 1/(M+1)``, a family."""
    value: Any = record.get(source)
    if _is_missing(value):
        return ""
    if source == "gof_statistic":
        test = record.get("gof_test")
        return (f"{str(test).upper()} " if not _is_missing(test) else "") + _number(value, digits)
    if source == "gof_pvalue":
        return pvalue_text(value, record.get("gof_samples"))
    return str(value)


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
    frame: pd.DataFrame, labels: Sequence[str] | str | None, extra: Sequence[str] | str | None,
    estimate_digits: int | None,
) -> dict[str, Any]:
    """Headers, alignments, cell texts and the note shared by both renderers."""
    bad = isinstance(estimate_digits, bool) or not isinstance(estimate_digits, int) or estimate_digits < 1
    if estimate_digits is not None and bad:
        raise ValueError(f"`digits` must be a positive integer or None; got {estimate_digits!r}")
    digits = estimate_digits or DIGITS
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
    for header, align, source in AUTOMATIC:  # what GoF results and model comparisons computed
        if source not in extra and _unique(frame, source):
            columns.append((header, align, source))
    columns.append(("seed", "r", "seed"))
    if len(versions) > 1:
        columns.append(("version", "l", "package_version"))

    cells: list[list[tuple[str, bool]]] = []  # (text, is_number)
    for _, record in frame.iterrows():
        out: list[tuple[str, bool]] = []
        errors = _errors(record, size)
        for _, _, source in columns:
            value = record.get(source) if source in frame.columns else None
            if source in INTERVAL_COLUMNS:
                error = errors[source]
                text = _estimate(value, error, estimate_digits)
                low, high = (record.get(c) for c in INTERVAL_COLUMNS[source])
                if has_interval[source] and not (_is_missing(low) or _is_missing(high)):
                    text += (f" [{_estimate(low, error, estimate_digits)}, "
                             f"{_estimate(high, error, estimate_digits)}]")
                out.append((text, True))
            elif source in AUTOMATIC_SOURCES:
                out.append((_automatic(record, source, digits), source != "best_family"))
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
    digits: int | None = None,
    note: bool = True,
) -> str:
    """A results table as a GitHub-flavoured Markdown table.

    Parameters
    ----------
    table : pandas.DataFrame, a result, or a sequence of results
        Output of :func:`results_table`, a scan table, or the results themselves
        (:class:`~weibull_stats.WeibullFit`,
        :class:`~weibull_stats.BootstrapResult`, :class:`~weibull_stats.GoodnessOfFitResult`,
        :class:`~weibull_stats.ModelComparison`, mixed as :func:`results_table` takes them).
        A frame needs ``shape`` and ``scale`` columns and a size column: ``n``, else
        ``numel`` (a scan table), else ``n_used``.
    labels : str or sequence of str, optional
        Columns that lead each row (default ``label`` when present).
    extra : str or sequence of str, optional
        Further numeric columns placed after ``n`` (for example ``"r2"`` or ``"gof_pvalue"``).
    digits : int, optional
        Significant digits of the estimates and interval endpoints, trailing zeros kept.
        Default: each row's shape and scale (and their interval ends) are printed down to
        about a tenth of their standard error, trailing zeros kept (``1.2110``, not
        ``1.211``): the row's ``shape_se`` / ``scale_se`` (a scan's ``log_scale_se``), else
        ``shape / sqrt(n_used)`` and ``scale / (shape sqrt(n_used))`` (``n`` where there is
        no ``n_used``), the rule of a fit's own display; 5 significant digits where neither
        is known. ``extra`` columns have
        ``digits`` (default 5) significant digits.
    note : bool, default True
        Append a line naming the package version and the interval level and method.

    Returns
    -------
    str
        The table: shape and scale as ``value [low, high]`` where an interval exists,
        ``n``, the GoF statistic, p-value and best family where rows have them, ``seed``
        (``none`` when the row has none) and, when rows disagree, the version.

    Examples
    --------
    >>> import weibull_stats as ws
    >>> fit = ws.WeibullFit(shape=1.211, scale=0.01775, estimator="probability_plot",
    ...                     n=1_000_000, n_used=800_000, package_version="0.1.0")
    >>> print(ws.to_markdown([fit]))
    | estimator | shape | scale | n | seed |
    |:--|--:|--:|--:|--:|
    | probability_plot | 1.2110 | 0.017750 | 1000000 | none |
    <BLANKLINE>
    Fitted with weibull-stats 0.1.0.

    The standard error of ``k`` is about ``1.211 / sqrt(800000) = 0.0014``: four decimals,
    the last a significant zero. ``digits`` fixes the significant digits instead:

    >>> print(ws.to_markdown([fit], digits=3, note=False).splitlines()[-1])
    | probability_plot | 1.21 | 0.0178 | 1000000 | none |
    """
    built = _build(table_frame(table), labels, extra, digits)
    columns = built["columns"]

    text = markdown_table([c[0] for c in columns], [[t for t, _ in row] for row in built["cells"]],
                          align=[c[1] for c in columns])
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

    return _EXPONENT.sub(replace, text).replace("≤ ", r"$\leq$ ")


def to_latex(
    table: Any,
    *,
    labels: Sequence[str] | str | None = None,
    extra: Sequence[str] | str | None = None,
    digits: int | None = None,
    caption: str | None = None,
    label: str | None = None,
    note: bool = True,
) -> str:
    """A results table as a LaTeX ``table`` with a booktabs ``tabular``.

    Parameters
    ----------
    table : pandas.DataFrame, a result, or a sequence of results
        As in :func:`to_markdown`.
    labels : str or sequence of str, optional
        Columns that lead each row (default ``label`` when present).
    extra : str or sequence of str, optional
        Further numeric columns placed after ``n``, as in :func:`to_markdown`.
    digits : int, optional
        As in :func:`to_markdown`: by default the digits the standard errors support.
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
    built = _build(table_frame(table), labels, extra, digits)
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


__all__ = ["INTERVAL_COLUMNS", "results_table", "to_latex", "to_markdown"]
