"""Writing study outputs: CSV, Markdown and PNG, each stamped with seed, version and date.

CSV files start with ``#`` comment lines holding the stamp (read them back with
``pandas.read_csv(path, comment="#")``); Markdown files start with a title and the stamp;
PNG files carry the stamp in a footer line and in their ``Description`` metadata.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from weibull_stats.formatting import markdown_table as _render


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


def save_figure(fig: Any, out_dir: Path, name: str, *, stamp: Mapping[str, Any]) -> Path:
    """Save ``fig`` as ``<name>.png`` with the stamp as footer and metadata; close it."""
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.png"
    fig.text(0.01, 0.005, f"weibull-stats validation: {stamp_line(stamp)}", fontsize=6, color="0.4")
    fig.savefig(path, dpi=110, metadata={"Description": stamp_line(stamp), "Software": "weibull-stats"})
    plt.close(fig)
    return path


def new_figure(ncols: int = 1, nrows: int = 1, size: tuple[float, float] = (6.4, 4.2)) -> tuple[Any, Any]:
    """A figure on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False)
    return fig, axes
