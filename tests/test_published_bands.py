"""The published bands and protocol: one resolver read alike by the verdicts, the report, the
figures and notebook 03; bands and verdicts only for fits on the published protocol; figure
labels that describe the interval columns actually drawn."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import weibull_stats as ws
from weibull_stats import plotting
from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
from weibull_stats.inference.published import NOT_COMPARABLE, follows_protocol, resolve_band
from weibull_stats.scanning.decisions import attention_layout

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "notebooks" / "03_scan_minilm.ipynb"
CSV = Path(ws.__file__).parent / "data" / "DATABASE_v9_1.csv"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def minilm(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    out = tmp_path_factory.mktemp("minilm") / "out"
    return out, ws.scan("minilm", out=out, skip_validation=True, progress=False)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    state, config = synthetic_state("llama", layers=3, hidden=32, heads=4, kv_heads=2, vocab=40)
    return write_checkpoint(tmp_path_factory.mktemp("gqa") / "ckpt", state, config, dtype="BF16")


def _panels(fig) -> dict[str, object]:
    return {ax.get_title(): ax for ax in fig.axes if ax.get_visible() and ax.get_title()}


def _shaded(ax) -> list[tuple[float, float]]:
    """The y-extent of every shaded horizontal span of a panel."""
    spans = []
    for patch in ax.patches:
        if isinstance(patch, matplotlib.patches.Rectangle):
            spans.append((patch.get_y(), patch.get_y() + patch.get_height()))
        else:
            y = np.asarray(patch.get_xy())[:, 1]
            spans.append((float(y.min()), float(y.max())))
    return spans


def _legend(fig) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def _bars(ax) -> np.ndarray:
    """``(points, 2)``: the low and high end of every error bar of a panel."""
    (container,) = ax.containers
    return np.array([[segment[0][1], segment[1][1]] for segment in container.lines[2][0].get_segments()])


def _table_band(arch: str, kind: str) -> tuple[float, float, int]:
    """The band read straight from the shipped CSV, independently of the package."""
    table = pd.read_csv(CSV)
    values = table.loc[table["arch"].str.startswith(arch), f"k_median_{kind}"].dropna()
    return float(values.min()), float(values.max()), int(values.size)


def test_minilm_gets_one_band_per_layout_and_kind_in_verdicts_report_and_figure(minilm) -> None:
    out, frame = minilm
    assert attention_layout(frame) == "MHA-separate"
    report = (out / "report.md").read_text(encoding="utf-8")
    fig = plotting.plot_scan_shape_by_layer(frame)
    panels = _panels(fig)
    for kind in ("q", "k", "v", "o"):
        band = resolve_band("MHA-separate", kind)
        assert (band.low, band.high, band.count) == _table_band("MHA-separate", kind)
        rows = frame[frame["kind"] == kind]
        assert (rows["equivalence_low"] == band.low).all() and (rows["equivalence_high"] == band.high).all()
        assert f"| {kind} | 6 |" in report and band.text in report
        assert _shaded(panels[kind]) == [pytest.approx(band.bounds)]
    # the q band over all 12 models (what the figure used to draw) appears nowhere
    everything = resolve_band("all", "q")
    assert everything.count == 7 and everything.high > 1.1
    assert f", {everything.high:.3f}]" not in report
    # no band for a GeLU FFN beside separate Q/K/V: said, never borrowed from Pythia's layout
    for kind in ("ffn_in", "ffn_out"):
        rows = frame[frame["kind"] == kind]
        assert rows["equivalence"].eq("").all() and rows["equivalence_low"].isna().all()
        text = f"no published band for MHA-separate {kind}"
        assert text in report
        assert _shaded(panels[kind]) == []
        assert any(t.get_text() == text for t in panels[kind].texts)
    assert "no published band for MHA-separate ffn_in, ffn_out" in report  # the transmission class
    assert "published range of per-model median k, MHA-separate (2 models)" in _legend(fig)
    assert not any("12 models" in t for t in _legend(fig))


def test_notebook_03_shows_the_resolver_bands(minilm, monkeypatch, tmp_path) -> None:
    """Run notebook 03's code (the validation gate skipped: it is tested with the scan) and
    compare its table and figure with the resolver."""
    cells = [c for c in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    code = ["".join(c["source"]) for c in cells]
    assert not any(name in "\n".join(code) for name in ("published_table", "axhspan", "DATABASE_v9_1"))
    scan = ws.scan

    def ungated(*args, **kwargs):
        return scan(*args, **{**kwargs, "skip_validation": True, "progress": False})

    monkeypatch.setattr(ws, "scan", ungated)
    monkeypatch.setattr(tempfile, "mkdtemp", lambda: str(tmp_path))
    namespace: dict[str, object] = {}
    for source in code:
        if 'table["validated"]' not in source:
            exec(compile(source, str(NOTEBOOK), "exec"), namespace)
    comparison = namespace["comparison"].set_index("kind")  # type: ignore[attr-defined]
    panels = _panels(namespace["fig"])
    for kind in ("q", "k", "v", "o"):
        band = resolve_band("MHA-separate", kind)
        row = comparison.loc[kind]
        assert (row["band_low"], row["band_high"], row["band_models"]) == (band.low, band.high, band.count)
        assert _shaded(panels[kind]) == [pytest.approx(band.bounds)]
    assert comparison.loc["q", "band_high"] < 1.0  # the separate-Q/K/V models' q band, not all models'
    assert comparison.loc["ffn_in", "band_models"] == 0 and _shaded(panels["ffn_in"]) == []


def test_figure_labels_describe_the_interval_columns_drawn(checkpoint) -> None:
    default = ws.scan(checkpoint, skip_validation=True, progress=False)
    fig = plotting.plot_scan_shape_by_layer(default)
    labels = _legend(fig)
    assert any("95% asymptotic (Wald) interval of k" in t for t in labels)
    assert not any("bootstrap" in t for t in labels)
    o = default[(default["kind"] == "o")].sort_values("layer")
    np.testing.assert_allclose(_bars(_panels(fig)["o"]), o[["shape_low", "shape_high"]].to_numpy())

    boot = ws.scan(checkpoint, skip_validation=True, progress=False, bootstrap=40)
    fig = plotting.plot_scan_shape_by_layer(boot)
    labels = _legend(fig)
    assert any("95% percentile bootstrap interval of k, 40 resamples" in t for t in labels)
    assert not any("asymptotic" in t for t in labels)
    o = boot[(boot["kind"] == "o")].sort_values("layer")
    np.testing.assert_allclose(_bars(_panels(fig)["o"]), o[["bootstrap_shape_low", "bootstrap_shape_high"]])
    assert not np.allclose(o["bootstrap_shape_low"], o["shape_low"])  # the two sources differ
    fig = plotting.plot_scan_shape_by_layer(boot, interval="asymptotic")
    assert any("asymptotic (Wald)" in t for t in _legend(fig))

    bare = ws.scan(checkpoint, skip_validation=True, progress=False, intervals="none")
    fig = plotting.plot_scan_shape_by_layer(bare)
    assert any("no interval drawn" in t for t in _legend(fig))
    assert not any("error bars" in t for t in _legend(fig))


def test_no_bands_anchor_or_verdicts_off_the_published_protocol(checkpoint, tmp_path) -> None:
    on = ws.scan(checkpoint, skip_validation=True, progress=False)
    assert on["equivalence"].isin(["inside", "outside", "undecided"]).any()
    out = tmp_path / "off"
    off = ws.scan(checkpoint, estimators=["probability_plot", "mle"], skip_validation=True, progress=False,
                  options={"probability_plot": {"trim": (0.05, 0.95)}}, out=out)
    assert off["equivalence"].eq(NOT_COMPARABLE).all()
    assert off["equivalence_low"].isna().all() and off["equivalence_pvalue"].isna().all()
    report = (out / "report.md").read_text(encoding="utf-8")
    assert not any(f"| {v} |" in report for v in ("inside", "outside", "undecided"))
    assert "published GQA" not in report and "k − k0" not in report
    assert f"Published bands: {NOT_COMPARABLE}." in report and f"Verdict: {NOT_COMPARABLE}." in report
    for estimator in ("probability_plot", "mle"):
        fig = plotting.plot_scan_shape_by_layer(off, estimator=estimator)
        assert all(_shaded(ax) == [] for ax in _panels(fig).values())
        assert not any("anchor" in t or "published" in t for t in _legend(fig))
        assert any(NOT_COMPARABLE in t.get_text() for t in fig.texts)
    # the probability plot's label names the departing option, not the middle 80%
    labels = _legend(plotting.plot_scan_shape_by_layer(off))
    assert any(t.startswith("probability_plot (trim=0.05,0.95) k per matrix") for t in labels)
    assert not any("middle-80%" in t for t in labels)


def test_the_protocol_is_declared_on_the_estimator_and_read_from_the_recorded_options() -> None:
    # the paper's protocol: middle 80%, Hazen plotting positions, y on x
    entry = ws.ESTIMATORS["probability_plot"]
    assert dict(entry.published_protocol or {}) == {"trim": (0.1, 0.9), "plotting_position": "hazen",
                                                    "direction": "y_on_x"}
    x = np.random.default_rng(0).normal(0.0, 0.02, 20_000)
    for name, estimator in ws.ESTIMATORS.items():
        if estimator.published_protocol is None:
            assert not follows_protocol(name, ws.fit(x, name, values="weights").options)
            continue
        fit = ws.fit(x, name, values="weights", **estimator.published_protocol)
        assert follows_protocol(name, fit.options)
        assert follows_protocol(name, json.dumps(dict(fit.options), default=list))  # as the scan records it
        moved = ws.fit(x, name, values="weights", **{**estimator.published_protocol, "trim": (0.05, 0.95)})
        assert not follows_protocol(name, moved.options)
        assert estimator.protocol_departures(moved.options) == ("trim",)
    wide = ws.confidence_interval(x, values="weights", trim=(0.05, 0.95))
    with pytest.raises(ValueError, match=r"not comparable \(estimator/options differ"):
        ws.equivalence(wide, kind="o")
    ci = ws.confidence_interval(x, values="weights")
    result = ws.equivalence(ci, kind="q", layout="MHA-separate")
    assert result.band == resolve_band("MHA-separate", "q").bounds and "2 models" in result.band_source
    with pytest.raises(ValueError, match="no published band for MHA-separate ffn_in"):
        ws.equivalence(ci, kind="ffn_in", layout="MHA-separate")
