"""Peak memory and throughput of a scan on a multi-GB sharded bfloat16 checkpoint.

Generates a Llama-7B-shaped checkpoint slice (hidden 4096, FFN 11008; ``--layers`` blocks, one
safetensors shard per block, bfloat16, about 0.4 GB per block) in a temporary folder, then, each
in a fresh child process so that peak RSS is its own:

1. one streaming read of the same files (sequential 64 MB reads, no parsing): the I/O floor;
2. the reader alone (:meth:`Checkpoint.read` of every tensor, bfloat16 widened to float32);
3. the scan (``weibull_stats.scan``, the default probability-plot fit of every matrix).

It reports wall time, elements per second and peak RSS, and checks the scan's peak RSS against
the budget "twice the largest tensor in float64 plus 1 GB". The folder is removed at the end.

    .venv/bin/python benchmarks/scan_memory.py              # 6 blocks, about 2.4 GB
    .venv/bin/python benchmarks/scan_memory.py --layers 2   # quicker
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from weibull_stats.checkpoints.synthetic import to_bfloat16_bits

ROWS_PER_CHUNK = 512

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

CHILD_SCAN = """
import json, resource, sys, time
import weibull_stats
from weibull_stats.workflow import scan
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
start = time.perf_counter()
frame = scan(sys.argv[1], out=sys.argv[2], skip_validation=True, report=False)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "elements": int(frame["numel"].sum()), "rows": len(frame),
                  "errors": len(frame.attrs["errors"]), "baseline_rss": baseline,
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
        scanned = child(CHILD_SCAN, str(folder), str(folder / "scan-out"))
        budget = 2 * largest * 8 + gib
        rows = [
            ("streaming read (64 MB sequential)", stream["seconds"], stream["bytes"] / 2, stream["peak_rss"]),
            ("reader: every tensor to float32", read["seconds"], read["elements"], read["peak_rss"]),
            ("scan: probability_plot, every matrix", scanned["seconds"], scanned["elements"],
             scanned["peak_rss"]),
        ]
        out.write(f"{'pass':40s} {'seconds':>8s} {'M elements/s':>13s} {'peak RSS GiB':>13s}\n")
        for name, seconds, count, rss in rows:
            out.write(f"{name:40s} {seconds:8.1f} {count / seconds / 1e6:13.1f} {rss / gib:13.2f}\n")
        out.write(f"scan: {scanned['rows']} rows, {scanned['errors']} errors; python + imports alone "
                  f"{scanned['baseline_rss'] / gib:.2f} GiB\n")
        verdict = "within" if scanned["peak_rss"] <= budget else "OVER"
        out.write(f"peak RSS budget (2 x largest tensor in float64 + 1 GiB) = {budget / gib:.2f} GiB: "
                  "scan is "
                  f"{verdict} budget ({scanned['peak_rss'] / gib:.2f} GiB); scan throughput is "
                  f"{stream['seconds'] / scanned['seconds']:.3f} x the streaming read's\n")
        return 0 if scanned["peak_rss"] <= budget and scanned["errors"] == 0 else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
