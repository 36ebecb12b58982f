"""The report's tables: the paper's classes, the interval of the median k, the verdict
against the published bands, p-values at their floor, and the report showing what was
computed."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

import weibull_stats as ws
from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
from weibull_stats.cli import main
from weibull_stats.core.formatting import pvalue_text
from weibull_stats.inference.published import published_table
from weibull_stats.report.tables import (
    attention_layout,
    class_bands,
    class_rows,
    class_summary,
    matrix_rows,
    median_interval,
    verdict,
)


def _frame(rows: list[tuple[str, str, str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["tensor", "part", "kind", "numel", "shape"])


def test_a_fused_qkv_counts_once_and_fused_gate_up_parts_count():
    frame = _frame([
        ("l0.qkv", "", "qkv", 300, 1.1), ("l0.qkv", "q", "q", 100, 1.0), ("l0.qkv", "k", "k", 100, 1.0),
        ("l0.qkv", "v", "v", 100, 1.0), ("l0.gate_up", "", "other", 200, 1.3),
        ("l0.gate_up", "up", "up", 100, 1.2), ("l0.gate_up", "gate", "gate", 100, 1.25),
        ("l0.o", "", "o", 100, 1.19),
    ])
    assert class_rows(frame, ("q", "k", "qkv"))["tensor"].tolist() == ["l0.qkv"]
    transmission = class_rows(frame, ("o", "ffn_in", "ffn_out", "gate", "up", "down"))
    assert transmission["part"].tolist() == ["up", "gate", ""]


def test_attention_layout_from_the_table():
    assert attention_layout(_frame([("a", "", "qkv", 3, 1.0)])) == "MHA-merged"
    assert attention_layout(_frame([("q", "", "q", 64, 1.0), ("k", "", "k", 16, 1.0)])) == "GQA"
    assert attention_layout(_frame([("q", "", "q", 64, 1.0), ("k", "", "k", 64, 1.0)])) == "MHA-separate"


@pytest.mark.parametrize("n", [6, 9, 20, 37, 100])
def test_the_median_interval_covers_at_least_its_level(n):
    # the interval is [x_(r), x_(s)]; for continuous data it covers the population median
    # when r <= B <= s - 1, B ~ Binomial(n, 1/2) the count below the median: exact coverage
    x = np.arange(1.0, n + 1)
    low, high = median_interval(x, 0.90)
    r, s = int(low), int(high)
    coverage = binom.cdf(s - 1, n, 0.5) - binom.cdf(r - 1, n, 0.5)
    assert coverage >= 0.90
    # and it is the shortest such pair of symmetric ranks: one rank narrower falls below
    if s - r > 2:
        assert binom.cdf(s - 2, n, 0.5) - binom.cdf(r, n, 0.5) < 0.90


def test_too_few_matrices_give_no_interval_and_an_undecided_verdict():
    low, high = median_interval(np.array([1.2]))
    assert math.isnan(low) and math.isnan(high)
    assert verdict((low, high), (1.1, 1.3)) == "undecided"
    assert verdict((1.0, 1.2), None) == ""


def test_class_bands_are_the_published_range_over_models_and_kinds():
    table = published_table()
    rows = _frame([("q", "", "q", 64, 1.0), ("k", "", "k", 16, 1.0), ("o", "", "o", 64, 1.0),
                   ("g", "", "gate", 64, 1.0), ("u", "", "up", 64, 1.0), ("d", "", "down", 64, 1.0)])
    bands = class_bands(rows, "GQA")
    gqa = table[table["arch"].astype(str).str.startswith("GQA")]
    values = gqa[["k_median_q", "k_median_k"]].to_numpy(dtype=float)
    assert bands["selection"].bounds == (np.nanmin(values), np.nanmax(values))
    assert bands["selection"].count == len(gqa)
    # DESIGN.md quotes the grouped-query selection band as [1.10, 1.16]
    assert round(bands["selection"].low, 2) == 1.10 and round(bands["selection"].high, 2) == 1.16


def test_a_class_band_is_over_the_kinds_the_model_has_and_never_borrowed():
    """MiniLM's layout (separate Q/K/V) beside a GeLU FFN: the published separate-Q/K/V models
    (OLMo) have gate/up/down, not ffn_in/ffn_out, so its transmission class has no band, and
    its selection band is OLMo's q and k only."""
    table = published_table()
    rows = _frame([("q", "", "q", 64, 1.19), ("k", "", "k", 64, 1.18), ("o", "", "o", 64, 1.13),
                   ("i", "", "ffn_in", 256, 1.16), ("x", "", "ffn_out", 256, 1.15)])
    assert attention_layout(rows) == "MHA-separate"
    bands = class_bands(rows, "MHA-separate")
    olmo = table[table["arch"] == "MHA-separate"]
    values = olmo[["k_median_q", "k_median_k"]].to_numpy(dtype=float)
    assert bands["selection"].bounds == (values.min(), values.max())
    assert bands["selection"].models == tuple(olmo["entry_id"])
    assert not bands["transmission"].found
    assert bands["transmission"].text == "no published band for MHA-separate ffn_in, ffn_out"
    summary = class_summary(rows, bands).set_index("class")
    assert summary.loc["transmission", "verdict"] == "" and summary.loc["transmission", "band_models"] == 0
    text = f"[{values.min():.3f}, {values.max():.3f}] (MHA-separate, {len(olmo)} models)"
    assert summary.loc["selection", "band"] == bands["selection"].text == text


def test_pvalue_text_writes_the_floor():
    assert pvalue_text(1 / 1000, 999) == "≤ 1/1000"
    assert pvalue_text(2 / 1000, 999) == "0.002"
    assert pvalue_text(None, 0) == ""


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("report")
    state, config = synthetic_state("llama", layers=3, hidden=32, heads=4, kv_heads=2, vocab=40)
    path = write_checkpoint(folder / "ckpt", state, config, dtype="BF16")
    out = folder / "out"
    frame = ws.scan(path, estimators=["probability_plot", "mle"], gof=True, gof_samples=19, bootstrap=40,
                    out=out, skip_validation=True, progress=False, matrix_plots=True)
    return out, frame


def test_the_report_shows_every_computed_column(scanned):
    out, frame = scanned
    report = (out / "report.md").read_text()
    assert "## Model-level summary" in report and "| selection | q, k |" in report
    assert "published GQA" in report
    pp = frame[frame["estimator"] == "probability_plot"]
    expected = class_summary(pp, class_bands(pp, "GQA"))
    selection = expected[expected["class"] == "selection"].iloc[0]
    assert f"| {selection['k_median']:.4f} |" in report and f"| {selection['verdict']} |" in report
    # GoF statistic and p-value per matrix, the floor written as such
    assert "| AD statistic | p-value |" in report
    floor_rows = int(np.isclose(frame["gof_pvalue"], 1 / 20).sum())
    assert report.count("≤ 1/20 |") >= floor_rows > 0
    # intervals with their method; every estimator's figures
    assert "k interval: 95% asymptotic" in report
    assert "k bootstrap: 95% percentile bootstrap (40 resamples)." in report
    assert "depart from the Weibull law at false discovery rate 0.05" in report
    assert (out / "shape_by_layer.png").is_file() and (out / "shape_by_layer_mle.png").is_file()
    assert "shape_by_layer_mle.png" in report and "probability_plots_mle.png" in report
    assert "nan" not in report


def test_the_cli_summary_leaves_blanks_not_nan(tmp_path, capsys):
    state, config = synthetic_state("llama", layers=1, hidden=16, heads=2, vocab=20)
    path = write_checkpoint(tmp_path / "c", state, config)
    out_dir = str(tmp_path / "o")
    assert main(["scan", str(path), "--skip-validation", "--out", out_dir, "--intervals", "none"]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out and "median CI width" not in out
    assert main(["scan", str(path), "--skip-validation", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out and "median CI width" in out


def test_the_every_matrix_table_keeps_the_significant_zeros_of_lambda():
    # issue 20, item 13: five significant digits of λ, a trailing zero among them printed
    rows = pd.DataFrame({"tensor": ["w"], "part": [""], "layer": [pd.NA], "kind": ["other"], "shape": [1.2],
                         "scale": [0.0175], "interval_method": [""], "bootstrap_method": [""],
                         "gof_samples": [0], "r2": [np.nan], "equivalence": [""], "zeros": [0]})
    headers, cells = matrix_rows(rows)
    assert cells[0][headers.index("λ")] == "0.017500"
