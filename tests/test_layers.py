"""Layers: runtime imports, the gate record handed to the scan, shared helpers and columns."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import weibull_stats as ws
from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
from weibull_stats.core.constants import HALFNORMAL_ANCHOR_SHAPE
from weibull_stats.core.formatting import jsonable, markdown_table
from weibull_stats.core.seeds import child_seed, generator
from weibull_stats.estimators.results import FIT_COLUMNS, INTERVAL_COLUMNS
from weibull_stats.scanning import run as scanning
from weibull_stats.validation._common import child_rng
from weibull_stats.validation.gate import GateRecord

ROOT = Path(__file__).resolve().parents[1]


def test_scan_without_validation_imports_neither_mpmath_nor_hypothesis(tmp_path: Path) -> None:
    code = f"""
import sys
import weibull_stats as ws
from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
after_import = sorted(m for m in ("mpmath", "hypothesis") if m in sys.modules)
state, config = synthetic_state("llama", layers=1, hidden=8, heads=2)
table = ws.scan(write_checkpoint({str(tmp_path)!r}, state, config), skip_validation=True,
                out={str(tmp_path / 'out')!r})
after_scan = sorted(m for m in ("mpmath", "hypothesis") if m in sys.modules)
print(after_import, after_scan, len(table))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            check=True)
    assert result.stdout.split("\n")[0] == "[] [] 9", result.stdout + result.stderr


#: The libraries that neither ``import weibull_stats`` nor any ``--help`` of the command line loads.
DEFERRED = ("scipy", "pandas", "statsmodels", "matplotlib", "torch")


def test_import_leaves_the_libraries_it_defers_unloaded() -> None:
    # the function-level imports of these libraries (and the top-level names imported on first
    # use) exist for import time; they are only worth it while no module imports them at load
    deferred = DEFERRED
    code = f"import sys, weibull_stats; print(sorted(m for m in {deferred!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            check=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_every_help_of_the_command_line_leaves_the_deferred_libraries_unloaded() -> None:
    # `weibull-stats --help` and each `weibull-stats COMMAND --help`, in one process: a library
    # loaded by any of them stays in sys.modules and is reported
    code = f"""
import contextlib, io, sys
from weibull_stats.cli import COMMANDS, main
shown = []
for argv in [["--help"], *([name, "--help"] for name in COMMANDS)]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main(argv)
    shown.append(len(out.getvalue()) > 200 and "usage: weibull-stats" in out.getvalue())
print(all(shown), len(shown), sorted(m for m in {DEFERRED!r} if m in sys.modules))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            check=True)
    from weibull_stats.cli import COMMANDS

    assert result.stdout.split() == ["True", str(len(COMMANDS) + 1), "[]"], result.stdout + result.stderr


def test_the_names_imported_on_first_use_are_the_type_checkers_imports() -> None:
    # weibull_stats/__init__.py lists each public name twice: imported under TYPE_CHECKING (for
    # mypy, editors and the API reference) and in _HOMES (imported on first use at run time)
    import ast

    tree = ast.parse((ROOT / "weibull_stats" / "__init__.py").read_text(encoding="utf-8"))
    guarded = [node for node in tree.body if isinstance(node, ast.If)
               and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"]
    static: dict[str, tuple[str, ...]] = {}
    for node in (n for block in guarded for n in block.body):
        assert isinstance(node, ast.ImportFrom) and node.module, ast.dump(node)
        static[node.module] = (*static.get(node.module, ()), *(a.name for a in node.names))
    assert static == ws._HOMES
    assert {n for names in ws._HOMES.values() for n in names} == set(ws.__all__) - {"__version__"}
    for module, names in ws._HOMES.items():
        home = __import__(module, fromlist=["_"])
        for name in names:
            assert getattr(ws, name) is getattr(home, name)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ws.nope  # noqa: B018


def test_validation_package_loads_the_anchor_names_on_first_use() -> None:
    from weibull_stats import validation

    assert validation.default_anchor("probability_plot", validation.HALFNORMAL)[0] == pytest.approx(
        HALFNORMAL_ANCHOR_SHAPE, abs=5e-11)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        validation.nope  # noqa: B018


def test_dir_shows_the_public_names_and_subpackages_only() -> None:
    shown = set(dir(ws))
    assert shown == set(ws.__all__) | set(ws.PUBLIC_SUBPACKAGES)
    for internal in ("core", "sample", "inference", "scanning", "report", "workflow", "estimators"):
        assert internal not in shown
    for name in ws.__all__:  # the public API still imports from the root
        assert getattr(ws, name) is not None


def test_the_folder_tree_shows_the_layers() -> None:
    package = ROOT / "weibull_stats"
    loose = sorted(p.name for p in package.glob("*.py"))
    assert len(loose) <= 8, loose
    contract = (ROOT / "pyproject.toml").read_text()
    for sub in sorted(p.parent for p in package.glob("*/__init__.py")):
        doc = (sub / "__init__.py").read_text().lstrip()
        assert doc.startswith('"""'), f"{sub.name}/__init__.py has no docstring saying what it holds"
        named = (f'"{sub.name}', f": {sub.name}", f"| {sub.name}")
        assert any(form in contract for form in named), f"the import contract does not name {sub.name}"


def _checkpoint(folder: Path) -> Path:
    state, config = synthetic_state("gpt2", layers=1, hidden=8, heads=2)
    return write_checkpoint(folder, state, config)


def test_scan_layer_takes_the_gate_record_and_writes_no_report(tmp_path: Path) -> None:
    folder = _checkpoint(tmp_path / "ckpt")
    record = GateRecord(True, False, "cache", ws.__version__, ("probability_plot",), checks=3)
    frame, checkpoints = scanning.scan(str(folder), out=tmp_path / "a", gate=record)
    assert frame["validated"].all() and frame.attrs["gate"] == record.to_dict()
    assert [c.label for c in checkpoints] == [frame["checkpoint"].iloc[0]]
    assert not (tmp_path / "a" / "report.md").exists()
    run = json.loads((tmp_path / "a" / "run.json").read_text())
    assert run["gate"]["source"] == "cache" and run["gate"]["checks"] == 3
    skipped, _ = scanning.scan(str(folder), gate=None)
    assert not skipped["validated"].any()
    assert skipped.attrs["gate"]["skipped"] is True
    assert skipped.attrs["gate"]["estimators"] == ["probability_plot"]
    # the workflow's table is the same table, with the report written beside it
    table = ws.scan(str(folder), out=tmp_path / "b", skip_validation=True)
    assert (tmp_path / "b" / "report.md").is_file()
    assert table.drop(columns="validated").equals(frame.drop(columns="validated"))


def test_workflow_checks_settings_before_the_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    from weibull_stats.validation import gate

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the gate ran before the settings were checked")

    monkeypatch.setattr(gate, "ensure_validated", never)
    with pytest.raises(ValueError, match=r"`bootstrap` must be an integer >= 0; got -1"):
        ws.scan("minilm", bootstrap=-1)
    with pytest.raises(ValueError, match=r"`resume` needs `out`"):
        ws.scan("minilm", resume=True)


def test_one_seed_scheme() -> None:
    assert child_rng(5, "confirm", "mle", 1000).random() == generator(5, "confirm", "mle", 1000).random()
    # float key parts enter as their text
    assert child_rng(5, "trim", 0.1).random() == generator(5, "trim", "0.1").random()
    assert scanning.tensor_seed(3, "w", "k") == child_seed(3, "w", "k")


def test_one_markdown_renderer_and_one_json_cleaner() -> None:
    assert markdown_table(["a"], [["x|y"]]) == "| a |\n|---|\n| x\\|y |"
    with pytest.raises(ValueError, match=r"`rows\[0\]` has 2 cells for 1 headers"):
        markdown_table(["a"], [["1", "2"]])
    with pytest.raises(ValueError, match=r"`align` has 2 entries for 1 headers"):
        markdown_table(["a"], [], align=["l", "r"])
    assert jsonable({"x": (np.inf, 1.0)}) == {"x": [None, 1.0]}
    fit = ws.WeibullFit(shape=1.0, scale=2.0, estimator="mle", n=10, n_used=10, r2=float("nan"))
    assert fit.to_dict()["r2"] is None


def test_one_table_layout_for_a_fit() -> None:
    fit = ws.WeibullFit(shape=1.2, scale=0.5, estimator="mle", n=100, n_used=90)
    assert tuple(fit.to_row())[: len(FIT_COLUMNS)] == FIT_COLUMNS
    table = ws.results_table([fit], intervals=[{"shape": (1.1, 1.3)}])
    assert tuple(table.columns)[: len(FIT_COLUMNS)] == FIT_COLUMNS
    after = tuple(table.columns)[len(FIT_COLUMNS):]
    assert after[: len(INTERVAL_COLUMNS)] == INTERVAL_COLUMNS
    start = scanning.COLUMNS.index(FIT_COLUMNS[0])
    assert scanning.COLUMNS[start: start + len(FIT_COLUMNS)] == FIT_COLUMNS
    assert all(c in scanning.COLUMNS for c in INTERVAL_COLUMNS)
