"""What a scan promises about its files: fingerprints, the lock, atomic writes, no stale or silent output.

Each test pins one promise of ``docs/reliability.md`` (issue 10, items 1, 2, 3, 5, 7 and 9).
"""

from __future__ import annotations

import errno
import importlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint, write_safetensors
from weibull_stats.cli import main
from weibull_stats.estimators.registry import get_estimator
from weibull_stats.report.markdown import report_from_folder
from weibull_stats.sample.checked import as_sample
from weibull_stats.scanning.files import fingerprint
from weibull_stats.scanning.folder import atomic_write_text, output_lock
from weibull_stats.scanning.plan import TensorTask
from weibull_stats.scanning.run import scan as scan_only
from weibull_stats.scanning.settings import FIT_OPTIONS
from weibull_stats.workflow import scan

scan_module = importlib.import_module("weibull_stats.scanning.run")
ROOT = Path(__file__).resolve().parents[1]
TABLES = ("results.csv", "results.parquet", "errors.csv", "skipped.csv")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIBULL_STATS_CACHE", str(tmp_path_factory.mktemp("cache")))


def _checkpoint(folder: Path, family: str = "gpt2", **kwargs: Any) -> Path:
    state, config = synthetic_state(family, layers=2, hidden=16, heads=2, **kwargs)
    return write_checkpoint(folder, state, config)


def _tables(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in TABLES}


def _interrupted(folder: Path, out: Path, monkeypatch: pytest.MonkeyPatch, *, after: int = 3,
                 **kwargs: Any) -> None:
    """A scan stopped (KeyboardInterrupt) after ``after`` tensors."""
    original = scan_module.fit_tensor
    calls = {"n": 0}

    def interrupting(*args: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > after:
            raise KeyboardInterrupt
        return original(*args, **kw)

    monkeypatch.setattr(scan_module, "fit_tensor", interrupting)
    with pytest.raises(KeyboardInterrupt):
        scan_only(str(folder), out=out, **kwargs)
    monkeypatch.setattr(scan_module, "fit_tensor", original)


# ---------------------------------------------------------------------- 1: fingerprints
def test_fingerprint_hashes_the_safetensors_header_and_small_files_whole(tmp_path: Path) -> None:
    folder = _checkpoint(tmp_path / "ckpt")
    weights = folder / "model.safetensors"
    record = fingerprint(weights)
    assert record["hashed"] == "header" and record["size"] == weights.stat().st_size
    assert record["mtime_ns"] == weights.stat().st_mtime_ns
    assert fingerprint(folder / "config.json")["hashed"] == "whole"
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(3 << 20))
    assert fingerprint(big)["hashed"] == "edges"
    assert fingerprint(tmp_path / "absent.bin") == {"missing": True}
    # the digest covers the header: one byte of it changed, same size, same time -> another digest
    data = weights.read_bytes()
    weights.write_bytes(data.replace(b'"format":"pt"', b'"format":"pu"'))
    os.utime(weights, ns=(record["mtime_ns"], record["mtime_ns"]))
    changed = fingerprint(weights)
    assert changed["size"] == record["size"] and changed["mtime_ns"] == record["mtime_ns"]
    assert changed["sha256"] != record["sha256"]


def test_resume_refuses_a_checkpoint_changed_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 10 item 1: the old rows were kept beside the new ones, exit 0
    folder = _checkpoint(tmp_path / "ckpt", "llama")
    out = tmp_path / "out"
    _interrupted(folder, out, monkeypatch)
    run = json.loads((out / "run.json").read_text())
    assert str(folder / "model.safetensors") in run["files"]
    state, _ = synthetic_state("llama", layers=2, hidden=16, heads=2, rng=5)
    weights = write_safetensors(folder / "model.safetensors", state, metadata={"format": "pt"})  # same shapes
    stamp = run["files"][str(weights)]["mtime_ns"] + 10**9  # a clock tick later, whatever the file system
    os.utime(weights, ns=(stamp, stamp))
    with pytest.raises(ValueError, match=r"cannot resume: checkpoint file .*model\.safetensors changed "
                                         r"on disk \(mtime_ns differ\)"):
        scan_only(str(folder), out=out, resume=True)
    assert not (out / "results.csv").exists()


def test_resume_refuses_a_changed_file_whose_size_and_time_were_kept(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _checkpoint(tmp_path / "ckpt", "llama")
    out = tmp_path / "out"
    _interrupted(folder, out, monkeypatch)
    config = folder / "config.json"
    stamp = config.stat().st_mtime_ns
    text = config.read_text()
    config.write_text(text.replace('"hidden_size": 16', '"hidden_size": 61'))
    os.utime(config, ns=(stamp, stamp))
    with pytest.raises(ValueError, match=r"config\.json changed on disk \(sha256 differ\)"):
        scan_only(str(folder), out=out, resume=True)


def test_unchanged_checkpoint_resumes_to_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    folder = _checkpoint(tmp_path / "ckpt")
    scan_only(str(folder), out=tmp_path / "reference")
    _interrupted(folder, tmp_path / "out", monkeypatch)
    scan_only(str(folder), out=tmp_path / "out", resume=True)
    assert _tables(tmp_path / "out") == _tables(tmp_path / "reference")


def test_a_checkpoint_rewritten_during_the_scan_writes_no_tables(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _checkpoint(tmp_path / "ckpt")
    original = scan_module.fit_tensor

    def rewriting(task: TensorTask, *args: Any, **kwargs: Any) -> Any:
        if task.order == 2:
            (folder / "config.json").write_text((folder / "config.json").read_text() + " ")
        return original(task, *args, **kwargs)

    monkeypatch.setattr(scan_module, "fit_tensor", rewriting)
    with pytest.raises(ValueError, match=r"config\.json changed on disk during the scan; no tables were "
                                         r"written"):
        scan_only(str(folder), out=tmp_path / "out")
    assert not (tmp_path / "out" / "results.csv").exists()


# ---------------------------------------------------------------------- 2: the lock, and SIGKILL
_SLOW_SCAN = """
import sys, time
from weibull_stats.scanning import run as scanning
original = scanning.fit_tensor
def slow(*args, **kwargs):
    time.sleep(0.2)
    return original(*args, **kwargs)
scanning.fit_tensor = slow
scanning.scan(sys.argv[1], out=sys.argv[2], seed=3)
"""


def _wait_for_lines(path: Path, count: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if path.is_file() and path.read_bytes().count(b"\n") >= count:
            return
        assert process.poll() is None, process.stderr.read() if process.stderr else b""
        time.sleep(0.05)
    raise AssertionError(f"{path} never reached {count} lines")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_second_scan_refuses_and_sigkill_then_resume_gives_the_same_bytes(tmp_path: Path) -> None:
    # issue 10 item 2: two scans into one folder both exited 0 and corrupted the journal
    folder = _checkpoint(tmp_path / "ckpt")
    reference = tmp_path / "reference"
    scan_only(str(folder), out=reference, seed=3)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-c", _SLOW_SCAN, str(folder), str(out)], cwd=ROOT,
                               stderr=subprocess.PIPE)
    try:
        _wait_for_lines(out / "journal.jsonl", 4, process)
        with pytest.raises(OSError, match=rf"{out}: output folder in use by another scan or report "
                                          rf"\(pid {process.pid} on "):
            scan_only(str(folder), out=out, seed=3)
        with pytest.raises(OSError, match=rf"pid {process.pid}"):
            scan(str(folder), out=out, seed=3, skip_validation=True)
        assert main(["report", str(out)]) == 1  # no results yet, and the folder is in use
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not (out / "results.csv").exists()
    # the kernel dropped the lock with the process: the resume runs and gives the same bytes
    frame, _ = scan_only(str(folder), out=out, seed=3, resume=True)
    assert not frame.duplicated(["checkpoint", "tensor", "part", "estimator"]).any()
    assert _tables(out) == _tables(reference)


def test_the_lock_is_reentrant_in_one_process(tmp_path: Path) -> None:
    folder = _checkpoint(tmp_path / "ckpt")
    with output_lock(tmp_path / "out"):
        scan_only(str(folder), out=tmp_path / "out")  # the workflow holds it around scan and report
        assert json.loads((tmp_path / "out" / "scan.lock").read_text())["pid"] == os.getpid()
    with output_lock(tmp_path / "out"):
        assert json.loads((tmp_path / "out" / "scan.lock").read_text())["pid"] == os.getpid()
    assert not (tmp_path / "out" / "scan.lock").exists()  # removed when the lock is let go


# -------------------------------------------------------------- 3: settings, atomic writes, stale files
def test_resume_without_run_json_checks_the_journal_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    # issue 10 item 3: with run.json missing, --resume merged rows written with another seed
    folder = _checkpoint(tmp_path / "ckpt")
    out = tmp_path / "out"
    _interrupted(folder, out, monkeypatch, seed=1)
    (out / "run.json").unlink()
    with pytest.raises(ValueError, match=r"journal\.jsonl: cannot resume: settings differ from the "
                                         r"journalled scan \(seed\)"):
        scan_only(str(folder), out=out, resume=True, seed=0)
    scan_only(str(folder), out=tmp_path / "reference", seed=1)
    scan_only(str(folder), out=out, resume=True, seed=1)
    assert _tables(out) == _tables(tmp_path / "reference")


def test_fresh_run_in_a_used_folder_removes_the_earlier_outputs(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 10 item 3: a killed rerun left the previous results.csv beside the new run.json
    folder = _checkpoint(tmp_path / "ckpt")
    out = tmp_path / "out"
    scan(str(folder), out=out, skip_validation=True)
    outputs = {"results.csv", "results.parquet", "errors.csv", "skipped.csv", "report.md",
               "shape_by_layer.png"}
    assert outputs <= {p.name for p in out.iterdir()}
    _interrupted(folder, out, monkeypatch, seed=7)
    left = {p.name for p in out.iterdir()}
    assert left == {"journal.jsonl", "run.json", "manifest.json"}
    assert json.loads((out / "run.json").read_text())["settings"]["seed"] == 7


def test_a_full_disk_leaves_no_partial_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 10 item 3: a full disk left a 0-byte results.parquet
    folder = _checkpoint(tmp_path / "ckpt")
    out = tmp_path / "out"

    def full_disk(self: pd.DataFrame, path: Any, *args: Any, **kwargs: Any) -> None:
        Path(path).write_bytes(b"")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full_disk)
    with pytest.raises(OSError, match="No space left on device"):
        scan_only(str(folder), out=out)
    assert not (out / "results.parquet").exists()
    assert not list(out.glob(".*tmp*"))
    monkeypatch.undo()
    scan_only(str(folder), out=tmp_path / "reference")
    scan_only(str(folder), out=out, resume=True)  # the journal survived: nothing is refitted, same bytes
    assert _tables(out) == _tables(tmp_path / "reference")


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "run.json"
    target.write_text("old")

    def failing(self: Path, *args: Any, **kwargs: Any) -> int:
        Path.write_bytes(self, b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", failing)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_a_failed_plot_leaves_no_partial_report_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report_module = importlib.import_module("weibull_stats.report.markdown")
    folder = _checkpoint(tmp_path / "ckpt")
    out = tmp_path / "out"

    def full_disk(fig: Any, path: Path, *args: Any) -> None:
        path.with_suffix(".png").write_bytes(b"\x89PNG")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(report_module, "_save", full_disk)
    with pytest.raises(OSError, match="No space left"):
        scan(str(folder), out=out, skip_validation=True)
    names = {p.name for p in out.iterdir()}
    assert not names & {"report.md", "shape_by_layer.png"} and not any(".tmp" in n for n in names)
    monkeypatch.undo()
    report_from_folder(out)
    assert (out / "shape_by_layer.png").read_bytes()[:4] == b"\x89PNG" and (out / "report.md").is_file()


# ---------------------------------------------------------------------- 7: clear errors for corrupt files
def _journal_case(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    folder = _checkpoint(tmp_path / "ckpt")
    out = tmp_path / "out"
    scan_only(str(folder), out=out)
    return folder, out, (out / "journal.jsonl").read_text().splitlines(keepends=True)


def _without_tensor(line: str) -> str:
    record = json.loads(line)
    del record["row"]["tensor"]
    return json.dumps(record) + "\n"


def _other_shape(line: str) -> str:
    record = json.loads(line)
    record["row"]["shape"] = 2.0
    return json.dumps(record) + "\n"


@pytest.mark.parametrize(("line", "message"), [
    (lambda line: "5\n", r"line 2: corrupt journal line \(a JSON int, not an object\)"),
    (lambda line: "[1, 2]\n", r"line 2: corrupt journal line \(a JSON list, not an object\)"),
    (lambda line: '{"type": "row"}\n', r"line 2: corrupt journal line \(row line lacks row, check\)"),
    (_without_tensor, r"line 2: corrupt journal line \(row lacks keys tensor\)"),
    (_other_shape, r"line 2: corrupt journal line \(check digest does not match its content\)"),
    (lambda line: line.replace('"type": "row"', '"type": "rows"'), r"line 2: .*unknown type 'rows'"),
    (lambda line: "\xff\n", r"line 2: corrupt journal line \(not JSON\)"),
])
def test_corrupt_journal_lines_are_refused_naming_file_and_line(tmp_path: Path, line: Any, message: str
                                                                ) -> None:
    # issue 10 item 7: a line `5` gave AttributeError, a row without keys "error: tensor"
    folder, out, lines = _journal_case(tmp_path)
    lines[1] = line(lines[1])
    (out / "journal.jsonl").write_text("".join(lines))
    with pytest.raises(ValueError, match=rf"{out / 'journal.jsonl'}, {message}"):
        scan_only(str(folder), out=out, resume=True)
    status = main(["scan", str(folder), "--out", str(out), "--resume", "--skip-validation", "--no-progress"])
    assert status == 1


def test_journal_without_header_is_refused(tmp_path: Path) -> None:
    folder, out, lines = _journal_case(tmp_path)
    (out / "journal.jsonl").write_text("".join(lines[1:]))  # as written before the header existed
    with pytest.raises(ValueError, match=r"line 1: corrupt journal line \(the header must be the first line"):
        scan_only(str(folder), out=out, resume=True)


@pytest.mark.parametrize("content", ["[1, 2]", '{"settings": [1]}', "{", '"x"'])
def test_corrupt_run_json_is_refused_naming_it(tmp_path: Path, content: str) -> None:
    # issue 10 item 7: a run.json of [1, 2] gave AttributeError
    folder, out, _ = _journal_case(tmp_path)
    (out / "run.json").write_text(content)
    with pytest.raises(ValueError, match=rf"{out / 'run.json'}: corrupt run record"):
        scan_only(str(folder), out=out, resume=True)
    with pytest.raises(ValueError, match=rf"{out / 'run.json'}: corrupt run record"):
        report_from_folder(out)


def test_report_on_a_parquet_of_other_columns_names_the_missing_ones(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # issue 10 item 7: "error: estimator"
    _, out, _ = _journal_case(tmp_path)
    pd.DataFrame({"tensor": ["a"], "shape": [1.2], "width": [3]}).to_parquet(out / "results.parquet")
    with pytest.raises(ValueError, match=r"results\.parquet: not the results table of a scan: missing "
                                         r"columns checkpoint, step, part, .*estimator, scale"):
        report_from_folder(out)
    assert main(["report", str(out)]) == 1
    assert "missing columns checkpoint, step" in capsys.readouterr().err
    (out / "results.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ValueError, match=r"results\.parquet: cannot read the results table"):
        report_from_folder(out)


# ---------------------------------------------------------------------- 9: nothing to fit
def test_checkpoints_with_nothing_to_fit_are_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    # issue 10 item 9: an empty checkpoint gave 0 rows and exit 0
    metadata_only = write_safetensors(tmp_path / "meta.safetensors", {}, metadata={"format": "pt"})
    with pytest.raises(ValueError, match=r"nothing to fit: .*meta\.safetensors: nothing to fit: no 2-D "
                                         r"floating tensor \(it holds no tensors\)"):
        scan_only(str(metadata_only))
    empty_map = tmp_path / "empty_map"
    empty_map.mkdir()
    (empty_map / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": {}}))
    with pytest.raises(ValueError, match=r"empty_map: nothing to fit"):
        scan_only(str(empty_map), out=tmp_path / "o")
    assert not (tmp_path / "o").exists()  # refused before anything is written
    vectors = write_safetensors(tmp_path / "vectors.safetensors", {"norm.weight": np.ones(4),
                                                                    "ids": np.arange(3)})
    argv = ["scan", str(vectors), "--out", str(tmp_path / "v"), "--skip-validation", "--no-progress"]
    assert main(argv) == 1
    error = capsys.readouterr().err
    assert "nothing to fit: no 2-D floating tensor (all 2 of its entries skipped: norm.weight: 1-D" in error
    # several checkpoints: the empty one is a recorded failure beside the others' rows
    good = _checkpoint(tmp_path / "good")
    out = tmp_path / "both"
    status = main(["scan", str(good), str(metadata_only), "--out", str(out), "--skip-validation",
                   "--no-progress"])
    assert status == 1
    errors = pd.read_csv(out / "errors.csv", keep_default_na=False)
    assert errors["checkpoint"].tolist() == [str(metadata_only)]
    assert "nothing to fit" in errors["error"].iloc[0]
    assert len(pd.read_csv(out / "results.csv")) > 0


# ---------------------------------------------------------------------- 5: masked arrays
def test_a_scanned_state_dict_honours_masks(tmp_path: Path) -> None:
    # issue 10 item 5: a state dict of masked arrays was fitted with the masked values in
    rng = np.random.default_rng(4)
    weight = rng.normal(scale=0.02, size=(32, 48))
    fused = rng.normal(scale=0.02, size=(48, 16))  # gpt_neox query_key_value: split per head
    masked = np.ma.array(weight, mask=np.abs(weight) > 0.03)
    state = {"model.layers.0.mlp.down_proj.weight": masked, "model.layers.0.mlp.up_proj.weight": weight}
    frame = scan(state, estimators=["probability_plot", "mle"], skip_validation=True)
    for name in ("probability_plot", "mle"):
        row = frame[(frame["estimator"] == name) & (frame["tensor"].str.contains("down_proj"))].iloc[0]
        expected = get_estimator(name)(masked, values="weights", zeros="omit")
        assert expected.n_omitted["masked"] == int(masked.mask.sum()) > 0
        assert row["shape"] == expected.shape and row["n_used"] == expected.n_used
        unmasked = frame[(frame["estimator"] == name) & (frame["tensor"].str.contains("up_proj"))].iloc[0]
        assert unmasked["n_used"] == get_estimator(name)(weight, values="weights").n_used
    # the scan's one sample per matrix (FIT_OPTIONS) omits and counts masked entries, fused parts too
    sample = as_sample(np.ma.array(fused, mask=fused > 0.01), **FIT_OPTIONS)
    assert sample.n_omitted["masked"] == int((fused > 0.01).sum())
