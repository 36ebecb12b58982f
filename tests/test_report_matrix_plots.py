"""The report's figures summarise per kind and layer and re-read no matrix; the probability plots
of single matrices are drawn on request (issue 22, item 4: a report whose cost does not grow
with the model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from weibull_stats.checkpoints.readers import Checkpoint
from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
from weibull_stats.cli import build_parser, main
from weibull_stats.report.markdown import report_from_folder
from weibull_stats.report.matrix_plots import MATRIX_PLOTS_NOTE
from weibull_stats.scanning.settings import SETTINGS
from weibull_stats.workflow import scan


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIBULL_STATS_CACHE", str(tmp_path_factory.mktemp("cache")))


def _scanned(folder: Path, layers: int, **settings: object) -> Path:
    state, config = synthetic_state("llama", layers=layers, hidden=16, heads=2, vocab=24)
    out = folder / f"out{layers}"
    scan(write_checkpoint(folder / f"ckpt{layers}", state, config), out=out, skip_validation=True,
         progress=False, **settings)
    return out


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the tensors read from a checkpoint from now on."""
    names: list[str] = []
    read = Checkpoint.read

    def counted(self: Checkpoint, name: str) -> object:
        names.append(name)
        return read(self, name)

    monkeypatch.setattr(Checkpoint, "read", counted)
    return names


def test_the_default_report_reads_no_matrix_for_any_number_of_matrices(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small, large = _scanned(tmp_path, 1), _scanned(tmp_path, 4)
    reads = _reads(monkeypatch)
    figures = []
    for out in (small, large):
        report_from_folder(out)
        figures.append(sorted(p.name for p in out.glob("*.png")))
        report = (out / "report.md").read_text(encoding="utf-8")
        assert MATRIX_PLOTS_NOTE in report and "probability_plots" not in report
    assert reads == []
    assert figures[0] == figures[1] == ["shape_by_layer.png"]


def test_matrix_plots_on_request_from_the_scan_and_the_report(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    out = _scanned(tmp_path, 2, matrix_plots=True)
    written = (out / "report.md").read_text(encoding="utf-8")
    assert "![probability plots](probability_plots.png)" in written and MATRIX_PLOTS_NOTE not in written
    (out / "report.md").unlink()
    (out / "probability_plots.png").unlink()
    reads = _reads(monkeypatch)
    assert main(["report", str(out), "--matrix-plots"]) == 0
    assert (out / "probability_plots.png").is_file()
    assert (out / "report.md").read_text(encoding="utf-8") == written  # the same bytes as the scan's
    kinds = {"embedding", "q", "k", "v", "o", "gate", "up", "down", "lm_head"}
    assert len(reads) == len(kinds)  # one matrix per kind, re-read for its plot


def test_the_flag_is_declared_once_for_the_scan_and_the_report() -> None:
    setting = SETTINGS["matrix_plots"]
    assert setting.default is False and not setting.recorded  # the figures, not the numbers
    subparsers = next(a for a in build_parser()._actions if hasattr(a, "choices") and a.choices
                      and "report" in a.choices)
    for command in ("scan", "report"):
        parser = subparsers.choices[command]
        (action,) = [a for a in parser._actions if setting.flag in a.option_strings]
        assert action.dest == setting.name and action.default is False
        assert " ".join(setting.help.split()) in " ".join((action.help or "").split())
