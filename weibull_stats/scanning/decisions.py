"""Decisions across the matrices of a scan: equivalence with the published bands, and
multiple-testing corrections (see :mod:`weibull_stats.inference.decisions`).

Computed from the finished rows, per (checkpoint, estimator), so a resumed scan gives the
same columns as an uninterrupted one:

* ``equivalence``, ``equivalence_low``, ``equivalence_high``, ``equivalence_pvalue``: for a
  fit on the published protocol (estimator and options,
  :attr:`~weibull_stats.estimators._core.Estimator.published_protocol`), the two one-sided
  tests of each matrix's ``k`` (with its asymptotic standard error, or the bootstrap's when
  there is none) against the published band of its kind for the model's attention layout
  (:func:`attention_layout`, :func:`~weibull_stats.inference.published.resolve_band`):
  ``inside``, ``outside`` or ``undecided`` at level ``equivalence_level`` (each one-sided
  test), and the TOST p-value of "outside
  the band". Blank for kinds the layout has no published band for (embeddings, heads, and
  e.g. a GeLU FFN beside separate Q/K/V); every row of a fit off the protocol reads
  :data:`~weibull_stats.inference.published.NOT_COMPARABLE`.
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

from weibull_stats.inference.decisions import VERDICTS, adjust_pvalues, equivalence_tests
from weibull_stats.inference.published import NOT_COMPARABLE, follows_protocol, resolve_band
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


def add_decisions(frame: pd.DataFrame, *, equivalence_level: float = SETTINGS["equivalence_level"].default,
                  fdr: float = SETTINGS["fdr"].default, method: str = SETTINGS["multiple_testing"].default
                  ) -> pd.DataFrame:
    """``frame`` with :data:`DECISION_COLUMNS` filled, per (checkpoint, estimator).

    The verdicts are the two one-sided tests at ``equivalence_level``; the p-values are
    adjusted with ``method``, at false discovery rate ``fdr`` (the table keeps the adjusted
    p-values; the report counts those below ``fdr``).

    Examples
    --------
    >>> protocol = '{"direction": "y_on_x", "plotting_position": "hazen", "trim": [0.1, 0.9]}'
    >>> rows = pd.DataFrame({"checkpoint": "c", "estimator": "probability_plot", "tensor": ["a", "b"],
    ...                      "part": "", "kind": ["o", "embedding"], "numel": 100, "shape": [1.15, 1.2],
    ...                      "shape_se": [0.001, 0.001], "bootstrap_shape_low": np.nan,
    ...                      "bootstrap_shape_high": np.nan, "gof_pvalue": [0.01, 0.5], "options": protocol})
    >>> add_decisions(rows)[["equivalence", "gof_pvalue_adjusted"]].to_numpy().tolist()
    [['inside', 0.02], ['', 0.5]]
    >>> add_decisions(rows.assign(options='{"trim": [0.05, 0.95]}'))["equivalence"].iloc[0]
    'not comparable (estimator/options differ from the published protocol)'
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
        estimator = str(key[1])  # type: ignore[index]
        on = {options: follows_protocol(estimator, options) for options in dict.fromkeys(group["options"])}
        off = ~group["options"].map(on).to_numpy(dtype=bool)
        frame.loc[index[off], "equivalence"] = NOT_COMPARABLE
        if off.all():
            continue
        layout = attention_layout(group)
        bands = {kind: resolve_band(layout, str(kind)) for kind in dict.fromkeys(group["kind"])}
        low = np.array([bands[kind].low for kind in group["kind"]], dtype=float)
        high = np.array([bands[kind].high for kind in group["kind"]], dtype=float)
        se = _shape_error(group)
        banded = ~off & np.isfinite(low) & np.isfinite(se) & (se > 0)
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
    verdicts = data.loc[data["equivalence"].isin(VERDICTS), "equivalence"]
    return {"tested": int(tested.sum()), "departing": int((data["gof_pvalue_adjusted"] < fdr).sum()),
            "banded": len(verdicts), **{v: int((verdicts == v).sum())
                                            for v in ("inside", "outside", "undecided")}}


__all__ = ["DECISION_COLUMNS", "add_decisions", "attention_layout", "decision_summary"]
