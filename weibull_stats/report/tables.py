"""The report's tables in the paper's terms: the model-level summary by class, and every matrix.

The paper behind the published benchmark table (T. Ding, arXiv:2605.18898) reads a model in
two classes of matrices:

* **selection** — attention queries and keys: ``q`` and ``k`` stored separately, or the
  fused ``qkv`` matrix where they are merged (its ``q``/``k``/``v`` parts are not counted
  again);
* **transmission** — the attention output ``o`` and the FFN (``ffn_in``, ``ffn_out``,
  ``gate``, ``up``, ``down``; the parts of a fused gate/up matrix, and every expert's FFN
  matrices, routed and shared, of a mixture of experts).

Values, embeddings and heads belong to neither, nor do routers, DeepSeek's latent projections
(``q_a``, ``q_b``, ``kv_a``, ``kv_b``; the ``k`` part of ``kv_b``, the heads' keys, counts as
``k``) and an encoder–decoder's cross-attention (``cross_*``), which the published bands do
not cover. For each class :func:`class_summary` gives
the median ``k`` over its matrices, a distribution-free interval for that median (order
statistics: :func:`scipy.stats.quantile_test`), and where the interval lies against the
published band of the class: the range, over the published models of the same attention
layout and over the class's kinds present in the model, of the per-model median ``k``
(:func:`~weibull_stats.inference.published.resolve_band`: none where the layout's models lack
one of those kinds, and none for a fit off the published protocol). The verdict is the two
one-sided tests at the scan's ``equivalence_level`` ``alpha`` (0.05 by default): ``inside``
when the ``1 - 2 alpha`` interval (90%) lies within the band, ``outside`` when it lies
wholly outside, ``undecided`` otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import quantile_test

from weibull_stats.core.display import figure, level_text
from weibull_stats.core.formatting import markdown_table, pvalue_at_floor, pvalue_text
from weibull_stats.inference.decisions import VERDICTS
from weibull_stats.inference.published import NOT_COMPARABLE, PublishedBand, follows_protocol, resolve_band
from weibull_stats.scanning.decisions import attention_layout
from weibull_stats.scanning.settings import SETTINGS

#: The paper's classes: name, the kinds of the scan table, the published columns.
CLASSES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("selection", ("q", "k", "qkv"), "attention query and key (fused QKV where merged)"),
    ("transmission", ("o", "ffn_in", "ffn_out", "gate", "up", "down"), "attention output and FFN"),
)
#: Coverage of the interval of the median k at the default equivalence level (its ends decide the test).
MEDIAN_LEVEL = 1.0 - 2.0 * SETTINGS["equivalence_level"].default


def tost_text(level: float) -> str:
    """The report's one name of its equivalence test at ``level`` (each one-sided test).

    Examples
    --------
    >>> tost_text(0.05), coverage_text(0.05)
    ('two one-sided tests at level 0.05', '90%')
    """
    return f"two one-sided tests at level {level:g}"


def coverage_text(level: float) -> str:
    """The coverage ``1 - 2 level`` of the interval that decides the tests at ``level``, in percent."""
    return level_text(1.0 - 2.0 * level)


def class_rows(data: pd.DataFrame, kinds: Sequence[str]) -> pd.DataFrame:
    """The rows of one class: whole matrices of its kinds, and parts of its kinds whose
    fused matrix is of no class kind (a fused QKV counts once, as ``qkv``)."""
    whole_kind = data[data["part"] == ""].set_index("tensor")["kind"].to_dict()
    keep = data["kind"].isin(kinds) & ((data["part"] == "") | ~data["tensor"].map(whole_kind).isin(kinds))
    return data[keep]


def median_interval(shapes: np.ndarray, level: float = MEDIAN_LEVEL) -> tuple[float, float]:
    """Distribution-free interval of the median of the matrices' ``k`` (order statistics,
    :func:`scipy.stats.quantile_test`); NaN ends when there are too few matrices.

    Examples
    --------
    >>> low, high = median_interval(np.arange(1.0, 21.0))
    >>> float(low), float(high)
    (6.0, 15.0)
    """
    if shapes.size < 2:
        return math.nan, math.nan
    interval = quantile_test(shapes, q=float(np.median(shapes)), p=0.5).confidence_interval(level)
    low, high = float(interval.low), float(interval.high)
    return (low if math.isfinite(low) else math.nan), (high if math.isfinite(high) else math.nan)


def verdict(interval: tuple[float, float], band: tuple[float, float] | None) -> str:
    """``inside`` / ``outside`` / ``undecided``: the interval against the band (TOST at the
    interval's level), or ``""`` without a band; ``undecided`` when the interval is open.

    Examples
    --------
    >>> verdict((1.19, 1.20), (1.186, 1.204)), verdict((1.0, 1.1), (1.186, 1.204))
    ('inside', 'outside')
    >>> verdict((1.18, 1.20), (1.186, 1.204))
    'undecided'
    """
    if band is None:
        return ""
    low, high = interval
    if not (math.isfinite(low) and math.isfinite(high)):
        return "undecided"
    if band[0] <= low and high <= band[1]:
        return "inside"
    if high < band[0] or low > band[1]:
        return "outside"
    return "undecided"


def class_bands(data: pd.DataFrame, layout: str) -> dict[str, PublishedBand]:
    """``class -> band`` of the rows ``data``: the published band of ``layout`` over the
    class's kinds that ``data`` holds (:func:`~weibull_stats.inference.published.resolve_band`),
    for every class with matrices."""
    bands = {}
    for name, kinds, _ in CLASSES:
        present = list(dict.fromkeys(class_rows(data, kinds)["kind"].astype(str)))
        if present:
            bands[name] = resolve_band(layout, present)
    return bands


def on_protocol(data: pd.DataFrame) -> bool:
    """Whether every row of ``data`` is a fit on the published protocol (estimator and the
    options in its ``options`` column), so the published bands and the anchor apply."""
    if not len(data) or "options" not in data:
        return False
    pairs = data[["estimator", "options"]].astype(str).drop_duplicates().itertuples(index=False)
    return all(follows_protocol(estimator, options) for estimator, options in pairs)


def class_summary(data: pd.DataFrame, bands: Mapping[str, PublishedBand] | None = None, *,
                  equivalence_level: float = SETTINGS["equivalence_level"].default) -> pd.DataFrame:
    """One row per class of the rows ``data`` (one estimator, one checkpoint): matrices,
    median ``k``, its ``1 - 2 equivalence_level`` interval, the published band (when given:
    its ends, models and text) and the verdict (the two one-sided tests at
    ``equivalence_level``, where the band exists)."""
    records = []
    for name, kinds, _ in CLASSES:
        part = class_rows(data, kinds)
        shapes = part["shape"].to_numpy(dtype=float)
        if not shapes.size:
            continue
        interval = median_interval(shapes, 1.0 - 2.0 * equivalence_level)
        band = bands.get(name) if bands else None
        records.append({
            "class": name, "kinds": ", ".join(dict.fromkeys(part["kind"])), "matrices": int(shapes.size),
            "k_median": float(np.median(shapes)), "k_median_low": interval[0], "k_median_high": interval[1],
            "band_low": band.low if band else math.nan, "band_high": band.high if band else math.nan,
            "band_models": band.count if band else 0, "band": band.text if band else "",
            "verdict": verdict(interval, band.bounds if band and band.found else None),
        })
    return pd.DataFrame.from_records(records, columns=[
        "class", "kinds", "matrices", "k_median", "k_median_low", "k_median_high", "band_low", "band_high",
        "band_models", "band", "verdict"])


def interval_text(low: Any, high: Any, digits: int = 4) -> str:
    """``[low, high]`` or ``""`` when there is no interval."""
    if low is None or high is None or not (math.isfinite(float(low)) and math.isfinite(float(high))):
        return ""
    return f"[{float(low):.{digits}f}, {float(high):.{digits}f}]"


def matrix_rows(data: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Headers and cells of the every-matrix table (the columns that were computed)."""
    intervals = data["interval_method"].astype(str).ne("").any()
    boot = data["bootstrap_method"].astype(str).ne("").any()
    gof = (data["gof_samples"].fillna(0) > 0).any()
    r2 = data["r2"].notna().any()
    banded = data["equivalence"].isin(VERDICTS).any()
    headers = ["tensor", "part", "layer", "kind", "k", *(["k interval"] if intervals else []),
               *(["k bootstrap"] if boot else []), "λ", *(["λ interval"] if intervals else []),
               *(["R²"] if r2 else []), *(["AD statistic", "p-value", "adjusted p"] if gof else []),
               *(["published band", "verdict"] if banded else []), "zeros"]
    rows = []
    for row in data.to_dict("records"):
        layer = "" if pd.isna(row["layer"]) else str(int(row["layer"]))
        cells = [f"`{row['tensor']}`", str(row["part"]), layer, str(row["kind"]), f"{row['shape']:.4f}"]
        if intervals:
            cells.append(interval_text(row["shape_low"], row["shape_high"]))
        if boot:
            cells.append(interval_text(row["bootstrap_shape_low"], row["bootstrap_shape_high"]))
        cells.append(figure(row["scale"], digits=5))  # five significant digits, trailing zeros kept
        if intervals:
            cells.append(interval_text(row["scale_low"], row["scale_high"], 5))
        if r2:
            cells.append("" if pd.isna(row["r2"]) else f"{row['r2']:.4f}")
        if gof:
            cells += ["" if pd.isna(row["gof_statistic"]) else f"{row['gof_statistic']:.4g}",
                      pvalue_text(row["gof_pvalue"], row["gof_samples"]),
                      "" if pd.isna(row["gof_pvalue_adjusted"]) else f"{row['gof_pvalue_adjusted']:.3g}"]
        if banded:
            cells += [interval_text(row["equivalence_low"], row["equivalence_high"], 3),
                      str(row["equivalence"])]
        cells.append(str(row["zeros"]))
        rows.append(cells)
    return headers, rows




def number_text(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{float(value):.{digits}f}"


def markdown_lines(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return markdown_table(headers, rows).split("\n")


def last_checkpoint(frame: pd.DataFrame, estimator: str) -> pd.DataFrame:
    """The rows of ``estimator`` for the last checkpoint scanned."""
    data = frame[frame["estimator"] == estimator]
    return data[data["checkpoint"] == data["checkpoint"].iloc[-1]] if len(data) else data


def gof_cells(data: pd.DataFrame) -> list[str]:
    """Median AD statistic, and how many p-values sit at their floor 1/(M+1)."""
    tested = data[data["gof_samples"].fillna(0) > 0]
    if tested.empty:
        return ["", ""]
    pairs = zip(tested["gof_pvalue"], tested["gof_samples"], strict=True)
    at_floor = sum(pvalue_at_floor(p, m) for p, m in pairs)
    m = int(tested["gof_samples"].max())
    floor = pvalue_text(1.0 / (m + 1), m)
    return [f"{float(tested['gof_statistic'].median()):.4g}", f"{at_floor}/{len(tested)} {floor}"]


def class_section(frame: pd.DataFrame, estimators: Sequence[str], *,
                  equivalence_level: float = SETTINGS["equivalence_level"].default) -> list[str]:
    """The model-level summary in the paper's classes (:mod:`weibull_stats.report.tables`),
    its verdicts the two one-sided tests at ``equivalence_level``."""
    if not len(frame):
        return []
    coverage = coverage_text(equivalence_level)
    lines: list[str] = []
    for estimator in estimators:
        data = last_checkpoint(frame, estimator)
        banded = on_protocol(data)
        layout = attention_layout(data)
        summary = class_summary(data, class_bands(data, layout) if banded else None,
                                equivalence_level=equivalence_level)
        if summary.empty:
            continue
        lines += [f"### `{estimator}` — checkpoint `{data['checkpoint'].iloc[0]}`, layout {layout}", ""]
        headers = ["class", "kinds", "matrices", "median k", f"{coverage} interval",
                   *([f"published {layout}", "verdict"] if banded else [])]
        rows = [[r["class"], r["kinds"], str(r["matrices"]), number_text(r["k_median"]),
                 interval_text(r["k_median_low"], r["k_median_high"]) or "(too few matrices)",
                 *([r["band"], r["verdict"]] if banded else [])] for r in summary.to_dict("records")]
        lines += [*markdown_lines(headers, rows), ""]
        if not banded:
            lines += [f"Published bands: {NOT_COMPARABLE}.", ""]
    if not lines:
        return ["## Model-level summary", "", no_classes_text(last_checkpoint(frame, estimators[0])), ""]
    return ["## Model-level summary", "",
            "The paper's classes: selection = attention query and key (fused QKV where merged); "
            "transmission = attention output and FFN. Median k over the class's matrices, with its "
            f"{coverage} distribution-free interval for it (order statistics); the published "
            "band is the range, over the published models of the same attention layout and the "
            "class's kinds in this model, of the per-model median k (none where those models lack "
            f"one of the kinds); the verdict is the {tost_text(equivalence_level)} "
            f"(inside: the {coverage} interval lies within the band; outside: wholly beyond it; undecided: "
            "neither).", "", *lines]


def no_classes_text(data: pd.DataFrame) -> str:
    """Why a scan has no model-level summary: none of its matrices is of a class kind.

    Examples
    --------
    >>> rows = pd.DataFrame({"checkpoint": ["Sequential"] * 2, "kind": ["other"] * 2,
    ...                      "layer": [pd.NA, pd.NA]})
    >>> print(no_classes_text(rows))  # doctest: +NORMALIZE_WHITESPACE
    No model-level summary: none of the 2 matrices of checkpoint `Sequential` is an attention query,
    key, output or FFN matrix (kinds: other), and no tensor name gives a layer, so the paper's
    classes (selection, transmission) are empty. The per-kind and every-matrix tables below list
    every fit.
    """
    kinds = ", ".join(dict.fromkeys(data["kind"].astype(str)))
    layered = bool(data["layer"].notna().any())
    return (f"No model-level summary: none of the {len(data)} matrices of checkpoint "
            f"`{data['checkpoint'].iloc[0]}` is an attention query, key, output or FFN matrix (kinds: "
            f"{kinds}){'' if layered else ', and no tensor name gives a layer'}, so the paper's classes "
            f"({', '.join(name for name, _, _ in CLASSES)}) are empty. The per-kind and every-matrix tables "
            "below list every fit.")


def matrix_notes(data: pd.DataFrame, settings: Any) -> list[str]:
    """What the every-matrix table's intervals, p-values and verdicts are, and their counts."""
    notes = []
    levels = data["confidence_level"].dropna()
    level = f"{float(levels.iloc[0]):.0%}" if len(levels) else ""
    if data["interval_method"].astype(str).eq("asymptotic").any():
        warned = int(data["interval_warning"].astype(str).ne("").sum())
        notes.append(f"k interval: {level} asymptotic (Wald, the estimator's large-sample standard error)"
                     + (f"; {warned} not to be trusted (column `interval_warning`)" if warned else "") + ".")
    methods = [m for m in dict.fromkeys(data["bootstrap_method"].astype(str)) if m]
    if methods:
        notes.append(f"k bootstrap: {level} {', '.join(methods)} bootstrap "
                     f"({int(data['n_resamples'].max())} resamples).")
    fdr, correction, alpha = (getattr(settings, name, SETTINGS[name].default)
                              for name in ("fdr", "multiple_testing", "equivalence_level"))
    if (data["gof_samples"].fillna(0) > 0).any():
        tested = data["gof_pvalue_adjusted"].notna()
        departing = int((data["gof_pvalue_adjusted"] < fdr).sum())
        notes.append("p-value: Anderson–Darling, parametric bootstrap with M refits; `≤ 1/(M+1)` is its "
                     f"floor (the statistic exceeded every null sample). Adjusted p: {correction} across the "
                     f"{int(tested.sum())} matrices; **{departing} depart from the Weibull law at false "
                     f"discovery rate {fdr:g}**.")
    verdicts = data.loc[data["equivalence"].isin(VERDICTS), "equivalence"]
    if len(verdicts):
        counts = ", ".join(f"{int((verdicts == v).sum())} {v}" for v in VERDICTS)
        notes.append(f"Verdict: {tost_text(alpha)} of k (asymptotic standard error) against the "
                     f"published band of its kind for the model's attention layout: {counts} of "
                     f"{len(verdicts)} matrices with a published band.")
    if data["equivalence"].eq(NOT_COMPARABLE).any():
        notes.append(f"Verdict: {NOT_COMPARABLE}.")
    elif len(data):
        layout = attention_layout(data)
        unbanded = [kind for kind in dict.fromkeys(data["kind"].astype(str))
                    if not resolve_band(layout, kind).found]
        if unbanded:
            count = int(data["kind"].isin(unbanded).sum())
            notes.append(f"No verdict for {count} matrices: {resolve_band(layout, unbanded).text}.")
    return [line for note in notes for line in (note, "")][:-1] if notes else []


__all__ = ["CLASSES", "MEDIAN_LEVEL", "attention_layout", "class_bands", "class_rows", "class_section",
           "class_summary", "coverage_text", "gof_cells", "interval_text", "last_checkpoint",
           "markdown_lines", "matrix_notes", "matrix_rows", "median_interval", "no_classes_text",
           "number_text", "on_protocol", "tost_text", "verdict"]
