"""Writing study outputs: CSV, Markdown and PNG, each stamped with seed, version and date.

CSV files start with ``#`` comment lines holding the stamp (read them back with
``pandas.read_csv(path, comment="#")``); Markdown files start with a title and the stamp;
Figures (PNG at 200 dpi and PDF) carry the stamp in a footer line and in their metadata
(PNG ``Description``, PDF ``Subject``). :class:`StudyRun` is what each study of
``validate --full`` is given to write them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from weibull_stats.core.formatting import markdown_table as _render
from weibull_stats.plotting import DEFAULT_DPI, DEFAULT_FORMATS
from weibull_stats.plotting import save_figure as save_figure_files
from weibull_stats.validation._common import Check


def stamp_line(stamp: Mapping[str, Any]) -> str:
    """``seed=..., package_version=..., date=...`` in one line."""
    return ", ".join(f"{k}={v}" for k, v in stamp.items())


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return f"{value:.10g}"
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_cell(v) for v in value) + ")"
    return "" if value is None else str(value)


def markdown_table(frame: pd.DataFrame) -> str:
    """GitHub-flavoured Markdown table of a frame; floats with 10 significant digits."""
    rows = [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
    return _render([str(c) for c in frame.columns], rows)


def write_table(
    frame: pd.DataFrame,
    out_dir: Path,
    name: str,
    *,
    title: str,
    stamp: Mapping[str, Any],
    notes: Sequence[str] = (),
    level: int = 1,
) -> list[Path]:
    """Write ``<name>.csv`` and ``<name>.md`` under ``out_dir``; return their paths.

    ``level`` is the Markdown heading level of the title (2 for tables included in a page).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"{name}.csv"
    md_path = out_dir / f"{name}.md"
    header = [f"# {title}", f"# {stamp_line(stamp)}"] + [f"# {n}" for n in notes]
    printable = frame.map(lambda v: _cell(v) if isinstance(v, tuple | list) else v)
    csv_path.write_text("\n".join(header) + "\n" + printable.to_csv(index=False, float_format="%.12g"))
    body = [f"{'#' * level} {title}", "", f"*{stamp_line(stamp)}*", ""]
    body += [f"{n}  " for n in notes]
    if notes:
        body.append("")
    body += [markdown_table(frame), ""]
    md_path.write_text("\n".join(body))
    return [csv_path, md_path]


def _silent(stage: str) -> None:
    """A stage callback that shows nothing."""


@dataclass(frozen=True, slots=True)
class StudyRun:
    """One run of ``validate --full`` as each of its studies sees it.

    A study of the full run is a function ``study(run, **options) -> list[Path]``: it runs for
    the estimators ``names`` with the root ``seed``, names its stage with ``tell``, writes its
    tables (:meth:`table`) and figures under ``out`` stamped with ``info``, adds its pass/fail
    checks to ``checks``, and returns the paths it wrote (none when it does not apply to
    ``names``).
    """

    names: Sequence[str]
    seed: int
    out: Path
    info: Mapping[str, Any]
    tell: Callable[[str], None] = _silent
    checks: list[Check] = field(default_factory=list)

    def table(self, frame: pd.DataFrame, name: str, *, title: str, notes: Sequence[str] = (),
              figure: Callable[[pd.DataFrame, Path, Mapping[str, Any]], Path] | None = None) -> list[Path]:
        """Write ``<name>.csv`` and ``<name>.md`` (:func:`write_table`) and, where ``figure`` is
        given, ``figure(frame, out, info)``; return the paths."""
        files = write_table(frame, self.out, name, title=title, stamp=self.info, notes=notes)
        return files if figure is None else [*files, figure(frame, self.out, self.info)]


#: Files written per validation figure (PNG for the README and docs, PDF for papers).
FIGURE_FORMATS: tuple[str, ...] = DEFAULT_FORMATS
#: Resolution of the validation PNGs.
FIGURE_DPI = DEFAULT_DPI


def save_figure(fig: Any, out_dir: Path, name: str, *, stamp: Mapping[str, Any],
                formats: Sequence[str] | None = None, dpi: float | None = None) -> Path:
    """Save ``fig`` as ``<name>.png`` and ``<name>.pdf`` (``formats``) with the stamp as footer
    and metadata; close it; return the first path (the PNG by default).

    ``formats`` defaults to :data:`FIGURE_FORMATS`, ``dpi`` (of the PNG) to :data:`FIGURE_DPI`.
    """
    line = stamp_line(stamp)
    fig.text(0.01, 0.005, f"weibull-stats validation: {line}", fontsize=6, color="0.4")
    written = save_figure_files(fig, out_dir / name, formats=tuple(formats or FIGURE_FORMATS),
                                dpi=dpi or FIGURE_DPI, description=line)
    return written[0]


#: Height (inches) kept free under the panels for the stamp footer of :func:`save_figure`.
FOOTER_INCHES = 0.16


def new_figure(ncols: int = 1, nrows: int = 1, size: tuple[float, float] = (6.4, 4.2), *,
               sharey: bool = False, sharex: bool = False) -> tuple[Any, Any]:
    """A figure on the Agg backend (no display needed); ``sharey`` for panels of one quantity.

    The figure uses constrained layout with room for the footer, so legends placed outside
    the panels (:func:`figure_legend`) and a suptitle get their own space.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    width, height = size[0] * ncols, size[1] * nrows
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False, sharey=sharey,
                             sharex=sharex, layout="constrained")
    engine: Any = fig.get_layout_engine()  # constrained: takes a rect
    engine.set(rect=(0.0, FOOTER_INCHES / height, 1.0, 1.0 - FOOTER_INCHES / height))
    return fig, axes


def figure_legend(fig: Any, handles: Sequence[Any] | None = None, labels: Sequence[str] | None = None, *,
                  ncol: int = 4, title: str | None = None) -> Any:
    """One legend for the whole figure, under the panels and above the footer, outside every
    axes: the panels' area (constrained layout of :func:`new_figure`) is raised by the legend's
    measured height. Entries default to those of every axes, each label once."""
    if handles is None:
        seen: dict[str, Any] = {}
        for ax in fig.axes:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                seen.setdefault(label, handle)
        handles, labels = list(seen.values()), list(seen)
    height = fig.get_figheight()
    legend = fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, FOOTER_INCHES / height),
                        ncol=ncol, fontsize=7, frameon=False, title=title, title_fontsize=7)
    legend.set_in_layout(False)
    tall = legend.get_window_extent(fig.canvas.get_renderer()).height / fig.dpi  # inches
    bottom = (FOOTER_INCHES + tall + 0.06) / height
    engine: Any = fig.get_layout_engine()
    engine.set(rect=(0.0, bottom, 1.0, 1.0 - bottom))
    return legend


def _keys(values: Sequence[Any]) -> str:
    return ", ".join(f"{v:,}" if isinstance(v, int) else str(v) for v in dict.fromkeys(values))


def replications_note(frame: pd.DataFrame, *, reps: str = "reps", by: str = "n",
                      what: str = "replications") -> str:
    """How many Monte Carlo replications each drawn point rests on, read from the table itself.

    ``"400 replications per point"``, or per value of ``by`` when the counts differ:
    ``"replications per point: 1,000 at n = 1,000; 40 at n = 1,000,000"``.

    Examples
    --------
    >>> replications_note(pd.DataFrame({"n": [100, 1000], "reps": [400, 400]}))
    '400 replications per point'
    >>> replications_note(pd.DataFrame({"n": [100, 1000, 10_000], "reps": [800, 800, 200]}))
    'replications per point: 800 at n = 100, 1,000; 200 at n = 10,000'
    """
    counts = [int(r) for r in frame[reps]]
    if not counts:
        return f"no {what}"
    if len(set(counts)) == 1:
        return f"{counts[0]:,} {what} per point"
    if by not in frame:
        return f"{what} per point: {_keys(sorted(set(counts)))}"
    groups: dict[int, list[Any]] = {}
    rows = sorted(zip(frame[by], counts, strict=True), key=lambda row: (str(type(row[0])), row[0]))
    for key, count in rows:
        groups.setdefault(count, []).append(int(key) if isinstance(key, int | np.integer) else key)
    listed = [f"{count:,} at {by} = {_keys(keys)}" for count, keys in groups.items()]
    return f"{what} per point: " + "; ".join(listed)
