"""``weibull-stats fit``: tables, JSON, every estimator, one-line errors with no traceback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import weibull_stats as ws
from weibull_stats.cli import main


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    path = tmp_path / "w.npy"
    np.save(path, np.random.default_rng(0).normal(0.0, 0.02, (200, 100)).astype(np.float32))
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_json_all_estimators(weights: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["fit", str(weights), "--estimator", "all", "--format", "json"]
    code, out, err = run(args, capsys)
    assert code == 0 and err == ""
    payload = json.loads(out)
    assert [item["estimator"] for item in payload] == list(ws.ESTIMATORS)
    data = np.load(weights)
    for item in payload:
        for key in ("estimator", "shape", "scale", "n", "n_used", "options", "converged", "package_version"):
            assert key in item
        assert item["n"] == data.size
        assert item["options"]["values"] == "weights" and item["options"]["zeros"] == "omit"
        expected = ws.fit(data, item["estimator"], values="weights", zeros="omit")
        assert ws.WeibullFit.from_dict(item) == expected


def test_table_default_estimator_and_repeats(weights: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["fit", str(weights)], capsys)
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].split() == ["estimator", "shape", "scale", "n", "n_used", "r2", "converged"]
    assert len(lines) == 4 and lines[2].startswith("probability_plot")
    fit = ws.fit(np.load(weights), values="weights", zeros="omit")
    assert f"{fit.shape:.10g}" in lines[2]
    assert lines[3] == ("probability_plot: --values weights --zeros omit --nonfinite error "
                        "--option trim=0.1,0.9 --option plotting_position=hazen --option direction=y_on_x")
    args = ["fit", str(weights), "--estimator", "mle", "--estimator", "mle"]
    code, out, _ = run([*args, "--estimator", "quantile"], capsys)
    table = out.strip().splitlines()
    assert code == 0 and [line.split()[0] for line in table[2:4]] == ["mle", "quantile"]
    assert [line.split(":")[0] for line in table[4:]] == ["mle", "quantile"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--estimator", "gmm"],
         r"--estimator gmm: unknown estimator 'gmm'; registered: probability_plot, .*, all"),
        (["--values", "magnitudes"],
         r"the array has \d+ negative values out of 20000; magnitudes are expected "
         r"\(pass --values weights to fit \|x\|\) \(.*w\.npy\)"),
        (["--estimator", "mle", "--estimator", "bogus"], r"unknown estimator 'bogus'"),
    ],
)
def test_errors_are_one_line(weights: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                             message: str) -> None:
    code, out, err = run(["fit", str(weights), *args], capsys)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("weibull-stats fit: error: ")
    assert re.search(message, err)


def test_file_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["fit", str(tmp_path / "missing.npy")], capsys)
    assert code == 1 and err == f"weibull-stats fit: error: {tmp_path / 'missing.npy'}: no such file\n"
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"not an array")
    code, _, err = run(["fit", str(bad)], capsys)
    assert code == 1 and err.startswith(f"weibull-stats fit: error: {bad} is not a .npy or .npz file (")
    assert err.count("\n") == 1
    nan = tmp_path / "nan.npy"
    np.save(nan, np.array([1.0, np.nan, 2.0, 3.0]))
    code, _, err = run(["fit", str(nan)], capsys)
    assert code == 1
    assert err == ("weibull-stats fit: error: the array has 1 non-finite values out of 4 "
                   f"(1 NaN, 0 infinite); pass --nonfinite omit to drop them ({nan})\n")
    code, out, _ = run(["fit", str(nan), "--nonfinite", "omit", "--format", "json"], capsys)
    assert code == 0 and json.loads(out)[0]["n_omitted"] == {"masked": 0, "nonfinite": 1, "zeros": 0}


def test_console_script_exit_status(tmp_path: Path) -> None:
    """The real process: non-zero exit, exactly one line on stderr, no traceback."""
    path = tmp_path / "zeros.npy"
    np.save(path, np.zeros(10))
    proc = subprocess.run([sys.executable, "-m", "weibull_stats", "fit", str(path), "--zeros", "error"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == ("weibull-stats fit: error: the array has 10 zeros out of 10; a Weibull fit takes "
                           f"log(x) (pass --zeros omit to drop them) ({path})\n")
    proc = subprocess.run([sys.executable, "-m", "weibull_stats", "fit", str(path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("weibull-stats fit: error: the array has 0 usable values out of 10; ")
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
