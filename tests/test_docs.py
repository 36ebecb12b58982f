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


def test_the_7b_figures_are_those_of_the_committed_benchmark() -> None:
    # docs/scanning.md quotes benchmarks/results/scan_7b.json (the full run of benchmarks/scan_7b.py),
    # or says it is not measured yet while there is no such file
    import json
    text = (DOCS / "scanning.md").read_text(encoding="utf-8")
    section = text[text.index("## A 7B checkpoint"):text.index("## On a cluster")]
    path = ROOT / "benchmarks" / "results" / "scan_7b.json"
    if not path.is_file():
        assert "Not measured yet" in section
        return
    record = json.loads(path.read_text(encoding="utf-8"))
    assert "Not measured yet" not in section
    shape = record["checkpoint"]
    assert (shape["layers"], shape["hidden"], shape["vocab"]) == (32, 4096, 32000)

    def met(flag: bool) -> str:
        return "met" if flag else "**not met**"

    ratio, report = record["ratio"], record["report"]
    figures = {
        "streaming read": f"(page cache) | {record['streaming_read']['seconds']:.2f} | 1 |",
        "default scan": f"`--jobs 2` | {record['scan_default']['seconds']:.1f} | "
                        f"**{ratio['default_over_read']:.1f}** (target <= {ratio['targets']['default']:g}: "
                        f"{met(ratio['met']['default'])}) |",
        "all five": f"| {record['scan_all']['seconds']:.1f} | **{ratio['all_over_read']:.1f}** "
                    f"(target <= {ratio['targets']['all']:g}: {met(ratio['met']['all'])}) |",
        "report": f"| {report['seconds']:.2f} | "
                  f"(target <= {report['target_seconds']:g} s: {met(report['met'])}) |",
    }
    missing = {what: figure for what, figure in figures.items() if figure not in section}
    assert not missing, f"docs/scanning.md 'A 7B checkpoint' lacks the benchmark's {missing}"


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


# ---------------------------------------------------------------------- help and docs that agree
def option_help(help_text: str, flag: str) -> str:
    """The help paragraph of ``flag`` in an argparse ``--help`` text."""
    lines = help_text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith(flag + " "))
    paragraph = [lines[start]]
    for line in lines[start + 1:]:
        if line.lstrip().startswith("-") or not line.strip():
            break
        paragraph.append(line)
    return " ".join(" ".join(paragraph).split())


def test_the_bootstrap_help_does_not_deny_the_intervals_a_scan_computes_by_default() -> None:
    from weibull_stats.scanning.settings import SETTINGS
    from weibull_stats.workflow import scan

    assert SETTINGS["intervals"].default == "asymptotic"  # intervals are on without --bootstrap
    _, subcommands = docs_hooks().subcommand_parsers()
    text = option_help(docs_hooks().help_text(subcommands["scan"]), "--bootstrap")
    assert "no intervals" not in text and "0: none" not in text, text
    assert "--intervals" in text, text  # says that the asymptotic ones stay
    docstring = (scan.__doc__ or "").split("bootstrap : int")[1].split("bootstrap_method")[0]
    assert "no intervals" not in docstring, docstring


def test_api_signatures_show_no_lambda() -> None:
    # mkdocstrings renders a dataclass field's default_factory as written: a lambda shows as
    # ``n_omitted=(lambda: ...)()`` in the signature (griffe reads the source, as the docs build)
    import griffe

    hooks = docs_hooks()
    package = griffe.load("weibull_stats", search_paths=[str(ROOT)])
    checked = 0
    for page in hooks.api_pages():
        for name, home in page["members"]:
            obj = package[home.removeprefix("weibull_stats.") + "." + name]
            parameters = getattr(obj, "parameters", None)
            if parameters is None:
                continue
            for parameter in parameters:
                checked += 1
                assert "lambda" not in str(parameter.default), f"{home}.{name}: {parameter.name}"
    assert checked > 100
    fit = package["estimators.results.WeibullFit"]
    assert str(fit.parameters["n_omitted"].default) == "no_omissions()"


def test_a_weibullfit_still_counts_every_omission_by_default() -> None:
    fit = ws.WeibullFit(shape=1.2, scale=0.5, estimator="mle", n=10, n_used=10)
    assert dict(fit.n_omitted) == {"masked": 0, "nonfinite": 0, "zeros": 0}
    given = ws.WeibullFit(shape=1.2, scale=0.5, estimator="mle", n=10, n_used=9, n_omitted={"zeros": 1})
    assert dict(given.n_omitted) == {"masked": 0, "nonfinite": 0, "zeros": 1}
    assert ws.WeibullFit.from_dict(given.to_dict()) == given


# ---------------------------------------------------------------------- no machine paths in the notebooks
def notebook_cell(name: str, marker: str) -> str:
    notebook = nbformat.read(DOCS / "notebooks" / name, as_version=4)
    (source,) = [cell.source for cell in notebook.cells if cell.cell_type == "code" and marker in cell.source]
    return source


def run_statements(source: str, after: str, namespace: dict) -> str:
    """Run the statements of ``source`` that follow the assignment to ``after`` in
    ``namespace``; return what they print and the repr of a final expression."""
    import ast
    import contextlib
    import io

    body = ast.parse(source).body
    start = next(i for i, node in enumerate(body) if isinstance(node, ast.Assign)
                 and any(getattr(target, "id", None) == after for target in node.targets))
    rest = body[start + 1:]
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown):
        *statements, last = rest
        exec(compile(ast.Module(statements, []), "<cell>", "exec"), namespace)
        if isinstance(last, ast.Expr):
            value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
            if value is not None:
                print(repr(value))
        else:
            exec(compile(ast.Module([last], []), "<cell>", "exec"), namespace)
    return shown.getvalue()


def test_the_scan_notebook_shows_the_gate_without_the_cache_path() -> None:
    import pandas as pd

    from weibull_stats.validation.gate import GateRecord

    gate = GateRecord(validated=True, skipped=False, source="cache", package_version=ws.__version__,
                      estimators=("probability_plot",), seed=1, checks=47,
                      cache_path="/root/.cache/weibull-stats/x.json").to_dict()
    table = pd.DataFrame({"shape": [1.2]})
    table.attrs["gate"] = gate
    shown = run_statements(notebook_cell("03_scan_minilm.ipynb", 'table.attrs["gate"]'), "table",
                           {"table": table, "plt": type("plt", (), {"close": staticmethod(lambda *_: None)})})
    assert "validated" in shown and "/root/" not in shown, shown


def test_the_trajectory_notebook_prints_no_checkpoint_path(tmp_path: Path) -> None:
    from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
    from weibull_stats.report.markdown import report_from_folder

    for step in (0, 1):
        state, config = synthetic_state("gpt_neox", layers=1, rng=step)
        write_checkpoint(tmp_path / "run" / f"step-{step}", state, config)
    # the scan's report without its figures (seconds less; the text is the same)
    ws.scan(tmp_path / "run", skip_validation=True, out=tmp_path / "scan", progress=False, report=False)
    report = report_from_folder(tmp_path / "scan", plots=False).read_text(encoding="utf-8")
    assert str(tmp_path) in report  # the report names the checkpoints by their paths
    shown = run_statements(notebook_cell("04_training_trajectory.ipynb", "## Trajectory"), "report",
                           {"report": report})
    assert "## Trajectory" in shown and str(tmp_path) not in shown, shown


def test_importing_transformers_in_a_notebook_shows_no_tqdm_warning() -> None:
    # tqdm.auto, which transformers imports, warns "IProgress not found" (with its own absolute
    # path) in a Jupyter kernel without ipywidgets; 'ipykernel.zmqshell' in sys.modules is what
    # it takes for a kernel. The control shows the warning is there to be dropped.
    import subprocess
    import sys

    def warnings_of(statement: str) -> list[str]:
        code = (
            "import sys, types, warnings\n"
            "sys.modules['ipykernel.zmqshell'] = types.ModuleType('ipykernel.zmqshell')\n"
            "import IPython\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')\n"
            f"    {statement}\n"
            "print([str(w.message) for w in caught if 'IProgress' in str(w.message)])\n"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              cwd=ROOT)
        return eval(done.stdout.strip().splitlines()[-1])

    assert warnings_of("import transformers"), "the control no longer warns: is ipywidgets installed?"
    assert warnings_of("from weibull_stats.scanning.trajectory import import_transformers; "
                       "import_transformers()") == []


# ---------------------------------------------------------------------- code that fits the page
#: Fenced blocks that show what a program printed (their lines are the program's).
OUTPUT_BLOCKS = ("text", "latex")


def test_code_lines_fit_a_code_block_at_1280_px() -> None:
    width = docs_hooks().CODE_WIDTH
    long: list[str] = []
    for page in sorted(DOCS.glob("*.md")):
        for language, body in re.findall(r"^```(\w*)[^\n]*\n(.*?)^```", page.read_text(encoding="utf-8"),
                                         re.S | re.M):
            if language not in OUTPUT_BLOCKS:
                long += [f"{page.name}: {line}" for line in body.splitlines() if len(line) > width]
    for path in sorted((DOCS / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                long += [f"{path.name}: {line}" for line in cell.source.splitlines() if len(line) > width]
    hooks = docs_hooks()
    parser, subcommands = hooks.subcommand_parsers()
    for name, command in {"weibull-stats": parser, **subcommands}.items():
        help_lines = hooks.help_text(command).splitlines()
        long += [f"{name} --help: {line}" for line in help_lines if len(line) > width]
    assert not long, f"code lines wider than {width} characters wrap on the site:\n" + "\n".join(long)


def test_every_module_and_file_the_docs_name_exists() -> None:
    import importlib

    texts = {path: path.read_text(encoding="utf-8") for path in
             [*DOCS.glob("*.md"), *(DOCS / "notebooks").glob("*.ipynb"), ROOT / "README.md",
              ROOT / "validation" / "README.md"]}
    missing = []
    for path, text in texts.items():
        for name in set(re.findall(r"weibull_stats(?:\.[A-Za-z_]\w*)+", text)):
            parts = name.split(".")
            for cut in range(len(parts), 0, -1):
                try:
                    found: object = importlib.import_module(".".join(parts[:cut]))
                except ImportError:
                    continue
                for attribute in parts[cut:]:
                    found = getattr(found, attribute, None)
                break
            if found is None:
                missing.append(f"{path.name}: {name}")
        for file in set(re.findall(r"weibull_stats/[\w/]+(?:\.\w+)?", text)):
            if not (ROOT / file).exists():
                missing.append(f"{path.name}: {file}")
    assert not missing, "the docs name what does not exist:\n" + "\n".join(sorted(missing))


def test_a_role_with_a_tilde_shows_the_last_name_as_sphinx_does() -> None:
    import types

    page = types.SimpleNamespace(file=types.SimpleNamespace(src_path="reference/api/results.md"))
    html = ('(:data:<code>~weibull_stats.core.options.OMISSIONS</code>), :func:<code>ws.fit</code>, '
            '<code>~/.cache/weibull-stats/</code>')
    assert docs_hooks().on_page_content(html, page, None, None) == (
        "(<code>OMISSIONS</code>), <code>ws.fit</code>, <code>~/.cache/weibull-stats/</code>")


def test_api_page_titles_name_modules_that_exist() -> None:
    import importlib

    for page in docs_hooks().api_pages():
        title = page["title"]
        if title.startswith("`"):
            importlib.import_module(title.strip("`"))  # a page titled by a module's path
    titles = [page["title"] for page in docs_hooks().api_pages()]
    assert len(titles) == len(set(titles))
