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
    from weibull_stats.scanning import run as scan
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


def mkdocs_config() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))


def docs_hooks():
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "_hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_notebooks_are_executed_and_rendered_by_the_docs_build() -> None:
    config = mkdocs_config()
    plugins = [p for p in config["plugins"] if isinstance(p, dict)]
    (jupyter,) = [p["mkdocs-jupyter"] for p in plugins if "mkdocs-jupyter" in p]
    # executed at every build, a raising cell fails it, and no cache keyed on the notebook alone
    assert jupyter["execute"] is True and jupyter["allow_errors"] is False and jupyter["cache"] is False
    nav = str(config["nav"])
    for path in sorted((DOCS / "notebooks").glob("*.ipynb")):
        assert f"notebooks/{path.name}" in nav, f"{path.name} has no page in the nav of mkdocs.yml"


def test_api_reference_is_the_public_api() -> None:
    import weibull_stats.checkpoints
    import weibull_stats.plotting
    import weibull_stats.testing
    import weibull_stats.validation

    hooks = docs_hooks()
    documented: dict[str, set[str]] = {}
    for page in hooks.api_pages():
        documented.setdefault(page["namespace"], set()).update(name for name, _ in page["members"])
    public = {
        "weibull_stats": {n for n in ws.__all__ if not n.startswith("__")},
        "weibull_stats.testing": set(weibull_stats.testing.__all__),
        "weibull_stats.validation": set(weibull_stats.validation.__all__),
        "weibull_stats.checkpoints": set(weibull_stats.checkpoints.__all__),
        "weibull_stats.plotting": set(weibull_stats.plotting.__all__),
    }
    assert documented == public
    pages = "\n".join(hooks.api_page(page) for page in hooks.api_pages())
    internals = ("check_count", "batch_rows", "weibull_stats.inference.intervals.",
                 "weibull_stats.sample.batch")
    for internal in internals:
        assert internal not in pages, f"the API reference shows the internal {internal!r}"


def test_math_and_assets_are_local() -> None:
    config = mkdocs_config()
    for asset in config["extra_javascript"] + config["extra_css"]:
        assert "://" not in asset, f"{asset} would be loaded from the network"
        assert (DOCS / asset).is_file(), f"{asset} is not in docs/"
    katex = DOCS / "assets" / "katex"
    assert (katex / "LICENSE").is_file() and list((katex / "fonts").glob("*.woff2"))
    # nbconvert's MathJax block (it loads from a CDN) is dropped from the notebook pages
    mathjax = '<!-- Load mathjax -->\n<script src=""> </script>\n<!-- End of mathjax configuration -->'
    assert docs_hooks().NOTEBOOK_REMOTE[0].sub("", mathjax) == ""


def test_docs_figures_are_committed_outputs() -> None:
    for page in DOCS.glob("*.md"):
        for image in re.findall(r"\(figures/validation/([^)]+\.png)\)", page.read_text(encoding="utf-8")):
            committed = ROOT / "validation" / "results" / image
            assert committed.is_file(), f"{page.name}: {image} is not committed"


def test_the_cluster_figures_are_those_of_the_committed_benchmark() -> None:
    # docs/scanning.md quotes benchmarks/results/distributed.json; rerunning the benchmark
    # without updating the page (or the reverse) fails here
    import json
    record = json.loads((ROOT / "benchmarks" / "results" / "distributed.json").read_text(encoding="utf-8"))
    text = (DOCS / "scanning.md").read_text(encoding="utf-8")
    section = text[text.index("## On a cluster"):text.index("## The report")]
    ratio = record["ratio"]
    figures = {
        "--jobs 2": f"{record['jobs2']['seconds']:.2f}",
        "cluster start": f"{record['cluster2']['cluster_start']:.2f}",
        "cluster scan": f"{record['cluster2']['seconds']:.2f}",
        "ratio": f"**{ratio['cluster_start_plus_scan_over_jobs2']:.2f}**",
        "per-round ratios": ", ".join(f"{r:.2f}" for r in ratio["per_round"]),
        "ratio with intervals": f"**{ratio['with_intervals_cluster_start_plus_scan_over_jobs2']:.2f}**",
        "--jobs 2 with intervals": f"{record['intervals']['jobs2_seconds']:.2f}",
        "cluster scan with intervals": f"{record['intervals']['seconds']:.2f}",
        "allocator slowdown": f"{record['allocator']['slowdown']:.2f}x",
        "allocator slowdown with intervals": f"{record['allocator']['slowdown_with_intervals']:.2f}x",
    }
    projections = record["projection_7b"]["rows"], record["projection_7b_with_intervals"]["rows"]
    for plain, intervals in zip(*projections, strict=True):
        if plain["workers"] <= 64:
            figures[f"7B on {plain['workers']} workers"] = (
                f"| {plain['workers']} | {plain['compute_seconds']:.1f} | {plain['total_seconds']:.0f} | "
                f"{intervals['compute_seconds']:.1f} | {intervals['total_seconds']:.0f} |")
    missing = {what: figure for what, figure in figures.items() if figure not in section}
    assert not missing, f"docs/scanning.md 'On a cluster' lacks the benchmark's {missing}"
    assert f"(target <= {ratio['target']}: {'met' if ratio['met'] else '**not met**'})" in section
