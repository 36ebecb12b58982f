"""Plots: every plot method returns a Figure that saves as PDF, under the Agg backend."""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

import weibull_stats as ws
from weibull_stats import plotting
from weibull_stats.estimators.probability_plot import plotting_positions
from weibull_stats.inference.published import resolve_band
from weibull_stats.plotting._base import focus_range, order_statistic_band, order_statistic_z
from weibull_stats.weibull.law import plot_ordinates


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def weights() -> np.ndarray:
    return np.random.default_rng(0).normal(0.0, 0.02, 3000)


def _pdf_ok(fig: Figure, tmp_path: Path, name: str) -> None:
    (path,) = plotting.save_figure(fig, tmp_path / name, formats=("pdf",))
    assert path.read_bytes()[:5] == b"%PDF-"


def _legend(ax) -> list[str]:
    """The entries of ``ax``'s legend, or of the panel hung under it (sharing its x-axis)."""
    legends = [other.get_legend() for other in ax.get_shared_x_axes().get_siblings(ax) if other.get_legend()]
    assert len(legends) == 1
    return [t.get_text() for t in legends[0].get_texts()]


@pytest.mark.parametrize("kind", plotting.PLOT_KINDS)
def test_every_fit_plot_kind_returns_a_figure_that_saves_as_pdf(weights, tmp_path, kind) -> None:
    fit = ws.fit_probability_plot(weights, values="weights")
    fig = fit.plot(weights, kind=kind)
    assert isinstance(fig, Figure)
    _pdf_ok(fig, tmp_path, kind)


def test_bootstrap_and_gof_plots_return_figures_that_save_as_pdf(weights, tmp_path) -> None:
    boot = ws.bootstrap(weights, "mle", n_resamples=40, rng=1, values="weights", workers=1)
    fig = boot.plot()
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert any("95% percentile interval" in t for t in _legend(fig.axes[0]))
    _pdf_ok(fig, tmp_path, "boot")
    gof = ws.goodness_of_fit(np.abs(weights), n_mc_samples=19, rng=2, workers=1)
    _pdf_ok(gof.plot(), tmp_path, "gof")
    assert isinstance(ws.goodness_of_fit(np.abs(weights), n_mc_samples=0).plot(), Figure)


def test_plots_on_given_axes_return_that_axes_figure(weights) -> None:
    fit = ws.fit_mle(np.abs(weights))
    fig, ax = plt.subplots()
    assert plotting.plot_probability(np.abs(weights), fit, ax=ax, max_points=50) is fig
    fig2, axes = plt.subplots(1, 2)
    boot = ws.bootstrap(weights, "mle", n_resamples=20, rng=1, values="weights", workers=1)
    assert boot.plot(ax=axes) is fig2
    with pytest.raises(ValueError, match="`kind` must be one of"):
        fit.plot(np.abs(weights), kind="violin")
    with pytest.raises(ValueError, match="pass no `ax`"):
        fit.plot(np.abs(weights), kind="diagnostics", ax=ax)


def test_probability_plot_axis_window_band_and_legend(weights) -> None:
    fit = ws.fit_probability_plot(weights, values="weights")
    boot = ws.bootstrap(weights, n_resamples=60, rng=0, values="weights", workers=1)
    ax = fit.plot(weights, bootstrap=boot).axes[0]
    labels = _legend(ax)
    assert any("fitted window" in t for t in labels) and any("bootstrap band" in t for t in labels)
    assert any("pointwise band (order statistics)" in t for t in labels)
    assert ax.get_xscale() == "log"
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert "10%" in ticks and "50%" in ticks and "90%" in ticks
    # percent labels sit at ln(-ln(1 - F))
    located = dict(zip(ticks, ax.get_yticks(), strict=True))
    assert located["50%"] == pytest.approx(float(plot_ordinates(np.array([0.5]))[0]))


def test_a_margin_focuses_so_tiny_weights_do_not_squeeze_the_window(weights) -> None:
    x = np.concatenate([np.abs(weights), np.full(5, 1e-8)])  # ln|w| ~ -18
    fit = ws.fit_probability_plot(x)
    ax = fit.plot(x, margin=0.5).axes[0]
    low, high = ax.get_xlim()
    window_low = np.quantile(x, 0.1)
    assert low > 1e-5 and np.log(window_low / low) < np.log(high / low) / 2
    assert any("outside the x-range" in t for t in _legend(ax))


def test_the_probability_plot_draws_the_whole_lower_tail(weights) -> None:
    x = np.concatenate([np.abs(weights), np.full(5, 1e-8)])
    fit = ws.fit_probability_plot(x)
    ax = fit.plot(x).axes[0]
    smallest = plot_ordinates(plotting_positions(np.array([1]), x.size, "hazen"))[0]
    bottom, top = ax.get_ylim()
    assert bottom <= smallest < top
    assert ax.get_xlim()[0] <= 1e-8
    drawn = np.concatenate([line.get_xdata() for line in ax.get_lines() if line.get_marker() == "."])
    assert drawn.min() == 1e-8 and drawn.max() == x.max()
    assert not any("outside the x-range" in t for t in _legend(ax))


def test_the_band_is_visible_at_a_million_points() -> None:
    x = np.random.default_rng(5).weibull(1.3, 1_000_000) * 0.02
    fit = ws.fit_mle(x)
    fig = fit.plot(x)
    main, scores = fig.axes[0], fig.axes[1]
    fig.canvas.draw()
    band = [p for p in main.collections if "pointwise band" in str(p.get_label())]
    assert len(band) == 1 and band[0].get_paths()[0].vertices.size
    strip = [p for p in scores.patches if "the band is |z| ≤ 1.96" in str(p.get_label())]
    assert len(strip) == 1
    extent = strip[0].get_window_extent()
    # the 95% strip |z| <= 1.96 is drawn at least a fifth of the panel tall
    assert extent.height >= 0.2 * scores.get_window_extent().height
    low, high = scores.transData.inverted().transform(extent.get_points())[:, 1]
    assert (low, high) == pytest.approx((-stats.norm.ppf(0.975), stats.norm.ppf(0.975)), abs=1e-6)
    # the percent labels of the tall probability axis do not overlap one another
    boxes = sorted((t.get_window_extent() for t in main.get_yticklabels() if t.get_text()),
                   key=lambda b: b.y0)
    assert len(boxes) >= 4 and all(b.y0 >= a.y1 for a, b in itertools.pairwise(boxes))


def test_order_statistic_scores_are_standard_normal_and_leave_the_strip_with_the_band() -> None:
    n, ranks = 40, np.array([1, 8, 20, 40])
    law = stats.weibull_min(c=1.5, scale=2.0)
    draws = np.sort(law.rvs((5000, n), random_state=7), axis=1)[:, ranks - 1]
    z = np.array([order_statistic_z(row, ranks, n, 1.5, 2.0) for row in draws])
    assert np.abs(z.mean(axis=0)).max() < 4 / np.sqrt(5000)
    assert np.abs(z.std(axis=0) - 1).max() < 0.05
    low, high = order_statistic_band(ranks, n, 1.5, 2.0, 0.95)
    outside = (draws < low) | (draws > high)
    assert np.array_equal(outside, np.abs(z) > stats.norm.ppf(0.975))


def test_focus_range_widens_the_window_by_the_margin() -> None:
    data = np.geomspace(1e-6, 1.0, 1001)
    low, high = focus_range(data, (0.1, 0.9), 0.1)
    width = np.log(data[900] / data[100])
    assert np.log(data[100] / low) == pytest.approx(0.1 * width)
    assert np.log(high / data[900]) == pytest.approx(0.1 * width)
    assert focus_range(data, (0.1, 0.9), 0.5) == (data[0], data[-1])  # never beyond the data


def test_order_statistic_band_matches_simulation() -> None:
    """The pointwise band holds X_(i) with the stated probability (Beta(i, n-i+1) law)."""
    n, ranks = 50, np.array([1, 10, 25, 50])
    low, high = order_statistic_band(ranks, n, 1.5, 2.0, 0.9)
    draws = np.sort(stats.weibull_min(c=1.5, scale=2.0).rvs((4000, n), random_state=3), axis=1)
    inside = ((draws[:, ranks - 1] >= low) & (draws[:, ranks - 1] <= high)).mean(axis=0)
    assert np.all(np.abs(inside - 0.9) < 4 * np.sqrt(0.09 / 4000))


def test_gof_far_outside_uses_a_log_axis_and_states_the_floor() -> None:
    x = np.abs(np.random.default_rng(4).normal(size=20000))
    gof = ws.goodness_of_fit(x, n_mc_samples=19, rng=0, workers=1)
    ax = gof.plot().axes[0]
    assert ax.get_xscale() == "log"
    low, high = ax.get_xlim()
    assert low < gof.null_distribution.min() and high > gof.statistic
    assert "p ≤ 1/20 (M = 19)" in ax.get_title()


PROTOCOL_OPTIONS = '{"direction": "y_on_x", "plotting_position": "hazen", "trim": [0.1, 0.9]}'


def _scan_frame() -> pd.DataFrame:
    rows = [dict(estimator="probability_plot", checkpoint="c", step=step, kind=kind, layer=layer, part="",
                 numel=64, shape=k + 0.01 * layer, shape_low=k - 0.01, shape_high=k + 0.02 + 0.01 * layer,
                 scale=0.02, confidence_level=0.95, interval_method="asymptotic", n_resamples=0,
                 bootstrap_method="", bootstrap_shape_low=np.nan, bootstrap_shape_high=np.nan,
                 options=PROTOCOL_OPTIONS)
            for step in (0, 10) for kind, k in (("q", 0.85), ("o", 1.19)) for layer in range(3)]
    return pd.DataFrame(rows)


def test_shape_by_layer_shares_y_and_draws_anchor_bands_and_explains_bars(tmp_path) -> None:
    fig = plotting.plot_scan_shape_by_layer(_scan_frame())
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len({ax.get_ylim() for ax in panels}) == 1
    bottom, top = panels[0].get_ylim()
    q, o = (resolve_band("MHA-separate", kind) for kind in ("q", "o"))
    assert bottom < q.low and top > o.high and bottom < ws.HALFNORMAL_ANCHOR_SHAPE < top
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("95% asymptotic (Wald) interval of k" in t for t in labels)
    assert not any("bootstrap" in t for t in labels)
    assert any("anchor k0 = 1.2054" in t for t in labels)
    assert "published range of per-model median k, MHA-separate (2 models)" in labels
    assert any("CC BY 4.0" in t.get_text() for t in fig.texts)
    _pdf_ok(fig, tmp_path, "shape")
    _pdf_ok(plotting.plot_scan_trajectory(_scan_frame()), tmp_path, "trajectory")


def test_scan_probability_panels_share_the_probability_range(weights) -> None:
    x = np.abs(weights)
    samples = [("a", x, 1.2, 0.018), ("b", x[:500] * 3, 1.1, 0.05)]
    fig = plotting.plot_scan_probability(samples)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len({ax.get_ylim() for ax in panels}) == 1
    assert all(ax.get_xscale() == "log" for ax in panels)


def test_save_figure_writes_each_format_and_checks_them(tmp_path) -> None:
    fig, ax = plt.subplots()
    ax.plot([1, 2], [1, 2])
    paths = plotting.save_figure(fig, tmp_path / "f.png", formats=("png", "pdf", "svg"), dpi=50,
                                 close=False, description="seed=1")
    assert [p.name for p in paths] == ["f.png", "f.pdf", "f.svg"]
    assert b"seed=1" in paths[2].read_bytes()
    again = plotting.save_figure(fig, tmp_path / "g", formats=("pdf",), description="seed=1")
    assert again[0].read_bytes() == paths[1].read_bytes()  # no creation date: same bytes
    with pytest.raises(ValueError, match="`formats`"):
        plotting.save_figure(fig, tmp_path / "h", formats=("jpeg",))
