"""``--option NAME=VALUE``: any registered estimator's own options from the command line.

The options an estimator takes, and their types, are read from its registry entry
(:attr:`~weibull_stats.estimators._core.Estimator.options`, the keyword-only parameters of
its function and their defaults); values are checked by the estimator's own
``check_options``, so the command line accepts exactly what the Python API accepts.

How a value is read, by the type of the option's default:

* a tuple (``trim``, ``probabilities``): numbers separated by commas, ``0.05,0.95``;
* a string (``plotting_position``, ``direction``, ``method``, ``outside``): as written;
* ``None`` (``edges``): numbers separated by commas, or ``START:STOP:BINS`` for ``BINS``
  equal bins (``-12:2:1024`` is the paper's grid);
* a bool, int or float: that type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from weibull_stats.commands.errors import CommandLineError
from weibull_stats.core.formatting import option_text as format_value
from weibull_stats.estimators.registry import ESTIMATORS
from weibull_stats.sample.checked import POLICY_OPTIONS

#: The command-line flag of each policy option, which ``--option`` does not take.
POLICY_FLAGS: Mapping[str, str] = {name: f"--{name}" for name in POLICY_OPTIONS}


def parse_options(pairs: Sequence[str] | None, estimators: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The ``--option`` pairs as checked options of each estimator in ``estimators``.

    An option applies to every chosen estimator that takes it; one that none of them
    takes is an error naming the option and what each estimator takes.

    Parameters
    ----------
    pairs : sequence of str or None
        ``NAME=VALUE`` strings, in command-line order (a later one wins).
    estimators : sequence of str
        Registered estimator names.

    Returns
    -------
    dict
        ``{estimator: {option: value}}``, holding only the options given.

    Examples
    --------
    >>> parse_options(["trim=0.05,0.95"], ["probability_plot", "mle"])
    {'probability_plot': {'trim': (0.05, 0.95)}, 'mle': {}}
    """
    given: dict[str, str] = {}
    for pair in pairs or []:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise CommandLineError(
                f"--option {pair}: expected NAME=VALUE, for example --option trim=0.05,0.95")
        if name in POLICY_FLAGS:
            raise CommandLineError(f"--option {pair}: the input policy has its own flag; "
                                   f"use {POLICY_FLAGS[name]} {text or 'VALUE'}")
        given[name] = text.strip()
    chosen: dict[str, dict[str, Any]] = {name: {} for name in estimators}
    for name, text in given.items():
        takers = [e for e in estimators if name in _own_options(e)]
        if not takers:
            raise CommandLineError(f"--option {name}={text}: {_nobody_takes(name, estimators)}")
        for estimator in takers:
            chosen[estimator][name] = _parse_value(name, text, _own_options(estimator)[name])
    for estimator, options in chosen.items():
        _check(estimator, options, given)
    return chosen


def option_help() -> str:
    """One line per estimator: the options ``--option`` can set, with their defaults."""
    lines = []
    for name in ESTIMATORS:
        own = _own_options(name)
        listed = ", ".join(f"{k}={format_value(v)}" for k, v in own.items()) or "no options"
        lines.append(f"{name}: {listed}")
    return "; ".join(lines)


def _own_options(estimator: str) -> dict[str, Any]:
    options = ESTIMATORS[estimator].options
    return {k: v for k, v in options.items() if k not in POLICY_OPTIONS}


def _nobody_takes(name: str, estimators: Sequence[str]) -> str:
    takes = "; ".join(f"{e} takes {', '.join(_own_options(e)) or 'no options'}" for e in estimators)
    return f"no chosen estimator takes option `{name}` ({takes})"


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def _parse_value(name: str, text: str, default: Any) -> Any:
    where = f"--option {name}={text}"
    if isinstance(default, bool):
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise CommandLineError(f"{where}: `{name}` takes true or false")
        return text.lower() in ("true", "1", "yes")
    if isinstance(default, (int, float)):
        kind = type(default)
        try:
            return kind(text)
        except ValueError:
            raise CommandLineError(f"{where}: `{name}` takes a number ({kind.__name__})") from None
    if isinstance(default, tuple):
        return _numbers(where, name, text)
    if default is None:
        match = re.fullmatch(rf"({_NUMBER}):({_NUMBER}):(\d+)", text)
        if match:
            start, stop, bins = float(match[1]), float(match[2]), int(match[3])
            return tuple(np.linspace(start, stop, bins + 1).tolist())
        if text.lower() == "none":
            return None
        return _numbers(where, name, text, grid=True)
    return text


def _numbers(where: str, name: str, text: str, *, grid: bool = False) -> tuple[float, ...]:
    try:
        return tuple(float(item) for item in text.split(","))
    except ValueError:
        example = ("numbers separated by commas or START:STOP:BINS (-12:2:1024)" if grid
                   else "numbers separated by commas (0.05,0.95)")
        raise CommandLineError(f"{where}: `{name}` takes {example}") from None


def _check(estimator: str, options: dict[str, Any], given: Mapping[str, str]) -> None:
    """The estimator's own check on the parsed options; its message in command-line words."""
    try:
        ESTIMATORS[estimator].check(**options)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        for name in options:
            if f"`{name}`" in message:
                raise CommandLineError(f"--option {name}={given[name]}: {message}") from None
        raise CommandLineError(f"--option for estimator {estimator!r}: {message}") from None
