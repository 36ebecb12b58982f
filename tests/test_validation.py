"""The validation suite: simulation, studies, outputs, the gate and the CLI (small sizes)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import weibull_stats as ws
from weibull_stats.cli import main
from weibull_stats.validation import gate, studies, suite
from weibull_stats.validation._common import Check, check_seed, child_rng, family_z
from weibull_stats.validation.populations import HALFNORMAL, weibull
from weibull_stats.validation.report import write_table
from weibull_stats.validation.simulation import confirm, replicate


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(gate.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_child_streams_depend_only_on_seed_and_key():
    a = child_rng(5, "x", 1).standard_normal(3)
    child_rng(5, "other").standard_normal(10)
    assert np.array_equal(a, child_rng(5, "x", 1).standard_normal(3))
    assert not np.array_equal(a, child_rng(6, "x", 1).standard_normal(3))


def test_seed_errors_are_named():
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="`seed` must be a non-negative integer"):
            check_seed(bad)


def test_replicate_fits_halfnormal_weights_with_the_registry():
    out = replicate("probability_plot", HALFNORMAL, 2000, 5, rng=np.random.default_rng(1), sigma=0.02)
    x = np.random.default_rng(1).normal(0.0, 0.02, (5, 2000))
    expected = [ws.fit_probability_plot(row, values="weights") for row in x]
    assert out[:, 0] == pytest.approx([f.shape for f in expected], rel=1e-14)
    assert out[:, 1] == pytest.approx([f.scale / 0.02 for f in expected], rel=1e-14)


@pytest.mark.parametrize("estimator", list(ws.ESTIMATORS))
def test_confirmation_within_three_mc_se(estimator):
    row = confirm(estimator, HALFNORMAL, 3000, 150, seed=3, sigma=0.02)
    assert all(c.passed for c in row.checks("simulation")), (row.z_shape, row.z_scale)
    row = confirm(estimator, weibull(0.8), 3000, 100, seed=3)
    assert all(c.passed for c in row.checks("simulation")), (row.z_shape, row.z_scale)


def test_error_study_and_efficiency_table():
    errors = studies.weibull_error_study(["mle", "log_moment"], seed=1, shapes=(1.5,), sizes={200: 300})
    assert set(errors["estimator"]) == {"mle", "log_moment"}
    for row in errors.itertuples():
        assert abs(row.bias_shape) < 3 * row.bias_mc_se_shape + 0.03 * 1.5  # O(1/n) bias allowed
        assert row.rmse_shape == pytest.approx(
            math.sqrt(row.sd_shape**2 * (row.reps - 1) / row.reps + row.bias_shape**2), rel=1e-10
        )
    efficiency = studies.efficiency_table(errors)
    assert efficiency.loc[efficiency["estimator"] == "mle", "efficiency_shape"].item() == pytest.approx(1.0)
    assert efficiency.loc[efficiency["estimator"] == "log_moment", "efficiency_shape"].item() < 1.0


def test_trim_and_bias_studies_small():
    trim = studies.trim_study(seed=2, n=20_000, reps=10, lows=(0.1, 0.25))
    row = trim.iloc[0]
    assert row["shape_y_on_x"] == pytest.approx(ws.HALFNORMAL_ANCHOR_SHAPE, abs=5e-11)
    assert abs(row["simulated_mean_shape"] - row["shape_y_on_x"]) < 3 * row["simulated_mc_se_shape"]
    bias = studies.finite_n_bias_study(["probability_plot", "quantile"], seed=2, sizes={200: 200})
    assert set(bias["fit"]) >= {"probability_plot", "quantile", "probability_plot[weibull]"}
    assert bias["predicted_n_bias_shape"].notna().sum() == 1


def test_tables_and_figures_carry_the_stamp(tmp_path):
    from weibull_stats.validation import figures

    info = {"seed": 7, "package_version": ws.__version__, "date": "2026-01-01T00:00:00+00:00"}
    frame = studies.histogram_sigma_table(points=5)
    paths = write_table(frame, tmp_path, "sweep", title="t", stamp=info, notes=["n1"])
    text = paths[0].read_text()
    assert "# seed=7, package_version=" in text and "date=2026-01-01" in text
    assert pd.read_csv(paths[0], comment="#").shape == frame.shape
    assert "seed=7" in paths[1].read_text()
    png = figures.histogram_sigma_figure(frame, tmp_path, info)
    from PIL import Image

    assert "seed=7" in Image.open(png).info["Description"]


def test_step0_small_architectures_pass():
    frame, checks = pytest.importorskip("weibull_stats.validation.step0").step0_study(
        seed=ws.validation.DEFAULT_SEED, size="small"
    )
    assert set(frame["model"]) >= {"gpt_neox", "llama", "linear_stack[kaiming_uniform]"}
    assert (frame["n"] >= 100_000).all()
    assert all(c.passed for c in checks), frame[["matrix", "z_shape", "z_scale"]]
    uniform = frame[frame["population"] == "uniform"]
    assert uniform["anchor_shape"].iloc[0] == pytest.approx(1.3751188054, abs=1e-9)


def test_step0_size_error():
    from weibull_stats.validation.step0 import step0_study

    with pytest.raises(ValueError, match="`size` must be 'full' or 'small'"):
        step0_study(seed=0, size="huge")


def test_gate_skip_runs_nothing(cache):
    record = gate.ensure_validated(["mle", "quantile"], skip=True)
    assert (record.validated, record.skipped, record.source) == (False, True, "skipped")
    assert record.estimators == ("mle", "quantile") and record.package_version == ws.__version__
    assert not cache.exists()


def test_gate_runs_then_uses_cache(cache):
    first = gate.ensure_validated(["quantile"])
    assert (first.validated, first.source, first.skipped) == (True, "run", False)
    assert Path(first.cache_path).is_file() and first.checks > 0
    second = gate.ensure_validated(["quantile"])
    assert second.source == "cache" and second.validated and second.seed == first.seed
    assert json.loads(Path(first.cache_path).read_text())["estimators"] == ["quantile"]


def test_gate_ignores_corrupt_or_other_version_cache(cache, monkeypatch):
    path = gate.cache_path()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert gate.read_cache(path) is None
    path.write_text(json.dumps({"package_version": "0.0.0", "passed": True, "estimators": ["mle"]}))
    assert gate.read_cache(path) is None
    calls = []

    def fake_run(names, *, seed, progress=None):
        calls.append(names)
        return suite.ValidationReport(
            "quick", seed, ws.__version__, "d", tuple(names), (), (Check("ok", True),)
        )

    monkeypatch.setattr(suite, "run_quick", fake_run)
    assert gate.ensure_validated(["mle"]).source == "run" and calls == [("mle",)]


def _fake_quick(calls: list):
    def fake_run(names, *, seed, progress=None):
        calls.append(tuple(names))
        return suite.ValidationReport(
            "quick", seed, ws.__version__, "d", tuple(names), (), (Check("ok", True),)
        )

    return fake_run


def test_gate_refuses_a_hand_written_cache_and_says_why(cache, monkeypatch, tmp_path):
    # the case: "checks": 0, a 2020 date, nothing that proves what was validated
    path = gate.cache_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"package_version": ws.__version__, "passed": True, "estimators": ["mle"],
                                "seed": 1, "date": "2020-01-01", "checks": 0}))
    calls: list = []
    monkeypatch.setattr(suite, "run_quick", _fake_quick(calls))
    record = gate.ensure_validated(["mle"])
    assert record.source == "run" and calls == [("mle",)]
    assert "other code" in record.note
    # a scan's report says why the cache was not used
    from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint

    path.write_text(json.dumps({"package_version": ws.__version__, "passed": True, "estimators": ["mle"],
                                "seed": 1, "date": "2020-01-01", "checks": 0}))
    state, config = synthetic_state("llama", layers=1, hidden=8, heads=2)
    out = tmp_path / "scan"
    ws.scan(write_checkpoint(tmp_path / "ck", state, config), estimators=["mle"], out=out, progress=False)
    report = (out / "report.md").read_text()
    assert "(source: run, package " in report
    assert "; the cached pass was not used: the cache was written by other code" in report


def test_gate_refuses_an_edited_cache_entry(cache, monkeypatch):
    first = gate.ensure_validated(["quantile"])
    path = Path(first.cache_path)
    entry = json.loads(path.read_text())
    entry["estimators"] = ["mle", "quantile"]  # claims a pass it never made
    path.write_text(json.dumps(entry))
    assert gate.check_cache(path)[1] == "the cache's contents do not match its digest (edited or damaged)"
    calls: list = []
    monkeypatch.setattr(suite, "run_quick", _fake_quick(calls))
    assert gate.ensure_validated(["mle"]).source == "run" and calls == [("mle",)]


def test_gate_cache_is_tied_to_the_code(cache, monkeypatch):
    first = gate.ensure_validated(["quantile"])
    assert gate.ensure_validated(["quantile"]).source == "cache"
    monkeypatch.setattr(gate, "code_digest", lambda: "0" * 64)  # as another installation's code
    why = gate.check_cache(Path(first.cache_path))[1]
    assert why is not None and "code digest differs" in why


def test_gate_failure_names_checks(cache, monkeypatch):
    def failing(names, *, seed, progress=None):
        checks = (Check("simulation.halfnormal.mle.n=1000.shape", False), Check("fine", True))
        return suite.ValidationReport("quick", seed, ws.__version__, "d", tuple(names), (), checks)

    monkeypatch.setattr(suite, "run_quick", failing)
    with pytest.raises(
        gate.ValidationFailed, match=r"1 of 2 checks\): simulation\.halfnormal\.mle\.n=1000\.shape"
    ):
        gate.ensure_validated(["mle"])
    assert not gate.cache_path().exists()


def test_gate_input_errors(cache):
    with pytest.raises(ValueError, match="unknown estimator 'nope'"):
        gate.ensure_validated(["nope"])
    with pytest.raises(ValueError, match="`estimators` is empty"):
        gate.ensure_validated([])
    with pytest.raises(TypeError, match="`estimators` must be a sequence of names, not a single string"):
        gate.ensure_validated("mle")
    with pytest.raises(TypeError, match="`estimators` must be a sequence of names, not a single string"):
        suite.check_estimators("mle")
    with pytest.raises(ValueError, match="`estimators` is empty"):
        suite.check_estimators([])


def test_cli_validate_json(cache, tmp_path, capsys):
    code = main(
        [
            "validate",
            "--quick",
            "--estimator",
            "log_moment",
            "--format",
            "json",
            "--seed",
            "20260526",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    payload = json.loads(capsys.readouterr().out)
    assert code == 0 and payload["passed"] and payload["seed"] == 20260526
    assert payload["anchors"][0]["estimator"] == "log_moment"
    assert payload["anchors"][0]["shape"] == pytest.approx(2 / math.sqrt(3), rel=1e-14)
    assert {"name", "passed"} <= set(payload["checks"][0])
    assert (tmp_path / "out" / "validation.json").is_file() and (tmp_path / "out" / "anchors.csv").is_file()
    assert gate.ensure_validated(["log_moment"]).source == "cache"


def test_cli_validate_table_and_bad_seed(cache, capsys):
    assert main(["validate", "--estimator", "log_moment"]) == 0
    assert "checks passed" in capsys.readouterr().out
    assert main(["validate", "--seed", "-2"]) == 1
    assert "`--seed` must be a non-negative integer; got -2" in capsys.readouterr().err


def test_cli_validate_prints_a_one_line_gate_summary(cache, tmp_path, capsys):
    """`make run`'s first step: one line saying what passed and where the full table is."""
    out = tmp_path / "gate"
    assert main(["validate", "--quick", "--estimator", "log_moment", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    match = re.fullmatch(r"validation gate: (\d+)/(\d+) checks passed \(1 estimator, seed 20260526\); "
                         r"full table: (.+)", lines[0])
    assert match is not None and match[1] == match[2] and int(match[2]) > 1
    assert match[3] == str(out / "anchors.md")
    assert (out / "anchors.md").is_file()
    assert main(["validate", "--quick", "--estimator", "log_moment", "--table"]) == 0
    printed = capsys.readouterr().out
    assert "Exact population values under HalfNormal(sigma):" in printed and "log_moment" in printed
    assert printed.splitlines()[-1].startswith("validation gate: ") and "--table" not in printed


def test_cli_validate_exit_status_on_failure(cache, monkeypatch, capsys):
    def failing(names, *, seed, out=None, progress=None):
        return suite.ValidationReport(
            "quick", seed, ws.__version__, "d", ("mle",), (), (Check("broken.check", False, detail="why"),)
        )

    monkeypatch.setattr(suite, "run_quick", failing)
    assert main(["validate", "--quick"]) == 1
    assert "FAILED broken.check: why" in capsys.readouterr().out


def test_family_z_and_its_error():
    assert family_z(1) == 3.0
    assert family_z(100) == pytest.approx(3.8906, abs=1e-4)
    with pytest.raises(ValueError, match="`checks` must be at least 1"):
        family_z(0)


def test_gof_study_small():
    # the coverage study has its own tests (tests/test_coverage.py)
    from weibull_stats.validation import uncertainty

    gof = uncertainty.gof_study(seed=1, sizes=(100,), reps=3, n_mc_samples=19)
    assert len(gof) == len(uncertainty.GOF_LAWS) * len(uncertainty.STATISTICS)
    assert set(gof["role"]) == {"size", "power"}
    with pytest.raises(ValueError, match="unknown law 'cauchy'"):
        uncertainty._draw_alternative("cauchy", np.random.default_rng(0), 10)


def test_gate_refuses_estimator_without_anchor(cache, monkeypatch):
    from weibull_stats.validation import anchors

    monkeypatch.setattr(anchors, "ANCHORED_ESTIMATORS", ("mle",))
    with pytest.raises(
        gate.ValidationFailed, match="no exact anchor is derived for quantile: it cannot be validated"
    ):
        gate.ensure_validated(["mle", "quantile"])
    assert set(anchors.ANCHORED_ESTIMATORS) <= set(ws.ESTIMATORS)
