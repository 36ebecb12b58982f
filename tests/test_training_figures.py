"""The training figures (issue 24 item 4) from a folder of step-N checkpoints whose weights follow a
known law: |w| ~ Weibull(k(layer, step), λ(step)) with λ(t) = λ0 + λ∞ (1 − exp(−t/τ))."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest

from weibull_stats import plotting
from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
from weibull_stats.core.constants import ANCHORS, DEFAULT_ANCHOR
from weibull_stats.inference.published import NOT_COMPARABLE, resolve_band
from weibull_stats.plotting.scan_shape import interval_label
from weibull_stats.plotting.training_base import training_rows
from weibull_stats.report.markdown import write_report
from weibull_stats.scanning.decisions import attention_layout
from weibull_stats.scanning.growth import GROWTH_CURVES, fit_growth
from weibull_stats.workflow import scan

matplotlib.use("Agg")

STEPS = (0, 50, 100, 200, 400, 700, 1000)
LAYERS = 3
LAW = {"λ0": 0.02, "λ∞": 0.03, "τ": 300.0}


def true_scale(step: float) -> float:
    return LAW["λ0"] + LAW["λ∞"] * -np.expm1(-step / LAW["τ"])


def true_shape(layer: int, step: int) -> float:
    return 1.25 - 0.35 * step / STEPS[-1] + 0.06 * layer


def _layer(name: str) -> int | None:
    parts = name.split(".")
    return int(parts[parts.index("layers") + 1]) if "layers" in parts else None


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scan folder (bootstrap intervals, report written) of seven step-N checkpoints."""
    root = tmp_path_factory.mktemp("training")
    rng = np.random.default_rng(7)
    for step in STEPS:
        state, config = synthetic_state("gpt_neox", layers=LAYERS, hidden=48, heads=4, vocab=256, rng=step)
        for name, values in state.items():
            if values.ndim == 2:
                layer = _layer(name)
                shape = true_shape(0 if layer is None else layer, step)
                magnitude = true_scale(step) * (-np.log(rng.random(values.shape))) ** (1 / shape)
                state[name] = (rng.choice([-1.0, 1.0], values.shape) * magnitude).astype(np.float32)
        write_checkpoint(root / "run" / f"step-{step}", state, config)
    scan(str(root / "run"), out=root / "scan", skip_validation=True, bootstrap=39, progress=False)
    return root / "scan"


@pytest.fixture(scope="module")
def frame(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "results.parquet")


def _legend_texts(fig: Any) -> list[str]:
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def _captions(fig: Any) -> str:
    return " ".join(t.get_text() for t in fig.texts)


def test_fit_growth_recovers_known_laws() -> None:
    rng = np.random.default_rng(3)
    t = np.array([0, 25, 50, 100, 200, 400, 800, 1600.0])
    noise = np.exp(rng.normal(0, 0.005, t.size))
    saturating = fit_growth(t, (0.02 + 0.03 * -np.expm1(-t / 300)) * noise)
    assert saturating.curve is GROWTH_CURVES["saturating"] and saturating.converged
    assert saturating.parameters == pytest.approx({"λ0": 0.02, "λ∞": 0.03, "τ": 300}, rel=0.05)
    power = fit_growth(t, (0.01 + 0.002 * t ** 0.5) * noise, curve="power")
    assert power.parameters == pytest.approx({"λ0": 0.01, "a": 0.002, "b": 0.5}, rel=0.08)
    assert power.rms_log_error < 0.01
    assert power(t) == pytest.approx(0.01 + 0.002 * t ** 0.5, rel=0.02)
    assert saturating.at_bound == power.at_bound == ()
    # accelerating growth never levels off: τ runs to its bound, and the fit says so
    accelerating = fit_growth(t, 0.02 * np.exp(t / 1000))
    assert accelerating.at_bound == ("τ",)
    assert accelerating.parameters["τ"] == pytest.approx(1000 * t.max(), rel=0.01)
    # the other law fits the same data worse: the curve named is the one fitted
    assert fit_growth(t, (0.01 + 0.002 * t ** 0.5) * noise).rms_log_error > 2 * power.rms_log_error


def test_fit_growth_refuses_what_it_cannot_fit() -> None:
    with pytest.raises(ValueError, match="at least 4 distinct steps; got 3"):
        fit_growth([0, 10, 20, 20], [1.0, 2.0, 3.0, 3.0])
    with pytest.raises(ValueError, match="`scales` must be finite and positive"):
        fit_growth([0, 1, 2, 3], [1.0, 0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="`curve` must be one of 'saturating', 'power'; got 'linear'"):
        fit_growth([0, 1, 2, 3], [1.0, 2.0, 3.0, 4.0], curve="linear")


def test_heatmap_has_a_panel_per_kind_and_a_column_per_step(frame: pd.DataFrame) -> None:
    fig = plotting.plot_training_heatmap(frame)
    panels = [ax for ax in fig.axes if ax.images]
    kinds = plotting.kind_order(frame["kind"].unique())
    assert [ax.get_title() for ax in panels] == kinds
    for ax, kind in zip(panels, kinds, strict=True):
        assert [t.get_text() for t in ax.get_xticklabels()] == [str(s) for s in STEPS]
        cells = np.ma.filled(ax.images[0].get_array(), np.nan)
        rows = frame[frame["kind"] == kind]
        expected = rows.pivot_table(index=rows["layer"].fillna(-1), columns="step", values="shape")
        if rows["layer"].notna().any():
            assert [t.get_text() for t in ax.get_yticklabels()] == [str(i) for i in range(LAYERS)]
            assert cells == pytest.approx(expected.to_numpy())
            known = np.array([[true_shape(layer, s) for s in STEPS] for layer in range(LAYERS)])
            assert np.abs(cells - known).max() < 0.1  # the fits track the law drawn
        else:  # an embedding or a head: one row, named by its tensor
            assert cells.shape == (1, len(STEPS))
    anchor = ANCHORS[DEFAULT_ANCHOR]
    assert anchor.label in _captions(fig)  # the colour scale's centre
    colorbar = fig.axes[-1]
    assert colorbar.get_ylabel() == "shape k"


def test_medians_draw_intervals_anchor_and_bands_from_the_columns(frame: pd.DataFrame) -> None:
    fig = plotting.plot_training_medians(frame)
    texts = _legend_texts(fig)
    k_label = interval_label(frame, "bootstrap")
    assert "39 resamples" in k_label and "percentile" in k_label and "95%" in k_label
    assert any(k_label in text and "median k" in text for text in texts)
    assert any(interval_label(frame, "bootstrap", "λ") in text and "median λ" in text for text in texts)
    assert ANCHORS[DEFAULT_ANCHOR].label in texts
    layout = attention_layout(frame)
    band = resolve_band(layout, "qkv")
    assert band.found and any(text.startswith("published range") for text in texts)
    ax_k = next(ax for ax in fig.axes if ax.get_title() == "qkv")
    shaded = [p for p in ax_k.patches if p.get_height() > 0]
    assert [p.get_y() for p in shaded] == pytest.approx([band.low])
    assert [p.get_y() + p.get_height() for p in shaded] == pytest.approx([band.high])
    assert "q (no published band)" in [ax.get_title() for ax in fig.axes]  # MHA-merged models publish qkv
    # points: the medians over the kind's matrices; bars: the medians of the interval ends
    rows = frame[frame["kind"] == "qkv"].groupby("step")
    [bars] = [c for c in ax_k.collections if len(c.get_segments()) == len(STEPS)]
    ends = np.array([[segment[0][1], segment[1][1]] for segment in bars.get_segments()])
    assert ends[:, 0] == pytest.approx(rows["bootstrap_shape_low"].median().to_numpy())
    assert ends[:, 1] == pytest.approx(rows["bootstrap_shape_high"].median().to_numpy())
    lam_panels = [ax for ax in fig.axes if ax.get_ylabel() == "median λ"]
    drawn = [line.get_ydata() for ax in lam_panels for line in ax.get_lines()
             if len(line.get_xdata()) == len(STEPS)]
    assert any(np.allclose(y, rows["scale"].median()) for y in drawn)


def test_off_protocol_fits_get_no_anchor_and_no_band(frame: pd.DataFrame) -> None:
    rows = frame.assign(estimator="mle")
    for fig in (plotting.plot_training_medians(rows), plotting.plot_training_depth(rows),
                plotting.plot_training_heatmap(rows)):
        assert NOT_COMPARABLE in _captions(fig)
        assert ANCHORS[DEFAULT_ANCHOR].label not in [*_legend_texts(fig), _captions(fig)]
        assert not any(text.startswith("published range") for text in _legend_texts(fig))


def test_depth_profile_draws_the_first_and_last_step(frame: pd.DataFrame) -> None:
    fig = plotting.plot_training_depth(frame)
    texts = _legend_texts(fig)
    assert f"k at step {STEPS[0]} (first)" in texts and f"k at step {STEPS[-1]} (last)" in texts
    layered = plotting.kind_order(frame.loc[frame["layer"].notna(), "kind"].unique())
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title().split(" (")[0] for ax in panels] == layered
    ax = panels[layered.index("ffn_in")]
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) == LAYERS]
    for step in (STEPS[0], STEPS[-1]):
        want = frame[(frame["kind"] == "ffn_in") & (frame["step"] == step)].sort_values("layer")["shape"]
        assert any(np.allclose(line.get_ydata(), want) for line in lines)
    assert interval_label(frame, "bootstrap") in texts


def test_growth_figure_recovers_the_law_of_the_folder(folder: Path) -> None:
    fig = plotting.plot_training_growth(folder)
    law = GROWTH_CURVES["saturating"]
    assert f"fitted {law.formula}" in _legend_texts(fig) and law.formula in _captions(fig)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert all(ax.get_yscale() == "log" for ax in panels)
    assert set(fig.growth_fits) == {ax.get_title() for ax in panels}
    for ax in panels:
        fit = fig.growth_fits[ax.get_title()]
        assert fit.parameters["τ"] == pytest.approx(LAW["τ"], rel=0.25)
        assert fit.parameters["λ0"] == pytest.approx(LAW["λ0"], rel=0.05)
        assert fit.parameters["λ∞"] == pytest.approx(LAW["λ∞"], rel=0.1)
        assert fit.text in ax.get_legend().get_texts()[0].get_text()
    power = plotting.plot_training_growth(folder, curve="power")
    assert GROWTH_CURVES["power"].formula in _captions(power)


def test_the_folder_its_parquet_and_its_csv_give_the_same_rows(folder: Path, frame: pd.DataFrame) -> None:
    columns = ["step", "kind", "layer", "part", "shape", "scale"]
    expected, _ = training_rows(frame)
    for source in (folder, folder / "results.parquet", folder / "results.csv"):
        rows, estimator = training_rows(source)
        assert estimator == "probability_plot"
        pd.testing.assert_frame_equal(rows[columns].astype(str), expected[columns].astype(str))
    heat = plotting.plot_training_heatmap(folder / "results.csv")
    assert [ax.get_title() for ax in heat.axes if ax.images] == plotting.kind_order(frame["kind"].unique())


def test_plot_training_and_the_report_draw_all_four(folder: Path, tmp_path: Path) -> None:
    figures = plotting.plot_training(folder, out=tmp_path, formats=("png",))
    names = [name for name, _ in plotting.TRAINING_FIGURES]
    assert list(figures) == names
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{name}.png" for name in names)
    report = (folder / "report.md").read_text(encoding="utf-8")
    for name, description in plotting.TRAINING_FIGURES:
        assert f"![{description}]({name}.png)" in report and (folder / f"{name}.png").is_file()


def test_a_table_of_one_step_gets_no_training_figures(frame: pd.DataFrame, tmp_path: Path) -> None:
    one = frame[frame["step"] == STEPS[-1]]
    with pytest.raises(ValueError, match=r"`results` has one step \(1000\): the training figures need rows "
                                         r"at two or more steps"):
        plotting.plot_training(one)
    report = write_report(tmp_path, one, []).read_text(encoding="utf-8")
    assert "training_" not in report and not list(tmp_path.glob("training_*"))


def test_clear_errors(frame: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="`results` lacks the columns step, layer "):
        plotting.plot_training_heatmap(frame.drop(columns=["step", "layer"]))
    with pytest.raises(FileNotFoundError, match=r"results\.parquet: no such file"):
        plotting.plot_training(tmp_path)
    with pytest.raises(ValueError, match="`estimator`: no mle row in `results` "
                                         r"\(estimators: probability_plot\)"):
        training_rows(frame, "mle")
    with pytest.raises(ValueError, match="`results` has no row with a step"):
        plotting.plot_training_medians(frame.assign(step=pd.NA))
    with pytest.raises(ValueError, match="no matrix has a layer"):
        plotting.plot_training_depth(frame[frame["layer"].isna()])
    assert "training_depth" not in plotting.plot_training(frame[frame["layer"].isna()])


def test_a_growth_law_the_data_do_not_pin_says_so() -> None:
    t = np.arange(0, 1001, 100)
    rows = pd.DataFrame({"step": t, "estimator": "mle", "kind": "o", "layer": 0, "tensor": "o.weight",
                         "part": "",
                         "numel": 4096, "shape": 1.2, "scale": 0.02 * np.exp(t / 1000)})
    fig = plotting.plot_training_growth(rows)
    [ax] = [ax for ax in fig.axes if ax.get_visible() and ax.get_title() == "o"]
    assert fig.growth_fits["o"].at_bound == ("τ",)
    assert ax.get_legend().get_texts()[0].get_text().endswith("τ at its bound")
