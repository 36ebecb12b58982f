"""The scan report: per-kind medians beside the published benchmark table, and the plots.

``report.md`` states what was fitted (checkpoints, estimators, intervals, seed, version),
whether the validation gate passed or was skipped, the per-kind medians of shape ``k`` and
scale ``λ`` beside the published band of each kind for the model's attention layout
(:func:`~weibull_stats.inference.published.resolve_band`, DATABASE v9.1, with its
attribution) and the anchor of the scan's ``anchor`` setting (HalfNormal or |Uniform|
initialisation; fits on the published protocol only), a trajectory
table when several steps were scanned, and the failures.

The published table (``weibull_stats/data/DATABASE_v9_1.csv``) is CC BY 4.0, Copyright (c) 2026
Tiexin Ding, from the NPM-Weibull-public repository, companion data of arXiv:2605.18898.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from weibull_stats import plotting
from weibull_stats.checkpoints import KINDS, Checkpoint, detect_family, open_sources
from weibull_stats.core.constants import ANCHORS
from weibull_stats.core.display import figure
from weibull_stats.core.formatting import option_text
from weibull_stats.inference.published import ATTRIBUTION, LAYOUTS, NOT_COMPARABLE, resolve_band
from weibull_stats.report.folder import read_records, read_results, read_run
from weibull_stats.report.matrix_plots import MATRIX_PLOTS_NOTE, probability_figure
from weibull_stats.report.tables import (
    class_section,
    gof_cells,
    last_checkpoint,
    markdown_lines,
    matrix_notes,
    matrix_rows,
    number_text,
    on_protocol,
    tost_text,
)
from weibull_stats.scanning.decisions import attention_layout
from weibull_stats.scanning.folder import output_lock, staged_files
from weibull_stats.scanning.settings import SETTINGS


def kind_summary(frame: pd.DataFrame, estimator: str) -> pd.DataFrame:
    """Per-kind medians of the last checkpoint for ``estimator``: matrices, k, IQR, λ, R², CI width."""
    data = frame[frame["estimator"] == estimator]
    if data.empty:
        return pd.DataFrame(columns=["kind", "matrices", "k_median", "k_q25", "k_q75", "lambda_median",
                                     "r2_median", "k_ci_width_median"])
    data = data[data["checkpoint"] == data["checkpoint"].iloc[-1]]
    records = []
    present = list(dict.fromkeys(data["kind"]))
    for kind in [k for k in KINDS if k in present] + sorted(k for k in present if k not in KINDS):
        part = data[data["kind"] == kind]
        shape = part["shape"].to_numpy(dtype=float)
        width = (part["shape_high"] - part["shape_low"]).to_numpy(dtype=float)
        records.append({
            "kind": kind,
            "matrices": len(part),
            "k_median": float(np.median(shape)),
            "k_q25": float(np.quantile(shape, 0.25)),
            "k_q75": float(np.quantile(shape, 0.75)),
            "lambda_median": float(np.median(part["scale"].to_numpy(dtype=float))),
            "r2_median": float(np.nanmedian(part["r2"].to_numpy(dtype=float)))
            if part["r2"].notna().any() else math.nan,
            "k_ci_width_median": float(np.median(width)) if np.isfinite(width).any() else math.nan,
        })
    return pd.DataFrame(records)


def kind_comparison(frame: pd.DataFrame, estimator: str) -> pd.DataFrame:
    """:func:`kind_summary` beside the published band of each kind for the model's attention
    layout (:func:`~weibull_stats.inference.published.resolve_band`).

    Added columns: ``layout``; ``band_low``, ``band_high``, ``band_models`` (``nan``, ``nan``,
    0 without a band); ``band``, the band as text with its layout and number of models (or
    "no published band for <layout> <kind>", or
    :data:`~weibull_stats.inference.published.NOT_COMPARABLE` for a fit off the published
    protocol); ``position`` of the median ``k`` against the band (``below``, ``inside``,
    ``above``, or ``""`` without one).
    """
    summary = kind_summary(frame, estimator)
    data = last_checkpoint(frame, estimator)
    layout = attention_layout(data) if len(data) else "all"
    comparable = on_protocol(data)
    bands = [resolve_band(layout, str(kind)) for kind in summary["kind"]]
    summary["layout"] = layout
    summary["band_low"] = [b.low if comparable else math.nan for b in bands]
    summary["band_high"] = [b.high if comparable else math.nan for b in bands]
    summary["band_models"] = [b.count if comparable else 0 for b in bands]
    summary["band"] = [b.text if comparable else NOT_COMPARABLE for b in bands]
    summary["position"] = [
        "" if not (comparable and b.found) else "below" if k < b.low else "above" if k > b.high else "inside"
        for k, b in zip(summary["k_median"], bands, strict=True)]
    return summary


def skip_reasons(skipped: Sequence[Mapping[str, Any]], most: int = 5) -> str:
    """How many entries were skipped for each recorded reason, most frequent first.

    Examples
    --------
    >>> skip_reasons([{"reason": "1-D tensor"}, {"reason": "3-D tensor"}, {"reason": "1-D tensor"}])
    '2 × 1-D tensor; 1 × 3-D tensor'
    """
    counts = pd.Series([str(row.get("reason", "")) for row in skipped], dtype=object).value_counts(sort=False)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = "; ".join(f"{count} × {reason}" for reason, count in ranked[:most])
    return shown + (f"; ... ({len(ranked) - most} more reasons)" if len(ranked) > most else "")


def write_report(
    out: str | Path,
    frame: pd.DataFrame,
    checkpoints: Sequence[Checkpoint],
    *,
    errors: Sequence[Mapping[str, Any]] = (),
    skipped: Sequence[Mapping[str, Any]] = (),
    gate: Any = None,
    settings: Any = None,
    plots: bool = True,
    matrix_plots: bool = False,
    formats: Sequence[str] = plotting.DEFAULT_FORMATS,
    dpi: float = plotting.DEFAULT_DPI,
) -> Path:
    """Write ``report.md`` (and, with ``plots``, the figures) into ``out``; return its path.

    Parameters
    ----------
    out : path
        The scan's output folder.
    frame : pandas.DataFrame
        The scan table (:func:`weibull_stats.scan`).
    checkpoints : sequence of Checkpoint
        The scanned checkpoints (one matrix per kind is re-read for the probability plots, with
        ``matrix_plots``).
    errors, skipped : sequences of dicts
        Failures and tensors not fitted, as in ``errors.csv`` and ``skipped.csv``.
    gate : GateRecord, optional
        The validation-gate record.
    settings : ScanSettings, optional
    plots : bool, default True
    matrix_plots : bool, default False
        Also the probability plots of one matrix per kind, re-read from ``checkpoints`` (the
        scan setting ``matrix_plots``); without it the figures' cost does not grow with the model.
    formats : sequence of {"png", "pdf", "svg"}, default ("png", "pdf")
        Files written per figure; the report embeds the PNG (or SVG) and links the others.
    dpi : float, default 200
        Resolution of the PNG files.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    estimators = list(dict.fromkeys(frame["estimator"])) if len(frame) else []
    # the first fit on the published protocol leads (trajectory, unsuffixed figures)
    main = next((e for e in estimators if on_protocol(last_checkpoint(frame, e))),
                estimators[0] if estimators else "")
    lines = ["# Weibull scan report", ""]
    labels = list(dict.fromkeys(frame["checkpoint"])) if len(frame) else [c.label for c in checkpoints]
    # the table's own family column first: the report does not depend on the checkpoints still being there
    families = {c.label: detect_family(c.config, (e.name for e in c.entries)) for c in checkpoints}
    families.update(zip(frame["checkpoint"], frame["family"], strict=True) if len(frame) else ())
    lines.append("- Checkpoints: " + ", ".join(f"`{lab}` ({families.get(lab, '?')})" for lab in labels))
    lines.append(f"- Estimators: {', '.join(estimators) or 'none'}")
    if settings is not None:
        policy = settings.policy
        what = "|w| of signed weights" if policy["values"] == "weights" else "the values as magnitudes"
        zeros = "zeros omitted (counted in column `zeros`)" if policy["zeros"] == "omit" else "zeros refused"
        lines.append(f"- Input policy: --values {policy['values']} --zeros {policy['zeros']} "
                     f"--nonfinite {policy['nonfinite']} (every matrix fitted on {what}, {zeros})")
        given = {name: options for name, options in settings.options.items() if options}
        listed = "; ".join(f"{name}: " + ", ".join(f"{k}={option_text(v)}" for k, v in options.items())
                           for name, options in given.items())
        lines.append(f"- Estimator options: {listed}; the rest at their defaults (column `options`)" if given
                     else "- Estimator options: the defaults (column `options` lists them)")
        level = f"{settings.confidence_level:.0%}"
        kinds = [f"{level} asymptotic for every matrix"] if settings.intervals == "asymptotic" else []
        if settings.bootstrap:
            kinds.append(f"{level} {settings.bootstrap_method} bootstrap, {settings.bootstrap} resamples")
        boot = "; ".join(kinds) or "none"
        gof = (f"Anderson-Darling, {settings.gof_samples} parametric-bootstrap refits"
               if settings.gof else "none")
        lines.append(f"- Intervals: {boot}; goodness of fit: {gof}; seed {settings.seed} "
                     "(per-matrix seeds in column `seed`)")
        lines.append(f"- Decisions: verdicts against the published bands by the "
                     f"{tost_text(settings.equivalence_level)}; departures from the Weibull law counted at "
                     f"false discovery rate {settings.fdr:g} ({settings.multiple_testing})")
        lines.append(f"- Settings as `weibull-stats scan` flags: `{settings.flags()}`")
    version = str(frame["package_version"].iloc[0]) if len(frame) else ""
    lines.append(f"- weibull-stats {version}; {len(frame)} rows, {len(errors)} failures, "
                 f"{len(skipped)} skipped (`skipped.csv`)")
    if skipped:
        lines.append(f"- Skipped: {skip_reasons(skipped)}")
    if gate is not None and getattr(gate, "skipped", False):
        lines.append("- **Validation: SKIPPED explicitly (`--skip-validation`).** These numbers are not "
                     "backed by the simulation gate; every row has `validated = False`.")
    elif gate is not None:
        note = getattr(gate, "note", None)
        lines.append(f"- Validation gate: passed for {', '.join(gate.estimators)} "
                     f"(source: {gate.source}, package {gate.package_version})"
                     + (f"; {note}" if note else ""))
    alpha = settings.equivalence_level if settings is not None else SETTINGS["equivalence_level"].default
    lines += ["", *class_section(frame, estimators, equivalence_level=alpha)]
    lines += ["", "## Per-kind medians", ""]
    anchor = ANCHORS[settings.anchor if settings is not None else SETTINGS["anchor"].default]
    others = ", ".join(f"`--anchor {a.name}` for {a.law}" for a in ANCHORS.values() if a is not anchor)
    lines.append(
        f"Anchor ({anchor.law}, `--anchor {anchor.name}`; {others}): {anchor.initialisation}, "
        f"{anchor.magnitudes}, give k0 = {anchor.shape:.10f} and λ0 = {anchor.scale:.10f}·{anchor.parameter} "
        "under the middle-80% probability-plot fit. Published column: "
        "the range, over the published models of the scanned model's attention layout, of the "
        "per-model median k (layout, number of models), or none where those models lack the kind; "
        "the last column places the median k against it. Anchor and bands belong to the published "
        "protocol (estimator and options) and are compared with fits on it only."
    )
    lines.append("")
    for estimator in estimators:
        summary = kind_comparison(frame, estimator)
        data = last_checkpoint(frame, estimator)
        banded = on_protocol(data)
        layout = str(summary["layout"].iloc[0]) if len(summary) else ""
        lines += [f"### `{estimator}` — checkpoint `{data['checkpoint'].iloc[0]}`, layout {layout}", ""]
        if not banded:
            lines += [f"Anchor and published bands: {NOT_COMPARABLE}.", ""]
        tested = bool((data["gof_samples"].fillna(0) > 0).any())
        headers = ["kind", "matrices", "median k", "k IQR", *(["k − k0"] if banded else []), "median λ",
                   "median R²", "median CI width (k)", *(["median AD", "p at its floor"] if tested else []),
                   *([f"published {layout}", "median k vs band"] if banded else [])]
        rows = []
        for record in summary.to_dict("records"):
            rows.append([
                str(record["kind"]), str(record["matrices"]), number_text(record["k_median"]),
                f"{number_text(record['k_q25'], 3)}–{number_text(record['k_q75'], 3)}",
                *([f"{record['k_median'] - anchor.shape:+.4f}"] if banded else []),
                figure(record["lambda_median"], digits=5),  # five significant digits, zeros kept
                number_text(record["r2_median"]), number_text(record["k_ci_width_median"]),
                *(gof_cells(data[data["kind"] == record["kind"]]) if tested else []),
                *([record["band"], record["position"]] if banded else []),
            ])
        lines += markdown_lines(headers, rows)
        lines.append("")
    lines += ["Attention layouts: " + "; ".join(f"{name} = {text}" for name, text in LAYOUTS.items()) + ".",
              "", ATTRIBUTION, ""]

    steps = frame[frame["step"].notna()] if len(frame) else frame
    trajectory = len(steps) and steps["step"].nunique() > 1
    if trajectory and main:
        data = steps[steps["estimator"] == main]
        pivot = data.groupby(["step", "kind"])["shape"].median().unstack("kind")
        scale = data.groupby(["step", "kind"])["scale"].median().unstack("kind")
        lines += ["## Trajectory", "", f"Median over layers of k (λ in parentheses), `{main}`:", ""]
        kinds = plotting._kind_order(pivot.columns)
        rows = [[str(int(step)), *(f"{pivot.loc[step, k]:.4f} ({scale.loc[step, k]:.4g})"
                                   if not math.isnan(pivot.loc[step, k]) else "" for k in kinds)]
                for step in pivot.index]
        lines += markdown_lines(["step", *map(str, kinds)], rows)
        lines.append("")

    for estimator in estimators:
        data = last_checkpoint(frame, estimator)
        headers, rows = matrix_rows(data)
        lines += [f"## Every matrix: `{estimator}`, checkpoint `{data['checkpoint'].iloc[0]}`", ""]
        lines += [*matrix_notes(data, settings), ""]
        lines += markdown_lines(headers, rows)
        lines.append("")
    if plots and len(frame) and main:
        lines += ["## Plots", ""]
        for estimator in [main, *(e for e in estimators if e != main)]:
            if len(estimators) > 1:
                lines += [f"### `{estimator}`", ""]
            lines += _write_plots(out, frame, checkpoints, estimator, bool(trajectory), formats, dpi,
                                  suffix="" if estimator == main else f"_{estimator}", anchor=anchor.name,
                                  matrix_plots=matrix_plots)
            lines.append("")
        if not matrix_plots:
            lines += [MATRIX_PLOTS_NOTE, ""]
    if errors:
        lines += ["## Failures", "", f"{len(errors)} failures (all in `errors.csv`); the first ones:", ""]
        lines += [f"- `{e.get('tensor') or '(file)'}` {e.get('part') or ''}: {e.get('error')}"
                  for e in errors[:10]]
        lines.append("")
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def report_from_folder(out: str | Path, *, plots: bool = True, matrix_plots: bool = False) -> Path:
    """Rewrite ``report.md`` (and the plots) of a finished scan from the files in ``out``.

    Reads ``results.parquet``, ``errors.csv``, ``skipped.csv`` and ``run.json``; the
    checkpoints named in ``run.json`` are re-opened for the probability plots (``matrix_plots``)
    when they are still there. The folder is locked meanwhile (no scan writes into it at the same time)
    and every file appears whole or not at all (:func:`weibull_stats.scanning.folder.staged_files`).

    Raises
    ------
    FileNotFoundError
        ``out`` holds no ``results.parquet`` or ``run.json``.
    ValueError
        A file is unreadable or not what a scan writes (``results.parquet`` without the
        scan's columns, a corrupt ``run.json``); the message names the file (and the columns).
    OSError
        A scan is writing into ``out`` (it holds the folder's lock).
    """
    out = Path(out)
    for name in ("results.parquet", "run.json"):
        if not (out / name).is_file():
            raise FileNotFoundError(f"{out / name}: no such file (is {out} the --out folder of a scan?)")
    with output_lock(out):
        frame = read_results(out / "results.parquet")
        settings, gate = read_run(out / "run.json")
        errors, skipped = read_records(out / "errors.csv"), read_records(out / "skipped.csv")
        try:
            checkpoints = open_sources(list(settings.paths), errors="record")
        except (ValueError, OSError):
            checkpoints = []
        with staged_files(out) as staging:
            write_report(staging, frame, checkpoints, errors=errors, skipped=skipped, gate=gate,
                         settings=settings, plots=plots, matrix_plots=matrix_plots)
    return out / "report.md"


def _save(fig: Any, path: Path, formats: Sequence[str], dpi: float) -> list[Path]:
    """Save a figure in every format and release it."""
    return plotting.save_figure(fig, path, formats=formats, dpi=dpi)


def _embed(alt: str, written: Sequence[Path]) -> str:
    """Markdown image of the raster (or first) file, with links to the other formats."""
    files = [p.name for p in written]
    shown = next((f for f in files if f.endswith((".png", ".svg"))), files[0])
    others = [f for f in files if f != shown]
    links = " (" + ", ".join(f"[{f.rsplit('.', 1)[1].upper()}]({f})" for f in others) + ")" if others else ""
    return f"![{alt}]({shown}){links}"


def _write_plots(out: Path, frame: pd.DataFrame, checkpoints: Sequence[Checkpoint], estimator: str,
                 trajectory: bool, formats: Sequence[str] = plotting.DEFAULT_FORMATS,
                 dpi: float = plotting.DEFAULT_DPI, suffix: str = "", anchor: str | None = None,
                 matrix_plots: bool = False) -> list[str]:
    lines = []
    if last_checkpoint(frame, estimator)["layer"].notna().any():
        fig = plotting.plot_scan_shape_by_layer(frame, estimator=estimator, anchor=anchor)
        lines.append(_embed("k by layer", _save(fig, out / f"shape_by_layer{suffix}", formats, dpi)))
    else:  # no matrix named by layer (a plain module, a file without layer names): k by tensor name
        fig = plotting.plot_scan_shape_by_matrix(frame, estimator=estimator, anchor=anchor)
        lines.append(_embed("k by matrix", _save(fig, out / f"shape_by_matrix{suffix}", formats, dpi)))
    if "expert" in frame and last_checkpoint(frame, estimator)["expert"].notna().any():  # experts
        fig, name = plotting.plot_scan_shape_by_expert(frame, estimator=estimator), f"shape_by_expert{suffix}"
        lines.append(_embed("k by expert and layer", _save(fig, out / name, formats, dpi)))
    fig = probability_figure(frame, checkpoints, estimator) if matrix_plots else None
    if fig is not None:
        lines.append(_embed("probability plots",
                            _save(fig, out / f"probability_plots{suffix}", formats, dpi)))
    if trajectory:
        fig = plotting.plot_scan_trajectory(frame, estimator=estimator, anchor=anchor)
        written = _save(fig, out / f"trajectory{suffix}", formats, dpi)
        lines.append(_embed("k and λ against step", written))
        lines += [_embed(alt, _save(fig, out / f"{name}{suffix}", formats, dpi))  # several steps: training
                  for name, alt, fig in plotting.training_figures(frame, estimator=estimator, anchor=anchor)]
    return lines
