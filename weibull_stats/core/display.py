"""How results show themselves: one-line ``repr``, a small table for ``str`` and the notebook.

Every result type (:class:`~weibull_stats.WeibullFit`, :class:`~weibull_stats.BootstrapResult`,
:class:`~weibull_stats.GoodnessOfFitResult`, :class:`~weibull_stats.ModelComparison`) describes
itself once as a :class:`Summary`: a title, a label (usually the estimator), a few headline
figures and the rows of a small table. :func:`display_methods` turns a summary function into
the four display methods, which a result class takes with one line::

    __repr__, __str__, _repr_html_, _repr_markdown_ = display_methods(fit_summary)

* ``repr``: one line, ``Title(label: name=value, ...)``, e.g.
  ``WeibullFit(probability_plot: k=1.2054, λ=0.88749, n=1000000, r²=0.99961)``;
* ``str``: the title line and a two-column text table of every figure worth reading;
* ``_repr_html_`` / ``_repr_markdown_``: the same table for a notebook.

Numbers are printed with the digits their precision supports (:func:`figure`): down to about
a tenth of the standard error, never 17 digits. The output is a function of the result
alone (no locale, no time), so tests can compare strings.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from weibull_stats.core.formatting import markdown_table

#: Most and fewest significant digits :func:`figure` prints.
MOST_DIGITS = 10
FEWEST_DIGITS = 2

Row = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Summary:
    """What a result shows: ``title(label: headline)`` on one line, ``rows`` in its table.

    Attributes
    ----------
    title : str
        The class name.
    label : str
        What the result is of (an estimator name, a test), first inside the parentheses.
    headline : tuple of (str, str)
        ``(name, text)`` pairs of the one-line ``repr``; a pair with an empty name shows
        its text alone.
    rows : tuple of (str, str)
        ``(name, text)`` rows of the table of ``str`` and of the notebook.
    """

    title: str
    label: str
    headline: tuple[Row, ...]
    rows: tuple[Row, ...]


def figure(value: float | None, error: float | None = None, *, digits: int = 5) -> str:
    """``value`` with the significant digits its ``error`` supports.

    The last digit printed is about a tenth of ``error`` (between :data:`FEWEST_DIGITS` and
    :data:`MOST_DIGITS` significant digits; trailing zeros are kept, they are significant).
    Without a usable ``error``, ``digits`` significant digits.

    Examples
    --------
    >>> figure(1.2054343190, 0.0011)
    '1.2054'
    >>> figure(0.0177496, 1.8e-05)
    '0.017750'
    >>> figure(1.2, 0.12), figure(2.0 / 3.0), figure(None), figure(float("nan"))
    ('1.20', '0.66667', 'n/a', 'nan')
    """
    if value is None:
        return "n/a"
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value != 0.0 and error is not None and math.isfinite(error) and error > 0.0:
        digits = math.floor(math.log10(abs(value))) - math.floor(math.log10(error)) + 2
    digits = min(max(digits, FEWEST_DIGITS), MOST_DIGITS)
    text = f"{value:#.{digits}g}"
    return text[:-1] if text.endswith(".") else text


def fraction_near_one(value: float | None) -> str:
    """A figure close to 1 (an R², a correlation) with two significant digits of ``1 - value``.

    Examples
    --------
    >>> fraction_near_one(0.999612), fraction_near_one(0.93), fraction_near_one(1.0)
    ('0.99961', '0.930', '1')
    """
    if value is None:
        return "n/a"
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    gap = 1.0 - value
    if gap == 0.0:
        return "1"
    decimals = min(max(3, 1 - math.floor(math.log10(abs(gap)))), MOST_DIGITS)
    return f"{value:.{decimals}f}"


def level_text(level: float) -> str:
    """A confidence level as a percentage.

    Examples
    --------
    >>> level_text(0.95), level_text(0.999)
    ('95%', '99.9%')
    """
    return f"{100.0 * level:.6g}%"


def one_line(summary: Summary) -> str:
    """The ``repr``: ``Title(label: name=value, ...)``.

    Examples
    --------
    >>> one_line(Summary("Fit", "mle", (("k", "1.2"), ("", "3 resamples")), ()))
    'Fit(mle: k=1.2, 3 resamples)'
    """
    parts = ", ".join(f"{name}={text}" if name else text for name, text in summary.headline)
    inside = f"{summary.label}: {parts}" if summary.label and parts else summary.label or parts
    return f"{summary.title}({inside})"


def heading(summary: Summary) -> str:
    """The title line of the table: ``Title (label)``."""
    return f"{summary.title} ({summary.label})" if summary.label else summary.title


def text_table(summary: Summary) -> str:
    """The ``str``: the heading, then ``name  value`` rows aligned on the value.

    Examples
    --------
    >>> print(text_table(Summary("Fit", "mle", (), (("shape k", "1.2"), ("n", "100")))))
    Fit (mle)
      shape k  1.2
      n        100
    """
    width = max((len(name) for name, _ in summary.rows), default=0)
    lines = [heading(summary)]
    lines.extend(f"  {name.ljust(width)}  {text}".rstrip() for name, text in summary.rows)
    return "\n".join(lines)


def html_table(summary: Summary) -> str:
    """A compact HTML table for the notebook (``_repr_html_``), every text escaped."""
    cell = "padding:1px 8px;text-align:{};font-weight:{}"
    body = "".join(
        f"<tr><td style='{cell.format('left', 'bold')}'>{html.escape(name)}</td>"
        f"<td style='{cell.format('left', 'normal')};font-family:monospace'>{html.escape(text)}</td></tr>"
        for name, text in summary.rows
    )
    caption = f"<caption style='text-align:left;font-weight:bold'>{html.escape(heading(summary))}</caption>"
    return f"<table style='border-collapse:collapse;font-size:90%'>{caption}{body}</table>"


def markdown_summary(summary: Summary) -> str:
    """The table as Markdown (``_repr_markdown_``): a bold heading, then a two-column table.

    Examples
    --------
    >>> print(markdown_summary(Summary("Fit", "mle", (), (("n", "100"),))))
    **Fit (mle)**
    <BLANKLINE>
    | | |
    |:--|:--|
    | n | 100 |
    """
    return f"**{heading(summary)}**\n\n" + markdown_table(["", ""], [list(r) for r in summary.rows],
                                                           align=["l", "l"])


def display_methods(
    summarise: Callable[[Any], Summary],
) -> tuple[Callable[[Any], str], Callable[[Any], str], Callable[[Any], str], Callable[[Any], str]]:
    """``__repr__``, ``__str__``, ``_repr_html_`` and ``_repr_markdown_`` built on ``summarise``.

    A dataclass keeps a ``__repr__`` defined in its body (it writes its own only where the
    class has none), so the class's fields, equality and frozenness are unchanged.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Pair:
    ...     a: float
    ...     __repr__, __str__, _repr_html_, _repr_markdown_ = display_methods(
    ...         lambda p: Summary("Pair", "", (("a", figure(p.a)),), (("a", figure(p.a)),)))
    >>> Pair(1 / 3)
    Pair(a=0.33333)
    """

    def __repr__(self: Any) -> str:
        return one_line(summarise(self))

    def __str__(self: Any) -> str:
        return text_table(summarise(self))

    def _repr_html_(self: Any) -> str:
        return html_table(summarise(self))

    def _repr_markdown_(self: Any) -> str:
        return markdown_summary(summarise(self))

    return __repr__, __str__, _repr_html_, _repr_markdown_


def options_text(options: Any) -> str:
    """``name=value`` pairs of an options mapping, tuples as ``(a, b)``.

    Examples
    --------
    >>> options_text({"trim": (0.1, 0.9), "values": "weights"})
    'trim=(0.1, 0.9), values=weights'
    """
    return ", ".join(f"{key}={value}" for key, value in dict(options).items())


def pair_text(low: float, high: float, error: float | None = None) -> str:
    """An interval ``[low, high]``; digits from ``error``, else from the width.

    Examples
    --------
    >>> pair_text(1.2031234, 1.2077412)
    '[1.2031, 1.2077]'
    >>> pair_text(5.0, 95.0)
    '[5.0, 95.0]'
    """
    if error is None and math.isfinite(high - low) and high > low:
        error = (high - low) / 4.0
    texts = [figure(low, error), figure(high, error)]
    if all(text.replace("-", "").replace(".", "").isdigit() for text in texts):
        # both ends to the same decimal place: [5.0, 95.0], not [5.0, 95]
        decimals = max(len(text.partition(".")[2]) for text in texts)
        texts = [f"{float(value):.{decimals}f}" for value in (low, high)]
    return f"[{texts[0]}, {texts[1]}]"


__all__ = [
    "FEWEST_DIGITS",
    "MOST_DIGITS",
    "Summary",
    "display_methods",
    "figure",
    "fraction_near_one",
    "html_table",
    "level_text",
    "markdown_summary",
    "one_line",
    "options_text",
    "pair_text",
    "text_table",
]
