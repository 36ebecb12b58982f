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


def new_figure(ncols: int = 1, nrows: int = 1, size: tuple[float, float] = (6.4, 4.2), *,
               sharey: bool = False) -> tuple[Any, Any]:
    """A figure on the Agg backend (no display needed); ``sharey`` for panels of one quantity."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False,
                             sharey=sharey)
    return fig, axes
