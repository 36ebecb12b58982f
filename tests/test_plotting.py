"""Plots: each returns what it drew on, without error, under the Agg backend."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes

import weibull_stats as ws
from weibull_stats import plotting


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def weights() -> np.ndarray:
    return np.random.default_rng(0).normal(0.0, 0.02, 3000)


def test_probability_plot_with_line_window_and_band(weights: np.ndarray) -> None:
    fit = ws.fit_probability_plot(weights, values="weights")
    boot = ws.bootstrap(weights, n_resamples=60, rng=0, values="weights", workers=1)
    ax = fit.plot(weights, bootstrap=boot)
    assert isinstance(ax, Axes)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("trim window" in t for t in labels) and any("bootstrap band" in t for t in labels)


def test_probability_plot_of_a_fit_without_trim_on_given_axes(weights: np.ndarray) -> None:
    fit = ws.fit_mle(np.abs(weights))
    _, ax = plt.subplots()
    assert plotting.plot_probability(np.abs(weights), fit, ax=ax, max_points=50) is ax


def test_bootstrap_distribution_plot(weights: np.ndarray) -> None:
    boot = ws.bootstrap(weights, "mle", n_resamples=40, rng=1, values="weights", workers=1)
    axes = boot.plot()
    assert axes.shape == (2,) and all(isinstance(a, Axes) for a in axes)


def test_null_distribution_plot(weights: np.ndarray) -> None:
    gof = ws.goodness_of_fit(np.abs(weights), n_mc_samples=19, rng=2, workers=1)
    assert isinstance(gof.plot(), Axes)
    assert isinstance(ws.goodness_of_fit(np.abs(weights), n_mc_samples=0).plot(), Axes)
