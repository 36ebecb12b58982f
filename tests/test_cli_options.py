"""One command line: the same flags and defaults in every command, help for every flag,
and any estimator's options from ``--option NAME=VALUE``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

import weibull_stats as ws
from weibull_stats.cli import build_parser, main
from weibull_stats.commands._options import parse_options

FITTING = ("fit", "gof", "bootstrap", "scan")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def weights(tmp_path: Path) -> str:
    path = tmp_path / "w.npy"
    x = np.random.default_rng(5).normal(0.0, 0.02, 3000)
    x[:7] = 0.0
    np.save(path, x)
    return str(path)


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_each_command_is_described_once_by_its_module() -> None:
    # the module's docstring is the one description: its first line the help of
    # `weibull-stats --help`, the rest the description of `weibull-stats NAME --help`
    import importlib

    parser = build_parser()
    listing = parser.format_help()
    for name, sub in subparsers().items():
        doc = importlib.import_module(f"weibull_stats.commands.{name}").__doc__
        summary, _, description = doc.partition("\n\n")
        assert " ".join(summary.split()) in " ".join(listing.split()), name
        assert sub.description == description and len(description.split()) >= 8, name


def test_same_input_defaults_everywhere() -> None:
    parser = build_parser()
    for command in FITTING:
        args = parser.parse_args([command, "PATH"])
        assert (args.values, args.zeros, args.nonfinite) == ("weights", "omit", "error"), command
        chosen = args.estimator
        estimator = chosen if isinstance(chosen, str) else (chosen or ["probability_plot"])[0]
        assert estimator == "probability_plot", command
    for command in ("gof", "bootstrap", "scan"):
        assert "--jobs" in subparsers()[command]._option_string_actions


def test_every_flag_has_help_with_its_default() -> None:
    for command, parser in subparsers().items():
        text = parser.format_help()
        for action in parser._actions:
            if not action.option_strings or action.dest in ("help", "debug"):
                continue
            if action.help == argparse.SUPPRESS:
                assert action.option_strings == ["--workers"], (command, action.option_strings)
                continue
            assert action.help, (command, action.option_strings)
            assert "default" in action.help, (command, action.option_strings)
            if action.default not in (None, False, argparse.SUPPRESS):
                assert f"{action.default}" in (action.help % vars(action)), (command, action.option_strings)
        for flag in ("--confidence-level", "--gof-samples", "--seed", "--zeros", "--nonfinite"):
            if flag in parser._option_string_actions:
                assert flag in text


def test_fit_and_gof_print_the_same_shape(weights: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, fit_out, _ = run(["fit", weights, "--format", "json"], capsys)
    _, gof_out, _ = run(["gof", weights, "--n-mc-samples", "0", "--format", "json"], capsys)
    boot_args = ["bootstrap", weights, "--n-resamples", "5", "--seed", "0", "--format", "json"]
    _, boot_out, _ = run(boot_args, capsys)
    fit, gof, boot = json.loads(fit_out)[0], json.loads(gof_out)["fit"], json.loads(boot_out)["estimate"]
    assert fit["shape"] == gof["shape"] == boot["shape"]
    assert fit["n_omitted"]["zeros"] == gof["n_omitted"]["zeros"] == boot["n_omitted"]["zeros"] == 7
    _, table, _ = run(["fit", weights], capsys)
    assert "--values weights --zeros omit (7 left out) --nonfinite error" in table.splitlines()[-1]


def test_workers_is_a_deprecated_alias(weights: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert build_parser().parse_args(["gof", "P", "--workers", "2"]).jobs == 2
    code, out, err = run(["gof", weights, "--n-mc-samples", "0", "--workers", "1"], capsys)
    assert code == 0 and out
    assert err == "weibull-stats gof: warning: --workers is deprecated; use --jobs\n"
    assert "--workers" not in subparsers()["bootstrap"].format_help()


def test_option_sets_any_estimator_option(weights: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = np.load(weights)
    policy = {"values": "weights", "zeros": "omit"}
    args = ["fit", weights, "--option", "trim=0.05,0.95", "--option", "plotting_position=blom",
            "--format", "json"]
    code, out, _ = run(args, capsys)
    item = json.loads(out)[0]
    assert code == 0 and item["options"]["trim"] == [0.05, 0.95]
    assert item["options"]["plotting_position"] == "blom"
    expected = ws.fit(data, trim=(0.05, 0.95), plotting_position="blom", **policy)
    assert ws.WeibullFit.from_dict(item) == expected
    args = ["fit", weights, "--estimator", "quantile", "--option", "probabilities=0.2,0.5,0.8"]
    code, out, _ = run(args, capsys)
    assert code == 0 and "quantile: " in out and "--option probabilities=0.2,0.5,0.8" in out
    code, out, _ = run(["fit", weights, "--estimator", "histogram", "--option", "edges=-8:0:800",
                        "--format", "json"], capsys)
    expected = ws.fit(data, "histogram", edges=np.linspace(-8, 0, 801), **policy)
    assert code == 0 and json.loads(out)[0]["shape"] == expected.shape


def test_option_reaches_gof_and_bootstrap(weights: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["gof", weights, "--n-mc-samples", "9", "--seed", "2", "--option", "trim=0.2,0.8",
                        "--format", "json"], capsys)
    assert code == 0 and json.loads(out)["fit"]["options"]["trim"] == [0.2, 0.8]
    args = ["bootstrap", weights, "--n-resamples", "9", "--seed", "2", "--option", "trim=0.2,0.8"]
    code, out, _ = run(args, capsys)
    assert code == 0 and "--option trim=0.2,0.8" in out.splitlines()[-1]
    code, out, _ = run(["gof", weights, "--n-mc-samples", "0", "--option", "trim=0.2,0.8"], capsys)
    assert code == 0 and "--option trim=0.2,0.8" in out


def test_option_with_several_estimators_goes_to_those_that_take_it() -> None:
    chosen = parse_options(["trim=0.2,0.8"], ["probability_plot", "histogram", "mle"])
    assert chosen == {"probability_plot": {"trim": (0.2, 0.8)}, "histogram": {"trim": (0.2, 0.8)}, "mle": {}}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--option", "trim"], "--option trim: expected NAME=VALUE, for example --option trim=0.05,0.95"),
        (["--option", "trim=a,b"], "--option trim=a,b: `trim` takes numbers separated by commas (0.05,0.95)"),
        (["--option", "trim=0.9,0.1"],
         "--option trim=0.9,0.1: `trim` must satisfy 0 <= low < high <= 1; got (0.9, 0.1)"),
        (["--option", "plotting_position=foo"],
         "--option plotting_position=foo: `plotting_position` must be one of 'hazen', 'weibull', "
         "'bernard', 'blom'; got 'foo'"),
        (["--estimator", "mle", "--option", "trim=0.1,0.9"],
         "--option trim=0.1,0.9: no chosen estimator takes option `trim` (mle takes no options)"),
        (["--option", "bins=10"],
         "--option bins=10: no chosen estimator takes option `bins` (probability_plot takes "
         "trim, plotting_position, direction)"),
        (["--option", "zeros=error"],
         "--option zeros=error: the input policy has its own flag; use --zeros error"),
        (["--estimator", "histogram", "--option", "edges=x:y"],
         "--option edges=x:y: `edges` takes numbers separated by commas or START:STOP:BINS (-12:2:1024)"),
    ],
)
def test_option_errors_name_the_option(weights: str, args: list[str], message: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["fit", weights, *args], capsys)
    assert code == 1 and out == ""
    assert err == f"weibull-stats fit: error: {message}\n"


