"""MkDocs hooks: generate the pages that must never go stale.

* ``reference/cli.md``: the ``--help`` of ``weibull-stats`` and of every subcommand, rendered
  from :func:`weibull_stats.cli.build_parser` at build time.
* ``reference/api/index.md`` and the API pages, rendered by mkdocstrings from the docstrings:
  the public API only, i.e. every name of ``weibull_stats.__all__`` (one page per defining
  module, so a name exported by anyone lands on a page) and the ``__all__`` of the public
  subpackages in ``NAMESPACES``; the pages are added to the navigation here.
* ``<!-- cli-help: NAME -->`` in any page is replaced by the help of subcommand ``NAME``.
* ``<!-- cli-run: ARGS -->`` is replaced by the command ``weibull-stats ARGS`` and its output,
  run in-process at build time: numbers shown this way are always the current ones.
* ``<!-- include: PATH -->`` inlines a committed file (``PATH`` relative to the repository
  root), so tables of committed results are shown as they are, never retyped.
* Sphinx roles left in docstrings (``:func:`name```) are shown as plain code.
* The notebooks (``docs/notebooks/*.ipynb``) are executed and rendered by mkdocs-jupyter
  (``mkdocs.yml``); the MathJax and mermaid scripts of its template, which would load from a CDN, are
  dropped (KaTeX renders the math).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import inspect
import io
import os
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "weibull_stats"
#: The public namespaces of the API reference: the top-level package (``import weibull_stats as
#: ws``) and the subpackages a user imports from. Each one documents exactly its ``__all__``;
#: modules and helpers outside every ``__all__`` (``intervals.check_count``, ``batch_rows``, ...)
#: are internals and get no page.
NAMESPACES = {
    f"{PACKAGE}.testing": "Testing helpers (Hypothesis)",
    f"{PACKAGE}.validation": "Validation suite",
    f"{PACKAGE}.checkpoints": "Checkpoints and naming",
}
#: Pages of the top-level names, grouped by the module that defines them (first component under
#: the package), in this order; a name from a module not listed here gets a page of its own.
TOPICS = {
    "estimators": "Estimators",
    "registry": "Estimator registry",
    "results": "Fit results",
    "sample": "Samples and input policy",
    "bootstrapping": "Bootstrap intervals",
    "gof": "Goodness of fit",
    "model_comparison": "Model comparison",
    "export": "Tables for papers",
    "workflow": "Scanning",
    "constants": "Constants",
}
#: Modules whose exported names share another module's page.
SHARED_PAGE = {"fit_table": "export", "intervals": "bootstrapping"}
HELP_WIDTH = "96"
CLI_MARKER = re.compile(r"<!--\s*cli-help:\s*([\w-]+)\s*-->")
RUN_MARKER = re.compile(r"<!--\s*cli-run:\s*(.+?)\s*-->")
INCLUDE_MARKER = re.compile(r"<!--\s*include:\s*(\S+)\s*-->")
ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|data|attr|exc|obj|const):(?=<code>)")
#: What nbconvert's template puts in every notebook page and the site must not load (no network
#: at view time): MathJax from ``mathjax_url`` (KaTeX, vendored, renders the notebooks' math as it
#: does the pages'), and mermaid imported from a CDN (the notebooks draw no diagrams).
NOTEBOOK_REMOTE = (
    re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S),
    re.compile(r'<script type="module">(?:(?!</script>).)*?jp-Mermaid.*?</script>', re.S),
)


def module_file(module: str) -> Path:
    base = ROOT.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def defined_at_top(path: Path, name: str) -> bool:
    """Whether module ``path`` defines ``name`` (def, class or assignment) at its top level."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.name == name:
            return True
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if isinstance(node, ast.Assign | ast.AnnAssign) and any(
            isinstance(t, ast.Name) and t.id == name for t in targets
        ):
            return True
    return False


def home_of(namespace: str, name: str) -> str:
    """The module that defines ``namespace.name``, read from the source (no import needed).

    A name imported in the namespace's ``__init__`` (``from X import name``) lives in ``X``,
    followed through further re-exports; otherwise the first module of the namespace's package
    that defines it at top level (the lazily loaded names of ``weibull_stats.validation``).
    """
    path = module_file(namespace)
    if defined_at_top(path, name):
        return namespace
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if any((alias.asname or alias.name) == name for alias in node.names):
                return home_of(node.module, name) if node.module.startswith(PACKAGE) else node.module
    if path.name == "__init__.py":
        for candidate in sorted(path.parent.rglob("*.py")):
            if candidate != path and defined_at_top(candidate, name):
                parts = candidate.relative_to(ROOT).with_suffix("").parts
                return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    raise LookupError(f"{namespace}.{name} is in __all__ but defined nowhere in {PACKAGE}")


def exported(namespace: str) -> list[str]:
    """``__all__`` of a namespace, read from its source, dunders (``__version__``) left out."""
    tree = ast.parse(module_file(namespace).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            names = ast.literal_eval(node.value)
            return [n for n in names if not (n.startswith("__") and n.endswith("__"))]
    raise LookupError(f"{namespace} has no __all__")


def api_pages() -> list[dict[str, Any]]:
    """One entry per API page: title, page path, namespace, and its ``(name, home)`` members."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in exported(PACKAGE):
        home = home_of(PACKAGE, name)
        key = home.removeprefix(PACKAGE + ".").split(".")[0]
        key = SHARED_PAGE.get(key, key)
        groups.setdefault(key, []).append((name, home))
    order = [k for k in TOPICS if k in groups] + sorted(k for k in groups if k not in TOPICS)
    pages = [
        {"title": TOPICS.get(key, f"`{PACKAGE}.{key}`"), "path": f"reference/api/{key}.md",
         "namespace": PACKAGE, "members": groups[key]}
        for key in order
    ]
    for namespace, title in NAMESPACES.items():
        members = [(name, home_of(namespace, name)) for name in exported(namespace)]
        pages.append({"title": title, "path": f"reference/api/{namespace.removeprefix(PACKAGE + '.')}.md",
                      "namespace": namespace, "members": members})
    return pages


def target(page: dict[str, Any], name: str, home: str) -> str:
    """The path mkdocstrings renders: the public one (``weibull_stats.fit_mle``) where griffe can
    follow it in the source, the defining module's for a name loaded lazily by ``__getattr__``."""
    namespace = page["namespace"]
    path = module_file(namespace)
    visible = defined_at_top(path, name) or any(
        isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == name for a in node.names)
        for node in ast.parse(path.read_text(encoding="utf-8")).body
    )
    return f"{namespace}.{name}" if visible else f"{home}.{name}"


def api_page(page: dict[str, Any]) -> str:
    namespace = page["namespace"]
    lines = [f"# {page['title']}", ""]
    if namespace == PACKAGE:
        lines += [
            "Importable from the top-level package: `import weibull_stats as ws`, then "
            + ", ".join(f"`ws.{name}`" for name, _ in page["members"]) + ".",
        ]
    else:
        lines += [f"::: {namespace}", "    options:", "      members: false",
                  "      show_root_heading: false", ""]
        lines += [f"`from {namespace} import ...`: " + ", ".join(f"`{n}`" for n, _ in page["members"]) + "."]
    for name, home in page["members"]:
        lines += ["", f"::: {target(page, name, home)}", "    options:", "      heading_level: 2"]
    return "\n".join(lines) + "\n"


def summary_of(obj: Any) -> str:
    if callable(obj) or inspect.ismodule(obj):
        doc = (inspect.getdoc(obj) or "").strip().splitlines()
        if doc:
            return doc[0].replace("|", "\\|")
    if isinstance(obj, Mapping):
        return "mapping: " + ", ".join(f"`{key}`" for key in obj)
    if isinstance(obj, int | float | str):
        return f"constant, `{obj!r}`"
    return "constant"


def api_index() -> str:
    import importlib

    lines = [
        "# API reference",
        "",
        "The public API, generated from the docstrings (numpydoc) at every build: every name of "
        "`weibull_stats.__all__` (`import weibull_stats as ws`), and the subpackages "
        + ", ".join(f"`{n}`" for n in NAMESPACES)
        + ". Other modules are internal: they may change without notice.",
    ]
    for page in api_pages():
        module = importlib.import_module(page["namespace"])
        link = Path(page["path"]).name
        prefix = "ws." if page["namespace"] == PACKAGE else ""
        lines += ["", f"## [{page['title']}]({link})", "", "| name | summary |", "|:--|:--|"]
        for name, home in page["members"]:
            anchor = target(page, name, home)
            lines.append(f"| [`{prefix}{name}`]({link}#{anchor}) | {summary_of(getattr(module, name))} |")
    return "\n".join(lines) + "\n"


def subcommand_parsers() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_WIDTH  # argparse reads the width when a formatter is made
    try:
        from weibull_stats.cli import build_parser

        parser = build_parser()
        subcommands: dict[str, argparse.ArgumentParser] = {}
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                subcommands.update(action.choices)
        return parser, subcommands
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous


def help_text(parser: argparse.ArgumentParser) -> str:
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_WIDTH
    try:
        return parser.format_help().rstrip()
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous


def cli_page() -> str:
    parser, subcommands = subcommand_parsers()
    lines = [
        "# Command-line reference",
        "",
        "Generated at every docs build from the argparse parser "
        "(`weibull_stats.cli.build_parser()`), so it matches the installed version. "
        "Errors in the input end a command with one line on stderr and a non-zero exit status.",
        "",
        "```text",
        help_text(parser),
        "```",
    ]
    for name, sub in subcommands.items():
        lines += ["", f"## `weibull-stats {name}`", "", "```text", help_text(sub), "```"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- MkDocs events
def on_config(config: Any) -> Any:
    """Replace the nav entry ``reference/api/index.md`` by the index plus one page per module."""
    pages_ = api_pages()

    def expand(items: list[Any]) -> list[Any]:
        out: list[Any] = []
        for item in items:
            if isinstance(item, dict):
                ((title, value),) = item.items()
                if value == "reference/api/index.md":
                    pages: list[Any] = [{"Overview": value}]
                    pages += [{page["title"].strip("`"): page["path"]} for page in pages_]
                    out.append({title: pages})
                elif isinstance(value, list):
                    out.append({title: expand(value)})
                else:
                    out.append(item)
            else:
                out.append(item)
        return out

    config["nav"] = expand(config["nav"])
    return config


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    generated = {"reference/cli.md": cli_page(), "reference/api/index.md": api_index()}
    for page in api_pages():
        generated[page["path"]] = api_page(page)
    for name, content in generated.items():
        existing = files.get_file_from_path(name)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, name, content=content))
    return files


def run_cli(arguments: str) -> str:
    """Run ``weibull-stats ARGUMENTS`` in-process; its stdout, or an error naming the command."""
    from weibull_stats.cli import main

    argv = shlex.split(arguments)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    if status != 0:
        raise RuntimeError(f"`weibull-stats {arguments}` exited with {status}: {err.getvalue().strip()}")
    return out.getvalue().rstrip()


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    where = page.file.src_path

    def help_block(match: re.Match[str]) -> str:
        _, subcommands = subcommand_parsers()
        name = match.group(1)
        if name not in subcommands:
            raise ValueError(f"{where}: no subcommand {name!r} for <!-- cli-help -->")
        return f"```text\n{help_text(subcommands[name])}\n```"

    def run_block(match: re.Match[str]) -> str:
        arguments = match.group(1)
        return f"```console\n$ weibull-stats {arguments}\n{run_cli(arguments)}\n```"

    def include(match: re.Match[str]) -> str:
        path = ROOT / match.group(1)
        if not path.is_file():
            raise FileNotFoundError(f"{where}: <!-- include: {match.group(1)} --> names no file")
        return path.read_text(encoding="utf-8").rstrip()

    markdown = CLI_MARKER.sub(help_block, markdown)
    markdown = RUN_MARKER.sub(run_block, markdown)
    return INCLUDE_MARKER.sub(include, markdown)


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    html = ROLE.sub("", html)
    if page.file.src_path.endswith(".ipynb"):
        for pattern in NOTEBOOK_REMOTE:
            html = pattern.sub("", html)
    return html
