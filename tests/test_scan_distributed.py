"""Scans on a Dask ``LocalCluster`` of two worker processes (issue 13, item 1).

One cluster serves the module (started once, a few seconds); the killed-client test starts its
own in a subprocess through ``weibull-stats scan --cluster local:2`` and resumes on this one
through ``--scheduler``. Each test compares the output bytes with a local ``jobs=1`` scan.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest
from distributed import Client, LocalCluster, get_task_stream

from weibull_stats._version import __version__
from weibull_stats.checkpoints import open_checkpoint
from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
from weibull_stats.cli import main
from weibull_stats.scanning.distributed import (
    KEY_PREFIX,
    check_cluster_sources,
    cluster_client,
    local_workers,
    run_task,
)
from weibull_stats.scanning.plan import TensorTask
from weibull_stats.scanning.run import ScanWarning
from weibull_stats.scanning.run import scan as scan_only
from weibull_stats.scanning.settings import check_settings
from weibull_stats.workflow import scan

scan_module = importlib.import_module("weibull_stats.scanning.run")
ROOT = Path(__file__).resolve().parents[1]
TABLES = ("results.csv", "results.parquet", "errors.csv", "skipped.csv")


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEIBULL_STATS_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with (LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
          Client(cluster) as dask_client):
        yield dask_client


def _checkpoint(folder: Path, family: str = "gpt2", rng: int = 0, **kwargs: Any) -> Path:
    state, config = synthetic_state(family, layers=2, hidden=16, heads=2, rng=rng)
    return write_checkpoint(folder, state, config, **kwargs)


def _tables(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in TABLES}


def _journal_rows(out: Path) -> list[tuple[str, str, str, str]]:
    lines = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    return [tuple(r["row"][k] for k in ("checkpoint", "tensor", "part", "estimator"))
            for r in lines if r["type"] == "row"]


def test_cluster_trajectory_scan_gives_the_bytes_of_a_local_scan(tmp_path: Path, client: Client) -> None:
    # a trajectory of two sharded GPT-2 checkpoints (fused c_attn split into q, k, v), with
    # intervals and goodness of fit: every row has its own seeded streams
    run = tmp_path / "run"
    for step, rng in ((0, 0), (10, 1)):
        _checkpoint(run / f"step-{step}", rng=rng, shards=2)
    settings = {"estimators": ["probability_plot", "mle"], "bootstrap": 39, "gof": True, "gof_samples": 9,
                "seed": 3}
    reference, _ = scan_only(str(run), out=tmp_path / "reference", **settings)
    with get_task_stream(client) as stream:
        frame = scan(str(run), out=tmp_path / "cluster", client=client, skip_validation=True, report=False,
                     **settings)
    assert _tables(tmp_path / "cluster") == _tables(tmp_path / "reference")
    assert len(frame) == len(reference) > 0
    rows = _journal_rows(tmp_path / "cluster")
    assert len(rows) == len(set(rows)) == len(frame)  # journalled by the client, each row once
    # one task per (checkpoint, tensor), its key naming checkpoint, shard file and tensor
    labels = list(dict.fromkeys(frame["checkpoint"]))  # in step order
    expected = set()
    for step, label in zip((0, 10), labels, strict=True):
        ckpt = open_checkpoint(run / f"step-{step}", label=label)
        expected |= {(label, e.file.name, e.name) for e in ckpt.entries if len(e.shape) == 2}
    keys = [record["key"] for record in stream.data]
    assert len(keys) == len(expected) and {key[1:] for key in keys} == expected
    assert {key[0] for key in keys} == {keys[0][0]} and keys[0][0].startswith(f"{KEY_PREFIX}-")
    assert len({name for _, name, _ in expected}) == 2  # both shards named
    assert len({record["worker"] for record in stream.data}) == 2  # spread over both workers


def test_a_worker_killed_mid_task_is_retried_and_nothing_is_lost_or_duplicated(
        tmp_path: Path, client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _checkpoint(tmp_path / "ckpt", "llama")
    scan_only(str(folder), out=tmp_path / "reference", bootstrap=39, seed=5)
    marker = tmp_path / "killed"
    original = scan_module.fit_tensor

    def killing_once(task: TensorTask, *args: Any) -> Any:
        # runs on a worker: the first time it meets tensor 3 it SIGKILLs its own process
        if task.order == 3 and not marker.exists():
            marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return original(task, *args)

    monkeypatch.setattr(scan_module, "fit_tensor", killing_once)
    before = set(client.run(os.getpid).values())
    frame, _ = scan_only(str(folder), out=tmp_path / "cluster", bootstrap=39, seed=5, client=client)
    killed = int(marker.read_text())
    assert killed in before and not psutil.pid_exists(killed)
    assert frame.attrs["errors"] == []
    assert _tables(tmp_path / "cluster") == _tables(tmp_path / "reference")
    rows = _journal_rows(tmp_path / "cluster")
    assert len(rows) == len(set(rows)) == len(frame)
    client.wait_for_workers(2, timeout=120)  # the nanny restarted it, for the next test


def test_a_failing_tensor_is_recorded_and_the_rest_go_on(tmp_path: Path, client: Client,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    state, config = synthetic_state("llama", layers=2, hidden=16, heads=2)
    state["model.layers.1.mlp.up_proj.weight"][2, 3] = np.nan  # a fit that fails on the worker
    folder = write_checkpoint(tmp_path / "ckpt", state, config)
    with pytest.warns(ScanWarning, match="1 failures"):
        local, _ = scan_only(str(folder), out=tmp_path / "reference")
    with pytest.warns(ScanWarning, match="1 failures"):
        frame, _ = scan_only(str(folder), out=tmp_path / "cluster", client=client)
    assert _tables(tmp_path / "cluster") == _tables(tmp_path / "reference")
    assert "NaN" in frame.attrs["errors"][0]["error"] and len(frame) == len(local) == 15

    # an exception escaping the task (as KilledWorker does after repeated deaths) is a failure too
    original = scan_module.fit_tensor
    broken = "model.layers.0.self_attn.k_proj.weight"

    def failing(task: TensorTask, *args: Any) -> Any:
        if task.tensor == broken:
            raise MemoryError("no room for this tensor")
        return original(task, *args)

    monkeypatch.setattr(scan_module, "fit_tensor", failing)
    with pytest.warns(ScanWarning, match="2 failures"):
        frame, _ = scan_only(str(folder), out=tmp_path / "escaped", client=client)
    assert len(frame) == 14 and broken not in set(frame["tensor"])
    messages = {e["tensor"]: e["error"] for e in frame.attrs["errors"]}
    assert messages[broken] == (f"{broken}: the task failed on the Dask cluster "
                                "(MemoryError: no room for this tensor)")
    assert broken in (tmp_path / "escaped" / "errors.csv").read_text()


_KILLED_CLIENT = """
import sys, time
from weibull_stats.scanning import run as scanning
from weibull_stats.cli import main
original = scanning.fit_tensor
def slow(*args, **kwargs):
    time.sleep(0.2)
    return original(*args, **kwargs)
scanning.fit_tensor = slow
sys.exit(main(["scan", sys.argv[1], "--out", sys.argv[2], "--seed", "3", "--bootstrap", "39",
               "--skip-validation", "--no-progress", "--cluster", "local:2"]))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_killed_client_resumes_on_another_cluster_to_the_same_bytes(tmp_path: Path, client: Client) -> None:
    folder = _checkpoint(tmp_path / "ckpt")
    scan_only(str(folder), out=tmp_path / "reference", seed=3, bootstrap=39)
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-c", _KILLED_CLIENT, str(folder), str(out)], cwd=ROOT,
                               stderr=subprocess.PIPE, start_new_session=True)
    workers: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 120
        while not ((out / "journal.jsonl").is_file()
                   and (out / "journal.jsonl").read_bytes().count(b"\n") >= 4):
            assert process.poll() is None, process.stderr.read() if process.stderr else b""
            assert time.monotonic() < deadline, "the cluster scan never journalled 3 rows"
            time.sleep(0.05)
        workers = psutil.Process(process.pid).children(recursive=True)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        # its LocalCluster's worker processes do not outlive it
        _, alive = psutil.wait_procs(workers, timeout=30)
        assert not alive
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for worker in workers:
            if worker.is_running():
                worker.kill()
    assert process.returncode == -signal.SIGKILL and not (out / "results.csv").exists()
    done = len(_journal_rows(out))
    code = main(["scan", str(folder), "--out", str(out), "--seed", "3", "--bootstrap", "39",
                 "--skip-validation", "--no-progress", "--resume", "--scheduler", client.scheduler.address])
    assert code == 0
    assert _tables(out) == _tables(tmp_path / "reference")
    rows = _journal_rows(out)
    assert len(rows) == len(set(rows)) and done >= 3
    assert json.loads((out / "run.json").read_text())["resumed_rows"] == done


# ---------------------------------------------------------------------- what a cluster scan refuses
def test_in_memory_sources_and_jobs_beside_a_client_are_refused(tmp_path: Path, client: Client) -> None:
    state, _ = synthetic_state("llama", layers=1, hidden=16, heads=2)
    with pytest.raises(ValueError, match=r"`client`: in-memory sources \(state_dict\) live in this process, "
                                         r"where no Dask worker can read them; save them as safetensors"):
        scan_only(state, client=client)
    folder = _checkpoint(tmp_path / "ckpt")
    with pytest.raises(ValueError, match=r"`jobs` = 2 and `client` given"):
        scan_only(str(folder), client=client, jobs=2)
    with pytest.raises(TypeError, match=r"`client` must be a dask.distributed.Client; got str"):
        scan_only(str(folder), client="tcp://127.0.0.1:8786")
    check_cluster_sources([open_checkpoint(folder)], 1)  # files are fine


def test_cluster_flags_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert local_workers("local:3") == 3
    for bad in ("local:0", "local", "slurm:4", "local:two"):
        with pytest.raises(ValueError, match=r"`cluster` must be local:N with N >= 1"):
            local_workers(bad)
    folder = str(_checkpoint(tmp_path / "ckpt"))
    assert main(["scan", folder, "--out", str(tmp_path / "o"), "--cluster", "local:0"]) == 1
    assert "--cluster local:0: `cluster` must be local:N" in capsys.readouterr().err
    assert main(["scan", folder, "--out", str(tmp_path / "o"), "--cluster", "local:2", "--jobs", "2"]) == 1
    assert "--jobs 2 with --cluster" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["scan", folder, "--scheduler", "tcp://127.0.0.1:1", "--cluster", "local:2"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_worker_of_another_version_fits_nothing(tmp_path: Path) -> None:
    folder = _checkpoint(tmp_path / "ckpt")
    settings = check_settings(paths=[str(folder)])
    task = TensorTask(0, "ckpt", str(folder), None, "h.0.mlp.c_fc.weight", "gpt2", {})

    def never(*args: Any) -> Any:
        raise AssertionError("fitted by a worker of another version")

    rows, errors = run_task(task, never, settings, True, "0.0.1")
    assert rows == [] and len(errors) == 1
    assert "runs weibull-stats" in errors[0]["error"] and "the client 0.0.1" in errors[0]["error"]
    rows, errors = run_task(task, scan_module.fit_tensor, settings, True, __version__)
    assert len(rows) == 1 and errors == []


def _allocator_environment() -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS")}


def test_the_local_cluster_keeps_the_default_allocator(monkeypatch: pytest.MonkeyPatch) -> None:
    # Dask gives each worker MALLOC_TRIM_THRESHOLD_=65536 (distributed.yaml), which made every
    # per-block array a fresh mapping; `--cluster local:N` unsets it and keeps one BLAS thread.
    # (A Dask cluster started in this process writes the variable into os.environ: unset here.)
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    with cluster_client(cluster="local:1") as local:
        found = local.run(_allocator_environment)
    assert list(found.values()) == [{"MALLOC_TRIM_THRESHOLD_": None, "OMP_NUM_THREADS": "1"}]
