"""Strict JSON for checkpoint headers and index files: one clear error for every bad input.

:func:`strict_json` refuses what the reference ``safetensors`` reader (serde_json) refuses
and Python's ``json`` would let through or crash on: duplicate keys in an object,
``NaN``/``Infinity``, nesting deeper than a bound, integers too long for ``int``. Each becomes
a :class:`ValueError` naming the file; no ``RecursionError`` or ``OverflowError`` escapes.
"""

from __future__ import annotations

import json
import re
import reprlib
from pathlib import Path
from typing import Any

#: Deepest nesting accepted (serde_json, behind the reference reader, stops at 128).
MAX_DEPTH = 128

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_SHORT = reprlib.Repr()
_SHORT.maxlevel = 2
_SHORT.maxstring = 40
_SHORT.maxother = 40
_SHORT.maxlist = 4
_SHORT.maxdict = 4


def short_repr(value: Any) -> str:
    """A repr of ``value`` at most a line long, safe on deeply nested data."""
    return _SHORT.repr(value)


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth(text: str) -> int:
    """Deepest bracket nesting of JSON ``text``, brackets inside strings not counted."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0  # cannot be deeper than the bound
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRINGS.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def strict_json(path: Path, raw: bytes, what: str) -> Any:
    """Parse ``raw`` (the JSON read from ``path``) strictly.

    Parameters
    ----------
    path : pathlib.Path
        The file, named in every message.
    raw : bytes
        The JSON text, UTF-8.
    what : str
        What the text is (``"safetensors header"``, ``"index file"``), for the messages.

    Raises
    ------
    ValueError
        ``{path}: corrupt {what} (...)``: not UTF-8, not JSON, a duplicate key, ``NaN`` or
        ``Infinity``, nesting deeper than :data:`MAX_DEPTH`, or a number Python cannot hold.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: corrupt {what} (not UTF-8: {exc})") from None
    if _depth(text) > MAX_DEPTH:  # json.loads would recurse (and fail) deep in the C stack
        raise ValueError(f"{path}: corrupt {what} (JSON nested more than {MAX_DEPTH} levels deep)")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except _DuplicateKey as exc:
        key = exc.args[0]
        raise ValueError(f"{path}: corrupt {what} (key {key!r} appears twice in one object)") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: corrupt {what} (not JSON: {exc})") from None
    except (ValueError, RecursionError, OverflowError) as exc:  # Infinity, 5000-digit integers
        reason = str(exc).split(";")[0]  # not Python's advice to raise its digit limit
        raise ValueError(f"{path}: corrupt {what} (not JSON: {reason})") from None
