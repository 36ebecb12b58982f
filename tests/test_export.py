"""Tests of the notebook and paper helpers: exact text from a known small input."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import weibull_stats as ws
from weibull_stats.report.export import results_table, to_latex, to_markdown


def make_fits() -> list[ws.WeibullFit]:
    return [
        ws.WeibullFit(
            shape=1.2054343, scale=0.01774974, estimator="probability_plot", n=1_000_000,
            n_used=800_000, package_version="0.1.0",
        ),
        ws.WeibullFit(
            shape=1.2625, scale=0.0181234, estimator="mle", n=1_000_000, n_used=1_000_000,
            package_version="0.1.0",
        ),
    ]


def make_table() -> pd.DataFrame:
    return results_table(
        make_fits(),
        labels=["layer_0.ffn_in", "layer_0.ffn_in"],
        intervals=[
            {"shape": (1.2031, 1.20771), "scale": (0.0177, 0.0178)},
            None,
        ],
        seed=42,
        confidence_level=0.95,
        interval_method="bootstrap bca",
    )


def test_results_table_columns_and_values() -> None:
    table = make_table()
    assert list(table.columns) == [
        "label", "estimator", "shape", "scale", "n", "n_used", "shape_low", "shape_high",
        "scale_low", "scale_high", "confidence_level", "interval_method", "seed", "package_version",
    ]
    assert table.loc[0, "shape_low"] == 1.2031
    assert math.isnan(table.loc[1, "shape_low"])
    assert table["seed"].tolist() == [42, 42]
    assert table.loc[1, "n_used"] == 1_000_000


def test_results_table_without_intervals_has_no_interval_columns() -> None:
    table = results_table(make_fits())
    assert list(table.columns) == [
        "estimator", "shape", "scale", "n", "n_used", "seed", "package_version",
    ]
    assert table["seed"].isna().all()


def test_markdown_exact() -> None:
    expected = (
        "| label | estimator | shape [95% CI] | scale [95% CI] | n | seed |\n"
        "|:--|:--|--:|--:|--:|--:|\n"
        "| layer_0.ffn_in | probability_plot | 1.2054 [1.2031, 1.2077] | 0.017750 [0.017700, 0.017800] "
        "| 1000000 | 42 |\n"
        "| layer_0.ffn_in | mle | 1.2625 | 0.018123 | 1000000 | 42 |\n"
        "\n"
        "Fitted with weibull-stats 0.1.0. Intervals: 95% (bootstrap bca)."
    )
    assert to_markdown(make_table()) == expected


def test_latex_exact() -> None:
    expected = "\n".join(
        [
            r"\begin{table}",
            r"\centering",
            r"\caption{Fits of one matrix.}",
            r"\label{tab:fits}",
            r"\begin{tabular}{llrrrr}",
            r"\toprule",
            r"label & estimator & shape [95\% CI] & scale [95\% CI] & n & seed \\",
            r"\midrule",
            r"layer\_0.ffn\_in & probability\_plot & 1.2054 [1.2031, 1.2077] & 0.017750 [0.017700, 0.017800]"
            r" & 1000000 & 42 \\",
            r"layer\_0.ffn\_in & mle & 1.2625 & 0.018123 & 1000000 & 42 \\",
            r"\bottomrule",
            r"\end{tabular}",
            r"\par\smallskip{\footnotesize Fitted with weibull-stats 0.1.0."
            r" Intervals: 95\% (bootstrap bca).}",
            r"\end{table}",
        ]
    )
    assert to_latex(make_table(), caption="Fits of one matrix.", label="tab:fits") == expected


def test_digits_and_exponent_in_latex() -> None:
    fit = ws.WeibullFit(shape=1.5, scale=1.234567e-5, estimator="mle", n=10, n_used=10,
                        package_version="0.1.0")
    assert "0.0000123" not in to_markdown([fit], digits=3)
    assert "| mle | 1.50 | 1.23e-05 | 10 | none |" in to_markdown([fit], digits=3)  # 3 digits, zeros kept
    assert r"mle & 1.50 & $1.23\times 10^{-5}$ & 10 & none \\" in to_latex([fit], digits=3)


def test_list_of_fits_and_frame_give_the_same_text() -> None:
    fits = make_fits()
    assert to_markdown(fits) == to_markdown(ws.results_table(fits, details=True))
    assert to_latex(fits) == to_latex(ws.results_table(fits, details=True))


def test_label_columns_from_a_scan_like_frame() -> None:
    frame = pd.DataFrame(
        {
            "layer": [0, 1],
            "kind": ["q", "ffn_in"],
            "shape": [0.9, 1.2],
            "scale": [0.05, 0.04],
            "n": [147456, 589824],
            "seed": [0, 0],
            "package_version": ["0.1.0", "0.1.0"],
        }
    )
    text = to_markdown(frame, labels=["layer", "kind"], note=False)
    assert text.splitlines() == [
        "| layer | kind | shape | scale | n | seed |",
        "|:--|:--|--:|--:|--:|--:|",
        "| 0 | q | 0.9000 | 0.05000 | 147456 | 0 |",  # digits of the sampling error at n
        "| 1 | ffn_in | 1.2000 | 0.040000 | 589824 | 0 |",
    ]


def test_scan_table_uses_numel_and_extra_columns() -> None:
    frame = pd.DataFrame(
        {
            "tensor": ["encoder.layer.0.attention.self.query.weight"],
            "estimator": ["probability_plot"],
            "shape": [1.1], "scale": [0.04], "shape_low": [1.09], "shape_high": [1.11],
            "scale_low": [0.039], "scale_high": [0.041], "confidence_level": [0.95],
            "n_resamples": [199], "numel": [147456], "n_used": [117965], "r2": [0.99876],
            "seed": [123456789],
            "package_version": ["0.1.0"],
        }
    )
    assert to_markdown(frame, labels="tensor", extra=["r2"], digits=3).splitlines() == [
        "| tensor | estimator | shape [95% CI] | scale [95% CI] | n | r2 | seed |",
        "|:--|:--|--:|--:|--:|--:|--:|",
        "| encoder.layer.0.attention.self.query.weight | probability_plot | 1.10 [1.09, 1.11] "
        "| 0.0400 [0.0390, 0.0410] | 147456 | 0.999 | 123456789 |",
        "",
        "Fitted with weibull-stats 0.1.0. Intervals: 95% (bootstrap, 199 resamples).",
    ]


def test_mixed_versions_become_a_column() -> None:
    fits = make_fits()
    other = ws.WeibullFit(shape=1.0, scale=2.0, estimator="quantile", n=5, n_used=5, package_version="0.2.0")
    text = to_markdown([*fits, other])
    assert text.splitlines()[0] == "| estimator | shape | scale | n | seed | version |"
    assert text.splitlines()[-1] == "| quantile | 1.00 | 2.00 | 5 | none | 0.2.0 |"


def test_bootstrap_like_result_is_read() -> None:
    boot = SimpleNamespace(
        confidence_interval=SimpleNamespace(shape=(1.1, 1.3), scale=(0.4, 0.6)),
        confidence_level=0.9,
        method="percentile",
        seed=3,
    )
    fit = ws.WeibullFit(shape=1.2, scale=0.5, estimator="mle", n=100, n_used=100, package_version="0.1.0")
    table = results_table([fit], intervals=[boot])
    columns = ["shape_low", "scale_high", "confidence_level", "interval_method", "seed"]
    assert table.loc[0, columns].tolist() == [1.1, 0.6, 0.9, "percentile", 3]
    assert to_markdown(table).splitlines() == [
        "| estimator | shape [90% CI] | scale [90% CI] | n | seed |",
        "|:--|--:|--:|--:|--:|",
        "| mle | 1.20 [1.10, 1.30] | 0.500 [0.400, 0.600] | 100 | 3 |",
        "",
        "Fitted with weibull-stats 0.1.0. Intervals: 90% (percentile).",
    ]


def test_bootstrap_results_are_rows_with_their_intervals() -> None:
    boot = SimpleNamespace(
        estimate=ws.WeibullFit(shape=1.25, scale=2.0, estimator="quantile", n=50, n_used=50,
                               package_version="0.1.0"),
        confidence_interval=SimpleNamespace(shape=(1.0, 1.5), scale=(1.75, 2.25)),
        confidence_level=0.95, method="bca", kind="nonparametric", n_resamples=999, seed=11,
    )
    assert to_markdown([boot]).splitlines() == [
        "| estimator | shape [95% CI] | scale [95% CI] | n | seed |",
        "|:--|--:|--:|--:|--:|",
        "| quantile | 1.25 [1.00, 1.50] | 2.00 [1.75, 2.25] | 50 | 11 |",
        "",
        "Fitted with weibull-stats 0.1.0. Intervals: 95% (nonparametric bca bootstrap, 999 resamples).",
    ]


def test_real_bootstrap_result_round_trip() -> None:
    x = np.random.default_rng(0).weibull(1.5, size=500) * 2.0
    res = ws.bootstrap(x, "probability_plot", n_resamples=49, rng=5)
    row = results_table([res]).iloc[0]
    assert (row["shape_low"], row["shape_high"]) == tuple(res.confidence_interval.shape)
    assert (row["scale_low"], row["scale_high"]) == tuple(res.confidence_interval.scale)
    assert row["seed"] == res.seed
    assert row["interval_method"] == "nonparametric percentile bootstrap, 49 resamples"


def test_markdown_escapes_pipes_and_latex_escapes_specials() -> None:
    frame = pd.DataFrame({"label": ["a|b", "50%_&#"], "shape": [1.0, 2.0], "scale": [1.0, 1.0], "n": [3, 3]})
    assert "| a\\|b |" in to_markdown(frame)
    assert r"50\%\_\&\# & " in to_latex(frame)


def test_errors_name_the_argument() -> None:
    fits = make_fits()
    with pytest.raises(ValueError, match="`labels` has 1 entries for 2 results"):
        results_table(fits, labels=["a"])
    with pytest.raises(ValueError, match="`intervals` has 1 entries for 2 results"):
        results_table(fits, intervals=[None])
    with pytest.raises(ValueError, match=r"`intervals\[0\]` gives neither"):
        results_table(fits[:1], intervals=[{"other": (1, 2)}])
    with pytest.raises(ValueError, match=r"`intervals\[0\]` has `shape` low 2.0 above high 1.0"):
        results_table(fits[:1], intervals=[{"shape": (2, 1)}])
    with pytest.raises(ValueError, match=r"`intervals\[0\]` must give `shape` as a \(low, high\) pair"):
        results_table(fits[:1], intervals=[{"shape": 1.0}])
    with pytest.raises(
        TypeError,
        match=r"`results\[0\]` must be a WeibullFit, a bootstrap result, a GoodnessOfFitResult or a "
        r"ModelComparison; got str",
    ):
        results_table(["x"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="`table` must be a pandas DataFrame, a WeibullFit, a bootstrap"):
        to_markdown(42)
    with pytest.raises(ValueError, match="`table` lacks the column"):
        to_markdown(pd.DataFrame({"shape": [1.0]}))
    with pytest.raises(ValueError, match=r"`table` lacks the column.*`gof_pvalue`"):
        to_markdown(fits, extra="gof_pvalue")
    with pytest.raises(ValueError, match="`digits` must be a positive integer"):
        to_latex(fits, digits=0)


def test_trailing_zeros_follow_the_standard_error() -> None:
    # issue 20, item 13: "1.211" for 1.2110. The standard error 1.211 / sqrt(10^6) = 0.0012
    # supports four decimals, so the fourth (a zero) is printed, as a fit's own display does
    fit = ws.WeibullFit(shape=1.211, scale=0.0175, estimator="probability_plot", n=10**6, n_used=10**6,
                        package_version="0.1.0")
    row = to_markdown([fit], note=False).splitlines()[-1]
    assert row == "| probability_plot | 1.2110 | 0.017500 | 1000000 | none |"
    assert f"k={row.split(' | ')[1]}," in repr(fit)  # the digits of the fit's repr
    # a recorded standard error sets them: ten times smaller, one more decimal
    mle = ws.WeibullFit(shape=1.211, scale=0.0175, estimator="mle", n=10**6, n_used=10**6, shape_se=1.1e-4,
                        scale_se=2e-6, package_version="0.1.0")
    cells = to_markdown(results_table([mle], details=True), note=False).splitlines()[-1].split(" | ")
    assert cells[1:3] == ["1.21100", "0.0175000"]
    # a scan table's standard errors: shape_se, and log_scale_se for the scale
    scan = pd.DataFrame({"estimator": ["probability_plot"], "shape": [1.2], "scale": [0.0203],
                         "numel": [4096], "n_used": [3277], "shape_se": [0.03], "log_scale_se": [0.01],
                         "package_version": ["0.1.0"]})
    row = to_latex(scan, note=False).splitlines()[6]
    assert row == r"probability\_plot & 1.200 & 0.02030 & 4096 & none \\"
