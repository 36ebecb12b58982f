"""The documentation and the notebooks stay in step with the code.

The strict site build and the notebook runs are in ``make test``; these checks catch a
column, an estimator or a notebook that the prose forgot.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

import weibull_stats as ws

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def test_every_estimator_is_documented() -> None:
    text = (DOCS / "estimators.md").read_text(encoding="utf-8")
    missing = [name for name in ws.ESTIMATORS if f"`{name}`" not in text]
    assert not missing, f"docs/estimators.md does not describe {missing}"


def test_every_scan_column_is_documented() -> None:
    from weibull_stats import scanning as scan
    text = (DOCS / "scanning.md").read_text(encoding="utf-8")
    table = text[text.index("## Output columns"):]
    documented = set(re.findall(r"`([a-z_0-9]+)`", table))
    missing = [c for c in scan.COLUMNS if c not in documented]
    assert not missing, f"docs/scanning.md does not describe the scan columns {missing}"


def test_every_notebook_is_listed_and_committed_without_outputs() -> None:
    listing = (DOCS / "notebooks.md").read_text(encoding="utf-8")
    notebooks = sorted((DOCS / "notebooks").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        assert f"notebooks/{path.name}" in listing, f"{path.name} is not listed in docs/notebooks.md"
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name} has outputs"


def test_readme_quick_start_is_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Quick start"):]
    block = section[section.index("```bash") + len("```bash"):]
    block = block[: block.index("```")]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make run", "make test"]


def test_readme_figures_are_committed_outputs() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert images, "the README shows one figure from the committed outputs"
    for image in images:
        assert (ROOT / image).is_file(), f"README figure {image} does not exist"


def test_readme_keeps_the_benchmark_attribution() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for required in ("DATABASE_v9_1.csv", "tiexinding/NPM-Weibull-public", "CC BY 4.0", "arXiv:2605.18898"):
        assert required in text, f"README lacks {required!r} in the attribution of the benchmark table"
