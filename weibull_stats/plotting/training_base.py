"""What the training figures share: the checked rows of a results table with steps (from a
table or the folder a scan or monitor wrote), the per-step medians of a kind, the legends of
their bars, the protocol's anchor and bands, the step axis."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from weibull_stats.estimators.registry import DEFAULT_ESTIMATOR
from weibull_stats.inference.published import NOT_COMPARABLE
from weibull_stats.plotting.scan_shape import (
    INTERVAL_COLUMNS,
    interval_label,
    layout_and_protocol,
    scan_anchor,
)
from weibull_stats.report.folder import read_results

#: Columns every training figure reads (the interval columns are drawn where present).
TRAINING_COLUMNS: tuple[str, ...] = ("step", "estimator", "kind", "layer", "tensor", "part", "numel", "shape",
                                     "scale")
#: The interval columns of λ, by source (those of k: :data:`INTERVAL_COLUMNS`).
SCALE_INTERVAL_COLUMNS = {"asymptotic": ("scale_low", "scale_high"),
                          "bootstrap": ("bootstrap_scale_low", "bootstrap_scale_high")}

def training_rows(results: Any, estimator: str | None = None) -> tuple[pd.DataFrame, str]:
    """The rows of one estimator that carry a step, checked to span two or more steps.

    Parameters
    ----------
    results : pandas.DataFrame or path
        A scan table (:func:`weibull_stats.scan`), or the folder a scan or monitor wrote
        (its ``results.parquet`` is read), or a ``results.parquet`` / ``results.csv`` file.
    estimator : str, optional
        Default: ``"probability_plot"`` where the table has it, else its first estimator.

    Returns
    -------
    (pandas.DataFrame, str)
        The rows, and the estimator.

    Raises
    ------
    FileNotFoundError
        A folder without ``results.parquet``.
    ValueError
        Columns of :data:`TRAINING_COLUMNS` missing, no row of ``estimator``, or fewer than
        two steps.

    Examples
    --------
    >>> rows = pd.DataFrame({"step": [0, 10], "estimator": "mle", "kind": "q", "layer": 0,
    ...                      "tensor": "q.weight", "part": "",
    ...                      "numel": 64, "shape": [1.2, 1.3], "scale": 0.02})
    >>> data, name = training_rows(rows)
    >>> name, sorted(data["step"])
    ('mle', [0, 10])
    """
    frame = _read(results) if isinstance(results, (str, Path)) else results
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"`results` must be a results table (pandas.DataFrame) or a folder; got "
                        f"{type(results).__name__}")
    missing = [column for column in TRAINING_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"`results` lacks the columns {', '.join(missing)} (not a scan's results table)")
    names = list(dict.fromkeys(frame["estimator"].astype(str)))
    if estimator is None:
        estimator = DEFAULT_ESTIMATOR if DEFAULT_ESTIMATOR in names or not names else names[0]
    data = frame[(frame["estimator"] == estimator) & frame["step"].notna()]
    if not (frame["estimator"] == estimator).any():
        raise ValueError(f"`estimator`: no {estimator} row in `results` "
                         f"(estimators: {', '.join(names) or 'none'})")
    steps = sorted({int(s) for s in data["step"]})
    if len(steps) < 2:
        found = f"one step ({steps[0]})" if steps else "no row with a step"
        raise ValueError(f"`results` has {found}: the training figures need rows at two or more steps "
                         "(scan a folder of step-N checkpoints, or a monitor's folder)")
    data = data.assign(step=data["step"].astype(int))
    return data.reset_index(drop=True), estimator


def _read(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if path.is_dir():
        path = path / "results.parquet"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file (is {path.parent} the folder of a scan or "
                                    "monitor?)")
        return read_results(path)
    if path.suffix == ".csv":  # the scan's text columns are empty strings where the CSV has no value
        frame = pd.read_csv(path)
        text = [column for column in ("part", "tensor", "kind", "options") if column in frame.columns]
        frame = frame.fillna(dict.fromkeys(text, ""))
        return frame.astype({c: "Int64" for c in ("step", "layer", "numel") if c in frame.columns})
    return read_results(path)


def row_label(layer: Any, tensor: Any, part: Any) -> str:
    """A matrix's place on a training figure: its layer, or (without one) its short tensor name.

    Examples
    --------
    >>> row_label(3, "model.layers.3.q.weight", ""), row_label(None, "gpt_neox.embed_in.weight", "")
    ('3', 'embed_in')
    """
    if not pd.isna(layer):
        return str(int(layer))
    name = str(tensor).removesuffix(".weight").rsplit(".", 1)[-1]
    return f"{name} [{part}]" if part and not pd.isna(part) else name


def step_medians(data: pd.DataFrame, kind: str, source: str) -> pd.DataFrame:
    """Per step: the median k and λ over the kind's matrices, the medians of their interval
    ends (columns ``shape_low`` ... ``scale_high`` here, from ``source``) and the count."""
    part = data[data["kind"] == kind]
    columns = {"shape": "shape", "scale": "scale"}
    if source:
        columns.update(zip(("shape_low", "shape_high"), INTERVAL_COLUMNS[source], strict=True))
        columns.update(zip(("scale_low", "scale_high"), SCALE_INTERVAL_COLUMNS[source], strict=True))
    grouped = part.groupby("step")
    table = pd.DataFrame({name: grouped[column].median() for name, column in columns.items()})
    table["matrices"] = grouped.size()
    return table.sort_index()


def bars_text(data: pd.DataFrame, source: str, of: str = "k") -> str:
    """The legend of error bars on medians: what the interval columns hold (:func:`interval_label`),
    and that a median's bar spans the medians of its matrices' interval ends."""
    return f"{interval_label(data, source, of)},\non a median: the medians of the matrices' interval ends"


def protocol_notes(data: pd.DataFrame, estimator: str, anchor: str | None, published: bool
                   ) -> tuple[str, Any, bool, str]:
    """The layout, the anchor to draw (None where not comparable), whether to shade bands, and
    the caption saying why anchor and bands are absent (or the bands' attribution)."""
    layout, comparable = layout_and_protocol(data, estimator)
    line = scan_anchor(anchor) if comparable else None
    caption = ("" if comparable or not (published or anchor is not None)
               else f"Anchor and published bands: {NOT_COMPARABLE}")
    return layout, line, published and comparable, caption


def step_axis(ax: Any, steps: Sequence[int]) -> None:
    """The x axis of a panel against step: ``step``, ticks at the steps when there are few."""
    if len(steps) <= 6:
        ax.set_xticks(list(steps), [str(s) for s in steps])
    ax.set_xlabel("step", fontsize="small")
    ax.tick_params(labelsize=7)



__all__ = ["SCALE_INTERVAL_COLUMNS", "TRAINING_COLUMNS", "bars_text", "protocol_notes", "row_label",
           "step_axis", "step_medians", "training_rows"]
