"""Scans on a Dask distributed cluster: one task per tensor, read by a worker, journalled by the client.

:func:`weibull_stats.scan` with ``client=`` (``weibull-stats scan --scheduler ADDRESS`` or
``--cluster local:N``) hands each :class:`~weibull_stats.scanning.plan.TensorTask` to a Dask
worker instead of a local process:

* **A task is one tensor** (its fused parts are fitted in the same task, from one read). Its
  Dask key names it: ``("weibull_stats_fit-<run>", checkpoint, file, tensor)``, where ``<run>``
  is 8 hex digits drawn per scan, so two scans on one cluster never share a key.
* **No tensor travels through the scheduler.** The task carries the checkpoint's absolute
  path and the tensor's name; the worker opens the checkpoint and reads that one tensor from
  the filesystem it shares with the client (a local disk for a ``LocalCluster``, a shared or
  network filesystem for a real cluster). What comes back is the task's result rows and
  failures, a few hundred bytes per row.
* **The client journals** every result as it arrives, exactly as a local scan does, and the
  tables it writes at the end are byte-identical to those of ``jobs=1`` with the same seed:
  each (tensor, part) has its own seed keyed by its name (:func:`~weibull_stats.scanning.plan.tensor_seed`),
  and the table is sorted in file order, so neither the worker count nor the order in which
  results arrive can show in the output.
* **Faults.** A worker that dies in the middle of a task (killed, out of memory) is replaced
  and the task rerun elsewhere by Dask; the client receives each task's result once, so no
  row is lost or journalled twice. A task that still fails (Dask gives up after
  ``distributed.scheduler.allowed-failures`` worker deaths, 3 by default, raising
  ``KilledWorker``; a worker that cannot import weibull-stats; any other exception escaping
  the task) becomes a row of ``errors.csv`` naming the tensor, and the scan goes on with the
  rest, then warns and (on the command line) exits non-zero. A killed client loses only the
  tasks in flight: ``--resume`` continues from the journal on any cluster, or locally.
* **One package version.** The task carries the client's weibull-stats version; a worker
  running another version fits nothing and returns a failure saying so, so a table never mixes
  rows of two versions.
* **In-memory sources** (a ``torch.nn.Module``, a state dict) live in the client's memory,
  which no worker can read: a scan of them with ``client`` is refused with a
  :class:`ValueError` (save them as safetensors first). Sending their tensors through the
  scheduler would break the rule that tensors stay where they are read.

The distributed engine is the optional ``[distributed]`` extra (``dask`` and ``distributed``);
it is imported only when a cluster scan starts.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import secrets
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from weibull_stats._version import __version__
from weibull_stats.checkpoints import Checkpoint
from weibull_stats.checkpoints.sources import MemoryCheckpoint
from weibull_stats.scanning.plan import TensorTask, error_record
from weibull_stats.scanning.settings import ScanSettings

#: The prefix of every task key (Dask groups tasks and learns their durations by it).
KEY_PREFIX = "weibull_stats_fit"
#: The module a worker imports to run a task (warmed up before the first one arrives).
WORKER_MODULE = "weibull_stats.scanning.run"
#: Dask configuration of the workers of ``--cluster local:N``: Dask starts each worker process
#: with ``MALLOC_TRIM_THRESHOLD_=65536``, which also fixes glibc's mmap threshold at 128 KiB, so
#: every array the bootstrap and the goodness-of-fit test allocate per block is a fresh,
#: page-faulted mapping; the scan with intervals ran 1.6x slower per task that way
#: (``benchmarks/distributed.py``). ``None`` unsets the variable (Dask's documented override);
#: the other variables (one BLAS thread per worker) stay. docs/cluster.md gives the same
#: setting for the workers of an existing cluster.
ALLOCATOR_ENV = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
#: ``--cluster`` values: ``local:N``, a ``LocalCluster`` of N single-threaded worker processes.
LOCAL_CLUSTER = re.compile(r"^local:([0-9]+)$")

Result = tuple[list[dict[str, Any]], list[dict[str, Any]]]
FitTensor = Callable[..., Result]


def distributed_module() -> Any:
    """``dask.distributed``, or an :class:`ImportError` naming the extra that installs it."""
    try:
        return importlib.import_module("distributed")
    except ImportError as exc:
        raise ImportError("a scan on a Dask cluster needs the `distributed` extra: "
                          "pip install 'weibull-stats[distributed]'") from exc


def local_workers(spec: str) -> int:
    """The worker count N of a ``--cluster local:N`` specification.

    Examples
    --------
    >>> local_workers("local:4")
    4
    """
    match = LOCAL_CLUSTER.match(spec.strip())
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"`cluster` must be local:N with N >= 1 worker processes (for example "
                         f"local:4); got {spec!r}. For an existing cluster give its scheduler address")
    return int(match.group(1))


@contextlib.contextmanager
def cluster_client(*, scheduler: str | None = None, cluster: str | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` for a scan: of an existing scheduler, or of a local cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); the cluster is left running.
    cluster : str, optional
        ``local:N``: a ``LocalCluster`` of N worker processes, one thread each (as
        ``jobs=N``), started here and closed when the block ends.

    Exactly one of the two is given.

    Examples
    --------
    >>> with cluster_client(cluster="local:2") as client:  # doctest: +SKIP
    ...     table = ws.scan("path/to/model", client=client)
    """
    if (scheduler is None) == (cluster is None):
        raise ValueError("give one of `scheduler` (an address) and `cluster` (local:N), not "
                         + ("both" if scheduler is not None else "neither"))
    distributed = distributed_module()
    if scheduler is not None:
        with distributed.Client(scheduler) as client:
            yield client
        return
    assert cluster is not None
    workers = local_workers(cluster)
    # each worker imports the scan as it starts (not at its first task), while the client plans;
    # its environment is Dask's but for the allocator setting that slows the scan (ALLOCATOR_ENV)
    with (importlib.import_module("dask").config.set(ALLOCATOR_ENV),
          distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, preload=[WORKER_MODULE]) as local,
          distributed.Client(local) as client):
        yield client


def run_task(task: TensorTask, fit: FitTensor, settings: ScanSettings, validated: bool, version: str
             ) -> Result:
    """What a worker runs: ``fit(task, settings, validated, 1)``, once its package version is checked.

    A worker whose weibull-stats is not ``version`` (the client's) fits nothing and returns
    one failure saying so.
    """
    if version != __version__:
        where = f"{socket.gethostname()} pid {os.getpid()}"
        return [], [error_record(task.checkpoint, task.step, task.tensor, "", "",
                                 f"{task.tensor}: Dask worker on {where} runs weibull-stats {__version__}, "
                                 f"the client {version}; install one version everywhere and --resume")]
    return fit(task, settings, validated, 1)


def check_cluster_sources(checkpoints: Sequence[Checkpoint], jobs: int) -> None:
    """Refuse what a cluster scan cannot do: in-memory sources, or ``jobs`` beside ``client``."""
    memory = [c.label for c in checkpoints if isinstance(c, MemoryCheckpoint)]
    if memory:
        raise ValueError(f"`client`: in-memory sources ({', '.join(memory)}) live in this process, where "
                         "no Dask worker can read them; save them as safetensors on a filesystem the "
                         "workers share, or scan them without `client`")
    if jobs != 1:
        raise ValueError(f"`jobs` = {jobs} and `client` given: the cluster's workers do the work; "
                         "give one or the other")


@dataclass(frozen=True)
class ClusterRun:
    """The tasks of one scan, run on the Dask cluster behind ``client``.

    ``files`` maps (checkpoint label, tensor) to the name of the file holding the tensor,
    for the task keys; ``run`` tells this scan's keys from any other's.
    """

    client: Any
    files: Mapping[tuple[str, str], str]
    run: str

    @classmethod
    def start(cls, client: Any, checkpoints: Sequence[Checkpoint], jobs: int = 1) -> ClusterRun:
        """Check the sources (:func:`check_cluster_sources`) and name this scan's tasks."""
        if not callable(getattr(client, "submit", None)) or not callable(getattr(client, "map", None)):
            raise TypeError(f"`client` must be a dask.distributed.Client; got {type(client).__name__}")
        check_cluster_sources(checkpoints, jobs)
        files = {(c.label, e.name): Path(e.file).name for c in checkpoints for e in c.entries}
        return cls(client, files, secrets.token_hex(4))

    def key(self, task: TensorTask) -> tuple[str, str, str, str]:
        """The Dask key of ``task``: ``(prefix-run, checkpoint, file, tensor)``."""
        file = self.files.get((task.checkpoint, task.tensor), Path(task.path).name)
        return (f"{KEY_PREFIX}-{self.run}", task.checkpoint, file, task.tensor)

    def results(self, fit: FitTensor, tasks: Sequence[TensorTask], settings: ScanSettings, validated: bool
                ) -> Iterator[tuple[TensorTask, Result]]:
        """Submit every task, then yield ``(task, (rows, failures))`` as results arrive.

        Tasks are submitted in scan order (Dask runs earlier submissions first). A task whose
        result is an exception gives one failure naming the tensor and the exception. Tasks
        not yet finished when the caller stops (an interrupt, an error) are cancelled.
        """
        distributed = distributed_module()
        # workers may run in another folder: every path absolute, as the client sees it
        shipped = [replace(t, path=os.path.abspath(t.path)) for t in tasks]
        futures = self.client.map(run_task, shipped, fit=fit, settings=settings, validated=validated,
                                  version=__version__,
                                  key=[self.key(t) for t in shipped], pure=False)
        waiting = dict(zip(futures, tasks, strict=True))
        try:
            for future in distributed.as_completed(futures):
                task = waiting.pop(future)
                try:
                    result = future.result()
                except Exception as exc:  # KilledWorker, a worker without weibull-stats, ...
                    message = (f"{task.tensor}: the task failed on the Dask cluster "
                               f"({type(exc).__name__}: {exc})")
                    result = ([], [error_record(task.checkpoint, task.step, task.tensor, "", "", message)])
                future.release()
                yield task, result
        finally:
            if waiting:
                self.client.cancel(list(waiting))


__all__ = ["ALLOCATOR_ENV", "KEY_PREFIX", "LOCAL_CLUSTER", "ClusterRun", "check_cluster_sources",
           "cluster_client", "distributed_module", "local_workers", "run_task"]
