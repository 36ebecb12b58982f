"""Results at a glance: one-line reprs, str tables, notebook HTML, every result type in a table,
and fresh seeds short enough to retype that reproduce their run."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

import weibull_stats as ws
from weibull_stats.cli import main
from weibull_stats.core.display import figure, fraction_near_one
from weibull_stats.core.formatting import pvalue_text
from weibull_stats.core.seeds import SEED_BITS, fresh_seed, seed_entropy
from weibull_stats.report.fit_table import COMPARISON_COLUMNS, GOF_COLUMNS


@pytest.fixture(scope="module")
def weights() -> np.ndarray:
    return np.random.default_rng(0).normal(0.0, 0.02, 20_000)


@pytest.fixture(scope="module")
def results(weights: np.ndarray) -> dict[str, Any]:
    test = ws.goodness_of_fit(weights, "mle", n_mc_samples=19, rng=3, values="weights", workers=1)
    return {
        "fit": ws.fit_probability_plot(weights, values="weights"),
        "mle": ws.fit_mle(weights, values="weights"),
        "bootstrap": ws.bootstrap(weights, "probability_plot", n_resamples=49, rng=2, values="weights",
                                  workers=1),
        "gof": test,
        "comparison": test.model_comparison,
        "interval": ws.bootstrap(weights, "mle", n_resamples=29, rng=4, values="weights",
                                 workers=1).confidence_interval,
    }


def test_repr_is_one_short_line_for_every_result(results: dict[str, Any]) -> None:
    for name, result in results.items():
        text = repr(result)
        assert "\n" not in text and len(text) < 120, (name, text)
        assert not re.search(r"\d{12,}", text), (name, text)  # no 17-digit floats, no long seeds
        assert repr(result) == text  # deterministic


def test_repr_of_a_fit_has_the_digits_its_precision_supports() -> None:
    fit = ws.WeibullFit(shape=1.2054343190, scale=0.8874870398, estimator="probability_plot",
                        n=1_000_000, n_used=800_000, r2=0.99961234)
    assert repr(fit) == "WeibullFit(probability_plot: k=1.2054, λ=0.88749, n=1000000, r²=0.99961)"
    small = ws.WeibullFit(shape=1.2054343190, scale=0.8874870398, estimator="mle", n=100, n_used=100,
                          converged=False)
    assert repr(small) == "WeibullFit(mle: k=1.21, λ=0.887, n=100, not converged)"


def test_reprs_name_the_key_numbers(results: dict[str, Any]) -> None:
    boot, gof, comparison = results["bootstrap"], results["gof"], results["comparison"]
    low = boot.confidence_interval.shape.low
    assert repr(boot).startswith("BootstrapResult(probability_plot: k=")
    assert f"[{figure(low, boot.standard_error.shape)}, " in repr(boot)
    assert "95% percentile, B=49" in repr(boot)
    assert repr(gof).startswith(f"GoodnessOfFitResult(mle: AD={gof.statistic:.4g}, p")
    assert f"best={comparison.best}" in repr(gof) and "M=19" in repr(gof)
    assert repr(comparison).startswith(f"ModelComparison(n=20000: best={comparison.best}, ΔAIC lognormal=")
    assert repr(results["interval"]).startswith("ConfidenceInterval(shape=[")
    assert repr(results["interval"].shape).startswith("Interval(low=")


def test_str_is_a_small_table_with_the_key_numbers(results: dict[str, Any]) -> None:
    fit, boot, gof = results["fit"], results["bootstrap"], results["gof"]
    text = str(fit)
    assert text.splitlines()[0] == "WeibullFit (probability_plot)"
    assert repr(fit).split("k=")[1].split(",")[0] in text
    assert "20000 (16000)" in text and "trim=(0.1, 0.9)" in text
    text = str(boot)
    assert f"seed            {boot.seed}" in text and "49 resamples" in text and "standard error" in text
    text = str(gof)
    assert f"AD {gof.statistic:.6g}" in text and "≤ 1/20" in text
    assert "best family (AIC)" in text and "ΔAIC vs weibull" in text
    families = ("weibull", "lognormal", "gamma", "halfnormal")
    assert all(family in str(results["comparison"]) for family in families)
    for result in results.values():
        assert len(str(result).splitlines()) <= 12


def test_notebook_html_and_markdown(results: dict[str, Any]) -> None:
    for name in ("fit", "bootstrap", "gof", "comparison"):
        result = results[name]
        html = result._repr_html_()
        assert html.startswith("<table") and html.endswith("</table>") and type(result).__name__ in html
        assert html.count("<tr>") == len(str(result).splitlines()) - 1
        markdown = result._repr_markdown_()
        assert markdown.startswith(f"**{type(result).__name__} (") and "|:--|:--|" in markdown
    weird = ws.WeibullFit(shape=1.0, scale=1.0, estimator="<b>&", n=10, n_used=10)
    assert "<b>&" not in weird._repr_html_() and "&lt;b&gt;&amp;" in weird._repr_html_()


def test_dataclasses_keep_their_fields_and_equality(results: dict[str, Any]) -> None:
    fit = results["fit"]
    assert ws.WeibullFit.from_dict(fit.to_dict()) == fit
    assert results["comparison"] == results["gof"].model_comparison
    assert "__repr__" in type(fit).__dict__ and not hasattr(fit, "__dict__")  # slots kept


def test_figures() -> None:
    assert figure(1.2054343, 0.0011) == "1.2054"
    assert figure(1.2, 0.012) == "1.200"  # trailing zeros are significant
    assert figure(123456.0, 1.0) == "123456.0"
    assert figure(1.0, 1e-30) == "1.000000000"  # at most 10 digits
    assert fraction_near_one(0.99999912) == "0.99999912"  # two digits of 1 - r²
    assert pvalue_text(0.05, 19) == "≤ 1/20" and pvalue_text(0.1, 19) == "0.1"


def test_results_table_on_each_type(results: dict[str, Any]) -> None:
    fit_columns = ["estimator", "shape", "scale", "n", "n_used"]
    fit = ws.results_table([results["fit"]])
    assert list(fit.columns) == [*fit_columns, "seed", "package_version"]
    boot = ws.results_table([results["bootstrap"]])
    assert {"shape_low", "scale_high", "interval_method"} <= set(boot.columns)
    assert boot.loc[0, "seed"] == results["bootstrap"].seed
    gof = ws.results_table([results["gof"]])
    assert list(gof.columns) == [*fit_columns, *GOF_COLUMNS, *COMPARISON_COLUMNS, "seed", "package_version"]
    row = gof.iloc[0]
    assert (row["gof_test"], row["gof_samples"], row["seed"]) == ("ad", 19, 3)
    assert row["gof_statistic"] == results["gof"].statistic and row["gof_pvalue"] == results["gof"].pvalue
    assert row["best_family"] == results["comparison"].best
    assert row["delta_aic_gamma"] == pytest.approx(results["comparison"].delta_aic["gamma"])
    comparison = ws.results_table([results["comparison"]])
    assert list(comparison.columns) == [*fit_columns, *COMPARISON_COLUMNS, "seed", "package_version"]
    assert comparison.loc[0, "shape"] == results["comparison"]["weibull"].parameters["c"]
    assert comparison.loc[0, "estimator"] == "mle" and pd.isna(comparison.loc[0, "seed"])


def test_results_table_on_a_mix_and_its_markdown(results: dict[str, Any]) -> None:
    mix = [results[name] for name in ("fit", "bootstrap", "gof", "comparison")]
    table = ws.results_table(mix, labels=["a", "b", "c", "d"])
    assert len(table) == 4 and table.columns[0] == "label"
    assert table["gof_test"].isna().tolist() == [True, True, False, True]
    assert table["best_family"].isna().tolist() == [True, True, False, False]
    assert table["shape_low"].isna().tolist() == [True, False, True, True]
    assert table["seed"].isna().tolist() == [True, False, False, True]
    text = ws.to_markdown(mix, digits=4)
    header = text.splitlines()[0]
    assert header == ("| estimator | shape [95% CI] | scale [95% CI] | n | GoF statistic | GoF p-value | "
                      "best family (AIC) | seed |")
    assert f"| AD {results['gof'].statistic:.4g} | ≤ 1/20 |" in text
    assert r"$\leq$ 1/20" in ws.to_latex([results["gof"]])
    assert ws.to_markdown(results["gof"]) == ws.to_markdown([results["gof"]])


def test_fresh_seeds_are_short_and_distinct() -> None:
    seeds = {fresh_seed() for _ in range(50)}
    assert len(seeds) == 50 and all(0 <= s < 2**SEED_BITS for s in seeds)
    assert all(len(str(s)) <= 10 for s in seeds)
    assert 0 <= seed_entropy(np.random.default_rng(1)) < 2**SEED_BITS


def test_printed_seed_reproduces_through_the_api(weights: np.ndarray) -> None:
    boot = ws.bootstrap(weights, "mle", n_resamples=20, values="weights", workers=1)
    assert len(str(boot.seed)) <= 10 and str(boot.seed) in str(boot)
    again = ws.bootstrap(weights, "mle", n_resamples=20, rng=int(str(boot.seed)), values="weights", workers=1)
    np.testing.assert_array_equal(again.bootstrap_distribution, boot.bootstrap_distribution)
    assert repr(again) == repr(boot) and str(again) == str(boot)
    test = ws.goodness_of_fit(weights[:2000], "mle", n_mc_samples=9, values="weights", workers=1)
    retyped = ws.goodness_of_fit(weights[:2000], "mle", n_mc_samples=9, rng=int(str(test.seed)),
                                 values="weights", workers=1)
    np.testing.assert_array_equal(retyped.null_distribution, test.null_distribution)


def test_printed_seed_reproduces_through_the_cli(weights: np.ndarray, tmp_path: Any, capsys: Any) -> None:
    path = tmp_path / "w.npy"
    np.save(path, weights[:5000])
    command = ["bootstrap", str(path), "--n-resamples", "20", "--values", "weights", "--workers", "1"]
    assert main(command) == 0
    first = capsys.readouterr().out
    seed = re.search(r"seed=(\d+)", first)
    assert seed is not None and len(seed[1]) <= 10
    assert main([*command, "--seed", seed[1]]) == 0
    assert capsys.readouterr().out == first
