"""Scans without layers, and the anchor a scan measures k − k0 against (issue 20, item 9).

A plain ``torch.nn.Module`` or a single file without layer names has no matrix named by
layer: the report draws k by matrix (tensor names) instead of an empty by-layer figure and
says why it has no model-level summary. The anchor is a scan setting (``halfnormal`` or
``uniform``), recorded in run.json, used by the report's k − k0 and the figures' anchor line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import weibull_stats as ws
from weibull_stats import plotting
from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
from weibull_stats.cli import main
from weibull_stats.core.constants import ANCHORS

matplotlib.use("Agg")
torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIBULL_STATS_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def module_scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """The issue's module: two kaiming-uniform nn.Linear layers, scanned with the |Uniform| anchor."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32))
    out = tmp_path_factory.mktemp("module") / "out"
    frame = ws.scan(model, skip_validation=True, progress=False, out=out, anchor="uniform")
    return out, frame


def _section(report: str, title: str) -> str:
    start = report.index(f"## {title}")
    following = report.find("\n## ", start + 1)
    return report[start:] if following < 0 else report[start:following]


def _legend(fig) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def test_a_module_without_layers_gets_k_by_matrix(module_scan) -> None:
    out, frame = module_scan
    assert frame["layer"].isna().all() and len(frame) == 2
    assert not (out / "shape_by_layer.png").exists()
    assert (out / "shape_by_matrix.png").read_bytes()[:4] == b"\x89PNG"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "![k by matrix](shape_by_matrix.png)" in report and "shape_by_layer" not in report
    assert "shape_by_matrix.png" in json.loads((out / "manifest.json").read_text())["files"]
    fig = plotting.plot_scan_shape_by_matrix(frame)
    (panel,) = [ax for ax in fig.axes if ax.get_visible()]
    assert [t.get_text() for t in panel.get_xticklabels()] == frame["tensor"].tolist()
    (container,) = panel.containers  # the points drawn are the table's k, with their intervals
    np.testing.assert_allclose(container.lines[0].get_ydata(), frame["shape"])
    assert "checkpoint Sequential" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="no probability_plot row of `frame` has a layer; "
                                         "plot_scan_shape_by_matrix draws k by matrix"):
        plotting.plot_scan_shape_by_layer(frame)


def test_a_model_without_classes_says_so_instead_of_an_empty_summary(module_scan) -> None:
    out, _ = module_scan
    summary = _section((out / "report.md").read_text(encoding="utf-8"), "Model-level summary")
    assert "No model-level summary: none of the 2 matrices of checkpoint `Sequential`" in summary
    assert "no tensor name gives a layer" in summary and "(kinds: other)" in summary
    assert "|" not in summary and "The paper's classes:" not in summary


def test_a_single_file_without_layer_names(tmp_path: Path) -> None:
    path = tmp_path / "w.npy"
    np.save(path, np.random.default_rng(0).normal(0.0, 0.02, (48, 32)))
    out = tmp_path / "out"
    assert main(["scan", str(path), "--skip-validation", "--no-progress", "--out", str(out)]) == 0
    report = (out / "report.md").read_text(encoding="utf-8")
    assert (out / "shape_by_matrix.png").is_file() and not (out / "shape_by_layer.png").exists()
    assert "No model-level summary: none of the 1 matrices" in report


def test_the_uniform_anchor_is_recorded_and_measures_k_minus_k0(module_scan) -> None:
    out, frame = module_scan
    assert json.loads((out / "run.json").read_text())["settings"]["anchor"] == "uniform"
    report = (out / "report.md").read_text(encoding="utf-8")
    uniform = ANCHORS["uniform"]
    assert "Anchor (|Uniform|, `--anchor uniform`; `--anchor halfnormal` for HalfNormal)" in report
    assert f"k0 = {uniform.shape:.10f} and λ0 = {uniform.scale:.10f}·a" in report
    flags = next(line for line in report.splitlines() if line.startswith("- Settings as"))
    assert "--anchor uniform" in flags
    row = next(line for line in report.splitlines() if line.startswith("| other | 2 |"))
    difference = float(np.median(frame["shape"])) - ws.UNIFORM_ANCHOR_SHAPE
    assert row.split(" | ")[4] == f"{difference:+.4f}"
    # kaiming-uniform weights sit near the |Uniform| anchor, far from the HalfNormal one
    assert abs(difference) < 0.05 < abs(float(np.median(frame["shape"])) - ws.HALFNORMAL_ANCHOR_SHAPE)
    fig = plotting.plot_scan_shape_by_matrix(frame, anchor="uniform")
    assert uniform.label in _legend(fig) and uniform.label == "|Uniform| init anchor k0 = 1.3751"
    (panel,) = [ax for ax in fig.axes if ax.get_visible()]
    assert [line.get_ydata()[0] for line in panel.lines if line.get_linestyle() == "--"] == [uniform.shape]


def test_the_anchor_setting_rebuilds_and_defaults(module_scan, tmp_path: Path) -> None:
    out, _ = module_scan
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("results.parquet", "run.json", "errors.csv", "skipped.csv", "manifest.json"):
        (copy / name).write_bytes((out / name).read_bytes())
    assert main(["report", str(copy)]) == 0  # the anchor comes back from run.json
    rebuilt, written = ((folder / "report.md").read_text(encoding="utf-8") for folder in (copy, out))
    # (the module is not there to re-read for the probability plots; the rest is the same)
    assert _section(rebuilt, "Per-kind medians") == _section(written, "Per-kind medians")
    assert "--anchor uniform`" in rebuilt
    assert ws.scan.__kwdefaults__["anchor"] == "halfnormal"
    with pytest.raises(ValueError, match=r"`anchor` must be one of 'halfnormal', 'uniform'; got 'gauss'"):
        ws.scan("somewhere", anchor="gauss")


def test_the_cli_anchor_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["scan", "some/checkpoint", "--anchor", "gauss"])
    assert exit_info.value.code == 2
    assert re.search(r"--anchor: invalid choice: 'gauss' \(choose from '?halfnormal'?, '?uniform'?\)",
                     capsys.readouterr().err)


def test_figures_draw_the_chosen_anchor_with_its_law(tmp_path: Path) -> None:
    state, config = synthetic_state("llama", layers=2, hidden=16, heads=2)
    frame = ws.scan(write_checkpoint(tmp_path / "ckpt", state, config), skip_validation=True, progress=False)
    for name, anchor in ANCHORS.items():
        labels = _legend(plotting.plot_scan_shape_by_layer(frame, anchor=name))
        assert anchor.label in labels
        assert not any(other.label in labels for other in ANCHORS.values() if other is not anchor)
    steps = pd.concat([frame.assign(step=0), frame.assign(step=10, checkpoint="later")])
    fig = plotting.plot_scan_trajectory(steps, anchor="uniform")
    assert ANCHORS["uniform"].label in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert not any("anchor" in t for t in _legend(plotting.plot_scan_shape_by_layer(frame, anchor=None)))
    with pytest.raises(ValueError, match=r"must be one of 'halfnormal', 'uniform' or None; got 1\.2"):
        plotting.plot_scan_shape_by_layer(frame, anchor=1.2)  # type: ignore[arg-type]
