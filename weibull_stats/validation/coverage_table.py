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
from weibull_stats.validation.coverage_laws import LAWS
from weibull_stats.validation.report import figure_legend, new_figure, replications_note, save_figure

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
                        "mean_width": float(np.nanmean(hits[:, 2 + j])), "warned": int(warned)})
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


#: The sizes of the at-a-glance table (the largest tested size of each storage is added).
GLANCE_SIZES: tuple[int, ...] = (10**4, 10**6)
#: Family-wise error rate of the Holm correction that calls a miss systematic.
FAMILY_ALPHA = 0.05


def misses(frame: pd.DataFrame, from_n: int = 10**4) -> pd.DataFrame:
    """The asymptotic rows at ``n >= from_n`` whose Wilson interval excludes the nominal level,
    with the exact binomial p-value of ``coverage = level`` (scipy's ``binomtest``) and its
    Holm-adjusted value over *every* asymptotic row at ``n >= from_n`` (statsmodels'
    ``multipletests``): with hundreds of rows, about one in twenty misses a 95% Wilson interval
    by chance alone, so a miss is called ``systematic`` only where the adjusted p-value is
    below :data:`FAMILY_ALPHA`.

    Examples
    --------
    >>> rows = [{"method": "asymptotic", "n": 10**5, "reps": 1000, "hits": h, "confidence_level": 0.95,
    ...          "within": w, "coverage": h / 1000} for h, w in [(950, True), (935, False), (850, False)]]
    >>> misses(pd.DataFrame(rows))[["hits", "systematic"]].values.tolist()
    [[850, True], [935, False]]
    """
    from scipy.stats import binomtest
    from statsmodels.stats.multitest import multipletests

    rows = frame[(frame["method"] == "asymptotic") & (frame["n"] >= from_n) & frame["hits"].notna()].copy()
    if rows.empty:
        return rows.assign(p_value=[], holm_p_value=[], systematic=[])
    cases = zip(rows["hits"], rows["reps"], rows["confidence_level"], strict=True)
    rows["p_value"] = [binomtest(int(h), int(r), float(level)).pvalue for h, r, level in cases]
    rows["holm_p_value"] = multipletests(rows["p_value"].to_numpy(), alpha=FAMILY_ALPHA, method="holm")[1]
    rows["systematic"] = rows["holm_p_value"] < FAMILY_ALPHA
    out = rows[~rows["within"].astype(bool)]
    return out.sort_values(["holm_p_value", "p_value"], kind="stable", ignore_index=True)


def coverage_at_a_glance(frame: pd.DataFrame) -> pd.DataFrame:
    """Asymptotic coverage per law, storage and estimator at :data:`GLANCE_SIZES` and at the
    largest size of each storage, shape and scale, as ``coverage [wilson_low, wilson_high]``
    text with ``*`` where the Wilson interval excludes nominal."""
    rows = frame[(frame["method"] == "asymptotic") & frame["hits"].notna()]
    out = []
    for (population, storage, estimator), group in rows.groupby(["population", "storage", "estimator"],
                                                                sort=False):
        record: dict[str, Any] = {"population": population, "storage": storage, "estimator": estimator}
        for n in [*GLANCE_SIZES, int(group["n"].max())]:
            for parameter in PARAMETERS:
                cell = group[(group["n"] == n) & (group["parameter"] == parameter)]
                text = ""
                if len(cell):
                    c = cell.iloc[0]
                    text = (f"{c['coverage']:.3f} [{c['wilson_low']:.3f}, {c['wilson_high']:.3f}]"
                            + ("" if c["within"] else " *"))
                record[f"{parameter} n={n:.0e}"] = text
        out.append(record)
    table = pd.DataFrame.from_records(out)
    by_n = sorted(table.columns[3:], key=lambda column: (float(column.split("n=")[1]),
                                                         PARAMETERS.index(column.split(" ")[0])))
    table = table[[*table.columns[:3], *by_n]]
    return table.sort_values(["population", "storage", "estimator"], kind="stable", ignore_index=True)


#: Marker per bootstrap interval; filled for nonparametric, hollow for parametric.
_MARKERS = {"percentile": "s", "basic": "^", "bca": "D"}


#: Lowest coverage drawn to scale; rows below it are drawn on the floor, their value written.
FIGURE_FLOOR = 0.8
#: Spread (decades of n) between the estimators' asymptotic points at one n.
_ASYMPTOTIC_DODGE = 0.09
#: Spread (category widths) between the bootstrap points of one estimator and n.
_BOOTSTRAP_DODGE = 0.14


def _draw_points(ax: Any, x: np.ndarray, curve: pd.DataFrame, colour: str, name: str,
                 on_floor: dict[float, int], *, log_x: bool, **style: Any) -> None:
    """Coverage points with Wilson bars; those below :data:`FIGURE_FLOOR` on the floor, labelled
    (labels at one ``n``, or in one category, stacked upwards, counted in ``on_floor``)."""
    y = curve["coverage"].to_numpy(dtype=float)
    shown = np.maximum(y, FIGURE_FLOOR + 0.004)
    err = [np.clip(shown - curve["wilson_low"].to_numpy(), 0, None),
           np.clip(curve["wilson_high"].to_numpy() - shown, 0, None)]
    ax.errorbar(x, shown, yerr=err, color=colour, **style)
    for xi, yi in zip(x[y < FIGURE_FLOOR], y[y < FIGURE_FLOOR], strict=True):
        ax.plot([xi], [FIGURE_FLOOR + 0.004], marker="v", color=colour, ms=6)
        key = float(round(np.log10(xi))) if log_x else float(round(xi))
        stacked = on_floor.get(key, 0)
        on_floor[key] = stacked + 1
        ax.annotate(f"{name} {yi:.2f}", (xi, FIGURE_FLOOR + 0.012 + 0.016 * stacked), fontsize=6,
                    color=colour, ha="right")


def _legend(fig: Any, colours: Mapping[str, str], variants: Sequence[tuple[str, str]], level: float) -> None:
    from matplotlib.lines import Line2D  # matplotlib is imported by new_figure, lazily

    handles = [Line2D([], [], color=c, marker="o", ms=3, label=name) for name, c in colours.items()]
    handles += [Line2D([], [], color="0.3", ls="none", marker=_MARKERS[interval], ms=4,
                       mfc="0.3" if kind == "nonparametric" else "white",
                       label=f"bootstrap {interval}, {kind}")
                for kind, interval in variants]
    handles.append(Line2D([], [], color="k", ls="--", lw=0.8, label=f"nominal {level:g}"))
    figure_legend(fig, handles, [str(h.get_label()) for h in handles], ncol=6)


def _style(ax: Any, level: float, title: str) -> None:
    ax.axhline(level, color="k", lw=0.8, ls="--")
    ax.set_ylim(FIGURE_FLOOR, 1.0)
    ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=7, labelleft=True)


def coverage_figure(frame: pd.DataFrame, out: Path, info: Mapping[str, Any], *,
                    formats: Sequence[str] | None = None, dpi: float | None = None) -> list[Path]:
    """The asymptotic figure (``coverage``) and, where the study has bootstrap cases, the
    bootstrap figure (``coverage_bootstrap``); Wilson error bars, the nominal level dashed.

    ``coverage``: one row of panels per law; columns: the asymptotic (Wald) coverage of shape
    and scale against ``n`` (log axis) for each storage, the estimators side by side at each
    ``n``. ``coverage_bootstrap``: one row per law and storage with bootstrap cases, grouped by
    estimator and ``n`` on the x-axis, marker = interval, filled = nonparametric, hollow =
    parametric. A coverage below :data:`FIGURE_FLOOR` is a downward triangle on the floor with
    its value. The titles give the replications per point, read from ``reps``."""
    simulated = frame[frame["hits"].notna()]
    asymptotic = simulated[simulated["method"] == "asymptotic"]
    bootstrap = simulated[simulated["method"] != "asymptotic"]
    estimators = list(dict.fromkeys(frame["estimator"]))
    colours = {name: f"C{i}" for i, name in enumerate(estimators)}
    level = float(frame["confidence_level"].iloc[0])
    order = list(LAWS)  # the study's order; other names after, alphabetically
    laws = sorted(dict.fromkeys(frame["population"]),
                  key=lambda name: (order.index(name) if name in order else len(order), name))
    storages = sorted(dict.fromkeys(frame["storage"]), key=lambda s: (s != "float64", s))
    sizes = asymptotic["n"].to_numpy(dtype=float)
    columns = [(storage, parameter) for storage in storages for parameter in PARAMETERS]
    fig, axes = new_figure(len(columns), len(laws), (3.6, 2.5), sharey=True)
    for i, population in enumerate(laws):
        for j, (storage, parameter) in enumerate(columns):
            ax = axes[i][j]
            part = asymptotic[(asymptotic["population"] == population) & (asymptotic["storage"] == storage)
                              & (asymptotic["parameter"] == parameter)]
            on_floor: dict[float, int] = {}
            for name, curve in part.groupby("estimator", sort=False):
                curve = curve.sort_values("n")
                x = curve["n"].to_numpy(dtype=float) * 10.0 ** (
                    _ASYMPTOTIC_DODGE * (estimators.index(name) - (len(estimators) - 1) / 2))
                _draw_points(ax, x, curve, colours[str(name)], str(name), on_floor, log_x=True,
                             marker="o", ms=3, lw=1.1, capsize=2)
            ax.set_xscale("log")
            if sizes.size:
                ax.set_xlim(sizes.min() / 2.5, sizes.max() * 2.5)
            if part.empty:
                ax.text(0.5, 0.5, f"not drawn in {storage}", transform=ax.transAxes, ha="center", fontsize=7)
            _style(ax, level, f"{population}, {storage}: {parameter}")
            if i == len(laws) - 1:
                ax.set_xlabel("n (estimators side by side)", fontsize=8)
            if j == 0:
                ax.set_ylabel("coverage (95% Wilson bars)", fontsize=8)
    _legend(fig, colours, [], level)
    per_storage = " | ".join(f"{storage}: {replications_note(rows.drop_duplicates('n'))}"
                             for storage, rows in asymptotic.groupby("storage", sort=False))
    fig.suptitle(f"Asymptotic (Wald) interval coverage, nominal {level:g}; {per_storage}", fontsize=9)
    written = [save_figure(fig, out, "coverage", stamp=info, formats=formats, dpi=dpi)]
    if len(bootstrap):
        written.append(_bootstrap_figure(bootstrap, colours, level, out, info, formats, dpi))
    return written


def _bootstrap_figure(bootstrap: pd.DataFrame, colours: Mapping[str, str], level: float, out: Path,
                      info: Mapping[str, Any], formats: Sequence[str] | None, dpi: float | None) -> Path:
    panels = sorted(dict.fromkeys(zip(bootstrap["population"], bootstrap["storage"], strict=True)),
                    key=lambda p: (p[0], p[1] != "float64"))
    variants = list(dict.fromkeys(zip(bootstrap["kind"], bootstrap["interval"], strict=True)))
    fig, axes = new_figure(len(PARAMETERS), len(panels), (5.2, 2.9), sharey=True)
    for i, (population, storage) in enumerate(panels):
        for j, parameter in enumerate(PARAMETERS):
            ax = axes[i][j]
            part = bootstrap[(bootstrap["population"] == population) & (bootstrap["storage"] == storage)
                             & (bootstrap["parameter"] == parameter)]
            on_floor: dict[float, int] = {}
            groups = list(dict.fromkeys(zip(part["estimator"], part["n"], strict=True)))
            for (name, kind, interval), curve in part.groupby(["estimator", "kind", "interval"], sort=False):
                x = np.array([groups.index((name, n)) for n in curve["n"]], dtype=float)
                x += _BOOTSTRAP_DODGE * (variants.index((kind, interval)) - (len(variants) - 1) / 2)
                colour = colours[str(name)]
                _draw_points(ax, x, curve, colour, str(name), on_floor, log_x=False, ls="none",
                             marker=_MARKERS[interval], ms=3.5, lw=0.8, capsize=1.5,
                             mfc=colour if kind == "nonparametric" else "white")
            ax.set_xticks(range(len(groups)), [f"{name}\nn = {int(n):,}" for name, n in groups], fontsize=6)
            ax.set_xlim(-0.6, max(len(groups), 1) - 0.4)
            _style(ax, level, f"{population}, {storage}: {parameter}, bootstrap")
            if j == 0:
                ax.set_ylabel("coverage (95% Wilson bars)", fontsize=8)
    _legend(fig, {c: colours[c] for c in dict.fromkeys(bootstrap["estimator"])}, variants, level)
    per_population = replications_note(bootstrap.drop_duplicates("population"), by="population")
    fig.suptitle(f"Bootstrap interval coverage, nominal {level:g}; {per_population}", fontsize=9)
    return save_figure(fig, out, "coverage_bootstrap", stamp=info, formats=formats, dpi=dpi)
