"""The ``weibull-stats`` command line.

Each subcommand lives in ``weibull_stats.commands.<name>`` and provides
``register(subparsers)`` (which sets ``handler`` on its parser) and returns an exit code
from its handler. Errors in the input end the command with one line on stderr, no
traceback, and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from weibull_stats._version import __version__

#: Subcommand modules under ``weibull_stats.commands``, in ``--help`` order.
COMMANDS: tuple[str, ...] = ("fit", "demo", "scan", "report", "validate", "bootstrap", "gof")

#: Exceptions that describe bad input and become a one-line message.
USER_ERRORS = (ValueError, TypeError, OSError, KeyError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="weibull-stats",
        description="Validated Weibull estimation of neural-network weight distributions.",
    )
    parser.add_argument("--version", action="version", version=f"weibull-stats {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"weibull_stats.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``weibull-stats`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except USER_ERRORS as exc:
        message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        sys.stderr.write(f"weibull-stats {args.command}: error: {message}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write(f"weibull-stats {args.command}: interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
