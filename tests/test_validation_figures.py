"""The validation figures, redrawn from the committed tables: what a reviewer reads off them.

Every figure states its replications (from the table it draws), keeps its legend off the
panels, sets series drawn at one abscissa side by side, and the efficiency figure has Monte
Carlo error bars; GoF and coverage are redrawn like the rest, GoF with one colour per series.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import ErrorbarContainer

from weibull_stats.estimators.registry import declared_estimator
from weibull_stats.validation import coverage_table, figures, studies

RESULTS = Path(__file__).resolve().parents[1] / "validation" / "results"


@pytest.fixture(scope="module")
def drawn(tmp_path_factory) -> dict[str, object]:
    """Every redrawable figure of the committed tables, drawn once (PNG at 40 dpi), by table name."""
    captured: dict[str, object] = {}
    out = tmp_path_factory.mktemp("figures")
    patch = pytest.MonkeyPatch()
    for module in (figures, coverage_table):
        original = module.save_figure

        def keep(fig, out_dir, name, *, _original=original, **kwargs):
            captured[name] = fig
            return _original(fig, out_dir, name, **kwargs)

        patch.setattr(module, "save_figure", keep)
    try:
        figures.redraw_figures(RESULTS, out, formats=["png"], dpi=40)
    finally:
        patch.undo()
    names = {"coverage_by_n": "coverage"}
    found = {table: captured[names.get(table, table)] for table in figures.REDRAWABLE}
    found["coverage_bootstrap"] = captured["coverage_bootstrap"]  # the coverage table's second figure
    return found


def _table(name: str) -> pd.DataFrame:
    return pd.read_csv(RESULTS / f"{name}.csv", comment="#")


def _texts(fig) -> str:
    parts = [t.get_text() for t in fig.texts]
    parts += [fig._suptitle.get_text()] if fig._suptitle is not None else []
    for ax in fig.axes:
        parts.append(ax.get_title())
    for legend in list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
        parts += [t.get_text() for t in legend.get_texts()]
    return "\n".join(parts)


def _stated_replications(text: str) -> set[int]:
    """Every count the text gives as replications per point."""
    counts = {int(m.replace(",", "")) for m in re.findall(r"([\d,]+) replications per point", text)}
    for listing in re.findall(r"replications per point: ([^\n]*)", text):
        counts |= {int(m.replace(",", "")) for m in re.findall(r"([\d,]+) at ", listing)}
    return counts


def test_every_committed_table_has_a_redrawn_figure(drawn) -> None:
    for table in figures.REDRAWABLE:
        assert (RESULTS / f"{table}.csv").is_file(), table
    assert {"gof", "coverage_by_n"} <= set(drawn)


@pytest.mark.parametrize("table", [t for t in figures.REDRAWABLE if t != "step0"])
def test_each_figure_states_the_replications_of_its_table(drawn, table) -> None:
    frame = _table(table)
    if "hits" in frame:  # coverage: the simulated rows
        frame = frame[frame["hits"].notna()]
    if table == "histogram_sigma":  # the exact sweep has reps 0 where nothing was simulated
        frame = frame[frame["reps"] > 0]
    text = _texts(drawn[table])
    if table == "coverage_by_n":  # asymptotic and bootstrap rows are drawn in two figures
        text += "\n" + _texts(drawn["coverage_bootstrap"])
    assert _stated_replications(text) == {int(r) for r in frame["reps"]}


def test_step0_states_its_matrices_one_fit_each(drawn) -> None:
    text = _texts(drawn["step0"])
    assert f"{len(_table('step0')):,} freshly initialised matrices, one fit each" in text


@pytest.mark.parametrize("table", [*figures.REDRAWABLE, "coverage_bootstrap"])
def test_no_legend_covers_a_panel(drawn, table) -> None:
    fig = drawn[table]
    FigureCanvasAgg(fig)  # saved and closed: a canvas to measure on, laid out again as saved
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    assert legends, table
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            if ax.get_visible():
                assert not box.overlaps(ax.get_window_extent(renderer)), (table, ax.get_title())


def _series(ax) -> list[np.ndarray]:
    """Display coordinates of the points of each error-bar series of ``ax``."""
    out = []
    for container in ax.containers:
        if isinstance(container, ErrorbarContainer):
            line = container.lines[0]
            xy = np.column_stack([line.get_xdata(), line.get_ydata()]).astype(float)
            out.append(ax.transData.transform(xy))
    return out


@pytest.mark.parametrize("table", ["confirmation", "finite_n_bias", "efficiency", "gof", "coverage_by_n"])
def test_series_at_one_abscissa_are_side_by_side(drawn, table) -> None:
    """No two points of different series share a column: they are at least a marker apart."""
    fig = drawn[table]
    marker_px = 3.0 * fig.dpi / 72.0
    checked = 0
    for ax in fig.axes:
        series = _series(ax)
        for i, a in enumerate(series):
            for b in series[i + 1:]:
                gaps = np.abs(a[:, None, 0] - b[None, :, 0])
                assert gaps.min() >= marker_px, (table, ax.get_title())
                checked += 1
    assert checked


def test_gof_has_one_colour_per_series_and_per_statistic(drawn) -> None:
    fig = drawn["gof"]
    frame = _table("gof")
    panels = [ax for ax in fig.axes if _series(ax)]
    assert len(panels) == frame["law"].nunique()
    colour_of: dict[str, str] = {}
    for ax in panels:
        containers = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        colours = [matplotlib.colors.to_hex(c.lines[0].get_color()) for c in containers]
        assert len(containers) == frame["statistic"].nunique()
        assert len(set(colours)) == len(colours), ax.get_title()  # no two series share a colour
        for container, colour in zip(containers, colours, strict=True):
            assert colour_of.setdefault(container.get_label(), colour) == colour  # one colour per statistic


def test_efficiency_bars_are_two_monte_carlo_se_of_the_table(drawn) -> None:
    fig = drawn["efficiency"]
    frame = _table("efficiency")
    others = frame[frame["estimator"] != declared_estimator("maximum_likelihood").name]
    assert others["efficiency_mc_se_shape"].gt(0).all()
    halves = []
    for ax in fig.axes:
        for container in ax.containers:
            if isinstance(container, ErrorbarContainer):
                assert container.has_yerr
                segments = container[2][0].get_segments()
                halves += [abs(s[1][1] - s[0][1]) / 2 for s in segments]
    assert sorted(halves) == pytest.approx(sorted(2 * others["efficiency_mc_se_shape"]), rel=1e-9)


def test_efficiency_se_matches_the_spread_over_independent_studies() -> None:
    """The delta-method SE of MSE(a)/MSE(b) from one study of paired replicates is the
    standard deviation of that ratio over many independent studies."""
    rng = np.random.default_rng(11)
    reps, studies_count = 300, 2000
    common = rng.standard_normal((studies_count, reps))
    a = common + 0.3 * rng.standard_normal((studies_count, reps))  # correlated, like common samples
    b = 1.4 * common + 0.8 * rng.standard_normal((studies_count, reps))
    ratios = (a**2).mean(axis=1) / (b**2).mean(axis=1)
    se = np.array([studies.efficiency_mc_se(a[k], b[k], 0.0) for k in range(studies_count)])
    assert np.median(se) == pytest.approx(ratios.std(ddof=1), rel=0.08)


def test_the_command_redraws_gof_with_a_pdf_and_names_a_bad_folder(tmp_path, capsys) -> None:
    shutil.copy(RESULTS / "gof.csv", tmp_path / "gof.csv")
    assert figures.main([str(tmp_path)]) == 0
    assert (tmp_path / "gof.png").stat().st_size and (tmp_path / "gof.pdf").read_bytes()[:5] == b"%PDF-"
    assert "gof.png" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        figures.main([str(tmp_path / "missing")])
    assert "RESULTS:" in capsys.readouterr().err
