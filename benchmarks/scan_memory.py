"""Peak memory and throughput of a scan on a multi-GB sharded bfloat16 checkpoint, and its ratio.

Generates a Llama-7B-shaped checkpoint slice (hidden 4096, FFN 11008; ``--layers`` blocks, one
safetensors shard per block, bfloat16, about 0.4 GB per block) in a temporary folder, then, each
in a fresh child process so that peak RSS is its own:

1. one streaming read of the same files (sequential 64 MB reads, no parsing): the I/O floor;
2. the reader alone (:meth:`Checkpoint.read` of every tensor, kept bfloat16);
3. the in-memory fits: each tensor read (not timed), then the scan's default estimator
   fitted on the bfloat16 array in memory (``values="weights", zeros="omit"``, timed);
4. the scan (``weibull_stats.scan`` with its default estimator, every matrix, tables written).

The ratio of issue 9 is ``scan / (streaming read + in-memory fits)``, all timed in this run;
target at most 1.5 (the scan adds little to reading and counting). In the fit and scan children
the modules are imported before the clock starts (``import_seconds``, a one-time cost per
process, is reported apart). The scan's peak RSS is checked against the budget "twice the
largest tensor in float64 plus 1 GB". The folder is removed at the end; the numbers go to
``benchmarks/results/scan_memory.json`` (``scan_memory_quick.json`` with ``--quick``) with the
command that produced them.

    .venv/bin/python benchmarks/scan_memory.py              # 6 blocks, about 2.4 GB
    .venv/bin/python benchmarks/scan_memory.py --layers 2   # quicker
    .venv/bin/python benchmarks/scan_memory.py --quick      # 1 small block: a smoke run
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
from pathlib import Path

import numpy as np

import weibull_stats as ws
from weibull_stats.checkpoints.synthetic import to_bfloat16_bits

ROWS_PER_CHUNK = 512
RESULTS = Path(__file__).resolve().parent / "results"
#: scan / (streaming read + in-memory fits), issue 9.
TARGET_RATIO = 1.5

#: Imported before the clock starts in the fit and scan children (what a scan imports lazily).
PRELOAD = """
import time
_started = time.perf_counter()
import inspect, json, resource, sys
import pandas, pyarrow, tqdm
import weibull_stats
from weibull_stats.checkpoints import open_checkpoint
from weibull_stats.scanning.settings import FIT_OPTIONS
from weibull_stats.workflow import scan
import weibull_stats.report.markdown, weibull_stats.validation.gate
import_seconds = time.perf_counter() - _started
DEFAULT = inspect.signature(scan).parameters["estimators"].default
DEFAULT = (DEFAULT,) if isinstance(DEFAULT, str) else tuple(DEFAULT)
"""

CHILD_STREAM = """
import json, resource, sys, time
from pathlib import Path
files = sorted(Path(sys.argv[1]).glob("*.safetensors"))
buffer = bytearray(64 << 20)
view = memoryview(buffer)
start = time.perf_counter(); total = 0
for file in files:
    with open(file, "rb", buffering=0) as handle:
        while (n := handle.readinto(view)):
            total += n
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "bytes": total,
                  "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""

CHILD_READ = """
import json, resource, sys, time
from weibull_stats.checkpoints import open_checkpoint
start = time.perf_counter(); total = 0
ckpt = open_checkpoint(sys.argv[1])
for entry in ckpt.entries:
    total += ckpt.read(entry.name).size
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "elements": total,
                  "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""

CHILD_FITS = PRELOAD + """
ckpt = open_checkpoint(sys.argv[1])
seconds = 0.0; total = 0
for entry in ckpt.entries:
    weight = ckpt.read(entry.name)
    start = time.perf_counter()
    for name in DEFAULT:
        weibull_stats.get_estimator(name)(weight, **FIT_OPTIONS)
    seconds += time.perf_counter() - start
    total += weight.size
    del weight
print(json.dumps({"seconds": seconds, "elements": total, "estimators": list(DEFAULT),
                  "import_seconds": import_seconds,
                  "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""

CHILD_SCAN = PRELOAD + """
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
start = time.perf_counter()
frame = scan(sys.argv[1], out=sys.argv[2], skip_validation=True, report=False)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "elements": int(frame["numel"].sum()), "rows": len(frame),
                  "errors": len(frame.attrs["errors"]), "baseline_rss": baseline, "estimators": list(DEFAULT),
                  "import_seconds": import_seconds,
                  "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def block_shapes(hidden: int, ffn: int) -> dict[str, tuple[int, int]]:
    return {
        "self_attn.q_proj.weight": (hidden, hidden),
        "self_attn.k_proj.weight": (hidden, hidden),
        "self_attn.v_proj.weight": (hidden, hidden),
        "self_attn.o_proj.weight": (hidden, hidden),
        "mlp.gate_proj.weight": (ffn, hidden),
        "mlp.up_proj.weight": (ffn, hidden),
        "mlp.down_proj.weight": (hidden, ffn),
    }


def write_shard(path: Path, shapes: dict[str, tuple[int, int]], rng: np.random.Generator) -> int:
    """Stream Gaussian bf16 tensors into a safetensors file, a few rows at a time."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, shape in shapes.items():
        size = math.prod(shape) * 2
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(raw)) + raw)
        for shape in shapes.values():
            rows, cols = shape
            sigma = 1.0 / math.sqrt(cols)
            for start in range(0, rows, ROWS_PER_CHUNK):
                block = rng.normal(0.0, sigma, (min(ROWS_PER_CHUNK, rows - start), cols)).astype(np.float32)
                handle.write(to_bfloat16_bits(block).astype("<u2").tobytes())
    return 8 + len(raw) + offset


def generate(folder: Path, layers: int, hidden: int, ffn: int, seed: int) -> tuple[int, int, int]:
    """Write the sharded checkpoint; return (bytes, elements, largest tensor elements)."""
    rng = np.random.default_rng(seed)
    weight_map: dict[str, str] = {}
    total = elements = 0
    for layer in range(layers):
        shapes = {f"model.layers.{layer}.{k}": v for k, v in block_shapes(hidden, ffn).items()}
        file = f"model-{layer + 1:05d}-of-{layers:05d}.safetensors"
        total += write_shard(folder / file, shapes, rng)
        elements += sum(math.prod(s) for s in shapes.values())
        weight_map.update(dict.fromkeys(shapes, file))
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    (folder / "config.json").write_text(json.dumps({
        "model_type": "llama", "hidden_size": hidden, "intermediate_size": ffn, "num_hidden_layers": layers,
        "num_attention_heads": 32, "num_key_value_heads": 32}))
    return total, elements, ffn * hidden


def child(code: str, *args: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=6, help="transformer blocks (about 0.4 GB each)")
    parser.add_argument("--hidden", type=int, default=4096)
    parser.add_argument("--ffn", type=int, default=11008)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", default=None, help="parent of the temporary folder (default: system temp)")
    parser.add_argument("--quick", action="store_true",
                        help="a small checkpoint (1 block, hidden 1024, ffn 2816) for a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.layers, args.hidden, args.ffn = 1, 1024, 2816

    gib = 1024**3
    folder = Path(tempfile.mkdtemp(prefix="scan-memory-", dir=args.dir))
    try:
        started = time.perf_counter()
        size, elements, largest = generate(folder, args.layers, args.hidden, args.ffn, args.seed)
        out = sys.stdout
        out.write(f"checkpoint: {args.layers} bf16 shards, {size / gib:.2f} GiB, "
                  f"{elements / 1e9:.3f} G elements, "
                  f"largest tensor {largest / 1e6:.1f} M elements ({largest * 8 / gib:.2f} GiB in float64); "
                  f"generated in {time.perf_counter() - started:.0f} s\n")
        stream = child(CHILD_STREAM, str(folder))
        read = child(CHILD_READ, str(folder))
        fits = child(CHILD_FITS, str(folder))
        scanned = child(CHILD_SCAN, str(folder), str(folder / "scan-out"))
        budget = 2 * largest * 8 + gib
        estimators = ", ".join(scanned["estimators"])
        rows = [
            ("streaming read (64 MB sequential)", stream["seconds"], stream["bytes"] / 2, stream["peak_rss"]),
            ("reader: every tensor, kept bfloat16", read["seconds"], read["elements"], read["peak_rss"]),
            (f"in-memory fits: {estimators}", fits["seconds"], fits["elements"], fits["peak_rss"]),
            (f"scan: {estimators}, every matrix", scanned["seconds"], scanned["elements"],
             scanned["peak_rss"]),
        ]
        out.write(f"{'pass':40s} {'seconds':>8s} {'M elements/s':>13s} {'peak RSS GiB':>13s}\n")
        for name, seconds, count, rss in rows:
            out.write(f"{name:40s} {seconds:8.2f} {count / seconds / 1e6:13.1f} {rss / gib:13.2f}\n")
        out.write(f"scan: {scanned['rows']} rows, {scanned['errors']} errors; python + imports alone "
                  f"{scanned['baseline_rss'] / gib:.2f} GiB, imports {scanned['import_seconds']:.2f} s "
                  "(before the clock)\n")
        within = scanned["peak_rss"] <= budget
        out.write(f"peak RSS budget (2 x largest tensor in float64 + 1 GiB) = {budget / gib:.2f} GiB: "
                  f"scan is {'within' if within else 'OVER'} budget ({scanned['peak_rss'] / gib:.2f} GiB); "
                  f"scan throughput is {stream['seconds'] / scanned['seconds']:.3f} x the streaming read's\n")
        baseline = stream["seconds"] + fits["seconds"]
        ratio = scanned["seconds"] / baseline
        out.write(f"ratio scan / (streaming read + in-memory fits) = {scanned['seconds']:.2f} / "
                  f"({stream['seconds']:.2f} + {fits['seconds']:.2f}) = {ratio:.2f} x "
                  f"(target <= {TARGET_RATIO}: {'met' if ratio <= TARGET_RATIO else 'NOT met'})\n")
        record = {
            "benchmark": "scan_memory",
            "command": "python benchmarks/scan_memory.py " + " ".join(sys.argv[1:]),
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "package_version": ws.__version__,
            "machine": {"node": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
                        "numpy": np.__version__, "load_average_1_5_15": list(os.getloadavg())},
            "checkpoint": {"layers": args.layers, "hidden": args.hidden, "ffn": args.ffn, "dtype": "BF16",
                           "bytes": size, "elements": elements, "largest_tensor_elements": largest},
            "estimators": scanned["estimators"],
            "streaming_read": stream,
            "reader": read,
            "in_memory_fits": fits,
            "scan": scanned,
            "ratio": {"scan_seconds": round(scanned["seconds"], 3),
                      "streaming_read_seconds": round(stream["seconds"], 3),
                      "in_memory_fit_seconds": round(fits["seconds"], 3),
                      "scan_over_read_plus_fits": round(ratio, 3), "target": TARGET_RATIO,
                      "met": ratio <= TARGET_RATIO},
            "peak_rss": {"scan_bytes": scanned["peak_rss"], "budget_bytes": budget, "within": within},
        }
        load, cpus = os.getloadavg()[0], os.cpu_count() or 1
        if load > cpus:
            record["note"] = (f"machine busy: load average {load:.1f} on {cpus} CPUs during the run; "
                              "timings are not quiet-machine numbers")
        RESULTS.mkdir(exist_ok=True)
        name = "scan_memory_quick.json" if args.quick else "scan_memory.json"
        (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        return 0 if within and scanned["errors"] == 0 else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
