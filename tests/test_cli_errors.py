"""The command line's one handler: one line per error and warning, in flags, naming the file."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import weibull_stats as ws
from weibull_stats.cli import main
from weibull_stats.commands import fit as fit_command
from weibull_stats.commands.errors import error_line, to_flags

#: A message that names a Python argument of the library instead of a flag.
API_WORDING = re.compile(
    r"`(x|rng|seed|workers|jobs|n_resamples|n_mc_samples|confidence_level|gof_samples|values|zeros|"
    r"nonfinite|estimator|estimators|statistic|kind|out|resume|paths)`"
    r"|\b(values|zeros|nonfinite|outside)=['\"]"
)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def save(path: Path, array: np.ndarray) -> str:
    np.save(path, array)
    return str(path)


@pytest.fixture
def weights(tmp_path: Path) -> str:
    return save(tmp_path / "w.npy", np.random.default_rng(0).normal(0.0, 0.02, 2000))


def test_translation_table() -> None:
    assert to_flags("pass values='weights' to fit |x|") == "pass --values weights to fit |x|"
    assert to_flags("pass outside='omit'") == "pass --option outside=omit"
    assert to_flags("`workers` must be a positive int") == "`--jobs` must be a positive int"
    assert to_flags("`rng` must be") == "`--seed` must be"
    assert to_flags("`confidence_level` must lie") == "`--confidence-level` must lie"
    assert to_flags("`trim` must satisfy") == "`trim` must satisfy"  # an --option name stays


def bad_inputs(tmp_path: Path) -> list[list[str]]:
    rng = np.random.default_rng(1)
    w = save(tmp_path / "w.npy", rng.normal(0.0, 0.02, 500))
    zeros = save(tmp_path / "zeros.npy", np.r_[np.zeros(5), rng.random(50)])
    nan = save(tmp_path / "nan.npy", np.r_[np.nan, rng.random(50)])
    const = save(tmp_path / "const.npy", np.full(20, 0.5))
    empty = save(tmp_path / "empty.npy", np.array([], dtype=np.float64))
    text = tmp_path / "strings.npz"
    np.savez(text, s=np.array(list("abc")))
    return [
        ["fit", w, "--values", "magnitudes"],
        ["fit", zeros, "--zeros", "error"],
        ["fit", nan],
        ["fit", const],
        ["fit", empty],
        ["fit", str(text)],
        # |w| ~ 0.02 lies outside the edges: "pass outside='omit'"
        ["fit", w, "--estimator", "histogram", "--option", "edges=-1:0:10"],
        ["fit", w, "--option", "trim=0.9,0.1"],
        ["fit", w, "--option", "trim=0.5,0.5001"],
        ["fit", w, "--estimator", "quantile", "--option", "method=nope"],
        ["bootstrap", w, "--values", "magnitudes", "--n-resamples", "5"],
        ["gof", w, "--values", "magnitudes", "--n-mc-samples", "5"],
        ["gof", nan, "--n-mc-samples", "5"],
    ]


def test_no_message_names_an_api_argument(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args in bad_inputs(tmp_path):
        code, out, err = run(args, capsys)
        assert code == 1 and out == "", args
        assert err.startswith(f"weibull-stats {args[0]}: error: ") and err.count("\n") == 1, (args, err)
        assert "Traceback" not in err
        assert not API_WORDING.search(err), (args, err)


def test_old_messages_are_gone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nan = save(tmp_path / "nan.npy", np.r_[np.nan, np.ones(3), 2.0])
    _, _, err = run(["fit", nan], capsys)
    assert "nonfinite='omit'" not in err and "`x`" not in err
    assert "pass --nonfinite omit" in err and err.rstrip().endswith(f"({nan})")
    w = save(tmp_path / "w.npy", np.random.default_rng(0).normal(0.0, 0.02, 300))
    _, _, err = run(["fit", w, "--values", "magnitudes"], capsys)
    assert "values='weights'" not in err and "pass --values weights" in err
    _, _, err = run(["fit", w, "--estimator", "histogram", "--option", "edges=-1:0:10"], capsys)
    assert "outside='omit'" not in err and "--option outside=omit" in err


def test_unexpected_exceptions_are_one_line(weights: str, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    def deep(*_: object, **__: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(fit_command, "fit", deep)
    code, out, err = run(["fit", weights], capsys)
    assert code == 1 and out == ""
    assert err == (f"weibull-stats fit: error: unexpected RecursionError: maximum recursion depth exceeded; "
                   f"rerun with --debug for the traceback ({weights})\n")


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback(weights: str, where: str, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*_: object, **__: object) -> None:
        raise AttributeError("'int' object has no attribute 'get'")

    monkeypatch.setattr(fit_command, "fit", broken)
    args = ["--debug", "fit", weights] if where == "before" else ["fit", weights, "--debug"]
    code, _, err = run(args, capsys)
    assert code == 1
    assert err.startswith("Traceback (most recent call last):")
    assert err.rstrip().endswith("AttributeError: 'int' object has no attribute 'get'")


def test_key_errors_and_multiline_messages(tmp_path: Path) -> None:
    line = error_line("scan", KeyError("tensor"), ["ck"])
    assert line == "weibull-stats scan: error: missing key 'tensor' (ck)\n"
    torch_like = ValueError("Weights only load failed.\n\x1b[1mWeightsUnpickler error:\x1b[0m bad\n\n"
                            "Check docs")
    line = error_line("scan", torch_like, ["m.bin"])
    assert line == ("weibull-stats scan: error: Weights only load failed.; WeightsUnpickler error: bad; "
                    "Check docs (m.bin)\n")
    missing = FileNotFoundError(2, "No such file or directory", str(tmp_path / "x"))
    assert error_line("report", missing, ["d"]) == (
        f"weibull-stats report: error: No such file or directory ({tmp_path / 'x'})\n")


def test_report_on_a_foreign_parquet_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint

    state, config = synthetic_state("gpt_neox", layers=1, hidden=16, heads=2)
    folder = write_checkpoint(tmp_path / "ck", state, config)
    out = tmp_path / "out"
    ws.scan(str(folder), out=out, skip_validation=True, report=False)
    pd.DataFrame({"a": [1, 2], "b": [3.0, 4.0]}).to_parquet(out / "results.parquet")
    code, _, err = run(["report", str(out), "--no-plots"], capsys)
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("weibull-stats report: error: ") and str(out) in err
    assert err != "weibull-stats report: error: estimator\n"


def test_interrupt_is_130(weights: str, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(fit_command, "fit", interrupted)
    assert run(["fit", weights], capsys) == (130, "", "weibull-stats fit: interrupted\n")


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_warnings_are_one_line_and_restored(weights: str, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    real = fit_command.fit

    def noisy(*args: object, **kwargs: object) -> object:
        warnings.warn("few distinct values;\npass zeros='omit' to drop them", UserWarning, stacklevel=2)
        warnings.warn("overflow encountered in exp", RuntimeWarning, stacklevel=2)
        return real(*args, **kwargs)

    monkeypatch.setattr(fit_command, "fit", noisy)
    before = warnings.showwarning
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        code, out, err = run(["fit", weights], capsys)
    assert code == 0 and out.startswith("estimator")
    assert err == ("weibull-stats fit: warning: few distinct values;; pass --zeros omit to drop them\n"
                   "weibull-stats fit: warning: RuntimeWarning: overflow encountered in exp\n")
    assert warnings.showwarning is before
    with pytest.warns(UserWarning, match="few distinct values"):  # passed on as they are
        code, _, err = run(["fit", weights, "--debug"], capsys)
    assert code == 0 and "weibull-stats fit: warning" not in err


def test_usage_errors_are_one_line(weights: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bootstrap", weights, "--n-resamples", "0"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == ("weibull-stats bootstrap: error: argument --n-resamples: must be an integer >= 1; got 0; "
                   "see weibull-stats bootstrap --help\n")
    assert "`n_resamples`" not in err
    for args, flag in ((["gof", weights, "--n-mc-samples", "-1"], "--n-mc-samples"),
                       (["bootstrap", weights, "--confidence-level", "1.5"], "--confidence-level"),
                       (["gof", weights, "--jobs", "0"], "--jobs"),
                       (["scan", "ck", "--gof-samples", "0"], "--gof-samples")):
        with pytest.raises(SystemExit):
            main(args)
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"argument {flag}" in err, err


# ---------------------------------------------------------------------- issue 20, item 7: messages
def test_a_bad_device_names_the_flag_not_the_input(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    path = save(tmp_path / "w.npy", np.random.default_rng(0).normal(0.0, 0.02, (40, 40)))
    code, out, err = run(["scan", path, "--out", str(tmp_path / "o"), "--skip-validation", "--no-progress",
                          "--device", "bogus"], capsys)
    assert code == 1 and out == ""
    assert err == ("weibull-stats scan: error: `--device` 'bogus' is not a torch device (expected cpu, cuda, "
                   "cuda:N or mps)\n")
    assert not (tmp_path / "o").exists()


def test_demo_seed_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--seed", "-1"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == ("weibull-stats demo: error: argument --seed: must be an integer >= 0; "
                                       "got -1; see weibull-stats demo --help\n")


def test_tensor_errors_in_a_scan_name_the_flag_and_the_keyword(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from weibull_stats.checkpoints.synthetic import write_safetensors

    rng = np.random.default_rng(0)
    bad = rng.normal(0.0, 0.02, (40, 40))
    bad[0, :3] = np.nan
    zeros = rng.normal(0.0, 0.02, (40, 40))
    zeros[1, :2] = 0.0
    path = write_safetensors(tmp_path / "m.safetensors", {"nan.weight": bad, "zero.weight": zeros,
                                                          "good.weight": rng.normal(0.0, 0.02, (40, 40))})
    out = tmp_path / "o"
    code, _, err = run(["scan", str(path), "--out", str(out), "--skip-validation", "--no-progress",
                        "--zeros", "error"], capsys)
    assert code == 1
    errors = {line.split(",")[2]: line for line in (out / "errors.csv").read_text().splitlines()[1:]}
    assert errors.keys() == {"nan.weight", "zero.weight"}
    assert ("nan.weight has 3 non-finite values out of 1600 (3 NaN, 0 infinite); rescan with --nonfinite "
            "omit (ws.scan(..., nonfinite='omit')) to drop them") in errors["nan.weight"]
    assert ("zero.weight has 2 zeros out of 1600; a Weibull fit takes log(x); rescan with --zeros omit "
            "(ws.scan(..., zeros='omit')) to drop them") in errors["zero.weight"]
    for text in (err, *errors.values()):
        assert "pass nonfinite=" not in text and "pass zeros=" not in text and "`x`" not in text
