"""Fuzz test of ``--resume``: random corruptions of a valid journal and run record (Hypothesis).

Every corruption (truncation, byte flips, lines replaced, inserted, duplicated or deleted, keys
dropped, values of the wrong JSON type, a file deleted) followed by a resume must end in one of
two ways: the resumed tables are byte for byte those of a fresh scan, or a ``ValueError`` /
``OSError`` whose message names the corrupted file. No other exception type. A few hundred
cases run in ``make test``; ``make test-slow`` runs 10,000.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
from weibull_stats.scanning.run import scan

TABLES = ("results.csv", "results.parquet", "errors.csv", "skipped.csv")
FILES = ("journal.jsonl", "run.json")
#: Lines and values of the wrong shape or JSON type.
JUNK: tuple[Any, ...] = (5, [1, 2], "x", None, {}, {"type": "row"}, {"type": "row", "row": {}},
                         {"type": "header"}, {"type": "error", "error": 3}, 1.5, True, {"type": 5})
FUZZ_SETTINGS = dict(derandomize=True, database=None, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class Case:
    """A tiny checkpoint, the bytes of a fresh scan of it, and the journal and run record it left."""

    def __init__(self, root: Path) -> None:
        state, config = synthetic_state("llama", layers=1, hidden=8, heads=2)
        self.checkpoint = str(write_checkpoint(root / "ckpt", state, config))
        reference = root / "reference"
        scan(self.checkpoint, out=reference)
        self.tables = {name: (reference / name).read_bytes() for name in TABLES}
        self.files = {name: (reference / name).read_bytes() for name in FILES}
        self.manifest = (reference / "manifest.json").read_bytes()  # what makes the folder a scan's
        self.root = root


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    return Case(tmp_path_factory.mktemp("journal_fuzz"))


# ---------------------------------------------------------------------- corruptions
def _json_paths(value: Any, prefix: tuple[Any, ...] = (), depth: int = 3) -> list[tuple[Any, ...]]:
    """Paths to every key of the nested objects in ``value`` (to drop or retype)."""
    paths: list[tuple[Any, ...]] = []
    if isinstance(value, dict) and depth:
        for key, item in value.items():
            paths.append((*prefix, key))
            paths += _json_paths(item, (*prefix, key), depth - 1)
    return paths


def _edit_json(text: bytes, where: int, new: Any, drop: bool) -> bytes | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    paths = _json_paths(value)
    if not paths:
        return None
    *parents, key = paths[where % len(paths)]
    target = value
    for parent in parents:
        target = target[parent]
    if drop:
        del target[key]
    else:
        target[key] = new
    return json.dumps(value).encode()


def _corrupt(data: bytes, name: str, operation: tuple[Any, ...]) -> bytes | None:
    """``data`` after one corruption; None deletes the file."""
    kind = operation[0]
    if kind == "delete":
        return None
    if kind == "truncate":
        return data[: operation[1] % (len(data) + 1)]
    if kind == "flip":
        if not data:
            return data
        at = operation[1] % len(data)
        return data[:at] + bytes([data[at] ^ operation[2]]) + data[at + 1:]
    if name == "run.json":  # one JSON document: edit it as a whole
        if kind in ("drop_key", "retype"):
            edited = _edit_json(data, operation[1], operation[2] if kind == "retype" else None,
                                kind == "drop_key")
            return data if edited is None else edited
        if kind in ("replace_line", "insert_line"):
            return json.dumps(operation[2]).encode() if kind == "replace_line" else data + b"\n" + data
        return data
    lines = data.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    if not complete:
        return data
    at = operation[1] % len(complete)
    if kind == "delete_line":
        del complete[at]
    elif kind == "replace_line":
        complete[at] = json.dumps(operation[2]).encode()
    elif kind == "insert_line":
        extra = complete[operation[3] % len(complete)] if operation[2] == "duplicate" else json.dumps(
            operation[2]).encode()
        complete.insert(at, extra)
    elif kind in ("drop_key", "retype"):
        edited = _edit_json(complete[at], operation[3], operation[2] if kind == "retype" else None,
                            kind == "drop_key")
        if edited is not None:
            complete[at] = edited
    return b"\n".join([*complete, tail])


positions = st.integers(0, 1 << 20)
junk = st.sampled_from(JUNK)
operations = st.one_of(
    st.tuples(st.just("truncate"), positions),
    st.tuples(st.just("flip"), positions, st.integers(1, 255)),
    st.tuples(st.just("replace_line"), positions, junk),
    st.tuples(st.just("insert_line"), positions, st.one_of(junk, st.just("duplicate")), positions),
    st.tuples(st.just("delete_line"), positions),
    st.tuples(st.just("drop_key"), positions, st.none(), positions),
    st.tuples(st.just("retype"), positions, junk, positions),
    st.tuples(st.just("delete")),
)
corruptions = st.lists(st.tuples(st.sampled_from(FILES), operations), min_size=1, max_size=3)


def _outcome(case: Case, plan: list[tuple[str, tuple[Any, ...]]]) -> str:
    """Apply ``plan``, resume, check the outcome; ``"resumed"`` or the error message."""
    out = Path(tempfile.mkdtemp(dir=case.root))
    try:
        contents: dict[str, bytes | None] = dict(case.files)
        touched: set[str] = set()
        for name, operation in plan:
            current = contents[name]
            contents[name] = None if current is None else _corrupt(current, name, operation)
            touched.add(name)
        for name, data in contents.items():
            if data is not None:
                (out / name).write_bytes(data)
        (out / "manifest.json").write_bytes(case.manifest)
        try:
            scan(case.checkpoint, out=out, resume=True)
        except (ValueError, OSError) as exc:
            message = str(exc)
            assert "\n" not in message, message
            assert any(str(out / name) in message for name in touched), (plan, message)
            return message.replace(str(out), "OUT")
        assert {name: (out / name).read_bytes() for name in TABLES} == case.tables, plan
        return "resumed"
    finally:
        shutil.rmtree(out)


def _fuzz(case: Case, examples: int) -> None:
    calls: list[int] = []

    @settings(max_examples=examples, **FUZZ_SETTINGS)  # type: ignore[arg-type]
    @given(plan=corruptions)
    def run(plan: list[tuple[str, tuple[Any, ...]]]) -> None:
        calls.append(1)
        _outcome(case, plan)

    run()
    assert len(calls) >= examples


def test_corrupted_journal_resumes_cleanly_or_fails_clearly(case: Case) -> None:
    _fuzz(case, 400)


@pytest.mark.slow
def test_corrupted_journal_resumes_cleanly_or_fails_clearly_many(case: Case) -> None:
    _fuzz(case, 10_000)


def test_the_corruptions_reach_both_outcomes(case: Case) -> None:
    # the fuzz is only as good as its cases: a few by hand, with the outcome each must have
    journal = case.files["journal.jsonl"]
    second_line = journal.index(b"\n") + 20
    assert _outcome(case, [("journal.jsonl", ("truncate", len(journal) // 2))]) == "resumed"
    assert _outcome(case, [("run.json", ("delete",))]) == "resumed"
    assert _outcome(case, [("journal.jsonl", ("insert_line", 3, "duplicate", 2))]) == "resumed"
    assert _outcome(case, [("journal.jsonl", ("flip", len(journal) - 1, 1))]) == "resumed"  # torn last line
    assert _outcome(case, [("journal.jsonl", ("flip", second_line, 1))]).startswith(
        "OUT/journal.jsonl, line 2: corrupt journal line")
    assert _outcome(case, [("journal.jsonl", ("replace_line", 0, 5))]).startswith(
        "OUT/journal.jsonl, line 1: corrupt journal line (a JSON int, not an object)")
    assert _outcome(case, [("run.json", ("replace_line", 0, [1, 2]))]).startswith(
        "OUT/run.json: corrupt run record")
