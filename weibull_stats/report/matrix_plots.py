"""The probability plots of single matrices in a scan's report, drawn on request (the scan
setting ``matrix_plots``, ``--matrix-plots``): each matrix is re-read from its checkpoint, so
their cost grows with the model, unlike the report's other figures, which summarise per kind
and layer."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from weibull_stats import plotting
from weibull_stats.checkpoints import Checkpoint, classify, detect_family, split_fused
from weibull_stats.checkpoints.fp8 import model_weights

#: What report.md says where it leaves out the probability plots of single matrices.
MATRIX_PLOTS_NOTE = (
    "The figures summarise per kind and layer. Probability plots of one matrix per kind (the middle "
    "layer's, re-read from the checkpoint): `weibull-stats report DIR --matrix-plots` (or `scan "
    "--matrix-plots`); of any matrices: `ws.plotting.plot_scan_probability`.")


def probability_samples(frame: pd.DataFrame, checkpoints: Sequence[Checkpoint], estimator: str
                        ) -> list[tuple[str, np.ndarray, float, float]]:
    """One matrix per kind (the middle layer of the last checkpoint), re-read for plotting."""
    data = frame[frame["estimator"] == estimator]
    if data.empty:
        return []
    label = data["checkpoint"].iloc[-1]
    ckpt = next((c for c in checkpoints if c.label == label), None)
    if ckpt is None:
        return []
    data = data[data["checkpoint"] == label]
    family = detect_family(ckpt.config, (e.name for e in ckpt.entries))
    samples = []
    for kind in dict.fromkeys(data["kind"]):
        part = data[data["kind"] == kind]
        if part["layer"].notna().any():
            part = part[part["layer"].notna()].sort_values(["layer", "tensor"])
            row = part.iloc[len(part) // 2]
        else:  # embeddings, heads: the largest matrix
            row = part.loc[part["numel"].astype("int64").idxmax()]
        try:
            weight = model_weights(ckpt, row["tensor"]).values  # FP8: as fitted, its scales applied
        except (ValueError, OSError, KeyError):
            continue
        if weight.ndim == 1:
            weight = weight.reshape(-1, 1)
        if row["part"]:
            role = classify(row["tensor"], family, tuple(weight.shape))
            weight = dict(split_fused(weight, role, ckpt.config, row["tensor"]))[row["part"]]
        magnitudes = np.abs(weight.reshape(-1)).astype(np.float64)
        magnitudes = magnitudes[magnitudes > 0]
        title = f"{kind}: {row['tensor']}" + (f" [{row['part']}]" if row["part"] else "")
        samples.append((title, magnitudes, float(row["shape"]), float(row["scale"])))
    return samples


def probability_figure(frame: pd.DataFrame, checkpoints: Sequence[Checkpoint], estimator: str) -> Any:
    """:func:`~weibull_stats.plotting.plot_scan_probability` of :func:`probability_samples`, shaded
    on the fit's window (the paper's, for reference, where the estimator has no trim); None
    when no matrix could be re-read."""
    samples = probability_samples(frame, checkpoints, estimator)
    if not samples:
        return None
    trim = (0.1, 0.9)
    options = frame[frame["estimator"] == estimator]["options"].iloc[0]
    trim_option = json.loads(options).get("trim")
    note = None
    if isinstance(trim_option, list) and len(trim_option) == 2:
        trim = (float(trim_option[0]), float(trim_option[1]))
    else:  # the fit has no window of its own: the shading is the paper's, for reference
        note = (f"F in [{trim[0]:g}, {trim[1]:g}], the paper's window for reference "
                f"({estimator} has no trim)")
    return plotting.plot_scan_probability(samples, trim=trim, window_note=note)


__all__ = ["MATRIX_PLOTS_NOTE", "probability_figure", "probability_samples"]
