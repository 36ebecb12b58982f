"""Progress of long operations: shown on a terminal, quiet in a log unless asked, moving
within a large tensor, and reporting exactly the work there is."""

from __future__ import annotations

import io
import queue
import sys
from pathlib import Path

import numpy as np
import pytest

import weibull_stats as ws
from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
from weibull_stats.cli import main
from weibull_stats.core.progress import QueueTicker, Share, Stages, progress_bar, show_progress
from weibull_stats.scanning.run import scan


class Record:
    """A ticker that keeps every report."""

    def __init__(self) -> None:
        self.updates: list[float] = []

    def update(self, n: float = 1) -> None:
        self.updates.append(float(n))


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_rule_of_when_a_bar_shows(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert show_progress(None) is False  # a log or a pipe: quiet
    monkeypatch.setattr(sys, "stderr", Terminal())
    assert show_progress(None) is True
    assert show_progress(False) is False and show_progress(True) is True
    assert show_progress(Record()) is False  # the caller draws
    with pytest.raises(ValueError, match="`progress` must be"):
        show_progress(1)


def test_a_bar_on_a_terminal_has_the_time_left(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress_bar(None, 4, description="work") as bar:
        bar.update(4)
    text = terminal.getvalue()
    assert "work: 100%" in text and "<00:00" in text  # elapsed < remaining


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    state, config = synthetic_state("llama", layers=1, hidden=48, heads=2, vocab=40)
    return write_checkpoint(tmp_path / "ckpt", state, config)


def test_the_scan_reports_its_work_within_each_tensor(checkpoint):
    record = Record()
    frame, _ = scan(checkpoint, bootstrap=64, gof=True, gof_samples=32, progress=record)
    tensors = frame["tensor"].nunique()
    # the bootstrap and the test report each block of replicates: many reports per tensor
    assert len(record.updates) > 3 * tensors
    # what is reported adds up to the work: per row, its weights times (1 fit + B + M)
    weights = frame.loc[frame["part"] == "", "numel"].sum()
    fused = frame.loc[frame["part"] != "", "numel"].sum()
    assert sum(record.updates) == pytest.approx((weights + fused) * (1 + 64 + 32), rel=1e-9)
    # ... by the reports themselves: the top-up when a tensor ends (for omitted zeros) is 0
    assert record.updates.count(0.0) == tensors


def test_worker_processes_report_through_a_queue(checkpoint):
    record = Record()
    frame, _ = scan(checkpoint, bootstrap=64, progress=record, jobs=2)
    # each worker sends its reports (at most every 0.25 s, the rest when a tensor ends); the
    # bar gets exactly the work, whether a report arrives before or after its tensor's result
    assert sum(record.updates) == pytest.approx(frame["numel"].sum() * (1 + 64), rel=1e-9)
    assert sum(1 for u in record.updates if u > 0) >= 1


def test_a_queue_ticker_sends_at_most_every_interval():
    sent: queue.Queue = queue.Queue()
    fast = QueueTicker(sent, "t", interval=0.0)
    for _ in range(5):
        fast.update(2)
    assert [sent.get_nowait() for _ in range(5)] == [("t", 2.0)] * 5
    slow = QueueTicker(sent, "s", interval=3600.0)
    slow.update(1)  # the first report goes at once
    slow.update(1)
    slow.update(1)
    assert sent.get_nowait() == ("s", 1.0) and sent.empty()
    slow.flush()
    assert sent.get_nowait() == ("s", 2.0)


def test_a_queue_ticker_reports_at_once_on_a_machine_started_seconds_ago(monkeypatch):
    # time.monotonic() counts from boot on Linux: a fresh CI container reads a few seconds
    monkeypatch.setattr("weibull_stats.core.progress.time.monotonic", lambda: 5.0)
    sent: queue.Queue = queue.Queue()
    QueueTicker(sent, "s", interval=3600.0).update(1)
    assert sent.get_nowait() == ("s", 1.0)


def test_a_bootstrap_reports_each_block():
    record = Record()
    x = np.random.default_rng(0).weibull(1.3, 500)
    ws.bootstrap(x, "probability_plot", n_resamples=100, rng=0, progress=record)
    assert sum(record.updates) == 100 and len(record.updates) == 4  # blocks of 32


def test_share_and_stages_count_what_they_are_told():
    record = Record()
    Share(record, weight=10).update(2.5)
    assert record.updates == [25.0]
    stages_record = Record()
    with Stages(stages_record, {"a": 1.0, "b": 3.0}, description="x") as tell:
        tell("a")
        tell("a step")  # not a stage: shown only
        tell.within(4).update(2)  # half of a
        tell("b")
        tell.within(10).update(20)  # capped at b's weight
    assert sum(stages_record.updates) == pytest.approx(4.0)
    assert stages_record.updates[:2] == [0.5, 0.5]


def test_commands_are_quiet_in_a_log_and_draw_when_asked(checkpoint, tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["scan", str(checkpoint), "--skip-validation", "--out", str(out)]) == 0
    assert "scan:" not in capsys.readouterr().err  # stderr is not a terminal here
    assert main(["scan", str(checkpoint), "--skip-validation", "--out", str(out), "--progress"]) == 0
    err = capsys.readouterr().err
    assert "scan: 100%" in err and "tensors" in err
    path = tmp_path / "w.npy"
    np.save(path, np.random.default_rng(1).normal(0, 0.02, 2000))
    assert main(["bootstrap", str(path), "--n-resamples", "64", "--seed", "1", "--progress"]) == 0
    assert "bootstrap probability_plot" in capsys.readouterr().err
    assert main(["gof", str(path), "--gof-samples", "19", "--seed", "1"]) == 0
    assert "%|" not in capsys.readouterr().err
