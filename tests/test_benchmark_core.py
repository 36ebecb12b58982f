"""The timing logic of ``benchmarks/core.py`` on a fake clock (no real timing is asserted)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "core.py"


@pytest.fixture()
def core(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("benchmark_core", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "benchmark_core", module)
    spec.loader.exec_module(module)
    return module


class Clock:
    """``perf_counter`` that only moves when a fake call spends time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.calls: list[int] = []

    def __call__(self) -> float:
        return self.now

    def cost(self, fixed: float, per: float):
        def call(count: int) -> None:
            self.calls.append(count)
            self.now += fixed + per * count
        return call


def test_scaled_extrapolates_when_the_full_run_is_over_budget(core, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(core.time, "perf_counter", clock)
    out = core.scaled(clock.cost(2.0, 1.0), budget=60.0, repeat=5)
    assert out["extrapolated"]
    assert out["seconds"] == pytest.approx(2.0 + 999 * 1.0)
    assert out["seconds_fixed"] == pytest.approx(2.0)
    assert out["seconds_per_sample"] == pytest.approx(1.0)
    assert core.FULL not in clock.calls
    # pilots 1 (3 s) and 4 (6 s); a next pilot of about 4 x 6 s > 60 / 4: stop
    assert out["pilot_counts"] == [1, 4]


def test_scaled_times_the_full_run_within_budget(core, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(core.time, "perf_counter", clock)
    out = core.scaled(clock.cost(0.1, 0.01), budget=100.0, repeat=3)
    assert not out["extrapolated"]
    assert out["seconds"] == pytest.approx(0.1 + 999 * 0.01)
    assert clock.calls.count(core.FULL) == 3  # best of `repeat` runs that fit in the budget


def test_rows_report_misses_and_errors_without_raising(core):
    bench = core.Bench()
    bench.add("slow", "n=1", "<= 2", lambda: {"seconds_ours": 3.0, "seconds_baseline": 1.0})
    bench.add("fast", "n=1", ">= 20", lambda: {"seconds_ours": 1.0, "seconds_baseline": 30.0,
                                               "baseline_extrapolated": True})
    bench.add("broken", "n=1", "<= 1", lambda: 1 / 0)
    slow, fast, broken = bench.rows
    assert slow["ratio"] == 3.0 and slow["meets_target"] is False
    assert fast["ratio"] == 30.0 and fast["meets_target"] is True
    assert broken["error"].startswith("ZeroDivisionError") and broken["meets_target"] is None
    payload = {"quick": True, "command": "python benchmarks/core.py", "date": "today",
               "package_version": "0", "git": {"commit": "abc", "dirty": False}, "repeat": 1, "budget": 1.0,
               "machine": {"cpus": 2, "cpus_usable": 2, "numpy": "2", "scipy": "1", "python": "3",
                           "load_average_1_5_15": [0.0, 0.0, 0.0]},
               "rows": bench.rows}
    text = core.markdown(payload)
    assert "| slow | n=1 | 3 | 1 | 3 | <= 2 | **FAIL** |" in text
    assert "30 (extrapolated)" in text
    assert "broken: ZeroDivisionError" in text
