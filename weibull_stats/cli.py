"""The ``weibull-stats`` command line.

Each subcommand lives in ``weibull_stats.commands.<name>``: its docstring is its help (the
first line, shown in ``weibull-stats --help``) and its description (the rest, shown in
``weibull-stats NAME --help``); ``add_arguments(parser)`` declares its flags and ``run(args)``
is its handler, returning the exit status. :func:`build_parser` makes every subparser from these.

One handler here ends every command: any exception becomes one line on stderr,
``weibull-stats COMMAND: error: WHAT FAILED (FILE)``, in the words of the command line
(flags, not the library's argument names), and exit status 1; a usage error is one line
and exit status 2; an interrupt is exit status 130. A warning is one line,
``weibull-stats COMMAND: warning: ...``. ``--debug`` (before or after the command) shows
the traceback and the warnings' own format instead.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from typing import Any, NoReturn, TextIO

from weibull_stats._version import __version__
from weibull_stats.commands.errors import CommandLineWarning, error_line, warning_line

#: Subcommand modules under ``weibull_stats.commands``, in ``--help`` order.
COMMANDS: tuple[str, ...] = ("fit", "demo", "scan", "report", "validate", "bootstrap", "gof")

#: Attributes of a command's arguments that name its input files.
FILE_ARGUMENTS: tuple[str, ...] = ("path", "paths", "folder")

DEBUG_HELP = "show the full traceback of an error and warnings with their source (default: off)"


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line: ``PROG: error: MESSAGE; see PROG --help``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="weibull-stats",
        description="Validated Weibull estimation of neural-network weight distributions.",
    )
    parser.add_argument("--version", action="version", version=f"weibull-stats {__version__}")
    parser.add_argument("--debug", action="store_true", default=False, help=DEBUG_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        command = importlib.import_module(f"weibull_stats.commands.{name}")
        summary, _, description = (command.__doc__ or "").partition("\n\n")  # none under python -OO
        sub = subparsers.add_parser(name, help=summary or None, description=description or None)
        command.add_arguments(sub)
        # SUPPRESS: not given after the command leaves the value given before it
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
        sub.set_defaults(handler=command.run)
    return parser


def input_files(args: argparse.Namespace) -> list[str]:
    """The files a command was given (``PATH``, ``PATH...`` or ``DIR``), for its error line."""
    files: list[str] = []
    for name in FILE_ARGUMENTS:
        value = getattr(args, name, None)
        if isinstance(value, str):
            files.append(value)
        elif isinstance(value, list):
            files.extend(str(v) for v in value)
    return files


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``weibull-stats`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    command = args.command
    with warnings.catch_warnings():
        if not args.debug:
            warnings.showwarning = _one_line_warnings(command)
        for note in getattr(args, "deprecations", []):
            warnings.warn(note, CommandLineWarning, stacklevel=1)
        try:
            status = int(args.handler(args))
            sys.stdout.flush()  # a reader gone away fails here, where it is reported, not at exit
            return status
        except KeyboardInterrupt:
            sys.stderr.write(f"weibull-stats {command}: interrupted\n")
            return 130
        except Exception as exc:
            if isinstance(exc, BrokenPipeError) and exc.filename is None:
                # a command writes its own output to stdout: the reader of that pipe went away
                exc.filename = "<stdout>"  # the output that failed, not the command's input
                _drop_stdout()
            if args.debug:
                traceback.print_exc()
            else:
                sys.stderr.write(error_line(command, exc, input_files(args)))
            return 1


def _drop_stdout() -> None:
    """Send stdout to the null device, so that the exit does not fail a second time writing
    what is left in its buffer to a pipe nobody reads."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _one_line_warnings(command: str) -> Any:
    """A :func:`warnings.showwarning` writing ``weibull-stats COMMAND: warning: ...``."""

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        stream = sys.stderr if file is None else file
        try:
            stream.write(warning_line(command, message, category))
        except OSError:  # a closed stderr loses the warning, as Python's own showwarning does
            pass

    return show


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
