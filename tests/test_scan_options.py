"""Estimator options and the input policy of a scan: applied to every fit, recorded in the
output, the same from ``ws.scan`` and from ``weibull-stats scan --option``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import weibull_stats as ws
from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
from weibull_stats.cli import main
from weibull_stats.scanning.run import ScanWarning

TENSOR = "model.layers.0.self_attn.q_proj.weight"


@pytest.fixture
def checkpoint(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    state, config = synthetic_state("llama", layers=1, hidden=32, heads=2, vocab=48)
    return write_checkpoint(tmp_path / "ckpt", state, config), state


def _row(frame: pd.DataFrame, estimator: str, tensor: str = TENSOR) -> pd.Series:
    chosen = (frame["tensor"] == tensor) & (frame["estimator"] == estimator) & (frame["part"] == "")
    return frame[chosen].iloc[0]


def test_an_option_goes_to_every_estimator_that_takes_it(checkpoint):
    path, state = checkpoint
    frame = ws.scan(path, estimators=["probability_plot", "mle"], options={"trim": (0.05, 0.95)},
                    skip_validation=True, progress=False)
    row = _row(frame, "probability_plot")
    # the independent route: the public one-sample fit with the same option
    direct = ws.fit(state[TENSOR], "probability_plot", trim=(0.05, 0.95), values="weights", zeros="omit")
    assert row["shape"] == direct.shape and row["scale"] == direct.scale
    assert json.loads(row["options"])["trim"] == [0.05, 0.95]
    default = ws.fit(state[TENSOR], "probability_plot", values="weights", zeros="omit")
    assert row["shape"] != default.shape  # the option changed the fit
    assert "trim" not in json.loads(_row(frame, "mle")["options"])
    assert frame.attrs["settings"]["options"] == {"probability_plot": {"trim": [0.05, 0.95]}, "mle": {}}


def test_options_by_estimator_and_their_errors(checkpoint):
    path, state = checkpoint
    frame = ws.scan(path, estimators=["probability_plot", "quantile"],
                    options={"quantile": {"probabilities": (0.2, 0.8)}}, skip_validation=True, progress=False)
    direct = ws.fit(state[TENSOR], "quantile", probabilities=(0.2, 0.8), values="weights", zeros="omit")
    assert _row(frame, "quantile")["shape"] == direct.shape
    assert json.loads(_row(frame, "probability_plot")["options"])["trim"] == [0.1, 0.9]
    with pytest.raises(ValueError, match="no chosen estimator takes option `bins`"):
        ws.scan(path, estimators=["mle"], options={"bins": 3}, skip_validation=True)
    with pytest.raises(ValueError, match="`zeros` is the input policy"):
        ws.scan(path, options={"zeros": "error"}, skip_validation=True)
    with pytest.raises(ValueError, match="`trim` must satisfy"):
        ws.scan(path, options={"trim": (0.9, 0.1)}, skip_validation=True)
    with pytest.raises(ValueError, match="not among the estimators of this run"):
        ws.scan(path, options={"mle": {}}, skip_validation=True)


def test_the_cli_option_is_recorded_in_the_table_and_run_record(checkpoint, tmp_path, capsys):
    path, state = checkpoint
    out = tmp_path / "out"
    code = main(["scan", str(path), "--option", "trim=0.05,0.95", "--skip-validation", "--out", str(out),
                 "--no-progress"])
    assert code == 0, capsys.readouterr().err
    table = pd.read_parquet(out / "results.parquet")
    direct = ws.fit(state[TENSOR], "probability_plot", trim=(0.05, 0.95), values="weights", zeros="omit")
    assert _row(table, "probability_plot")["shape"] == pytest.approx(direct.shape, rel=1e-15)
    record = json.loads((out / "run.json").read_text())
    assert record["settings"]["options"] == {"probability_plot": {"trim": [0.05, 0.95]}}
    # run.json's settings are keyed by ws.scan's keywords
    assert {k: record["settings"][k] for k in ("values", "zeros", "nonfinite")} == {
        "values": "weights", "zeros": "omit", "nonfinite": "error"}
    report = (out / "report.md").read_text()
    assert "Estimator options: probability_plot: trim=0.05,0.95" in report
    assert "Input policy: --values weights --zeros omit --nonfinite error" in report
    # resume with other options is refused, naming what differs
    code = main(["scan", str(path), "--skip-validation", "--out", str(out), "--resume", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and "settings differ" in err and "options" in err


def test_the_input_policy_flags_apply_to_every_tensor(checkpoint, tmp_path, capsys):
    path, _ = checkpoint
    out = tmp_path / "out"
    code = main(["scan", str(path), "--values", "magnitudes", "--skip-validation", "--out", str(out),
                 "--no-progress"])
    err = capsys.readouterr().err
    # signed weights are not magnitudes: every matrix is a recorded failure, the scan ends with 1
    errors = pd.read_csv(out / "errors.csv")
    assert code == 1 and "failures recorded" in err
    assert errors["error"].str.contains("negative").all() and len(errors) > 0
    assert json.loads((out / "run.json").read_text())["settings"]["values"] == "magnitudes"


def test_zeros_error_refuses_a_matrix_with_zeros(tmp_path):
    state, config = synthetic_state("llama", layers=1, hidden=32, heads=2, vocab=48)
    state[TENSOR][0, :5] = 0.0
    path = write_checkpoint(tmp_path / "z", state, config)
    omitted = ws.scan(path, skip_validation=True, progress=False)
    assert _row(omitted, "probability_plot")["zeros"] == 5
    with pytest.warns(ScanWarning, match="1 failures"):
        refused = ws.scan(path, zeros="error", skip_validation=True, progress=False)
    assert TENSOR not in set(refused["tensor"])
    assert any(TENSOR in e["tensor"] and "zero" in e["error"] for e in refused.attrs["errors"])


def test_a_matrix_without_an_asymptotic_interval_keeps_its_fit():
    # five distinct values, heavily tied: quantile matching's sparsity is zero there, so it has
    # no first-order error; the row keeps the fit and says why the interval is missing
    w = np.random.default_rng(0).choice([0.01, 0.02, 0.03, 0.04, 0.05], size=(64, 64)).astype(np.float32)
    frame = ws.scan({"model.layers.0.mlp.down_proj.weight": w}, estimators=["quantile"], skip_validation=True,
                    progress=False)
    row = frame.iloc[0]
    assert row["shape"] == ws.fit(w, "quantile", values="weights", zeros="omit").shape
    assert np.isnan(row["shape_low"]) and row["interval_method"] == ""
    assert row["interval_warning"].startswith("no asymptotic interval: the sparsity estimate")
