"""A scan on a two-worker Dask LocalCluster against ``--jobs 2``, and a 7B projection from its costs.

Generates the bf16 Llama-7B-shaped checkpoint slice of ``scan_memory.py`` (hidden 4096, FFN
11008, one safetensors shard per block) in a temporary folder, then, each in a fresh child
process with the modules imported before the clock starts:

1. ``jobs``: ``weibull_stats.scanning.run.scan(slice, jobs=2, out=...)``, the local baseline (its
   clock includes starting the two pool processes, as a user's run does); in the last round
   also the scan with ``bootstrap=199, gof=True`` (a second pool, its start in its clock);
2. ``cluster``: ``cluster_client(cluster="local:2")``, the ``LocalCluster`` of 2 single-threaded
   worker processes that ``scan --cluster local:2`` starts, each importing the scan as it starts
   (timed apart, ``cluster_start``), then the same scan with ``client=`` (timed, with Dask's task stream:
   every task's compute time on its worker); then 224 no-op tasks (the scheduler's per-task
   cost); then, in the last round, the scan again with ``bootstrap=199, gof=True`` (per-task
   costs with intervals), and both scans once more on a second ``LocalCluster`` whose workers
   keep Dask's own ``MALLOC_TRIM_THRESHOLD_=65536`` (``allocator``: what unsetting it saves,
   :data:`weibull_stats.scanning.distributed.ALLOCATOR_ENV`).

Each pair of scans must give byte-identical tables. The ratio of issue 13 is
``(cluster_start + cluster scan) / jobs scan``, target at most 1.3, for the default scan and
for the scan with intervals. Where the cluster's extra time goes is split into: starting the
cluster; the workers' idle time inside the scan (the scan's wall time minus the busier worker's
compute time: scheduling, the first task's imports and deserialisation on each worker, the
client's journal writes); and the compute itself.

The projection: a Llama-2-7B checkpoint holds 224 block matrices (32 blocks of 4 attention
matrices 4096x4096 and 3 FFN matrices 4096x11008) plus the 32000x4096 embedding and head,
6.74e9 weights. Each matrix's cost is its element count times the measured per-element compute
cost of its shape (the median over the slice's tasks of that shape; the embedding and head take
the FFN's) plus the measured per-task scheduler cost; the tasks are placed longest first on N
workers (the scheduler's greedy order), and the measured cluster start is added. Reading is
bounded too: the 13.5 GB of bf16 at the streaming read rate measured here (the page cache; on a
real cluster, put your shared filesystem's aggregate bandwidth in ``--read-gbps``).

    .venv/bin/python benchmarks/distributed.py                # 6 blocks (about 2.4 GB), with intervals
    .venv/bin/python benchmarks/distributed.py --quick        # 1 small block: a smoke run

Results: ``benchmarks/results/distributed.json`` (``distributed_quick.json`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from scan_memory import CHILD_STREAM, generate

import weibull_stats as ws

# this file is named like the `distributed` package: the children run from the repository root,
# where `import distributed` finds the package, not this script
ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
#: cluster / jobs=2, issue 13 item 4.
TARGET_RATIO = 1.3
TABLES = ("results.csv", "results.parquet", "errors.csv", "skipped.csv")
#: Worker counts of the projection.
WORKERS = (1, 2, 4, 8, 16, 32, 64, 128, 256)

PRELOAD = """
import time
_started = time.perf_counter()
import json, sys
import pandas, pyarrow, tqdm
import distributed
from weibull_stats.scanning.run import scan
import_seconds = time.perf_counter() - _started
"""

CHILD_JOBS = PRELOAD + """
start = time.perf_counter()
frame, _ = scan(sys.argv[1], out=sys.argv[2], jobs=2)
seconds = time.perf_counter() - start
record = {"seconds": seconds, "rows": len(frame), "errors": len(frame.attrs["errors"]),
          "import_seconds": import_seconds}
if sys.argv[3] == "1":  # a new pool, started inside the clock, as a second command would
    start = time.perf_counter()
    frame, _ = scan(sys.argv[1], out=sys.argv[2] + "-intervals", jobs=2, bootstrap=199, gof=True)
    record["intervals"] = {"seconds": time.perf_counter() - start, "errors": len(frame.attrs["errors"])}
print(json.dumps(record))
"""

CHILD_CLUSTER = PRELOAD + """
from distributed import get_task_stream
from weibull_stats.scanning.distributed import cluster_client

def trim_threshold():
    import os
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")

def tasks(stream):
    out = []
    for record in stream.data:
        actions = {}
        for part in record["startstops"]:
            actions[part["action"]] = actions.get(part["action"], 0.0) + part["stop"] - part["start"]
        out.append({"tensor": record["key"][3], "worker": record["worker"], "seconds": actions,
                    "start": min(p["start"] for p in record["startstops"]),
                    "stop": max(p["stop"] for p in record["startstops"])})
    return out

if __name__ == "__main__":
    start = time.perf_counter()
    with cluster_client(cluster="local:2") as client:  # what `scan --cluster local:2` starts
        cluster_start = time.perf_counter() - start
        start, epoch = time.perf_counter(), time.time()
        with get_task_stream(client) as stream:
            frame, _ = scan(sys.argv[1], out=sys.argv[2], client=client)
        seconds = time.perf_counter() - start
        record = {"cluster_start": cluster_start, "seconds": seconds, "epoch": [epoch, time.time()],
                  "rows": len(frame),
                  "errors": len(frame.attrs["errors"]), "import_seconds": import_seconds,
                  "tasks": tasks(stream)}
        start = time.perf_counter()
        futures = client.map(lambda i: i, range(224), pure=False)
        client.gather(futures)
        record["noop_224_seconds"] = time.perf_counter() - start
        if sys.argv[3] == "1":
            start = time.perf_counter()
            with get_task_stream(client) as stream:
                frame, _ = scan(sys.argv[1], out=sys.argv[2] + "-intervals", client=client, bootstrap=199,
                                gof=True)
            record["intervals"] = {"seconds": time.perf_counter() - start, "bootstrap": 199,
                                   "gof_samples": 99, "errors": len(frame.attrs["errors"]),
                                   "tasks": tasks(stream)}
    if sys.argv[3] == "1":  # the same two scans on workers with Dask's own environment
        with (distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None,
                                       preload=["weibull_stats.scanning.run"]) as local,
              distributed.Client(local) as client):
            trim = sorted(set(client.run(trim_threshold).values()))
            start = time.perf_counter()
            scan(sys.argv[1], out=sys.argv[2] + "-dask-env", client=client)
            seconds = time.perf_counter() - start
            start = time.perf_counter()
            scan(sys.argv[1], out=sys.argv[2] + "-dask-env-intervals", client=client, bootstrap=199, gof=True)
            record["dask_environment"] = {"MALLOC_TRIM_THRESHOLD_": trim, "seconds": seconds,
                                          "intervals_seconds": time.perf_counter() - start}
    print(json.dumps(record))
"""


def child(code: str, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False,
                          cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def llama7b_matrices() -> list[tuple[str, int]]:
    """(kind, elements) of every matrix of Llama-2-7B: 224 block matrices, embedding and head."""
    hidden, ffn, layers, vocab = 4096, 11008, 32, 32000
    block = [("attention", hidden * hidden)] * 4 + [("ffn", hidden * ffn)] * 3
    return block * layers + [("embedding", vocab * hidden)] * 2


def per_element(tasks: list[dict], shapes: dict[str, int]) -> dict[str, float]:
    """Median compute seconds per element of each kind (attention, ffn) over the slice's tasks."""
    found: dict[str, list[float]] = {"attention": [], "ffn": []}
    for task in tasks:
        kind = "ffn" if "mlp" in task["tensor"] else "attention"
        found[kind].append(task["seconds"].get("compute", 0.0) / shapes[task["tensor"]])
    return {kind: float(np.median(values)) for kind, values in found.items() if values}


def makespan(costs: list[float], workers: int) -> float:
    """Longest-first greedy placement of task costs on ``workers``: the last worker's finish time."""
    loads = [0.0] * workers
    for cost in sorted(costs, reverse=True):
        loads[loads.index(min(loads))] += cost
    return max(loads)


def project(costs: dict[str, float], task_overhead: float, cluster_start: float, read_bps: float
            ) -> list[dict[str, float]]:
    matrices = llama7b_matrices()
    durations = [n * costs["ffn" if kind in ("ffn", "embedding") else "attention"] + task_overhead
                 for kind, n in matrices]
    read_seconds = sum(n for _, n in matrices) * 2 / read_bps
    rows = []
    for n in WORKERS:
        compute = makespan(durations, n)
        rows.append({"workers": n, "compute_seconds": round(compute, 2),
                     "read_seconds": round(read_seconds, 2),
                     "total_seconds": round(cluster_start + max(compute, read_seconds), 2)})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=6, help="transformer blocks (about 0.4 GB each)")
    parser.add_argument("--hidden", type=int, default=4096)
    parser.add_argument("--ffn", type=int, default=11008)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds of (jobs, cluster), interleaved; the best of each is kept (default: 3)")
    parser.add_argument("--no-intervals", action="store_true", help="skip the bootstrap + GoF scan")
    parser.add_argument("--read-gbps", type=float, default=None,
                        help="read bandwidth for the projection, GB/s "
                        "(default: the streaming read measured here)")
    parser.add_argument("--dir", default=None, help="parent of the temporary folder (default: system temp)")
    parser.add_argument("--quick", action="store_true", help="1 block, hidden 1024, ffn 2816: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.layers, args.hidden, args.ffn = 1, 1024, 2816
    folder = Path(tempfile.mkdtemp(prefix="distributed-", dir=args.dir))
    out = sys.stdout
    try:
        size, elements, _ = generate(folder, args.layers, args.hidden, args.ffn, args.seed)
        shapes = {}
        for name in json.loads((folder / "model.safetensors.index.json").read_text())["weight_map"]:
            kind = name.split(".")[-2]
            rows, cols = (args.ffn, args.hidden) if kind in ("gate_proj", "up_proj") else (
                (args.hidden, args.ffn) if kind == "down_proj" else (args.hidden, args.hidden))
            shapes[name] = rows * cols
        out.write(f"slice: {args.layers} bf16 shards, {size / 1e9:.2f} GB, {elements / 1e9:.3f} G elements\n")
        stream = child(CHILD_STREAM, str(folder))
        rounds: list[tuple[dict, dict]] = []
        for number in range(max(1, args.repeat)):
            last = number == max(1, args.repeat) - 1  # the intervals scan once, in the last round
            with_intervals = "1" if last and not args.no_intervals else "0"
            jobs = child(CHILD_JOBS, str(folder), str(folder / "out-jobs"), with_intervals)
            cluster = child(CHILD_CLUSTER, str(folder), str(folder / "out-cluster"), with_intervals)
            rounds.append((jobs, cluster))
        intervals = rounds[-1][1].get("intervals")
        jobs_intervals = rounds[-1][0].get("intervals")
        jobs = min((r[0] for r in rounds), key=lambda r: r["seconds"])
        cluster = min((r[1] for r in rounds), key=lambda r: r["cluster_start"] + r["seconds"])
        if intervals is not None:
            cluster["intervals"] = intervals
        outputs = [("out-jobs", "out-cluster")] + (
            [("out-jobs-intervals", "out-cluster-intervals")] if intervals is not None else [])
        same = all((folder / a / t).read_bytes() == (folder / b / t).read_bytes()
                   for a, b in outputs for t in TABLES)
        total = cluster["cluster_start"] + cluster["seconds"]
        ratio = total / jobs["seconds"]
        busy: dict[str, float] = {}
        for task in cluster["tasks"]:
            busy[task["worker"]] = busy.get(task["worker"], 0.0) + sum(task["seconds"].values())
        idle = cluster["seconds"] - max(busy.values())
        begin, end = cluster["epoch"]
        before_first = min(t["start"] for t in cluster["tasks"]) - begin  # client: open, plan, fingerprint
        after_last = end - max(t["stop"] for t in cluster["tasks"])  # client: check, sort, write tables
        out.write(f"--jobs 2 scan: {jobs['seconds']:.2f} s; "
                  f"cluster: start {cluster['cluster_start']:.2f} s + "
                  f"scan {cluster['seconds']:.2f} s = {total:.2f} s; ratio {ratio:.2f} "
                  f"(target <= {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'NOT met'}); "
                  f"tables byte-identical: {same}\n")
        out.write(f"cluster scan: busier worker computing {max(busy.values()):.2f} s "
                  f"of {cluster['seconds']:.2f} s; "
                  f"client before the first task {before_first:.2f} s, after the last {after_last:.2f} s, "
                  f"the rest of the busier worker's idle time {idle - before_first - after_last:.2f} s "
                  f"(gaps between its tasks); 224 no-op tasks {cluster['noop_224_seconds']:.2f} s\n")
        costs = per_element(cluster["tasks"], shapes)
        task_overhead = cluster["noop_224_seconds"] / 224 * 2  # two workers drained them
        read_bps = args.read_gbps * 1e9 if args.read_gbps else stream["bytes"] / stream["seconds"]
        projection = project(costs, task_overhead, cluster["cluster_start"], read_bps)
        record: dict = {
            "benchmark": "distributed",
            "command": "python benchmarks/distributed.py " + " ".join(sys.argv[1:]),
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "package_version": ws.__version__,
            "machine": {"node": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
                        "numpy": np.__version__, "load_average_1_5_15": list(os.getloadavg())},
            "checkpoint": {"layers": args.layers, "hidden": args.hidden, "ffn": args.ffn, "dtype": "BF16",
                           "bytes": size, "elements": elements},
            "streaming_read": stream,
            "repeat": args.repeat,
            "rounds_seconds": [{"jobs2": round(j["seconds"], 3),
                                "cluster2_start_plus_scan": round(c["cluster_start"] + c["seconds"], 3)}
                               for j, c in rounds],
            "jobs2": jobs,
            "cluster2": {k: v for k, v in cluster.items() if k not in ("tasks", "intervals")},
            "tables_identical": same,
            "ratio": {"cluster_start_plus_scan_over_jobs2": round(ratio, 3),
                      "per_round": [round((c["cluster_start"] + c["seconds"]) / j["seconds"], 3)
                                    for j, c in rounds],
                      "scan_only_over_jobs2": round(cluster["seconds"] / jobs["seconds"], 3),
                      "target": TARGET_RATIO, "met": ratio <= TARGET_RATIO},
            "overhead": {"cluster_start_seconds": round(cluster["cluster_start"], 3),
                         "idle_in_scan_seconds": round(idle, 3),
                         "client_before_first_task_seconds": round(before_first, 3),
                         "client_after_last_task_seconds": round(after_last, 3),
                         "gaps_between_tasks_seconds": round(idle - before_first - after_last, 3),
                         "busy_worker_compute_seconds": {w: round(s, 3) for w, s in busy.items()},
                         "scheduler_seconds_per_task": round(task_overhead, 5)},
            "per_element_seconds": costs,
            "projection_7b": {"matrices": len(llama7b_matrices()),
                              "elements": sum(n for _, n in llama7b_matrices()),
                              "read_bytes_per_second": read_bps, "estimators": ["probability_plot"],
                              "rows": projection},
        }
        out.write(f"per-element compute: {costs}; 7B projection (workers: seconds): "
                  + ", ".join(f"{r['workers']}: {r['total_seconds']}" for r in projection) + "\n")
        if "intervals" in cluster:
            interval_costs = per_element(cluster["intervals"]["tasks"], shapes)
            rows = project(interval_costs, task_overhead, cluster["cluster_start"], read_bps)
            record["intervals"] = {k: v for k, v in cluster["intervals"].items() if k != "tasks"}
            assert jobs_intervals is not None
            ratio_intervals = ((cluster["cluster_start"] + cluster["intervals"]["seconds"])
                               / jobs_intervals["seconds"])
            record["intervals"]["jobs2_seconds"] = jobs_intervals["seconds"]
            record["ratio"]["with_intervals_cluster_start_plus_scan_over_jobs2"] = round(ratio_intervals, 3)
            record["ratio"]["met_with_intervals"] = ratio_intervals <= TARGET_RATIO
            dask_env = rounds[-1][1]["dask_environment"]
            record["allocator"] = {  # the same child, the same slice: Dask's environment against ours
                "dask_environment": dask_env,
                "unset": {"MALLOC_TRIM_THRESHOLD_": None, "seconds": rounds[-1][1]["seconds"],
                          "intervals_seconds": cluster["intervals"]["seconds"]},
                "slowdown": round(dask_env["seconds"] / rounds[-1][1]["seconds"], 3),
                "slowdown_with_intervals": round(dask_env["intervals_seconds"]
                                                 / cluster["intervals"]["seconds"], 3)}
            out.write(f"workers with Dask's MALLOC_TRIM_THRESHOLD_={dask_env['MALLOC_TRIM_THRESHOLD_']}: "
                      "scan "
                      f"{dask_env['seconds']:.2f} s, with intervals {dask_env['intervals_seconds']:.2f} s "
                      f"({record['allocator']['slowdown']:.2f}x and "
                      f"{record['allocator']['slowdown_with_intervals']:.2f}x the times with it unset)\n")
            record["per_element_seconds_with_intervals"] = interval_costs
            record["projection_7b_with_intervals"] = {"bootstrap": 199, "gof_samples": 99, "rows": rows}
            out.write(f"with --bootstrap 199 --gof: --jobs 2 {jobs_intervals['seconds']:.2f} s; "
                      f"cluster: start {cluster['cluster_start']:.2f} s + "
                      f"scan {cluster['intervals']['seconds']:.2f} s; "
                      f"ratio {ratio_intervals:.2f}; "
                      "7B projection: "
                      + ", ".join(f"{r['workers']}: {r['total_seconds']}" for r in rows) + "\n")
        load, cpus = os.getloadavg()[0], os.cpu_count() or 1
        if load > cpus:
            record["note"] = (f"machine busy: load average {load:.1f} on {cpus} CPUs at the end of the run; "
                              "timings are not quiet-machine numbers")
        RESULTS.mkdir(exist_ok=True)
        name = "distributed_quick.json" if args.quick else "distributed.json"
        (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        return 0 if same and jobs["errors"] == cluster["errors"] == 0 else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
