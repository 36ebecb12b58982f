"""The scan's output folder and its inputs, one by one: nothing lost, nothing stopped by one bad input.

Issue 20, items 2 (files lost), 3 (one bad checkpoint stops everything), 7 (the folder's messages:
``--resume`` without a journal, a missing path, the lock left behind, a full disk or a broken
pipe naming the input) and 8 (files and tensors skipped without a word).
"""

from __future__ import annotations

import errno
import fcntl
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from weibull_stats.checkpoints import open_sources
from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint, write_safetensors
from weibull_stats.cli import main
from weibull_stats.scanning.folder import OutputFolderError, output_lock
from weibull_stats.scanning.run import scan as scan_only
from weibull_stats.workflow import scan

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--skip-validation", "--no-progress"]


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIBULL_STATS_CACHE", str(tmp_path_factory.mktemp("cache")))


def _checkpoint(folder: Path, family: str = "llama") -> Path:
    state, config = synthetic_state(family, layers=1, hidden=8, heads=2)
    return write_checkpoint(folder, state, config)


def _corrupt(path: Path) -> Path:
    """A safetensors file whose header length points past its end."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((1 << 40).to_bytes(8, "little") + b"{}")
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(argv)
    return status, capsys.readouterr().err


# ---------------------------------------------------------------------- item 2: files lost
def test_a_scan_refuses_a_folder_holding_files_it_did_not_write(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    # issue 20 item 2: `scan ck --out d` replaced d/report.md and deleted d/trajectory.png, exit 0
    ckpt = _checkpoint(tmp_path / "ck")
    out = tmp_path / "d"
    out.mkdir()
    (out / "report.md").write_text("mine\n")
    (out / "trajectory.png").write_text("x\n")
    status, err = _run(["scan", str(ckpt), "--out", str(out), *FAST], capsys)
    assert status == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"weibull-stats scan: error: {out}: holds files no scan wrote there "
                          "(report.md, trajectory.png)")
    assert "--out" in err and str(ckpt) not in err  # names the output folder and the flag, not the input
    assert (out / "report.md").read_text() == "mine\n" and (out / "trajectory.png").read_text() == "x\n"
    assert sorted(p.name for p in out.iterdir()) == ["report.md", "trajectory.png"]  # no lock, no manifest


def test_the_folder_is_checked_before_the_validation_gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    gate = importlib.import_module("weibull_stats.validation.gate")

    def no_gate(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the gate ran before the folder was checked")

    monkeypatch.setattr(gate, "ensure_validated", no_gate)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("mine")
    with pytest.raises(OutputFolderError, match=r"d: holds files no scan wrote there \(notes\.txt\)"):
        scan(str(_checkpoint(tmp_path / "ck")), out=tmp_path / "d")
    with pytest.raises(ValueError, match=r"notes\.txt: not a folder; `out` is the folder"):
        scan(str(_checkpoint(tmp_path / "ck")), out=tmp_path / "d" / "notes.txt")


def test_a_rescan_removes_exactly_the_files_its_manifest_lists(tmp_path: Path) -> None:
    ckpt = str(_checkpoint(tmp_path / "ck"))
    out = tmp_path / "out"
    scan(ckpt, out=out, estimators=["probability_plot", "mle"], skip_validation=True)
    manifest = json.loads((out / "manifest.json").read_text())["files"]
    assert sorted(p.name for p in out.iterdir()) == manifest  # every file listed, nothing else there
    assert "shape_by_layer_mle.png" in manifest  # the second estimator's plots too
    (out / ".keep").write_text("hidden files are not looked at")
    scan(ckpt, out=out, skip_validation=True)  # one estimator now: the `_mle` plots go
    assert not (out / "shape_by_layer_mle.png").exists()
    assert (out / ".keep").read_text() == "hidden files are not looked at"
    assert sorted(p.name for p in out.iterdir() if p.name != ".keep") == json.loads(
        (out / "manifest.json").read_text())["files"]
    (out / "notes.md").write_text("mine")  # written after the scan: not in its manifest
    with pytest.raises(OutputFolderError, match=r"holds files no scan wrote there \(notes\.md\)"):
        scan(ckpt, out=out, skip_validation=True)
    assert (out / "results.csv").exists() and (out / "notes.md").read_text() == "mine"


@pytest.mark.parametrize("content", ['{"files": ["../outside.txt"]}', '{"files": "report.md"}', "[", '["x"]'])
def test_a_corrupt_manifest_removes_nothing(tmp_path: Path, content: str) -> None:
    ckpt = str(_checkpoint(tmp_path / "ck"))
    out = tmp_path / "out"
    scan_only(ckpt, out=out)
    (tmp_path / "outside.txt").write_text("mine")
    (out / "manifest.json").write_text(content)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(OutputFolderError, match=r"manifest\.json: (corrupt|unreadable) manifest"):
        scan_only(ckpt, out=out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert (tmp_path / "outside.txt").read_text() == "mine"


def test_a_file_of_the_lock_name_that_is_not_a_lock_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "scan.lock").write_text("my notes on the lock\n")
    with pytest.raises(OutputFolderError, match=r"scan\.lock: not a lock file of weibull-stats"):
        scan_only(str(_checkpoint(tmp_path / "ck")), out=out)
    assert (out / "scan.lock").read_text() == "my notes on the lock\n"


# ---------------------------------------------------------------------- item 3: one bad checkpoint
def test_one_bad_checkpoint_among_several_is_a_row_of_errors_csv(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # issue 20 item 3: `scan good/ bad.safetensors` stopped at bad.safetensors: exit 1, no results.csv
    good = _checkpoint(tmp_path / "good")
    bad = _corrupt(tmp_path / "bad.safetensors")
    missing = tmp_path / "missing"
    out = tmp_path / "d"
    status, err = _run(["scan", str(good), str(bad), str(missing), "--out", str(out), *FAST], capsys)
    assert status == 1
    assert f"2 failures recorded in {out / 'errors.csv'}" in err
    errors = pd.read_csv(out / "errors.csv", keep_default_na=False)
    assert errors["checkpoint"].tolist() == [str(bad), str(missing)]
    assert "corrupt" in errors["error"].iloc[0] and str(bad) in errors["error"].iloc[0]
    assert errors["error"].iloc[1] == f"{missing}: no such file or folder"
    results = pd.read_csv(out / "results.csv")
    assert set(results["checkpoint"]) == {str(good)} and len(results) == len(scan_only(str(good))[0])
    assert (out / "report.md").exists()


def test_a_trajectory_with_a_corrupt_step_scans_the_other_steps(tmp_path: Path) -> None:
    run = tmp_path / "run"
    for step in (100, 200, 300):
        _checkpoint(run / f"step-{step}")
    _corrupt(run / "step-200" / "model.safetensors")
    (run / "step-400").mkdir()  # a step whose weights never arrived
    with pytest.warns(UserWarning, match="2 failures during the scan"):
        frame = scan(str(run), skip_validation=True)
    assert sorted(set(frame["step"].astype(int))) == [100, 300]
    failed = {error["step"]: error["error"] for error in frame.attrs["errors"]}
    assert set(failed) == {200, 400}
    assert "step-200/model.safetensors: corrupt" in failed[200]
    assert "step-400: no weight file found" in failed[400]
    assert not any("nothing to fit" in message for message in failed.values())  # one row per failure


def test_when_every_source_fails_the_first_failure_is_raised(tmp_path: Path) -> None:
    bad = _corrupt(tmp_path / "bad.safetensors")
    with pytest.raises(FileNotFoundError, match=r"missing: no such file or folder"):
        scan_only([str(tmp_path / "missing"), str(bad)], out=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(ValueError, match=r"bad\.safetensors: corrupt"):
        open_sources([str(bad)], errors="record")
    [unopened, opened] = open_sources([str(bad), str(_checkpoint(tmp_path / "ck"))], errors="record")
    assert unopened.entries == () and unopened.file_errors[0][0] == str(bad) and opened.entries
    with pytest.raises(ValueError, match=r"bad\.safetensors: corrupt"):  # the default still raises
        open_sources([str(bad), str(tmp_path / "ck")])


# ---------------------------------------------------------------------- item 7: the folder's messages
def test_resume_into_a_folder_without_a_journal_says_so(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    # issue 20 item 7: --resume into a folder with no journal silently started a fresh scan
    ckpt = _checkpoint(tmp_path / "ck")
    out = tmp_path / "new"
    status, err = _run(["scan", str(ckpt), "--out", str(out), "--resume", *FAST], capsys)
    assert status == 1
    assert err == (f"weibull-stats scan: error: {out / 'journal.jsonl'}: no such file, so no scan to "
                   "continue with `--resume`: give the `--out` of an earlier scan, or scan afresh without "
                   "`--resume`\n")
    assert not out.exists()
    out.mkdir()
    with pytest.raises(OutputFolderError, match=r"journal\.jsonl: no such file, so no scan to continue with "
                                                r"`resume`"):
        scan_only(str(ckpt), out=out, resume=True)
    assert list(out.iterdir()) == []


def test_a_scan_of_a_missing_path_leaves_no_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                   ) -> None:
    # issue 20 item 7: the scan left a folder holding only scan.lock
    out = tmp_path / "a" / "b"
    status, err = _run(["scan", str(tmp_path / "nope"), "--out", str(out), *FAST], capsys)
    assert status == 1 and err == f"weibull-stats scan: error: {tmp_path / 'nope'}: no such file or folder\n"
    assert not (tmp_path / "a").exists()
    (tmp_path / "empty").mkdir()
    assert main(["scan", str(tmp_path / "nope"), "--out", str(tmp_path / "empty"), *FAST]) == 1
    assert list((tmp_path / "empty").iterdir()) == []  # the folder given stays, empty


def test_no_scan_leaves_its_lock_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 20 item 7: every scan left its scan.lock
    ckpt = str(_checkpoint(tmp_path / "ck"))
    scan(ckpt, out=tmp_path / "done", skip_validation=True)
    assert (tmp_path / "done" / "results.csv").exists() and not (tmp_path / "done" / "scan.lock").exists()
    run_module = importlib.import_module("weibull_stats.scanning.run")

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "fit_tensor", failing)
    with pytest.raises(KeyboardInterrupt):
        scan(ckpt, out=tmp_path / "stopped", skip_validation=True)
    assert not (tmp_path / "stopped" / "scan.lock").exists()
    assert (tmp_path / "stopped" / "journal.jsonl").exists()


def test_a_lock_file_removed_by_its_last_holder_is_locked_anew(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # the lock file is now removed when a scan ends: a process that opened it just before must not
    # hold a lock on the removed file while a third process locks the new one
    folder_module = importlib.import_module("weibull_stats.scanning.folder")
    acquire = folder_module._acquire
    out = tmp_path / "out"
    calls = []

    def removed_meanwhile(descriptor: int, folder: Path, lock: Path) -> None:
        acquire(descriptor, folder, lock)
        calls.append(lock)
        if len(calls) == 1:  # as the holder before would: remove the file this process just locked
            os.unlink(lock)

    monkeypatch.setattr(folder_module, "_acquire", removed_meanwhile)
    with output_lock(out):
        assert len(calls) == 2  # the first descriptor named a removed file: locked again
        other = os.open(out / "scan.lock", os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):  # the file at the lock's name is the one held
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(other)
    assert not (out / "scan.lock").exists()


def test_a_full_disk_names_the_output_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    # issue 20 item 7: "No space left on device (ck)" blamed the checkpoint
    ckpt = _checkpoint(tmp_path / "ck")

    def full_disk(self: pd.DataFrame, path: Any, *args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full_disk)
    out = tmp_path / "d"
    status, err = _run(["scan", str(ckpt), "--out", str(out), *FAST], capsys)
    assert status == 1
    assert err == f"weibull-stats scan: error: No space left on device ({out / 'results.parquet'})\n"


def test_a_broken_pipe_names_stdout(tmp_path: Path) -> None:
    # issue 20 item 7: a closed stdout was reported as "Broken pipe (ck)"
    ckpt = _checkpoint(tmp_path / "ck")
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run([sys.executable, "-m", "weibull_stats", "scan", str(ckpt), "--out",
                               str(tmp_path / "d"), *FAST], stdout=writer, stderr=subprocess.PIPE, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300, check=False)
    finally:
        os.close(writer)
    assert done.returncode == 1
    assert done.stderr.decode() == "weibull-stats scan: error: Broken pipe (<stdout>)\n"
    assert (tmp_path / "d" / "results.csv").exists() and not (tmp_path / "d" / "scan.lock").exists()


# ---------------------------------------------------------------------- item 8: recorded, not silent
def test_other_weight_files_and_3d_tensors_are_skipped_with_their_reasons(tmp_path: Path) -> None:
    # issue 20 item 8: a .bin beside the .safetensors was ignored without a word; the report
    # called 3-D tensors "non-floating or 1-D"
    folder = tmp_path / "ck"
    folder.mkdir()
    rng = np.random.default_rng(0)
    write_safetensors(folder / "model.safetensors", {
        "model.layers.0.mlp.down_proj.weight": rng.normal(0, 0.02, (16, 8)).astype(np.float32),
        "model.layers.0.conv.weight": rng.normal(0, 0.02, (4, 3, 2)).astype(np.float32),
        "model.norm.weight": np.ones(8, np.float32),
    })
    (folder / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (folder / "pytorch_model.bin").write_bytes(b"not read")
    (folder / "tf_model.h5").write_bytes(b"not read")
    out = tmp_path / "out"
    scan(str(folder), out=out, skip_validation=True)
    skipped = pd.read_csv(out / "skipped.csv", keep_default_na=False)
    reasons = dict(zip(skipped["tensor"], skipped["reason"], strict=True))
    for name in ("pytorch_model.bin", "tf_model.h5"):
        assert reasons[str(folder / name)] == ("weight file not read: the checkpoint's weights are read from "
                                               "model.safetensors")
    assert reasons["model.layers.0.conv.weight"] == "3-D tensor (not a matrix)"
    assert json.loads((out / "run.json").read_text())["skipped"] == 4
    report = (out / "report.md").read_text()
    assert "non-floating or 1-D" not in report
    assert ("- Skipped: 2 × weight file not read: the checkpoint's weights are read from model.safetensors; "
            "1 × 1-D tensor (bias, norm or buffer); 1 × 3-D tensor (not a matrix)\n") in report
