"""The scan's journal: what was finished, checked line by line before a resume continues it.

``journal.jsonl`` holds one JSON object per line, each with a ``check`` field (the first 16
hex digits of the SHA-256 of the line's other fields, as sorted JSON):

* line 1, ``{"type": "header", "format", "package_version", "settings", "files", "check"}``:
  the scan's settings (:class:`~weibull_stats.scanning.settings.ScanSettings`) and the fingerprint of
  every checkpoint file (:func:`weibull_stats.scanning.files.fingerprint`);
* ``{"type": "row", "row": {...}, "check"}``: one finished result row;
* ``{"type": "error", "error": {...}, "check"}``: one failure (a failed unit is retried on resume).

A resume (:func:`resume_state`) refuses, with a :class:`ValueError` naming the file and the
line, anything it cannot trust: a line that is not JSON, not an object, of an unknown type,
missing keys, with a wrong check, a header that is not first, settings, package version or
checkpoint fingerprints that differ from the scan being resumed, a row for a matrix the scan
does not have. The one repair is the torn last line of a killed write (no newline at the
end): it is dropped, counted in ``run.json`` (``torn_journal_lines``) and its row refitted.
A journal with no complete line is an empty one. ``run.json``, when present, must agree too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from weibull_stats._version import __version__
from weibull_stats.checkpoints import classify
from weibull_stats.scanning.decisions import DECISION_COLUMNS
from weibull_stats.scanning.files import check_fingerprints, shown
from weibull_stats.scanning.folder import JOURNAL, atomic_path, output_error
from weibull_stats.scanning.output import COLUMNS
from weibull_stats.scanning.plan import TensorTask
from weibull_stats.scanning.settings import ScanSettings

#: Version of the journal's line format.
JOURNAL_FORMAT = 1
#: Keys every journalled row must carry (``n`` defaults to ``numel``).
ROW_KEYS: tuple[str, ...] = tuple(c for c in COLUMNS if c != "n" and c not in DECISION_COLUMNS)
#: The keys that place a row; strings.
ROW_KEY = ("checkpoint", "tensor", "part", "estimator")
_PAYLOAD = {"header": ("format", "package_version", "settings", "files"), "row": ("row",),
            "error": ("error",)}
_ADVICE = "scan into a new folder, or rerun without --resume"


def _check(record: Mapping[str, Any]) -> str:
    body = {key: value for key, value in record.items() if key != "check"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def journal_line(kind: str, **payload: Any) -> str:
    """One journal line (with its newline): ``{"type": kind, **payload, "check": ...}``."""
    record = {"type": kind, **payload}
    record["check"] = _check(record)
    return json.dumps(record) + "\n"


def header_line(settings: ScanSettings, files: Mapping[str, Mapping[str, Any]]) -> str:
    """The journal's first line: settings and checkpoint fingerprints."""
    return journal_line("header", format=JOURNAL_FORMAT, package_version=__version__,
                        settings=settings.to_dict(), files=dict(files))


class Journal:
    """Append-only journal, started atomically with its header and any rows carried over."""

    def __init__(self, path: Path, header: str, rows: Iterable[dict[str, Any]]) -> None:
        with atomic_path(path) as temporary, open(temporary, "w", encoding="utf-8") as handle:
            handle.write(header)
            handle.writelines(journal_line("row", row=row) for row in rows)
        self.path = path
        self.handle = open(path, "a", encoding="utf-8")

    def write(self, rows: Iterable[dict[str, Any]], errors: Iterable[dict[str, Any]]) -> None:
        """Append finished rows and failures; flushed, so a killed process loses at most a torn line.

        A failed write (a full disk) raises an :class:`OSError` naming the journal."""
        try:
            self.handle.writelines(journal_line("row", row=row) for row in rows)
            self.handle.writelines(journal_line("error", error=error) for error in errors)
            self.handle.flush()
        except OSError as exc:
            raise output_error(exc, self.path) from exc

    def close(self) -> None:
        try:
            self.handle.close()
        except OSError as exc:  # what a failed write left in the buffer
            raise output_error(exc, self.path) from exc


def _line_error(path: Path, number: int, what: str) -> ValueError:
    return ValueError(f"{path}, line {number}: corrupt journal line ({what}); {_ADVICE}")


def _parse(path: Path, number: int, raw: bytes) -> dict[str, Any]:
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _line_error(path, number, "not UTF-8 text") from None
    except (json.JSONDecodeError, RecursionError):
        raise _line_error(path, number, "not JSON") from None
    if not isinstance(record, dict):
        raise _line_error(path, number, f"a JSON {type(record).__name__}, not an object")
    kind = record.get("type")
    if not isinstance(kind, str) or kind not in _PAYLOAD:
        raise _line_error(path, number, f"unknown type {kind!r}")
    if (kind == "header") != (number == 1):
        raise _line_error(path, number, "the header must be the first line and only there")
    missing = [key for key in (*_PAYLOAD[kind], "check") if key not in record]
    if missing:
        raise _line_error(path, number, f"{kind} line lacks {', '.join(missing)}")
    if kind == "row":
        row = record["row"]
        if not isinstance(row, dict):
            raise _line_error(path, number, "`row` is not an object")
        lacking = [key for key in ROW_KEYS if key not in row]
        if lacking:
            raise _line_error(path, number, f"row lacks keys {', '.join(lacking)}")
        wrong = [key for key in ROW_KEY if not isinstance(row[key], str)]
        if wrong:
            raise _line_error(path, number, f"row keys {', '.join(wrong)} are not strings")
    if record["check"] != _check(record):
        raise _line_error(path, number, "check digest does not match its content")
    return record


def read_journal(path: Path) -> tuple[dict[str, Any] | None, list[tuple[int, dict[str, Any]]], int]:
    """The header, the ``(line, row)`` pairs and the torn-line count of a journal.

    Returns ``(None, [], torn)`` for a missing journal or one with no complete line.

    Raises
    ------
    ValueError
        A corrupt line (see the module docstring); the message names the file and line.
    OSError
        The journal cannot be read.
    """
    header, rows, _errors, torn = read_records(path)
    return header, rows, torn


def read_records(path: Path) -> tuple[dict[str, Any] | None, list[tuple[int, dict[str, Any]]],
                                      list[dict[str, Any]], int]:
    """:func:`read_journal` with the failures too: header, ``(line, row)`` pairs, failures, torn lines."""
    if not path.is_file():
        return None, [], [], 0
    data = path.read_bytes()
    lines = data.split(b"\n")
    torn = 1 if lines[-1] else 0  # after the last newline: the torn line of a killed write, or nothing
    header: dict[str, Any] | None = None
    rows: list[tuple[int, dict[str, Any]]] = []
    errors: list[dict[str, Any]] = []
    for number, raw in enumerate(lines[:-1], start=1):
        record = _parse(path, number, raw)
        if record["type"] == "header":
            header = record
        elif record["type"] == "row":
            rows.append((number, record["row"]))
        elif isinstance(record["error"], dict):
            errors.append(record["error"])
    return header, rows, errors, torn


def planned_keys(task: TensorTask, settings: ScanSettings) -> set[tuple[str, str]]:
    """The ``(part, estimator)`` rows a task yields when every fit succeeds."""
    role = classify(task.tensor, task.family, task.shape)
    return {(part, name) for part in role.rows for name in settings.estimators}


def pending_tasks(tasks: Sequence[TensorTask], finished: Sequence[dict[str, Any]], settings: ScanSettings
                  ) -> list[TensorTask]:
    """The tasks with some (part, estimator) row not yet finished, each told what is done."""
    done: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for row in finished:
        done.setdefault((row["checkpoint"], row["tensor"]), set()).add((row["part"], row["estimator"]))
    pending = []
    for task in tasks:
        finished_keys = frozenset(done.get((task.checkpoint, task.tensor), set()))
        if not planned_keys(task, settings) <= finished_keys:
            pending.append(replace(task, done=finished_keys))
    return pending


def _settings_differ(source: Path, previous: Any, settings: ScanSettings) -> None:
    if not isinstance(previous, dict):
        raise ValueError(f"{source}: corrupt run record (`settings` is not an object); {_ADVICE}")
    current = settings.to_dict()
    if previous != current:
        changed = sorted(k for k in set(current) | set(previous) if previous.get(k) != current.get(k))
        raise ValueError(f"{source}: cannot resume: settings differ from the journalled scan "
                         f"({', '.join(map(shown, changed))}); use the same settings or another --out")


def _check_run_record(run_file: Path, settings: ScanSettings, files: Mapping[str, Mapping[str, Any]]) -> None:
    try:
        record = json.loads(run_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{run_file}: corrupt run record ({exc}); {_ADVICE}") from None
    if not isinstance(record, dict) or "settings" not in record:
        raise ValueError(f"{run_file}: corrupt run record (not an object with `settings`); {_ADVICE}")
    _settings_differ(run_file, record["settings"], settings)
    if "files" in record:
        check_fingerprints(record["files"], files, run_file)


def check_journal(out: Path, settings: ScanSettings, files: Mapping[str, Mapping[str, Any]]
                  ) -> tuple[list[tuple[int, dict[str, Any]]], list[dict[str, Any]], int]:
    """The journal of ``out`` read and checked against this scan: its ``(line, row)`` pairs, its
    failures and the torn-line count (none of each where there is no journal yet).

    Raises
    ------
    ValueError
        ``run.json`` or the journal is corrupt or disagrees with this scan (settings, package
        version, a changed checkpoint file); the message names the file (and the line).
    """
    run_file = out / "run.json"
    if run_file.is_file():
        _check_run_record(run_file, settings, files)
    path = out / JOURNAL
    header, rows, errors, torn = read_records(path)
    if header is None:
        if rows:  # pragma: no cover - read_journal refuses rows without a header line
            raise _line_error(path, 1, "no header")
        return [], [], torn
    _settings_differ(path, header["settings"], settings)
    if header["format"] != JOURNAL_FORMAT or header["package_version"] != __version__:
        raise ValueError(f"{path}: cannot resume: journal written by weibull-stats "
                         f"{shown(header['package_version'])} (format {shown(header['format'])}), this is "
                         f"{__version__} (format {JOURNAL_FORMAT}); {_ADVICE}")
    check_fingerprints(header["files"], files, path)
    return rows, errors, torn


def resume_state(out: Path, settings: ScanSettings, files: Mapping[str, Mapping[str, Any]],
                 tasks: Sequence[TensorTask]) -> tuple[list[dict[str, Any]], int]:
    """The rows a resumed scan keeps from ``out`` and the torn-line count, after every check.

    Raises
    ------
    ValueError
        ``run.json`` or the journal is corrupt or disagrees with this scan (settings, package
        version, a changed checkpoint file, a row of a matrix not in the scan); the message
        names the file (and the line).
    """
    rows, _errors, torn = check_journal(out, settings, files)  # failures are retried, not kept
    path = out / JOURNAL
    planned = {(t.checkpoint, t.tensor, *key) for t in tasks for key in planned_keys(t, settings)}
    unique: dict[tuple[str, ...], dict[str, Any]] = {}
    for number, row in rows:
        key = tuple(row[k] for k in ROW_KEY)
        if key not in planned:
            raise _line_error(path, number, f"a row of {key[1]!r} ({shown(key[0])}, part {key[2]!r}, "
                                            f"{shown(key[3])}) that this scan does not fit")
        unique.setdefault(key, row)
    return list(unique.values()), torn


__all__ = ["JOURNAL", "JOURNAL_FORMAT", "ROW_KEY", "ROW_KEYS", "Journal", "check_journal", "header_line",
           "journal_line", "pending_tasks", "planned_keys", "read_journal", "read_records", "resume_state"]
