"""Goodness of fit's shared and asymptotic nulls (issue 21, item 3): the equivariance
declarations, the shared null's reuse and caches, the asymptotic null against simulation and
against Stephens' published table, and the null recorded in the result."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import weibull_stats as ws
from weibull_stats.core.cache import code_digest
from weibull_stats.estimators.registry import ESTIMATORS
from weibull_stats.inference import shared_null
from weibull_stats.inference.asymptotic_null import asymptotic_critical_values, asymptotic_eigenvalues
from weibull_stats.inference.null_choice import ASYMPTOTIC_FROM, _simulate
from weibull_stats.inference.nulls import NullModel

# option sets that could break equivariance: every option of every estimator, non-default values
OPTION_SETS = [
    ("probability_plot", {}),
    ("probability_plot", {"trim": (0.05, 0.97), "plotting_position": "blom", "direction": "x_on_y"}),
    ("mle", {}),
    ("log_moment", {}),
    ("quantile", {"method": "lower"}),
    ("quantile", {"probabilities": (0.2, 0.5, 0.95), "method": "inverted_cdf"}),
    ("quantile", {}),
    ("histogram", {}),
    ("histogram", {"binning": "float64"}),
]


def _relative_change(name: str, options: dict, x: np.ndarray, s: float, p: float) -> float:
    a = ws.fit(x, name, **options)
    b = ws.fit(s * x**p, name, **options)
    return max(abs(b.shape - a.shape / p) / (a.shape / p), abs(b.scale - s * a.scale**p) / (s * a.scale**p))


@pytest.mark.parametrize(("name", "options"), OPTION_SETS)
def test_the_equivariance_declaration_holds(name: str, options: dict) -> None:
    entry = ESTIMATORS[name]
    _, own = entry.split(options)
    x = np.random.default_rng(7).weibull(1.3, 777) * 0.02
    changes = [_relative_change(name, options, x, s, p) for s, p in ((3.7, 0.6), (0.01, 1.9))]
    if entry.is_equivariant(own):
        assert max(changes) < 1e-10, changes
    else:  # histogram's fixed bins and x-space interpolation of quantiles move the fit
        assert max(changes) > 1e-8, changes


def test_equivariant_estimators_without_their_options_are_declared() -> None:
    declared = {name: e.is_equivariant(e.split({})[1]) for name, e in ESTIMATORS.items()}
    assert declared == {"probability_plot": True, "histogram": False, "mle": True, "quantile": False,
                        "log_moment": True}
    assert ESTIMATORS["histogram"].influence is None


@pytest.fixture
def fresh_memory() -> None:
    shared_null.clear_memory()


def test_shared_null_equals_the_per_sample_null_with_the_same_seed(fresh_memory: None) -> None:
    x = np.random.default_rng(1).weibull(0.8, 400) * 3.0
    per = ws.goodness_of_fit(x, "mle", n_mc_samples=99, rng=5, null="per-sample")
    shared = ws.goodness_of_fit(x, "mle", n_mc_samples=99, rng=5, null="shared", cache=False)
    assert (per.null, shared.null, shared.null_source) == ("per-sample", "shared", "simulated")
    np.testing.assert_allclose(shared.null_distribution, per.null_distribution, rtol=1e-9)
    assert shared.pvalue == per.pvalue
    assert shared.to_dict()["null"] == "shared"


def test_the_shared_null_is_simulated_once(fresh_memory: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from weibull_stats.inference import null_choice

    calls = []
    real = null_choice._simulate
    monkeypatch.setattr(null_choice, "_simulate", lambda *a, **k: calls.append(1) or real(*a, **k))
    rng = np.random.default_rng(2)
    first = ws.goodness_of_fit(rng.weibull(1.5, 300), "probability_plot", n_mc_samples=49, rng=3, cache=False)
    second = ws.goodness_of_fit(rng.weibull(0.7, 300) * 9, "probability_plot", n_mc_samples=49, rng=3,
                                cache=False)
    assert (first.null, first.null_source, second.null_source) == ("shared", "simulated", "memory")
    assert len(calls) == 1
    assert second.null_distribution is first.null_distribution


def test_the_disk_cache_is_reused_by_another_process_and_keyed_by_the_code_digest(tmp_path, fresh_memory
                                                                                  ) -> None:
    x = np.random.default_rng(3).weibull(2.0, 250)
    first = ws.goodness_of_fit(x, "log_moment", n_mc_samples=39, rng=8, null="shared", cache=tmp_path)
    assert first.null_source == "simulated"
    files = list(tmp_path.rglob("*.npy"))
    assert len(files) == 1 and files[0].parent.name == code_digest()[:32]
    script = ("import numpy as np, weibull_stats as ws, sys\n"
              "x = np.random.default_rng(3).weibull(2.0, 250)\n"
              "r = ws.goodness_of_fit(x, 'log_moment', n_mc_samples=39, rng=8, null='shared',\n"
              "                       cache=sys.argv[1])\n"
              "print(r.null_source, r.pvalue)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                         env=env, check=True).stdout.split()
    assert out == ["disk", str(first.pvalue)]


def test_an_unwritable_cache_warns_and_the_test_still_runs(tmp_path, fresh_memory) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    x = np.random.default_rng(4).weibull(1.1, 200)
    with pytest.warns(shared_null.GofCacheWarning, match="not written"):
        result = ws.goodness_of_fit(x, "mle", n_mc_samples=19, rng=1, null="shared", cache=blocker)
    assert result.pvalue is not None and result.null_source == "simulated"


def test_the_cache_can_be_turned_off_by_the_environment(tmp_path, monkeypatch, fresh_memory) -> None:
    monkeypatch.setenv(shared_null.GOF_CACHE_ENV, "off")
    monkeypatch.setenv("WEIBULL_STATS_CACHE", str(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ws.goodness_of_fit(np.random.default_rng(5).weibull(1.1, 200), "mle", n_mc_samples=19, rng=1)
    assert not list(tmp_path.rglob("*.npy"))


def test_histogram_mode_refuses_a_shared_or_asymptotic_null() -> None:
    x = np.random.default_rng(6).weibull(1.1, 500) * 0.02
    with pytest.raises(ValueError, match="null='shared' needs an equivariant estimator; 'histogram'") as info:
        ws.goodness_of_fit(x, "histogram", null="shared", n_mc_samples=9)
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="'histogram' declares none"):
        ws.goodness_of_fit(x, "histogram", null="asymptotic")
    assert ws.goodness_of_fit(x, "histogram", n_mc_samples=9, rng=0).null == "per-sample"


def test_auto_picks_the_null_by_estimator_size_and_storage(fresh_memory) -> None:
    rng = np.random.default_rng(8)
    small = rng.weibull(1.2, 500).astype(np.float32)
    assert ws.goodness_of_fit(small, "mle", n_mc_samples=9, rng=0, cache=False).null == "shared"
    assert ws.goodness_of_fit(small, "quantile", n_mc_samples=9, rng=0).null == "per-sample"
    ks = ws.goodness_of_fit(small, "mle", statistic="ks", n_mc_samples=9, rng=0, cache=False)
    assert ks.null == "shared"
    large = rng.weibull(1.2, ASYMPTOTIC_FROM).astype(np.float32)
    result = ws.goodness_of_fit(large, "mle", rng=0)
    assert (result.null, result.n_mc_samples, result.null_distribution.size) == ("asymptotic", 0, 0)
    assert 0 < result.pvalue < 1
    assert "asymptotic" in str(result)
    torch = pytest.importorskip("torch")
    bf16 = torch.from_numpy(small).to(torch.bfloat16)
    assert ws.goodness_of_fit(bf16, "mle", n_mc_samples=9, rng=0).null == "per-sample"
    with pytest.raises(ValueError, match="null='shared' needs float32 or float64 data; bfloat16"):
        ws.goodness_of_fit(bf16, "mle", n_mc_samples=9, null="shared")
    with pytest.raises(ValueError, match="statistic 'ad' or 'cvm', not 'ks'"):
        ws.goodness_of_fit(small, "mle", statistic="ks", null="asymptotic")


def test_stephens_table_for_the_mle() -> None:
    # M. A. Stephens (1977), "Goodness of fit for the extreme value distribution", Biometrika 64,
    # 583-588, Table 1, case 3 (both parameters estimated by maximum likelihood), n -> infinity:
    # A² 0.637, 0.757, 1.038 at 10%, 5%, 1% (the table scipy.stats.anderson(..., "gumbel_l") uses).
    cv = ws.gof_critical_values("mle", "ad", levels=(0.10, 0.05, 0.01))
    for level, published in ((0.10, 0.637), (0.05, 0.757), (0.01, 1.038)):
        assert cv[level] == pytest.approx(published, abs=0.005)
    assert ws.gof_asymptotic_pvalue(cv[0.05], "mle") == pytest.approx(0.05, abs=1e-6)


def test_without_estimation_the_kernel_gives_the_classical_limits() -> None:
    # known parameters: A² eigenvalues 1/(j(j+1)), 5% point 2.492; W² 5% point 0.461 (Anderson-Darling 1952)
    from weibull_stats.estimators._influence import Influence
    from weibull_stats.inference.asymptotic_null import imhof_tail, kernel_eigenvalues

    none = Influence(lambda u: np.zeros((len(u), 2)))
    lam = kernel_eigenvalues(none, "ad", 300)
    np.testing.assert_allclose(lam[:4], [1 / 2, 1 / 6, 1 / 12, 1 / 20], rtol=1e-3)
    assert imhof_tail(2.492, lam) == pytest.approx(0.05, abs=2e-4)
    assert imhof_tail(0.461, kernel_eigenvalues(none, "cvm", 300)) == pytest.approx(0.05, abs=5e-4)


ASYMPTOTIC_CASES = [("mle", {}), ("log_moment", {}), ("quantile", {"method": "lower"}),
                    ("probability_plot", {})]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "options"), ASYMPTOTIC_CASES)
@pytest.mark.parametrize("statistic", ["ad", "cvm"])
def test_the_asymptotic_null_matches_the_simulated_null_at_large_n(name: str, options: dict,
                                                                   statistic: str) -> None:
    """Each influence function checked against simulation: the mean of the simulated null at
    n = 2·10^4 equals the limit's (sum λ) within 4 Monte Carlo standard errors, and the
    rejection rates at the asymptotic 10% and 5% points are within 4 binomial errors."""
    entry = ESTIMATORS[name]
    _, own = entry.split(options)
    m = 1000
    null = _simulate(entry, NullModel.of("float64", 20_000, 1.0, 1.0), own, statistic, m, seed=11, workers=2,
                     progress=False)
    lam = asymptotic_eigenvalues(entry, own, statistic)
    sd = float(np.sqrt(2 * (lam**2).sum()))
    assert abs(null.mean() - lam.sum()) < 4 * sd / np.sqrt(m)
    for level, value in asymptotic_critical_values(entry, own, statistic, (0.10, 0.05)).items():
        assert abs(float((null > value).mean()) - level) < 4 * np.sqrt(level * (1 - level) / m)


def test_the_committed_critical_value_table_is_the_functions() -> None:
    from weibull_stats.validation.gof_tables import COMMAND, TABLE_CSV, critical_value_rows

    lines = TABLE_CSV.read_text().splitlines()
    assert f"# regenerated by: {COMMAND}" in lines
    row = critical_value_rows(estimators=("mle",), statistics=("ad",))[0]
    committed = next(r for r in lines if r.startswith("mle,default,ad,"))
    values = [float(v) for v in committed.split(",")[4:]]
    np.testing.assert_allclose(values, [row[f"{level:g}"] for level in (0.10, 0.05, 0.025, 0.01)], atol=1e-4)


def test_a_scan_simulates_one_shared_null_per_size_and_records_it(tmp_path, monkeypatch, fresh_memory
                                                                  ) -> None:
    from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
    from weibull_stats.inference import null_choice

    calls = []
    real = null_choice._simulate
    monkeypatch.setattr(null_choice, "_simulate", lambda *a, **k: calls.append(a[1].size) or real(*a, **k))
    monkeypatch.setenv(shared_null.GOF_CACHE_ENV, "off")
    state, config = synthetic_state("gpt_neox", layers=2, hidden=16, heads=2, vocab=64, rng=0)
    folder = write_checkpoint(tmp_path / "ckpt", state, config)
    frame = ws.scan(str(folder), out=tmp_path / "out", gof=True, gof_samples=9, seed=3, skip_validation=True,
                    report=False, progress=False)
    assert set(frame["gof_null"]) == {"shared"}
    sizes = sorted(set(frame["n"]))
    assert len(frame) > len(sizes) and sorted(calls) == sizes
    assert frame["gof_pvalue"].between(0, 1).all()


def test_calls_without_a_seed_share_one_null(fresh_memory) -> None:
    rng = np.random.default_rng(9)
    first = ws.goodness_of_fit(rng.weibull(1.5, 300), "mle", n_mc_samples=19, cache=False)
    second = ws.goodness_of_fit(rng.weibull(2.5, 300), "mle", n_mc_samples=19, cache=False)
    assert (first.seed, second.seed) == (shared_null.SHARED_SEED,) * 2
    assert (first.null_source, second.null_source) == ("simulated", "memory")
