"""MkDocs hooks: generate the pages that must never go stale.

* ``reference/cli.md``: the ``--help`` of ``weibull-stats`` and of every subcommand, rendered
  from :func:`weibull_stats.cli.build_parser` at build time.
* ``reference/api/index.md`` and one ``reference/api/<module>.md`` per public module of the
  package (found on disk, so a module added by anyone gets its page), rendered by
  mkdocstrings from the docstrings; the pages are added to the navigation here.
* ``<!-- cli-help: NAME -->`` in any page is replaced by the help of subcommand ``NAME``.
* ``<!-- cli-run: ARGS -->`` is replaced by the command ``weibull-stats ARGS`` and its output,
  run in-process at build time: numbers shown this way are always the current ones.
* ``<!-- include: PATH -->`` inlines a committed file (``PATH`` relative to the repository
  root), so tables of committed results are shown as they are, never retyped.
* Sphinx roles left in docstrings (``:func:`name```) are shown as plain code.
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
#: Packages documented elsewhere (the CLI reference) rather than as API.
SKIP = {f"{PACKAGE}.commands", f"{PACKAGE}.__main__"}
HELP_WIDTH = "96"
CLI_MARKER = re.compile(r"<!--\s*cli-help:\s*([\w-]+)\s*-->")
RUN_MARKER = re.compile(r"<!--\s*cli-run:\s*(.+?)\s*-->")
INCLUDE_MARKER = re.compile(r"<!--\s*include:\s*(\S+)\s*-->")
ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|data|attr|exc|obj|const):(?=<code>)")


def public_modules() -> list[tuple[str, Path]]:
    """``(dotted name, file)`` of every public module and package, sorted by name."""
    found = []
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts):
            continue
        if not all((ROOT.joinpath(*parts[:i]) / "__init__.py").is_file() for i in range(1, len(parts))):
            continue  # not importable yet: a package directory without __init__.py
        name = ".".join(parts)
        if name == PACKAGE or any(name == s or name.startswith(s + ".") for s in SKIP):
            continue
        found.append((name, path))
    return found


def page_path(module: str) -> str:
    return f"reference/api/{module.removeprefix(PACKAGE + '.')}.md"


def defines_public_objects(path: Path) -> bool:
    """Whether a package's ``__init__`` defines (not only re-exports) public objects."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if not node.name.startswith("_"):
                return True
    return False


def api_page(module: str, path: Path) -> str:
    lines = [f"# `{module}`", "", f"::: {module}"]
    if path.name == "__init__.py" and not defines_public_objects(path):
        # a package that only re-exports: show its docstring, the members have their own pages
        lines += ["    options:", "      members: false", "      show_root_heading: false"]
        children = [m for m, _ in public_modules() if m.rsplit(".", 1)[0] == module]
        if children:
            lines += ["", "Modules:", ""]
            lines += [f"- [`{c}`]({Path(page_path(c)).name})" for c in children]
    return "\n".join(lines) + "\n"


def api_index() -> str:
    import weibull_stats

    lines = [
        "# API reference",
        "",
        "Generated from the docstrings (numpydoc) at every build. Everything below is importable "
        "from the top-level package (`import weibull_stats as ws`); the pages per module give the "
        "full signatures, parameters, notes and examples.",
        "",
        "| name | defined in | summary |",
        "|:--|:--|:--|",
    ]
    modules = {m for m, _ in public_modules()}
    for name in sorted(weibull_stats.__all__, key=str.lower):
        obj = getattr(weibull_stats, name)
        if inspect.ismodule(obj):
            home: str | None = obj.__name__
        else:
            home = getattr(obj, "__module__", None) if callable(obj) else None
        doc = (inspect.getdoc(obj) or "").strip().splitlines() if home else []
        if doc:
            summary = doc[0].replace("|", "\\|")
        else:
            summary = f"constant, `{obj!r}`" if isinstance(obj, int | float | str) else "constant"
            if isinstance(obj, Mapping):
                summary = "mapping: " + ", ".join(f"`{key}`" for key in obj)
        if home in modules:
            where = f"[`{home}`]({Path(page_path(home)).name})"
        else:
            where = f"`{home or PACKAGE}`"
        lines.append(f"| `{name}` | {where} | {summary} |")
    lines += ["", "## Modules", ""]
    lines += [f"- [`{m}`]({Path(page_path(m)).name})" for m, _ in public_modules()]
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
    modules = public_modules()

    def expand(items: list[Any]) -> list[Any]:
        out: list[Any] = []
        for item in items:
            if isinstance(item, dict):
                ((title, value),) = item.items()
                if value == "reference/api/index.md":
                    pages: list[Any] = [{"Overview": value}]
                    pages += [{m: page_path(m)} for m, _ in modules]
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
    for module, path in public_modules():
        generated[page_path(module)] = api_page(module, path)
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
    return ROLE.sub("", html)
