"""Decisions across the matrices of a scan: equivalence with the published bands, and
multiple-testing corrections (see :mod:`weibull_stats.inference.decisions`).

Computed from the finished rows, per (checkpoint, estimator), so a resumed scan gives the
same columns as an uninterrupted one:

* ``equivalence``, ``equivalence_low``, ``equivalence_high``, ``equivalence_pvalue``: for an
  estimator whose numbers the published bands describe (the middle-80% probability-plot
  protocol, :attr:`~weibull_stats.estimators._core.Estimator.paper_protocol`), the two
  one-sided tests of each matrix's ``k`` (with its asymptotic standard error, or the
  bootstrap's when there is none) against the published band of its kind for the model's
  attention layout (:func:`attention_layout`): ``inside``, ``outside`` or ``undecided`` at
  level ``equivalence_level`` (each one-sided test), and the TOST p-value of "outside the
  band". Blank for kinds without a published band (embeddings, heads) and for other estimators.
* ``gof_pvalue_adjusted`` and ``equivalence_pvalue_adjusted``: the p-values corrected with
  statsmodels' ``multipletests`` (``multiple_testing``, Benjamini–Hochberg by default) across
  the matrices of a checkpoint; a matrix departs from the Weibull law at false discovery rate
  ``fdr`` when its adjusted GoF p-value is below ``fdr``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from weibull_stats.estimators.registry import ESTIMATORS
from weibull_stats.inference.decisions import (
    PUBLISHED_KINDS,
    adjust_pvalues,
    equivalence_tests,
    published_table,
)
from weibull_stats.scanning.settings import SETTINGS

#: Columns this module fills, in table order.
DECISION_COLUMNS: tuple[str, ...] = (
    "gof_pvalue_adjusted", "equivalence", "equivalence_low", "equivalence_high", "equivalence_pvalue",
    "equivalence_pvalue_adjusted",
)


def attention_layout(data: pd.DataFrame) -> str:
    """The published ``arch`` group of a scanned model, from its table: ``MHA-merged`` (a
    fused QKV), ``GQA`` (key matrices smaller than the query matrices: fewer key/value heads)
    or ``MHA-separate``.

    Examples
    --------
    >>> rows = pd.DataFrame({"kind": ["q", "k"], "part": ["", ""], "numel": [64, 16]})
    >>> attention_layout(rows)
    'GQA'
    """
    whole = data[data["part"] == ""]
    if (whole["kind"] == "qkv").any():
        return "MHA-merged"
    q, k = whole.loc[whole["kind"] == "q", "numel"], whole.loc[whole["kind"] == "k", "numel"]
    if len(q) and len(k) and float(k.median()) < float(q.median()):
        return "GQA"
    return "MHA-separate"


def kind_bands(layout: str) -> dict[str, tuple[float, float]]:
    """``kind -> (min, max)`` of the published per-model median ``k`` for ``layout``
    (kinds that layout's models do not have fall back to all models)."""
    table = published_table()
    rows = table[table["arch"].astype(str).str.startswith(layout)]
    bands = {}
    for kind in PUBLISHED_KINDS:
        values = rows[f"k_median_{kind}"].dropna().to_numpy(dtype=float)
        if not values.size:
            values = table[f"k_median_{kind}"].dropna().to_numpy(dtype=float)
        if values.size:
            bands[kind] = (float(values.min()), float(values.max()))
    return bands


def add_decisions(frame: pd.DataFrame, *, equivalence_level: float = SETTINGS["equivalence_level"].default,
                  fdr: float = SETTINGS["fdr"].default, method: str = SETTINGS["multiple_testing"].default
                  ) -> pd.DataFrame:
    """``frame`` with :data:`DECISION_COLUMNS` filled, per (checkpoint, estimator).

    The verdicts are the two one-sided tests at ``equivalence_level``; the p-values are
    adjusted with ``method``, at false discovery rate ``fdr`` (the table keeps the adjusted
    p-values; the report counts those below ``fdr``).

    Examples
    --------
    >>> rows = pd.DataFrame({"checkpoint": "c", "estimator": "probability_plot", "tensor": ["a", "b"],
    ...                      "part": "", "kind": ["o", "embedding"], "numel": 100, "shape": [1.15, 1.2],
    ...                      "shape_se": [0.001, 0.001], "bootstrap_shape_low": np.nan,
    ...                      "bootstrap_shape_high": np.nan, "gof_pvalue": [0.01, 0.5]})
    >>> add_decisions(rows)[["equivalence", "gof_pvalue_adjusted"]].to_numpy().tolist()
    [['inside', 0.02], ['', 0.5]]
    """
    frame = frame.copy()
    frame["gof_pvalue_adjusted"] = np.nan
    frame["equivalence"] = ""
    for column in DECISION_COLUMNS[2:]:
        frame[column] = np.nan
    for key, index in frame.groupby(["checkpoint", "estimator"], sort=False).groups.items():
        group = frame.loc[index]
        adjusted = adjust_pvalues(group["gof_pvalue"], method, alpha=fdr).adjusted
        frame.loc[index, "gof_pvalue_adjusted"] = adjusted
        entry = ESTIMATORS.get(str(key[1]))  # type: ignore[index]
        if entry is None or not entry.paper_protocol:
            continue
        bands = kind_bands(attention_layout(group))
        missing = (np.nan, np.nan)
        low = np.array([bands.get(kind, missing)[0] for kind in group["kind"]], dtype=float)
        high = np.array([bands.get(kind, missing)[1] for kind in group["kind"]], dtype=float)
        se = _shape_error(group)
        banded = np.isfinite(low) & np.isfinite(se) & (se > 0)
        if not banded.any():
            continue
        where = index[banded]
        table = equivalence_tests(group["shape"].to_numpy(dtype=float)[banded], se[banded],
                                  (low[banded], high[banded]), level=equivalence_level)
        frame.loc[where, "equivalence"] = table.verdict
        frame.loc[where, "equivalence_low"] = low[banded]
        frame.loc[where, "equivalence_high"] = high[banded]
        frame.loc[where, "equivalence_pvalue"] = table.pvalue_inside
        frame.loc[where, "equivalence_pvalue_adjusted"] = adjust_pvalues(table.pvalue_inside, method,
                                                                         alpha=fdr).adjusted
    return frame


def _shape_error(group: pd.DataFrame) -> np.ndarray:
    """The asymptotic standard error of ``k``, or the bootstrap's (interval width / 2 z)."""
    se = group["shape_se"].to_numpy(dtype=float)
    width = (group["bootstrap_shape_high"] - group["bootstrap_shape_low"]).to_numpy(dtype=float)
    level = group.get("confidence_level", pd.Series(0.95, index=group.index)).to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        boot = width / (2.0 * ndtri(0.5 + level / 2.0))
    return np.where(np.isfinite(se), se, boot)


def decision_summary(frame: pd.DataFrame, estimator: str, *, fdr: float) -> dict[str, Any]:
    """Counts for the report: matrices tested, departing at ``fdr``, and each verdict."""
    data = frame[frame["estimator"] == estimator]
    data = data[data["checkpoint"] == data["checkpoint"].iloc[-1]] if len(data) else data
    tested = data["gof_pvalue_adjusted"].notna()
    verdicts = data.loc[data["equivalence"] != "", "equivalence"]
    return {"tested": int(tested.sum()), "departing": int((data["gof_pvalue_adjusted"] < fdr).sum()),
            "banded": len(verdicts), **{v: int((verdicts == v).sum())
                                            for v in ("inside", "outside", "undecided")}}


__all__ = ["DECISION_COLUMNS", "add_decisions", "attention_layout", "decision_summary", "kind_bands"]
