"""The coverage study (validation/coverage.py, coverage_table.py): targets, table logic, a quick
seeded coverage check of the asymptotic intervals, and the written outputs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import halfnorm
from statsmodels.stats.proportion import proportion_confint

from weibull_stats.validation import coverage, coverage_laws, coverage_table
from weibull_stats.validation._common import stamp
from weibull_stats.validation.stored import discrete_limit, round_to_storage


# ---------------------------------------------------------------------- targets
def test_targets_are_the_exact_limits():
    # the DESIGN anchor of the default fit: k0 = 1.2054343190, scale0 = 0.8874870398 sigma
    target = coverage_laws.coverage_target("probability_plot", "halfnormal", "float64")
    assert target.shape == pytest.approx(1.2054343190, abs=1e-10)
    assert target.scale == pytest.approx(0.8874870398 * 0.02, rel=1e-9)
    # every estimator but histogram mode recovers a true Weibull law
    for name in ("probability_plot", "mle", "quantile", "log_moment"):
        target = coverage_laws.coverage_target(name, "weibull(k=1.5)", "float64")
        assert (target.shape, target.scale) == pytest.approx((1.5, 1.0), abs=1e-12)


def test_stored_quantile_target_is_the_fit_of_the_rounded_quantiles():
    # independent of the mpmath hook: scipy's half-normal quantiles, rounded to bf16, in the
    # quantile-matching closed form shape = (y2 - y1) / ln(q2 / q1), ln scale = ln q2 - y2 / shape
    p = np.array([0.1, 0.9])
    q = round_to_storage(0.02 * halfnorm.ppf(p)).astype(np.float64)
    y = np.log(-np.log1p(-p))
    shape = (y[1] - y[0]) / math.log(q[1] / q[0])
    scale = math.exp(math.log(q[1]) - y[1] / shape)
    target = coverage_laws.coverage_target("quantile", "halfnormal", "bfloat16")
    assert (target.shape, target.scale) == pytest.approx((shape, scale), rel=1e-12)
    assert target.source == "exact limit of the bfloat16-rounded law"


@pytest.mark.parametrize("population", ["halfnormal", "weibull(k=1.5)"])
@pytest.mark.parametrize("name", ["probability_plot", "quantile"])
def test_the_law_as_counts_gives_the_quadrature_limit(name, population):
    # two independent routes to the limit under the bf16-rounded law: the quadrature of the
    # estimator's population hook on RoundedPopulation (mpmath), and the estimator itself on the
    # law's cell probabilities (discrete_limit); where both exist they must agree
    spec = coverage_laws.LAWS[population]
    law, sigma = spec.law, spec.sigma
    quadrature = coverage_laws.coverage_target(name, population, "bfloat16")
    shape, scale = discrete_limit(name, law, sigma, "bfloat16")
    assert shape == pytest.approx(quadrature.shape, rel=1e-9)
    assert scale == pytest.approx(quadrature.scale, rel=1e-9)


@pytest.mark.parametrize("name", ["mle", "log_moment", "histogram"])
def test_stored_targets_of_the_moment_estimators_are_the_law_as_counts(name):
    target = coverage_laws.coverage_target(name, "weibull(k=1.5)", "bfloat16")
    assert target.source == "the estimator on the bfloat16-rounded law (cell probabilities)"
    exact = coverage_laws.coverage_target(name, "weibull(k=1.5)", "float64")
    # rounding to bf16 moves the limit, by less than bf16's relative spacing 2^-8
    assert target.shape != exact.shape and abs(target.shape / exact.shape - 1) < 2**-8
    assert abs(target.scale / exact.scale - 1) < 2**-8


# ---------------------------------------------------------------------- table logic
@pytest.mark.parametrize(("count", "reps"), [(190, 200), (180, 200), (200, 200), (760, 800)])
def test_records_carry_statsmodels_wilson_and_the_verdict(count, reps):
    hits = np.zeros((reps, 4))
    hits[:count, 0] = 1
    hits[:, 1] = 1
    hits[:, 2], hits[:, 3] = 0.2, 0.05
    case = {"n": 1000, "reps": reps}
    shape, scale = coverage_table.coverage_records(case, 1.5, 1.0, "exact limit", hits, 3, 0.95)
    low, high = proportion_confint(count, reps, alpha=0.05, method="wilson")
    assert (shape["hits"], shape["coverage"]) == (count, count / reps)
    assert (shape["wilson_low"], shape["wilson_high"]) == pytest.approx((low, high), abs=1e-12)
    assert shape["within"] is bool(low <= 0.95 <= high)
    assert shape["mc_se"] == pytest.approx(math.sqrt(count / reps * (1 - count / reps) / reps))
    assert (scale["coverage"], scale["within"], scale["mean_width"], scale["warned"]) == (1.0, False, 0.05, 3)


def test_records_without_target_are_empty():
    source = "no stored limit derived (x)"
    rows = coverage_table.coverage_records({"n": 10}, None, None, source, None, 0, 0.95)
    assert [r["hits"] for r in rows] == [None, None]
    assert all(math.isnan(r["coverage"]) for r in rows)


@pytest.mark.parametrize(("within", "expected"), [
    ([True, True, True, True], 1000), ([False, True, True, True], 10_000),
    ([False, False, False, True], 10**6),
    ([True, True, True, False], None), ([False, True, False, True], 10**6), ([False] * 4, None),
])
def test_smallest_covering_n(within, expected):
    sizes = [10**6, 1000, 100_000, 10_000]  # unordered on purpose
    order = [1, 3, 2, 0]                     # within is given in ascending n
    flags = [False] * 4
    for position, flag in zip(order, within, strict=True):
        flags[position] = flag
    assert coverage_table.smallest_covering_n(sizes, flags) == expected


def _frame(curves):
    """A study frame from ``{(estimator, method, storage): [(n, shape hits, scale hits)]}``, 100 reps."""
    rows = []
    for (name, method, storage), points in curves.items():
        for n, shape_hits, scale_hits in points:
            hits = None
            if shape_hits is not None:
                hits = np.zeros((100, 4))
                hits[:shape_hits, 0] = 1
                hits[:scale_hits, 1] = 1
            case = {"population": "halfnormal", "storage": storage, "estimator": name, "method": method,
                    "interval": "wald" if method == "asymptotic" else "bca",
                    "kind": "" if method == "asymptotic" else "nonparametric", "n": n, "reps": 100,
                    "n_resamples": 0}
            source = "exact limit" if hits is not None else "no stored limit derived (x)"
            rows += coverage_table.coverage_records(case, 1.0, 1.0, source, hits, 0, 0.95)
    return pd.DataFrame.from_records(rows)


def test_covering_sizes_per_curve_and_its_written_form():
    frame = _frame({
        ("mle", "asymptotic", "float64"): [(1000, 80, 95), (10_000, 95, 96), (100_000, 94, 60)],
        ("mle", "asymptotic", "bfloat16"): [(1000, None, None), (10_000, None, None), (100_000, None, None)],
        ("probability_plot", "bootstrap", "float64"): [(1000, 95, 95)],
    })
    summary = coverage_table.covering_sizes(frame)
    by = {(r["estimator"], r["storage"]): r for r in summary.to_dict("records")}
    assert by[("mle", "float64")]["shape_from_n"] == 10_000  # 80/100: Wilson [0.71, 0.87]
    assert pd.isna(by[("mle", "float64")]["scale_from_n"])  # fails at the largest n
    assert by[("mle", "float64")]["sizes"] == (1000, 10_000, 100_000)
    assert pd.isna(by[("mle", "bfloat16")]["shape_from_n"])
    assert by[("probability_plot", "float64")]["shape_from_n"] == 1000
    written = coverage_table.summary_for_output(summary)
    rows = {(r["estimator"], r["storage"]): r for r in written.to_dict("records")}
    assert rows[("mle", "float64")]["shape_within_from_n"] == "10,000"
    assert rows[("mle", "float64")]["scale_within_from_n"] == "not reached by 100,000"
    assert rows[("mle", "bfloat16")]["method"] == "none simulated"
    assert rows[("mle", "bfloat16")]["shape_within_from_n"] == "no target"
    assert rows[("probability_plot", "float64")]["method"] == "bootstrap bca, nonparametric"
    assert list(written["estimator"]) == ["mle", "mle", "probability_plot"]  # estimators in first-seen order


# ---------------------------------------------------------------------- quick statistical check
@pytest.mark.parametrize(("name", "population"),
                         [("probability_plot", "halfnormal"), ("mle", "weibull(k=1.5)")])
def test_asymptotic_coverage_at_n_2000(name, population):
    # 200 seeded replicates at n = 2000: the coverage of a correct 95% interval lies in its
    # Wilson interval at 99.9% (about +-5%) for all but 1 in 1000 seeds; a spread off by 20%
    # (coverage 0.90 or 0.98) falls outside
    reps = 200
    rows = coverage.asymptotic_case([name], population, 2000, reps, seed=20260526, storages=["float64"])
    for row in rows:
        low, high = proportion_confint(row["hits"], reps, alpha=0.001, method="wilson")
        assert low <= 0.95 <= high, row
        assert row["warned"] == 0


def test_bootstrap_case_and_the_written_outputs(tmp_path):
    rows = coverage.bootstrap_case("quantile", "nonparametric", "weibull(k=1.5)", "float64", 300, 4, seed=1,
                                   n_resamples=499)
    rows += coverage.asymptotic_case(["quantile", "mle"], "weibull(k=1.5)", 300, 4, seed=1)
    frame = pd.DataFrame.from_records(rows)
    assert set(frame["interval"]) == {"percentile", "basic", "bca", "wald"}
    assert frame.loc[frame["hits"].notna(), "coverage"].between(0, 1).all()
    files = coverage.write_coverage(frame, tmp_path, stamp(1), figure_formats=["png"], dpi=50)
    assert sorted(p.name for p in files) == ["coverage.csv", "coverage.md", "coverage.png",
                                             "coverage_bootstrap.png", "coverage_by_n.csv",
                                             "coverage_by_n.md",
                                             "coverage_misses.csv", "coverage_misses.md",
                                             "coverage_sizes.csv", "coverage_sizes.md"]
    table = pd.read_csv(tmp_path / "coverage.csv", comment="#")
    assert set(table["method"]) == {"asymptotic (Wald)", "bootstrap percentile, nonparametric",
                                    "bootstrap basic, nonparametric", "bootstrap bca, nonparametric"}
    # every estimator has a bf16 target now (the MLE's: the estimator on the rounded law)
    mle_bf16 = table[(table["estimator"] == "mle") & (table["storage"] == "bfloat16")]
    assert list(mle_bf16["target"]) == ["the estimator on the bfloat16-rounded law (cell probabilities)"]
    # the tables and the figure come back from coverage_by_n.csv alone, stamp kept
    before = (tmp_path / "coverage.csv").read_text()
    coverage.redraw_coverage(tmp_path, figure_formats=["png"])
    assert (tmp_path / "coverage.csv").read_text() == before
    assert coverage.main(["--out", str(tmp_path), "--redraw"]) == 0  # the command's --redraw
    assert (tmp_path / "coverage.csv").read_text() == before


def test_validate_full_runs_the_coverage_study_first():
    from weibull_stats.validation import uncertainty

    assert uncertainty.available_studies()[0] is coverage.coverage_outputs


def test_study_cases_do_not_depend_on_their_order():
    # every case draws from its own named stream: running one alone gives its numbers in the study
    alone = coverage.asymptotic_case(["log_moment"], "weibull(k=1.5)", 500, 30, seed=3, storages=["float64"])
    together = coverage.asymptotic_case(["mle", "log_moment"], "weibull(k=1.5)", 500, 30, seed=3,
                                        storages=["float64"])
    assert [r["hits"] for r in alone] == [r["hits"] for r in together if r["estimator"] == "log_moment"]


def test_bootstrap_case_counts_too_few_resamples_instead_of_warning(recwarn):
    # 19 resamples cannot reach a 95% tail ((19 + 1) * 0.025 < 1): every replicate's BCa warns
    rows = coverage.bootstrap_case("log_moment", "nonparametric", "weibull(k=1.5)", "float64", 200, 3, seed=2,
                                   n_resamples=19)
    warned = {(r["interval"], r["parameter"]): r["warned"] for r in rows}
    assert warned[("bca", "shape")] == 3 and warned[("percentile", "shape")] == 0
    assert not [w for w in recwarn if "resamples are too few" in str(w.message)]
