"""The scan's settings, declared once (weibull_stats.scanning.settings): ws.scan's signature,
the command line, run.json, the journal and the report all agree with the declaration, and
``weibull-stats report DIR`` rebuilds the report the scan wrote, from run.json alone."""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import shutil
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import weibull_stats as ws
from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
from weibull_stats.cli import build_parser, main
from weibull_stats.commands._arguments import selected_estimators
from weibull_stats.report.folder import EarlierRunWarning
from weibull_stats.report.markdown import report_from_folder
from weibull_stats.scanning.journal import JOURNAL, read_journal
from weibull_stats.scanning.settings import (
    REQUIRED,
    SCAN_SETTINGS,
    SWITCH,
    Check,
    ScanSettings,
    check_settings,
    read_settings,
)

RECORDED = [s.name for s in SCAN_SETTINGS if s.recorded]
#: Settings checked against a range (their --help states it, a bad value is a usage error).
RANGED = [s for s in SCAN_SETTINGS if isinstance(s.check, Check) and not s.check.choices and s.flag
          and s.check is not SWITCH]


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIBULL_STATS_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # grouped-query attention: the published GQA bands give verdicts for q, k, o and the FFN
    state, config = synthetic_state("llama", layers=2, hidden=32, heads=4, kv_heads=2, vocab=40)
    return write_checkpoint(tmp_path_factory.mktemp("settings") / "ckpt", state, config)


@pytest.fixture(scope="module")
def scanned(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The issue's scan: other levels and a trim option, from the command line."""
    out = tmp_path_factory.mktemp("scanned") / "out"
    code = main(["scan", str(checkpoint), "--fdr", "0.1", "--equivalence-level", "0.1", "--option",
                 "trim=0.05,0.95", "--skip-validation", "--no-progress", "--out", str(out)])
    assert code == 0
    return out


def _scan_parser() -> argparse.ArgumentParser:
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return subparsers.choices["scan"]


# ---------------------------------------------------------------------- the report, rebuilt
def test_report_rebuilds_the_scans_report_byte_for_byte(scanned: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(scanned, out)
    written = (out / "report.md").read_bytes()
    (out / "report.md").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "report.md").read_bytes() == written


def test_the_report_states_the_settings_the_scan_used(scanned: Path) -> None:
    report = (scanned / "report.md").read_text(encoding="utf-8")
    assert "Estimator options: probability_plot: trim=0.05,0.95;" in report
    # one level, said the same way in the header and the class summary; this fit is off the
    # published protocol (trim 0.05-0.95), so its matrices get no verdict and the notes say why
    assert report.count("two one-sided tests at level 0.1") == 2
    assert "Verdict: not comparable (estimator/options differ from the published protocol)." in report
    assert "80% interval" in report and "90%" not in report
    assert "at 5%" not in report and "level 0.05" not in report
    assert "false discovery rate 0.1 (fdr_bh)" in report
    flags = next(line for line in report.splitlines() if line.startswith("- Settings as"))
    assert "--equivalence-level 0.1 --fdr 0.1" in flags


def test_levels_go_to_their_own_decisions(checkpoint: Path, tmp_path: Path) -> None:
    # the equivalence level decides the verdicts, the false discovery rate counts departures
    out = tmp_path / "out"
    assert main(["scan", str(checkpoint), "--equivalence-level", "0.45", "--fdr", "0.3", "--gof",
                 "--gof-samples", "9", "--skip-validation", "--no-progress", "--out", str(out)]) == 0
    table = pd.read_parquet(out / "results.parquet")
    banded = table[table["equivalence"] != ""]
    assert len(banded) > 0
    shape, se = banded["shape"].to_numpy(), banded["shape_se"].to_numpy()
    band = (banded["equivalence_low"].to_numpy(), banded["equivalence_high"].to_numpy())
    expected = ws.equivalence_tests(shape, se, band, level=0.45).verdict
    at_fdr = ws.equivalence_tests(shape, se, band, level=0.3).verdict
    assert banded["equivalence"].tolist() == expected.tolist()
    assert (expected != at_fdr).any()  # the two levels give other verdicts on these data
    departing = int((table["gof_pvalue_adjusted"] < 0.3).sum())
    report = (out / "report.md").read_text(encoding="utf-8")
    assert f"**{departing} depart from the Weibull law at false discovery rate 0.3**" in report
    assert "two one-sided tests at level 0.45" in report and "10% interval" in report


def test_an_earlier_run_record_is_read_with_its_fdr_and_the_defaults_named(scanned: Path,
                                                                          tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(scanned, out)
    run = json.loads((out / "run.json").read_text())
    settings = run["settings"]
    # as an earlier version wrote it: one `policy` object, one `fdr` for both levels
    settings["policy"] = {name: settings.pop(name) for name in ("values", "zeros", "nonfinite")}
    del settings["equivalence_level"], settings["multiple_testing"]
    (out / "run.json").write_text(json.dumps(run))
    with pytest.warns(EarlierRunWarning, match=r"`equivalence_level` 0.1 \(its `fdr`.*`multiple_testing` "
                                               r"'fdr_bh' \(the default\)"):
        report_from_folder(out, plots=False)
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "two one-sided tests at level 0.1" in report and "trim=0.05,0.95" in report
    settings["unknown"] = 1
    (out / "run.json").write_text(json.dumps(run))
    with pytest.raises(ValueError, match=r"run.json: corrupt run record \(settings: unknown setting `unkno"):
        report_from_folder(out, plots=False)


# ---------------------------------------------------------------------- one declaration
def test_ws_scan_signature_follows_the_declaration() -> None:
    parameters = inspect.signature(ws.scan).parameters
    doc = inspect.getdoc(ws.scan) or ""
    for setting in SCAN_SETTINGS:
        assert setting.name in parameters, setting.name
        default = parameters[setting.name].default
        expected = inspect.Parameter.empty if setting.default is REQUIRED else setting.default
        assert default == expected, (setting.name, default, expected)
        assert f"{setting.name} :" in doc or f"{setting.name}," in doc, setting.name


def test_the_cli_parser_follows_the_declaration() -> None:
    parser = _scan_parser()
    by_flag = {flag: action for action in parser._actions for flag in action.option_strings}
    defaults = vars(parser.parse_args(["ck"]))
    for setting in SCAN_SETTINGS:
        if setting.flag is None:
            assert any(a.dest == setting.name and not a.option_strings for a in parser._actions)
            continue
        action = by_flag[setting.flag]
        if setting.name == "estimators":  # --estimator NAME, repeatable, 'all'
            assert selected_estimators(defaults[action.dest]) == list(setting.default)
        else:
            assert defaults[action.dest] == setting.default, setting.name
        if setting in RANGED:
            assert setting.requirement in " ".join((action.help or "").split()), setting.flag
            assert action.dest == setting.name


def test_run_json_and_the_journal_record_the_declared_settings(scanned: Path) -> None:
    assert [f.name for f in fields(ScanSettings)] == RECORDED
    run = json.loads((scanned / "run.json").read_text())
    assert sorted(run["settings"]) == sorted(RECORDED)
    header, _, _ = read_journal(scanned / JOURNAL)
    assert header is not None and header["settings"] == run["settings"]
    assert (run["settings"]["equivalence_level"], run["settings"]["fdr"]) == (0.1, 0.1)
    settings, notes = read_settings(run["settings"])
    assert notes == () and settings.to_dict() == run["settings"]


def test_settings_round_trip_and_check_once(monkeypatch: pytest.MonkeyPatch) -> None:
    given = check_settings(paths=["m"], estimators=["probability_plot", "mle"],
                           options={"trim": (0.05, 0.95)}, equivalence_level=0.2, fdr=0.6, gof=True)
    assert ScanSettings.from_dict(given.to_dict()) == given
    assert (given.equivalence_level, given.fdr) == (0.2, 0.6)
    calls = []
    for module in ("weibull_stats.workflow", "weibull_stats.scanning.run"):
        target = importlib.import_module(module)
        if hasattr(target, "check_settings"):
            original = target.check_settings

            def counted(*args: object, _original: object = original, **kwargs: object) -> object:
                calls.append(1)
                return _original(*args, **kwargs)  # type: ignore[operator]

            monkeypatch.setattr(target, "check_settings", counted)
    state = {"model.layers.0.mlp.down_proj.weight": np.random.default_rng(0).normal(0, 0.02, (16, 16))}
    ws.scan(state, skip_validation=True, progress=False)
    assert len(calls) == 1


# ---------------------------------------------------------------------- errors name the flag
@pytest.mark.parametrize("setting", RANGED, ids=lambda s: s.name)
def test_a_value_out_of_range_is_a_usage_error_naming_the_flag(setting, capsys: pytest.CaptureFixture[str]
                                                                ) -> None:
    bad = {"integer": "-1", "number": "1.5"}[setting.requirement.split()[1]]
    if setting.name == "equivalence_level":
        bad = "0.5"
    assert setting.flag is not None
    with pytest.raises(SystemExit) as exit_info:
        main(["scan", "some/checkpoint", setting.flag, bad])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err == (f"weibull-stats scan: error: argument {setting.flag}: must be {setting.requirement}; "
                   f"got {bad}; see weibull-stats scan --help\n")
    with pytest.raises(ValueError, match=f"`{setting.name}` must be {setting.requirement}"):
        check_settings(paths="some/checkpoint", **{setting.name: setting.check.parse(bad)})  # type: ignore[union-attr]


def test_the_flags_of_the_two_levels_state_their_ranges() -> None:
    help_text = _scan_parser().format_help()
    text = " ".join(help_text[help_text.index("options:"):].split())
    level = text[text.index("--equivalence-level ALPHA level"):text.index("--fdr Q false")]
    fdr = text[text.index("--fdr Q false"):text.index("--multiple-testing METHOD")]
    assert level.endswith("a number strictly between 0 and 0.5 (default: 0.05) ")
    assert fdr.endswith("a number strictly between 0 and 1 (default: 0.05) ")
