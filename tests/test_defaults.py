"""One set of defaults for the Python API and every command (the input policy and the
estimator, each declared once), and one way to show a Monte Carlo p-value at its floor
``1/(M+1)`` in reprs, command-line text and JSON, Markdown, LaTeX and figures."""

from __future__ import annotations

import argparse
import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest

import weibull_stats as ws
from weibull_stats.cli import build_parser, main
from weibull_stats.commands._arguments import selected_estimators
from weibull_stats.core.formatting import pvalue_text
from weibull_stats.core.options import DEFAULT_POLICY
from weibull_stats.estimators.registry import DEFAULT_ESTIMATOR

matplotlib.use("Agg")

#: Every public entry point that checks data or picks an estimator.
ENTRY_POINTS: tuple[Callable[..., Any], ...] = (
    ws.fit_probability_plot, ws.fit_mle, ws.fit_quantile, ws.fit_log_moment, ws.fit_histogram,
    ws.fit, ws.bootstrap, ws.goodness_of_fit, ws.confidence_interval, ws.scan, ws.as_sample,
)
#: The commands that fit data (``demo`` fits every estimator, ``validate`` validates them all).
FITTING_COMMANDS = {"fit", "bootstrap", "gof", "scan"}


def test_the_declared_defaults_are_what_researchers_pass() -> None:
    # issue 19: signed weights, zeros omitted and counted, non-finite values an error, the
    # paper's probability plot
    assert dict(DEFAULT_POLICY) == {"values": "weights", "nonfinite": "error", "zeros": "omit"}
    assert DEFAULT_ESTIMATOR == "probability_plot" and DEFAULT_ESTIMATOR in ws.ESTIMATORS


def _python_defaults(function: Callable[..., Any]) -> dict[str, Any]:
    """What a call that names neither the policy nor the estimator gets.

    The policy is read from the signature, or, for an entry point that passes it on with
    ``**options``, from its default estimator's signature.
    """
    parameters = inspect.signature(function).parameters
    found: dict[str, Any] = {}
    for name in ("estimator", "estimators"):
        if name in parameters:
            default = parameters[name].default
            found["estimators"] = [default] if isinstance(default, str) else list(default)
    own = {name: parameters[name].default for name in DEFAULT_POLICY if name in parameters}
    if not own:
        assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
        (estimator,) = found["estimators"]
        own = {name: ws.ESTIMATORS[estimator].options[name] for name in DEFAULT_POLICY}
    found.update(own)
    return found


@pytest.mark.parametrize("function", ENTRY_POINTS, ids=lambda f: f.__name__)
def test_every_python_entry_point_has_the_declared_defaults(function: Callable[..., Any]) -> None:
    found = _python_defaults(function)
    assert {name: found[name] for name in DEFAULT_POLICY} == dict(DEFAULT_POLICY)
    if function.__name__.startswith("fit_") or function is ws.as_sample:
        assert "estimators" not in found
    else:
        assert found["estimators"] == [DEFAULT_ESTIMATOR]


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (subparsers,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(subparsers.choices)


def test_every_command_that_fits_has_the_python_defaults() -> None:
    python = _python_defaults(ws.fit)
    fitting = set()
    for name, command in _commands().items():
        actions = {action.dest: action for action in command._actions}
        if "values" not in actions:
            continue
        fitting.add(name)
        assert {flag: actions[flag].default for flag in DEFAULT_POLICY} == dict(DEFAULT_POLICY), name
        estimator = actions["estimator"].default
        chosen = selected_estimators(None) if estimator is None else [estimator]  # repeatable: None
        assert chosen == python["estimators"], name
    assert fitting == FITTING_COMMANDS


@pytest.fixture(scope="module")
def signed() -> np.ndarray:
    """Signed weights with three zeros: what the defaults are for."""
    w = np.random.default_rng(0).normal(0.0, 0.02, 3000)
    w[:3] = 0.0
    return w


def test_signed_weights_with_zeros_go_through_every_entry_point(signed: np.ndarray) -> None:
    results = {
        "fit": ws.fit(signed),
        "bootstrap": ws.bootstrap(signed, n_resamples=39, rng=0, workers=1).estimate,
        "gof": ws.goodness_of_fit(signed, n_mc_samples=0).fit,
        "interval": ws.confidence_interval(signed).estimate,
    }
    for name, fit in results.items():
        assert fit.estimator == DEFAULT_ESTIMATOR, name
        assert {k: fit.options[k] for k in DEFAULT_POLICY} == dict(DEFAULT_POLICY), name
        assert fit.n == signed.size and fit.n_omitted["zeros"] == 3, name
        assert (fit.shape, fit.scale) == (results["fit"].shape, results["fit"].scale), name
    sample = ws.as_sample(signed)
    assert sample.size == signed.size - 3 and dict(sample.policy) == dict(DEFAULT_POLICY)


def test_the_command_line_and_python_test_the_same_fit(signed: np.ndarray, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "w.npy"
    np.save(path, signed)
    assert main(["gof", str(path), "--n-mc-samples", "0", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    python = ws.goodness_of_fit(signed, n_mc_samples=0)
    assert payload["statistic"] == python.statistic
    assert ws.WeibullFit.from_dict(payload["fit"]) == python.fit


# ---------------------------------------------------------------------- the p-value floor
def _gof_case(kind: str) -> tuple[np.ndarray, int, int]:
    """Data, M and seed of a test at its floor (half-normal |w|, far from Weibull at this n)
    and of one above it whose p-value has three significant digits."""
    if kind == "floor":
        return np.abs(np.random.default_rng(4).normal(size=20_000)), 19, 0
    return np.random.default_rng(0).weibull(1.5, 300), 199, 1


@pytest.fixture(scope="module", params=["floor", "above"])
def gof_case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data, m, seed = _gof_case(request.param)
    path = tmp_path_factory.mktemp("gof") / "x.npy"
    np.save(path, data)
    result = ws.goodness_of_fit(data, n_mc_samples=m, rng=seed, workers=1)
    return {"kind": request.param, "path": path, "m": m, "seed": seed, "result": result}


def test_the_json_says_whether_the_pvalue_is_at_its_floor(gof_case: dict[str, Any],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["gof", str(gof_case["path"]), "--n-mc-samples", str(gof_case["m"]),
            "--seed", str(gof_case["seed"]), "--format", "json"]
    assert main(argv) == 0
    payload = json.loads(capsys.readouterr().out)
    at_floor = gof_case["kind"] == "floor"
    assert payload["pvalue_at_floor"] is at_floor
    assert (payload["pvalue"] == 1 / (gof_case["m"] + 1)) is at_floor
    assert payload["pvalue"] == gof_case["result"].pvalue
    assert gof_case["result"].pvalue_at_floor is at_floor
    untested = ws.goodness_of_fit(np.load(gof_case["path"]), n_mc_samples=0)
    assert untested.to_dict()["pvalue_at_floor"] is False and untested.pvalue is None


def test_every_view_writes_the_pvalue_the_same_way(gof_case: dict[str, Any],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    result, m = gof_case["result"], gof_case["m"]
    text = pvalue_text(result.pvalue, m)
    statement = pvalue_text(result.pvalue, m, prefix=True)
    if gof_case["kind"] == "floor":
        assert (text, statement) == (f"≤ 1/{m + 1}", f"p ≤ 1/{m + 1}")
    else:
        # three significant digits, the same in every view (not rounded to two in some)
        assert text == f"{result.pvalue:.3g}" and text != f"{result.pvalue:.2g}"
    assert f", {statement}, M={m}," in repr(result)
    assert f"p-value              {text}\n" in str(result)
    assert f"| {text} |" in ws.to_markdown(result)
    latex = text.replace("≤ ", r"$\leq$ ")
    assert f"& {latex} &" in ws.to_latex(result)
    assert statement in result.plot().axes[0].get_title()
    argv = ["gof", str(gof_case["path"]), "--n-mc-samples", str(m), "--seed", str(gof_case["seed"])]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f", {statement} ({m} Monte Carlo samples" in out
