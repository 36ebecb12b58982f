"""One-line errors and warnings in command-line words.

The library's messages name its Python arguments (`` `x` ``, `` `rng` ``,
``nonfinite='omit'``); at the command line the user types flags. :func:`to_flags` rewrites
the one into the other with the table :data:`API_TO_FLAGS`, and :func:`error_line` and
:func:`warning_line` make any exception or warning one line naming the command and the file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from weibull_stats.scanning.settings import SCAN_SETTINGS

#: The library's argument names and the command-line words for them (the scan's from their declaration).
API_TO_FLAGS: Mapping[str, str] = {
    **{setting.name: f"`{setting.flag}`" for setting in SCAN_SETTINGS if setting.flag is not None},
    "x": "the array",
    "rng": "`--seed`",
    "seed": "`--seed`",
    "workers": "`--jobs`",
    "jobs": "`--jobs`",
    "n_resamples": "`--n-resamples`",
    "n_mc_samples": "`--n-mc-samples`",
    "confidence_level": "`--confidence-level`",
    "gof_samples": "`--gof-samples`",
    "bootstrap": "`--bootstrap`",
    "estimator": "`--estimator`",
    "estimators": "`--estimator`",
    "values": "`--values`",
    "zeros": "`--zeros`",
    "nonfinite": "`--nonfinite`",
    "statistic": "`--statistic`",
    "kind": "`--kind`",
    "out": "`--out`",
    "resume": "`--resume`",
    "client": "`--scheduler` or `--cluster`",
    "device": "`--device`",
    "paths": "PATH",
    "path": "PATH",
}

#: ``name='value'`` of a policy argument, as the flags that set it.
_POLICY_VALUE = re.compile(r"\b(values|zeros|nonfinite)=(['\"])(\w+)\2")
#: ``name='value'`` of an estimator option.
_OPTION_VALUE = re.compile(r"\b(outside|trim|plotting_position|direction|method|edges|probabilities)="
                           r"(['\"])([\w.,]+)\2")
_QUOTED_NAME = re.compile(r"`(\w+)`")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

class CommandLineError(ValueError):
    """A flag or its value is wrong; the message starts with the flag and names no file."""


class CommandLineWarning(UserWarning):
    """A warning about the command line itself (a deprecated flag)."""


#: Exception types whose message is the whole story; any other type is named in the line.
USER_ERRORS = (ValueError, TypeError, OSError, KeyError)


def to_flags(message: str) -> str:
    """``message`` with the library's argument names replaced by the flags that set them.

    Examples
    --------
    >>> to_flags("`x` has 2 zeros out of 9; a Weibull fit takes log(x) (pass zeros='omit' to drop them)")
    'the array has 2 zeros out of 9; a Weibull fit takes log(x) (pass --zeros omit to drop them)'
    >>> to_flags("`n_resamples` must be an int >= 1; got 0")
    '`--n-resamples` must be an int >= 1; got 0'
    """
    message = _POLICY_VALUE.sub(lambda m: f"--{m[1]} {m[3]}", message)
    message = _OPTION_VALUE.sub(lambda m: f"--option {m[1]}={m[3]}", message)
    return _QUOTED_NAME.sub(lambda m: API_TO_FLAGS.get(m[1], m[0]), message)


def one_line(text: str) -> str:
    """``text`` without terminal colour codes, its lines joined by ``"; "``."""
    lines = [line.strip() for line in _ANSI.sub("", text).splitlines()]
    return "; ".join(line for line in lines if line)


def describe(exc: BaseException) -> str:
    """What failed, in one line: the message of a user error, else the type and message."""
    if isinstance(exc, KeyError) and exc.args:
        key = exc.args[0]
        text = str(key) if isinstance(key, str) and " " in key else f"missing key {key!r}"
    elif isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        text = exc.strerror
    else:
        text = str(exc)
    if not isinstance(exc, USER_ERRORS):
        text = f"unexpected {type(exc).__name__}: {text}" if text else f"unexpected {type(exc).__name__}"
        text += "; rerun with --debug for the traceback"
    return one_line(to_flags(text)) or type(exc).__name__


def error_line(command: str, exc: BaseException, files: Sequence[str] = ()) -> str:
    """``weibull-stats COMMAND: error: WHAT FAILED (FILE)``, newline included.

    The file is the one the exception names (its ``filename``: an :class:`OSError`'s, or an
    output folder's) unless the message already starts with it, else the command's inputs
    unless the message already names one of them.
    """
    message = describe(exc)
    filename = getattr(exc, "filename", None)
    named = [str(filename)] if filename is not None else []
    if named and message.startswith((f"{named[0]}:", f"{named[0]}/")):  # the file or one inside it
        return f"weibull-stats {command}: error: {message}\n"
    if not named and not isinstance(exc, CommandLineError) and not any(f and f in message for f in files):
        named = [f for f in files if f]
    suffix = ""
    if named:
        shown = ", ".join(named[:3]) + (f", ... ({len(named)} paths)" if len(named) > 3 else "")
        suffix = f" ({shown})"
    return f"weibull-stats {command}: error: {message}{suffix}\n"


def warning_line(command: str, message: Any, category: type[Warning]) -> str:
    """``weibull-stats COMMAND: warning: MESSAGE``, newline included; the category is named
    unless it is a plain :class:`UserWarning` or one of the package's own."""
    text = one_line(to_flags(str(message)))
    if category is not UserWarning and not category.__module__.startswith("weibull_stats"):
        text = f"{category.__name__}: {text}"
    return f"weibull-stats {command}: warning: {text}\n"
