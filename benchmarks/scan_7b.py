"""A scan of a Llama-2-7B-shaped bf16 checkpoint against one streaming read of its shards (issue 22, item 3).

Writes, once, a seeded checkpoint of Llama-2-7B's shapes into the folder given by ``--dir``
(32 blocks, hidden 4096, intermediate 11008, vocabulary 32000, 32 heads; bf16; sharded
safetensors of at most 2 GiB each, with ``model.safetensors.index.json`` and a ``config.json``
of ``model_type: llama``: 6.74e9 weights, 13.5 GB). A folder that already holds the complete
checkpoint of the same shapes and seed (its ``benchmark.json`` says so and every shard has its
size) is reused. The weights are Gaussian, scaled per kind by a power of two: a seeded pool of
2^26 bf16 bit patterns of N(0, 1) is drawn once, each kind's pool is that pool scaled exactly
(its exponent bits shifted), and each tensor is written in 1 Mi-weight slices of its kind's pool
at seeded offsets, so writing takes about as long as the disk needs.

Then times, in one run, each in a fresh child process:

1. the streaming read: every byte of the shards summed through a memory map in 64 MB chunks,
   after one untimed pass that puts them in the page cache (the physical floor of any scan);
2. ``weibull-stats scan DIR --jobs 2`` with the default estimator, its asymptotic intervals and
   its report (``--skip-validation``: the gate is timed by ``validate``, not here);
3. the same with ``--estimator all`` (the five estimators);
4. ``weibull-stats report`` of the first scan's folder (report.md and figures), the modules
   imported before the clock starts.

Targets on 2 cores: the default scan at most 3x the streaming read, all five at most 5x; the
report at most 3 s. It skips (exit status 0, a message saying why) when ``--dir`` is not given
or its disk lacks the space. The full run writes ``benchmarks/results/scan_7b.json``; a run with
other shapes (``--layers N``, ``--quick``) writes ``scan_7b_partial.json`` or
``scan_7b_quick.json`` beside it (not the figures the docs quote).

    .venv/bin/python benchmarks/scan_7b.py --dir /data/bench-7b             # 13.5 GB, the figures
    .venv/bin/python benchmarks/scan_7b.py --dir /data/bench-7b-2 --layers 2  # a quicker check
    .venv/bin/python benchmarks/scan_7b.py --quick      # small widths, a temporary folder
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from weibull_stats._version import __version__

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]
#: Llama-2-7B (meta-llama/Llama-2-7b-hf's config.json).
LLAMA_2_7B = {"layers": 32, "hidden": 4096, "intermediate": 11008, "vocab": 32000, "heads": 32}
#: Shapes of ``--quick``: one block of small widths.
QUICK = {"layers": 1, "hidden": 512, "intermediate": 1376, "vocab": 4000, "heads": 8}
#: Scan / streaming read, issue 22.
TARGETS = {"default": 3.0, "all": 5.0}
#: Seconds of the report of the default scan, issue 22.
REPORT_TARGET = 3.0
#: Largest shard file.
SHARD_BYTES = 2 << 30
#: Weights in the pool of N(0, 1) bit patterns, and in each slice written.
POOL, SLICE = 1 << 26, 1 << 20
#: log2 of each kind's standard deviation (Llama's init is 0.02; the output projections smaller).
SIGMA_EXPONENT = {"embed": -6, "attn": -6, "o": -7, "gate": -6, "up": -6, "down": -7, "head": -6}
MARKER = "benchmark.json"

CHILD_STREAM = """
import json, sys, time
import numpy as np
from pathlib import Path
files = sorted(Path(sys.argv[1]).glob("*.safetensors"))
chunk = 8 << 20  # 64 MB of 8-byte words
def passes():
    total = np.uint64(0); count = 0
    for file in files:
        words = np.memmap(file, dtype=np.uint64, mode="r", shape=(file.stat().st_size // 8,))
        for start in range(0, words.size, chunk):
            total += words[start:start + chunk].sum(dtype=np.uint64)
        count += file.stat().st_size
        del words
    return count
passes()  # into the page cache, untimed
best = float("inf")
for _ in range(int(sys.argv[2])):
    start = time.perf_counter(); count = passes(); best = min(best, time.perf_counter() - start)
print(json.dumps({"seconds": best, "bytes": count}))
"""

CHILD_REPORT = """
import json, sys, time
import matplotlib
matplotlib.use("Agg")
from weibull_stats.report.markdown import report_from_folder
import matplotlib.pyplot, pandas, weibull_stats.plotting
start, cpu = time.perf_counter(), time.process_time()
report_from_folder(sys.argv[1])
print(json.dumps({"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu}))
"""


def tensors(shape: dict[str, int]) -> Iterator[tuple[str, tuple[int, ...], str]]:
    """(name, shape, kind of its scale) of every tensor, in the checkpoint's order."""
    hidden, ffn = shape["hidden"], shape["intermediate"]
    yield "model.embed_tokens.weight", (shape["vocab"], hidden), "embed"
    for layer in range(shape["layers"]):
        block = f"model.layers.{layer}"
        for name in ("q_proj", "k_proj", "v_proj"):
            yield f"{block}.self_attn.{name}.weight", (hidden, hidden), "attn"
        yield f"{block}.self_attn.o_proj.weight", (hidden, hidden), "o"
        yield f"{block}.mlp.gate_proj.weight", (ffn, hidden), "gate"
        yield f"{block}.mlp.up_proj.weight", (ffn, hidden), "up"
        yield f"{block}.mlp.down_proj.weight", (hidden, ffn), "down"
        yield f"{block}.input_layernorm.weight", (hidden,), "norm"
        yield f"{block}.post_attention_layernorm.weight", (hidden,), "norm"
    yield "model.norm.weight", (hidden,), "norm"
    yield "lm_head.weight", (shape["vocab"], hidden), "head"


def shards(shape: dict[str, int]) -> list[list[tuple[str, tuple[int, ...], str]]]:
    """The tensors of each shard file, in order, each shard at most :data:`SHARD_BYTES`."""
    groups: list[list[tuple[str, tuple[int, ...], str]]] = [[]]
    size = 0
    for entry in tensors(shape):
        nbytes = math.prod(entry[1]) * 2
        if groups[-1] and size + nbytes > SHARD_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(entry)
        size += nbytes
    return groups


def header_bytes(group: list[tuple[str, tuple[int, ...], str]]) -> bytes:
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, dims, _ in group:
        size = math.prod(dims) * 2
        header[name] = {"dtype": "BF16", "shape": list(dims), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw


def planned(shape: dict[str, int], seed: int) -> dict[str, Any]:
    """What the folder holds when complete: the shapes, the seed and each file's size."""
    groups = shards(shape)
    files = {f"model-{i + 1:05d}-of-{len(groups):05d}.safetensors":
             len(header_bytes(group)) + sum(math.prod(d) * 2 for _, d, _ in group)
             for i, group in enumerate(groups)}
    return {"shape": shape, "seed": seed, "files": files, "bytes": sum(files.values()),
            "weights": sum(math.prod(d) for _, d, _ in tensors(shape))}


def complete(folder: Path, plan: dict[str, Any]) -> bool:
    marker = folder / MARKER
    if not marker.is_file():
        return False
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return recorded == plan and all((folder / name).is_file() and (folder / name).stat().st_size == size
                                    for name, size in plan["files"].items())


def standard_pool(rng: np.random.Generator) -> np.ndarray:
    """:data:`POOL` bf16 bit patterns of N(0, 1) draws (rounded to nearest even), no zero among them."""
    def draws(count: int) -> np.ndarray:
        bits = rng.standard_normal(count, dtype=np.float32).view(np.uint32)
        return ((bits + ((bits >> 16) & 1) + np.uint32(0x7FFF)) >> 16).astype(np.uint16)  # nearest even

    pool = np.concatenate([draws(SLICE * 8) for _ in range(POOL // (SLICE * 8))])
    while (zero := np.flatnonzero((pool & 0x7FFF) == 0)).size:  # float32 draws of exactly 0: drawn again
        pool[zero] = draws(zero.size)
    return pool


def write_checkpoint(folder: Path, shape: dict[str, int], seed: int, plan: dict[str, Any]) -> float:
    """Write the checkpoint into ``folder``; return the seconds it took."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    standard = standard_pool(rng)
    # scaled exactly by 2^e: e added to the exponent field (no draw is near the subnormal range)
    pools = {e: (standard.astype(np.int32) + (e << 7)).astype(np.uint16)
             for e in set(SIGMA_EXPONENT.values())}
    ones = np.full(SLICE, 0x3F80, dtype=np.uint16)  # 1.0: the norms' weights
    weight_map: dict[str, str] = {}
    groups = shards(shape)
    for index, group in enumerate(groups):
        name = f"model-{index + 1:05d}-of-{len(groups):05d}.safetensors"
        with open(folder / name, "wb") as handle:
            handle.write(header_bytes(group))
            for tensor, dims, kind in group:
                weight_map[tensor] = name
                pool = ones if kind == "norm" else pools[SIGMA_EXPONENT[kind]]
                left = math.prod(dims)
                while left:
                    count = min(SLICE, left)
                    start = 0 if kind == "norm" else int(rng.integers(0, POOL - count))
                    handle.write(memoryview(pool[start:start + count]))
                    left -= count
    (folder / "model.safetensors.index.json").write_text(json.dumps(
        {"metadata": {"total_size": plan["bytes"]}, "weight_map": weight_map}, indent=1))
    (folder / "config.json").write_text(json.dumps({
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": shape["hidden"],
        "intermediate_size": shape["intermediate"], "num_hidden_layers": shape["layers"],
        "num_attention_heads": shape["heads"], "num_key_value_heads": shape["heads"],
        "vocab_size": shape["vocab"], "torch_dtype": "bfloat16"}, indent=1))
    os.sync()
    (folder / MARKER).write_text(json.dumps(plan), encoding="utf-8")  # last: the folder is complete
    return time.perf_counter() - started


def child(code: str, *args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False,
                          cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def timed_scan(folder: Path, out: Path, *flags: str) -> dict[str, Any]:
    """Wall-clock seconds of ``weibull-stats scan`` (a fresh process, Python's start included)."""
    argv = [sys.executable, "-m", "weibull_stats", "scan", str(folder), "--out", str(out), "--jobs", "2",
            "--skip-validation", "--no-progress", *flags]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    rows = sum(1 for _ in open(out / "results.csv", encoding="utf-8")) - 1
    return {"seconds": seconds, "command": "weibull-stats " + " ".join(argv[3:]).replace(str(out), "OUT"),
            "rows": rows}


def verdict(met: bool) -> str:
    return "met" if met else "**not met**"


def docs_table(record: dict[str, Any]) -> str:
    """The table docs/scanning.md quotes ("A 7B checkpoint"); tests/test_docs.py checks it against
    the committed JSON."""
    ratio, report = record["ratio"], record["report"]
    rows = [
        "| run | seconds | x streaming read |", "|:--|--:|--:|",
        f"| streaming read of the {record['checkpoint']['shards']} shards (page cache) | "
        f"{record['streaming_read']['seconds']:.2f} | 1 |",
        "| scan, default estimator, intervals and report, `--jobs 2` | "
        f"{record['scan_default']['seconds']:.1f} | "
        f"**{ratio['default_over_read']:.1f}** (target <= {ratio['targets']['default']:g}: "
        f"{verdict(ratio['met']['default'])}) |",
        f"| scan, all five estimators, `--jobs 2` | {record['scan_all']['seconds']:.1f} | "
        f"**{ratio['all_over_read']:.1f}** (target <= {ratio['targets']['all']:g}: "
        f"{verdict(ratio['met']['all'])}) |",
        f"| report of the default scan (report.md and figures) | {report['seconds']:.2f} | "
        f"(target <= {report['target_seconds']:g} s: {verdict(report['met'])}) |",
    ]
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None,
                        help="the checkpoint's folder: written once, reused while complete (13.5 GB)")
    parser.add_argument("--layers", type=int, default=None,
                        help="transformer blocks (default: 32, Llama-2-7B's; fewer for a quicker check)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=2,
                        help="timed passes of the streaming read (best kept)")
    parser.add_argument("--quick", action="store_true",
                        help="one block of small widths in a temporary folder: checks that the script works")
    args = parser.parse_args()
    shape = dict(QUICK if args.quick else LLAMA_2_7B)
    if args.layers is not None:
        shape["layers"] = args.layers
    full = shape == LLAMA_2_7B
    temporary = args.dir is None and args.quick
    if args.dir is None and not args.quick:
        sys.stdout.write("scan_7b: skipped: give --dir FOLDER, where the 13.5 GB checkpoint is written once "
                         "and reused (or --quick for a small check)\n")
        return 0
    folder = Path(tempfile.mkdtemp(prefix="scan-7b-")) if temporary else args.dir
    folder.mkdir(parents=True, exist_ok=True)
    plan = planned(shape, args.seed)
    gb = 1e9
    out_root = Path(tempfile.mkdtemp(prefix="scan-7b-out-", dir=folder.parent))
    try:
        written = None
        if not complete(folder, plan):
            needed = plan["bytes"] + (1 << 30)
            present = sum(p.stat().st_size for p in folder.glob("*.safetensors"))
            free = shutil.disk_usage(folder).free + present
            if free < needed:
                sys.stdout.write(f"scan_7b: skipped: the checkpoint needs {plan['bytes'] / gb:.1f} GB "
                                 f"(and 1 GiB to spare); {folder} has {free / gb:.1f} GB free\n")
                return 0
            for stale in folder.glob("*.safetensors"):
                stale.unlink()
            written = write_checkpoint(folder, shape, args.seed, plan)
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        out = sys.stdout
        out.write(f"checkpoint {folder}: {len(plan['files'])} shards, {plan['bytes'] / gb:.2f} GB, "
                  f"{plan['weights'] / 1e9:.2f} G weights; "
                  + (f"written in {written:.0f} s\n" if written is not None else "reused\n"))
        stream = child(CHILD_STREAM, str(folder), str(args.repeat))
        default = timed_scan(folder, out_root / "default")
        report = child(CHILD_REPORT, str(out_root / "default"))
        every = timed_scan(folder, out_root / "all", "--estimator", "all")
    finally:
        shutil.rmtree(out_root, ignore_errors=True)
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)

    ratios = {"default": default["seconds"] / stream["seconds"],
              "all": every["seconds"] / stream["seconds"]}
    met = {name: ratios[name] <= TARGETS[name] for name in TARGETS}
    out.write(f"{'pass':44s} {'seconds':>8s} {'x read':>7s}\n")
    out.write(f"{'streaming read (page cache, memory map)':44s} {stream['seconds']:8.2f} {1:7.2f}\n")
    for label, run, name in (("scan, default estimator, --jobs 2", default, "default"),
                             ("scan, --estimator all, --jobs 2", every, "all")):
        out.write(f"{label:44s} {run['seconds']:8.2f} {ratios[name]:7.2f}  "
                  f"(target <= {TARGETS[name]:g}: {'met' if met[name] else 'NOT met'})\n")
    report_met = report["seconds"] <= REPORT_TARGET
    out.write(f"{'report of the default scan':44s} {report['seconds']:8.2f}          "
              f"(target <= {REPORT_TARGET:g} s: {'met' if report_met else 'NOT met'})\n")
    record: dict[str, Any] = {
        "benchmark": "scan_7b",
        "command": "python benchmarks/scan_7b.py " + " ".join(sys.argv[1:]),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "package_version": __version__,
        "machine": {"node": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
                    "numpy": np.__version__, "memory_bytes": memory,
                    "load_average_1_5_15": list(os.getloadavg())},
        "checkpoint": {**shape, "dtype": "BF16", "shards": len(plan["files"]),
                       "bytes": plan["bytes"], "weights": plan["weights"], "seed": args.seed,
                       "write_seconds": written},
        "streaming_read": stream,
        "scan_default": default,
        "scan_all": every,
        "report": {**report, "target_seconds": REPORT_TARGET, "met": report_met},
        "ratio": {"default_over_read": round(ratios["default"], 2), "all_over_read": round(ratios["all"], 2),
                  "targets": TARGETS, "met": met},
    }
    notes = []
    if memory < plan["bytes"] * 1.2:
        notes.append("the page cache cannot hold the checkpoint: every pass reads the disk")
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    if load > cpus:
        notes.append(f"machine busy: load average {load:.1f} on {cpus} CPUs during the run")
    if notes:
        record["note"] = "; ".join(notes)
    RESULTS.mkdir(exist_ok=True)
    name = "scan_7b.json" if full else "scan_7b_quick.json" if args.quick else "scan_7b_partial.json"
    (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    out.write(f"-> {RESULTS / name}\n\nFor docs/scanning.md (A 7B checkpoint):\n\n{docs_table(record)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
