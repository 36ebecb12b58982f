"""The coverage study's tables and figure: Wilson intervals, the smallest covering n, the plot.

Pure functions of the study's records (:mod:`weibull_stats.validation.coverage` makes them):

* :func:`coverage_records`: the replicates' hits of one case as one row per parameter, with
  the coverage, its Monte Carlo standard error ``sqrt(c (1 - c) / reps)`` and its Wilson
  interval (statsmodels' ``proportion_confint(method="wilson")``); ``within`` is True when
  the Wilson interval contains the nominal level;
* :func:`covering_sizes`: per estimator, method, population, storage and parameter, the
  smallest ``n`` from which coverage is within Monte Carlo error of nominal: the smallest
  tested ``n`` such that ``within`` holds there and at every larger ``n`` tested (None when
  it fails at the largest);
* :func:`coverage_figure`: coverage against ``n`` with Wilson error bars and the nominal line.

At a 95% Wilson interval one row in twenty misses nominal by chance alone, so a lone miss
between hits is noise; the table shows every row's interval beside its verdict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from weibull_stats.validation._common import wilson_interval
from weibull_stats.validation.report import new_figure, save_figure

#: Confidence of the Wilson interval that decides "within Monte Carlo error".
WILSON_CONFIDENCE = 0.95
PARAMETERS: tuple[str, ...] = ("shape", "scale")
#: The columns that name one curve of coverage against n.
GROUP: list[str] = ["population", "storage", "estimator", "method", "kind", "interval", "parameter"]


def coverage_records(case: Mapping[str, Any], target_shape: float | None, target_scale: float | None,
                     source: str, hits: np.ndarray | None, warned: int, level: float) -> list[dict[str, Any]]:
    """One row per parameter of a case: ``case``'s columns, the target, the coverage.

    ``hits`` has one row per replicate: covers shape, covers scale, shape width, relative
    scale width (None: not simulated, no target). Coverage columns: ``hits``, ``coverage``,
    ``mc_se``, ``wilson_low``, ``wilson_high``, ``within`` (nominal ``level`` inside the
    Wilson interval), ``mean_width``, ``warned``; NaN/None when not simulated.

    Examples
    --------
    >>> hits = np.array([[1, 1, 0.2, 0.1]] * 19 + [[0, 1, 0.2, 0.1]])
    >>> rows = coverage_records({"n": 1000, "reps": 20}, 1.5, 1.0, "exact limit", hits, 0, 0.95)
    >>> rows[0]["parameter"], rows[0]["coverage"], rows[0]["within"], rows[1]["coverage"]
    ('shape', 0.95, True, 1.0)
    """
    rows = []
    for j, (parameter, target) in enumerate(zip(PARAMETERS, (target_shape, target_scale), strict=True)):
        row: dict[str, Any] = {**case, "parameter": parameter, "confidence_level": level,
                               "target": math.nan if target is None else target, "target_source": source}
        if hits is None or target is None:
            row.update({"hits": None, "coverage": math.nan, "mc_se": math.nan, "wilson_low": math.nan,
                        "wilson_high": math.nan, "within": None, "mean_width": math.nan, "warned": None})
        else:
            reps = hits.shape[0]
            count = int(hits[:, j].sum())
            cover = count / reps
            low, high = wilson_interval(count, reps, WILSON_CONFIDENCE)
            row.update({"hits": count, "coverage": cover, "mc_se": math.sqrt(cover * (1 - cover) / reps),
                        "wilson_low": low, "wilson_high": high, "within": bool(low <= level <= high),
                        "mean_width": float(hits[:, 2 + j].mean()), "warned": int(warned)})
        rows.append(row)
    return rows


def smallest_covering_n(sizes: list[int], within: list[bool]) -> int | None:
    """The smallest size from which every tested size is within (None if the largest is not).

    Examples
    --------
    >>> smallest_covering_n([1000, 10_000, 100_000], [False, True, True])
    10000
    >>> smallest_covering_n([1000, 10_000, 100_000], [True, False, True])
    100000
    >>> smallest_covering_n([1000, 10_000], [True, False]) is None
    True
    """
    order = np.argsort(sizes)
    found: int | None = None
    for i in order[::-1]:
        if not within[i]:
            break
        found = int(sizes[i])
    return found


def covering_sizes(frame: pd.DataFrame) -> pd.DataFrame:
    """Per curve (estimator x method x population x storage), the smallest covering ``n`` of
    each parameter (``shape_from_n``, ``scale_from_n``, nullable integers: ``<NA>`` when not
    reached, or when the curve has no target), the sizes tested, the replicates, and the
    coverage at the largest size."""
    records = []
    keys = [c for c in GROUP if c != "parameter"]
    for key, group in frame.groupby(keys, sort=False):
        row: dict[str, Any] = dict(zip(keys, key, strict=True))
        first = group[group["parameter"] == PARAMETERS[0]].sort_values("n")
        row["sizes"] = tuple(int(n) for n in first["n"])
        row["reps"] = tuple(int(r) for r in first["reps"])
        simulated = bool(first["hits"].notna().all())
        for parameter in PARAMETERS:
            part = group[group["parameter"] == parameter].sort_values("n")
            from_n = (smallest_covering_n([int(n) for n in part["n"]], [bool(w) for w in part["within"]])
                      if simulated else None)
            row[f"{parameter}_from_n"] = from_n
            row[f"{parameter}_coverage_at_largest_n"] = float(part["coverage"].iloc[-1])
        row["target_source"] = str(first["target_source"].iloc[0])
        records.append(row)
    summary = pd.DataFrame.from_records(records)
    for parameter in PARAMETERS:  # sizes, with <NA> where not reached or not simulated
        if f"{parameter}_from_n" in summary:
            summary[f"{parameter}_from_n"] = summary[f"{parameter}_from_n"].astype("Int64")
    return summary


def _from_text(value: Any, simulated: bool, largest: int) -> str:
    if not simulated:
        return "no target"
    if pd.isna(value):
        return f"not reached by {largest:,}"
    return f"{int(value):,}"


def summary_for_output(summary: pd.DataFrame) -> pd.DataFrame:
    """The :func:`covering_sizes` table as written: method label, sizes as text."""
    out = []
    for row in summary.to_dict("records"):
        simulated = not math.isnan(row["shape_coverage_at_largest_n"])
        label = ("asymptotic (Wald)" if row["method"] == "asymptotic"
                 else f"bootstrap {row['interval']}, {row['kind']}")
        if not simulated:
            label = "none simulated"
        largest = max(row["sizes"])
        out.append({
            "estimator": row["estimator"], "method": label, "population": row["population"],
            "storage": row["storage"],
            "shape_within_from_n": _from_text(row["shape_from_n"], simulated, largest),
            "scale_within_from_n": _from_text(row["scale_from_n"], simulated, largest),
            "sizes": ", ".join(f"{n:,}" for n in row["sizes"]),
            "reps": ", ".join(str(r) for r in row["reps"]),
            "shape_coverage_at_largest_n": row["shape_coverage_at_largest_n"],
            "scale_coverage_at_largest_n": row["scale_coverage_at_largest_n"],
            "target": row["target_source"],
        })
    frame = pd.DataFrame.from_records(out)
    if frame.empty:
        return frame
    estimators = list(dict.fromkeys(frame["estimator"]))
    frame["_e"] = frame["estimator"].map(estimators.index)
    frame["_m"] = frame["method"].map(lambda m: (m != "asymptotic (Wald)", m))
    return (frame.sort_values(["_e", "population", "storage", "_m"], kind="stable", ignore_index=True)
            .drop(columns=["_e", "_m"]))


#: Marker per bootstrap interval; filled for nonparametric, hollow for parametric.
_MARKERS = {"percentile": "s", "basic": "^", "bca": "D"}


#: Lowest coverage drawn to scale; rows below it are drawn on the floor, their value written.
FIGURE_FLOOR = 0.8


def coverage_figure(frame: pd.DataFrame, out: Path, info: Mapping[str, Any], *,
                    formats: Sequence[str] | None = None, dpi: float | None = None) -> Path:
    """Coverage against ``n`` (log axis), one panel per population x storage and parameter:
    asymptotic intervals as lines, bootstrap intervals as markers offset in ``n`` (right:
    nonparametric, left: parametric), Wilson error bars, the nominal level dashed. A coverage
    below :data:`FIGURE_FLOOR` is a downward triangle on the floor with its value."""
    panels = list(dict.fromkeys(zip(frame["population"], frame["storage"], strict=True)))
    fig, axes = new_figure(len(PARAMETERS), len(panels), (5.2, 2.8), sharey=True)
    estimators = list(dict.fromkeys(frame["estimator"]))
    colours = {name: f"C{i}" for i, name in enumerate(estimators)}
    level = float(frame["confidence_level"].iloc[0])
    for i, (population, storage) in enumerate(panels):
        for j, parameter in enumerate(PARAMETERS):
            ax = axes[i][j]
            part = frame[(frame["population"] == population) & (frame["storage"] == storage)
                         & (frame["parameter"] == parameter) & frame["hits"].notna()]
            on_floor: dict[float, int] = {}  # labels already written at each n: stack the next one
            for (name, method, kind, interval), curve in part.groupby(
                    ["estimator", "method", "kind", "interval"], sort=False):
                curve = curve.sort_values("n")
                x = curve["n"].to_numpy(dtype=float)
                if method != "asymptotic":  # spread the bootstrap markers: method, kind, estimator
                    side = 1 if kind == "nonparametric" else -1
                    x = x * 10.0 ** (side * (0.07 + 0.06 * list(_MARKERS).index(interval))
                                     + 0.012 * (estimators.index(name) - 2))
                y = curve["coverage"].to_numpy(dtype=float)
                shown = np.maximum(y, FIGURE_FLOOR + 0.004)
                err = [np.clip(shown - curve["wilson_low"].to_numpy(), 0, None),
                       np.clip(curve["wilson_high"].to_numpy() - shown, 0, None)]
                colour = colours[name]
                if method == "asymptotic":
                    ax.errorbar(x, shown, yerr=err, color=colour, marker="o", ms=3, lw=1.2, capsize=2)
                else:
                    ax.errorbar(x, shown, yerr=err, color=colour, ls="none", marker=_MARKERS[interval], ms=3,
                                lw=0.7, capsize=1, mfc=colour if kind == "nonparametric" else "none")
                for xi, yi in zip(x[y < FIGURE_FLOOR], y[y < FIGURE_FLOOR], strict=True):
                    ax.plot([xi], [FIGURE_FLOOR + 0.004], marker="v", color=colour, ms=6)
                    stacked = on_floor.get(round(float(xi), 6), 0)
                    on_floor[round(float(xi), 6)] = stacked + 1
                    ax.annotate(f"{name} {yi:.2f}", (xi, FIGURE_FLOOR + 0.012 + 0.016 * stacked), fontsize=6,
                                color=colour, ha="right")
            ax.axhline(level, color="k", lw=0.8, ls="--")
            ax.set_xscale("log")
            ax.set_ylim(FIGURE_FLOOR, 1.0)
            ax.set_title(f"{population}, {storage}: {parameter}", fontsize=8)
            ax.tick_params(labelsize=7)
            if i == len(panels) - 1:
                ax.set_xlabel("n", fontsize=8)
            if j == 0:
                ax.set_ylabel("coverage (95% Wilson)", fontsize=8)
    from matplotlib.lines import Line2D  # matplotlib is imported by new_figure, lazily

    handles = [Line2D([], [], color=c, marker="o", ms=3, label=f"{name} asymptotic")
               for name, c in colours.items()]
    handles += [Line2D([], [], color="0.3", ls="none", marker=m, label=f"bootstrap {k}")
                for k, m in _MARKERS.items()]
    fig.legend(handles=handles, loc="upper center", ncol=4, fontsize=7, frameon=False,
               title="bootstrap right of n: nonparametric (filled), left: parametric (hollow); "
               "dashed: nominal 0.95", title_fontsize=7)
    fig.tight_layout(rect=(0, 0.02, 1, 0.93))
    return save_figure(fig, out, "coverage", stamp=info, formats=formats, dpi=dpi)
