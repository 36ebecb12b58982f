"""TOST equivalence verdicts, published bands and the multiple-testing wrapper."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import weibull_stats as ws


def test_verdicts_follow_the_one_minus_two_alpha_interval() -> None:
    """inside iff the 90% interval (alpha = 0.05) lies in the band; outside iff it misses it."""
    rng = np.random.default_rng(0)
    k = rng.uniform(1.15, 1.25, 2000)
    se = rng.uniform(0.001, 0.02, 2000)
    low, high = 1.186, 1.204
    table = ws.equivalence_tests(k, se, (low, high), level=0.05)
    z = stats.norm.ppf(0.95)
    inside = (k - z * se > low) & (k + z * se < high)
    outside = (k - z * se > high) | (k + z * se < low)
    assert np.array_equal(table.verdict == "inside", inside)
    assert np.array_equal(table.verdict == "outside", outside)
    assert sum(table.counts().values()) == k.size


def test_tost_pvalue_is_the_larger_one_sided_pvalue() -> None:
    """The two one-sided normal tails, computed with scipy.stats.norm as the reference."""
    table = ws.equivalence_tests([1.195], [0.004], (1.186, 1.204))
    p_low = stats.norm.sf((1.195 - 1.186) / 0.004)
    p_high = stats.norm.cdf((1.195 - 1.204) / 0.004)
    assert table.pvalue_inside[0] == pytest.approx(max(p_low, p_high), rel=1e-12)


def test_size_of_the_inside_verdict_at_the_band_edge() -> None:
    """A true k on the band edge is declared inside at most alpha of the time (seeded, with
    a binomial Monte Carlo bound of 4 standard errors)."""
    rng = np.random.default_rng(1)
    reps, se = 20_000, 0.003
    k = 1.204 + se * rng.standard_normal(reps)
    rate = float(np.mean(ws.equivalence_tests(k, np.full(reps, se), (1.186, 1.204)).verdict == "inside"))
    assert rate <= 0.05 + 4 * np.sqrt(0.05 * 0.95 / reps)


def test_nonfinite_entries_get_no_verdict() -> None:
    table = ws.equivalence_tests([1.2, np.nan], [0.01, 0.01], (1.1, 1.3))
    assert table.verdict.tolist() == ["inside", ""]
    assert np.isnan(table.pvalue_inside[1])


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match=r"`level` must lie strictly between 0 and 0\.5"):
        ws.equivalence_tests([1.2], [0.01], (1.1, 1.3), level=0.7)
    with pytest.raises(ValueError, match="low <= high"):
        ws.equivalence_tests([1.2], [0.01], (1.3, 1.1))
    with pytest.raises(ValueError, match="`standard_errors` must be positive"):
        ws.equivalence_tests([1.2], [0.0], (1.1, 1.3))
    with pytest.raises(ValueError, match="`kind` must be one of"):
        ws.published_band("attention")


def test_published_band_matches_the_shipped_table() -> None:
    from importlib import resources

    with resources.files("weibull_stats").joinpath("data", "DATABASE_v9_1.csv").open("rb") as handle:
        table = pd.read_csv(handle)
    low, high, models = ws.published_band("down")
    values = table["k_median_down"].dropna()
    assert (low, high, models) == (values.min(), values.max(), values.size)


def test_equivalence_of_one_fit_against_anchor_and_band() -> None:
    w = np.random.default_rng(0).normal(0.0, 0.02, 200_000)
    ci = ws.confidence_interval(w, values="weights")
    near = ws.equivalence(ci, delta=0.02)
    assert near.verdict == "inside" and near.band_source.startswith("anchor 1.205434319")
    assert ws.equivalence(ci, band=(0.8, 1.0)).verdict == "outside"
    assert repr(near).startswith("EquivalenceResult(probability_plot: inside")
    mle = ws.confidence_interval(w, "mle", values="weights")
    with pytest.raises(ValueError, match="pass anchor="):
        ws.equivalence(mle, delta=0.01)
    wide = ws.confidence_interval(w, values="weights", trim=(0.05, 0.95))
    with pytest.raises(ValueError, match="pass anchor="):
        ws.equivalence(wide, delta=0.01)
    assert ws.equivalence(mle, anchor=1.2637, delta=0.02).verdict == "inside"
    with pytest.raises(ValueError, match="exactly one of"):
        ws.equivalence(ci, band=(1.0, 1.3), delta=0.1)


def test_adjust_pvalues_is_statsmodels_multipletests() -> None:
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(2).uniform(0, 0.2, 50)
    res = ws.adjust_pvalues(p, method="holm", alpha=0.1)
    reject, corrected, _, _ = multipletests(p, alpha=0.1, method="holm")
    np.testing.assert_array_equal(res.adjusted, corrected)
    np.testing.assert_array_equal(res.rejected, reject)
    assert (res.method, res.alpha, res.n_tests) == ("holm", 0.1, 50)
    with pytest.raises(ValueError, match=r"`pvalues` must lie in \[0, 1\]"):
        ws.adjust_pvalues([0.5, 1.5])
