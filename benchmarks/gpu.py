"""Estimators on torch tensors, on CUDA: equality with the CPU path, and throughput (issue 13).

One short script for a machine with a CUDA GPU (under 5 minutes on an H200 at the default
sizes), run once there; on a machine without CUDA it still runs the CPU-torch half and
writes a result file that says CUDA was not available. It writes
``benchmarks/results/gpu.json`` (``gpu_quick.json`` with ``--quick``).

1. **Equality.** Every registered estimator on a HalfNormal(0.02) matrix in float32,
   float64, bfloat16 and float16 (a non-contiguous view), the bootstrap of every estimator
   (bf16 and float32) and the goodness of fit (MLE and the probability plot, bf16 and
   float32), each on a torch tensor of every device against the numpy path on the same
   values: the 16-bit samples must be bit-identical (distinct values and counts), the
   numbers within 1e-10 relative.
2. **Exact fit throughput** (elements/s): the scan's default estimator (the exact
   middle-80% probability-plot fit) on a bf16 4096 x 11008 matrix and on a float32 4096 x
   4096 matrix not on a 16-bit grid, as a numpy array, as a CPU tensor and as a CUDA
   tensor (already on the device; best of ``--repeat``).
3. **Scan throughput** (elements/s): ``weibull_stats.scan`` of the bf16 Llama-7B-shaped
   slice of ``benchmarks/scan_memory.py`` (hidden 4096, FFN 11008, ``--layers`` blocks)
   with ``device=None`` (numpy), ``"cpu"`` and ``"cuda"``, in this run; the three
   ``results.csv`` must be byte-identical.

    .venv/bin/python benchmarks/gpu.py            # default sizes (2 blocks, about 0.8 GB)
    .venv/bin/python benchmarks/gpu.py --quick    # small sizes: checks that the script works

(From a worktree that is not the installed package, put it first: ``PYTHONPATH=.``.)
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

import weibull_stats as ws
from weibull_stats.sample.storage import torch_to_numpy

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
RTOL = 1e-10


def _scan_memory() -> Any:
    """``benchmarks/scan_memory.py`` (its generator of the bf16 Llama-shaped slice)."""
    spec = importlib.util.spec_from_file_location("benchmark_scan_memory", HERE / "scan_memory.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def relative(a: Any, b: Any) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    both_nan = np.isnan(a) & np.isnan(b)
    scale = np.maximum(np.abs(b), np.finfo(float).tiny)
    diff = np.where(both_nan, 0.0, np.abs(a - b) / scale)
    return float(np.max(diff)) if diff.size else 0.0


def halfnormal(rows: int, cols: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    w = torch.randn(rows, cols, generator=generator, dtype=torch.float64) * 0.02
    return torch.where(w == 0, torch.full_like(w, 0.01), w)


def same_sample(a: ws.Sample, b: ws.Sample) -> bool:
    if a.form != b.form or a.storage != b.storage or a.n != b.n:
        return False
    if a.form == "counts":
        return bool(np.array_equal(a.distinct, b.distinct) and np.array_equal(a.counts, b.counts))
    return bool(np.array_equal(a.magnitudes, b.magnitudes))


def equality(device: str, rows: int, cols: int, small: int, resamples: int) -> list[dict[str, Any]]:
    """Every estimator, the bootstrap and the GoF on ``device`` tensors against numpy."""
    checks: list[dict[str, Any]] = []
    base = halfnormal(rows, cols, 0)
    for dtype in ("float32", "float64", "bfloat16", "float16"):
        tensor = base.to(getattr(torch, dtype)).to(device)[:, ::2]  # a non-contiguous view
        array = torch_to_numpy(tensor.cpu().contiguous())
        sample_equal = same_sample(ws.as_sample(tensor, values="weights"),
                                   ws.as_sample(array, values="weights"))
        for name in ws.ESTIMATORS:
            a, b = ws.fit(tensor, name, values="weights"), ws.fit(array, name, values="weights")
            error = relative([a.shape, a.scale], [b.shape, b.scale])
            checks.append({"what": "fit", "estimator": name, "dtype": dtype, "device": device,
                           "n": int(tensor.numel()), "sample_identical": sample_equal,
                           "max_relative_difference": error,
                           "ok": sample_equal and error <= RTOL and a.n_used == b.n_used})
    little = halfnormal(small, small, 1)
    for dtype in ("bfloat16", "float32"):
        tensor = little.to(getattr(torch, dtype)).to(device)
        array = torch_to_numpy(tensor.cpu())
        for name in ws.ESTIMATORS:
            a = ws.bootstrap(tensor, name, n_resamples=resamples, rng=2, values="weights")
            b = ws.bootstrap(array, name, n_resamples=resamples, rng=2, values="weights")
            error = relative(a.bootstrap_distribution, b.bootstrap_distribution)
            checks.append({"what": "bootstrap", "estimator": name, "dtype": dtype, "device": device,
                           "n": int(tensor.numel()), "n_resamples": resamples,
                           "max_relative_difference": error, "ok": error <= RTOL and a.route == b.route})
        for name in ("mle", "probability_plot"):
            a = ws.goodness_of_fit(tensor, name, n_mc_samples=resamples, rng=3, values="weights")
            b = ws.goodness_of_fit(array, name, n_mc_samples=resamples, rng=3, values="weights")
            error = max(relative(a.null_distribution, b.null_distribution),
                        relative(a.statistic, b.statistic))
            checks.append({"what": "goodness_of_fit", "estimator": name, "dtype": dtype, "device": device,
                           "n": int(tensor.numel()), "n_mc_samples": resamples,
                           "max_relative_difference": error, "ok": error <= RTOL and a.pvalue == b.pvalue})
    return checks


def best_of(repeat: int, device: str, call: Callable[[], Any]) -> float:
    call()  # warm-up (CUDA context, kernels, caches)
    best = math.inf
    for _ in range(repeat):
        sync(device)
        start = time.perf_counter()
        call()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return best


def fit_throughput(devices: list[str], shapes: dict[str, tuple[int, int]], repeat: int
                   ) -> list[dict[str, Any]]:
    """The default (exact probability-plot) fit: numpy array, CPU tensor, CUDA tensor."""
    rows: list[dict[str, Any]] = []
    for dtype, shape in shapes.items():
        w = halfnormal(*shape, 4).to(getattr(torch, dtype))
        if dtype == "float32":
            # off any 16-bit grid: a raw sample
            w = w + torch.randn(shape, generator=torch.Generator().manual_seed(5)) * 1e-7
        array = torch_to_numpy(w)
        inputs: list[tuple[str, Any]] = [("numpy", array)] + [(d, w.to(d)) for d in devices]
        for where, x in inputs:
            device = "cpu" if where == "numpy" else where
            seconds = best_of(repeat, device, lambda x=x: ws.fit_probability_plot(x, values="weights"))
            form = ws.as_sample(x, values="weights").form
            rows.append({"input": where, "dtype": dtype, "shape": list(shape), "elements": w.numel(),
                         "form": form, "seconds": seconds, "elements_per_second": w.numel() / seconds})
    return rows


def scan_throughput(devices: list[str], layers: int, hidden: int, ffn: int) -> dict[str, Any]:
    memory = _scan_memory()
    work = Path(tempfile.mkdtemp(prefix="gpu-scan-"))
    folder = work / "checkpoint"
    folder.mkdir()
    try:
        size, elements, _ = memory.generate(folder, layers, hidden, ffn, 0)
        runs = []
        outputs = []
        for device in [None, *devices]:
            out = work / f"out-{device or 'numpy'}"
            if device is not None:  # warm-up: CUDA context and kernels outside the clock
                ws.fit_probability_plot(torch.arange(1.0, 65.0, device=device))
            start = time.perf_counter()
            frame = ws.scan(str(folder), out=out, skip_validation=True, report=False, device=device)
            seconds = time.perf_counter() - start
            outputs.append((out / "results.csv").read_bytes())
            runs.append({"device": device or "numpy (CPU)", "seconds": seconds, "rows": len(frame),
                         "elements": int(frame["numel"].sum()), "errors": len(frame.attrs["errors"]),
                         "elements_per_second": int(frame["numel"].sum()) / seconds})
        return {"layers": layers, "hidden": hidden, "ffn": ffn, "dtype": "BF16", "bytes": size,
                "elements": elements, "runs": runs,
                "results_csv_identical": all(o == outputs[0] for o in outputs)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def git_commit() -> str | None:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=2, help="blocks of the bf16 Llama slice (0.4 GB each)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check that the script works")
    args = parser.parse_args()
    cuda = torch.cuda.is_available()
    devices = ["cpu"] + (["cuda"] if cuda else [])
    if args.quick:
        equal_size, small, resamples = (256, 128), 64, 39
        shapes = {"bfloat16": (1024, 1024), "float32": (512, 512)}
        layers, hidden, ffn = 1, 1024, 2816
    else:
        equal_size, small, resamples = (1024, 1024), 256, 99
        shapes = {"bfloat16": (4096, 11008), "float32": (4096, 4096)}
        layers, hidden, ffn = args.layers, 4096, 11008
    started = time.perf_counter()
    checks = [c for d in devices for c in equality(d, *equal_size, small, resamples)]
    fits = fit_throughput(devices, shapes, args.repeat)
    scanned = scan_throughput(devices, layers, hidden, ffn)
    record: dict[str, Any] = {
        "benchmark": "gpu",
        "command": "python benchmarks/gpu.py " + " ".join(sys.argv[1:]),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "package_version": ws.__version__,
        "git_commit": git_commit(),
        "cuda_available": cuda,
        "cuda_note": ("CUDA device used: " + torch.cuda.get_device_name(0)) if cuda else (
            "CUDA was not available on this machine: only the numpy and CPU-torch figures were measured; "
            "nothing about CUDA is verified by this file"),
        "machine": {"node": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
                    "numpy": np.__version__, "torch": torch.__version__,
                    "torch_cuda_build": torch.version.cuda,
                    "torch_threads": torch.get_num_threads(), "load_average_1_5_15": list(os.getloadavg())},
        "tolerance": {"relative": RTOL, "sixteen_bit_counts": "bit-identical"},
        "equality": {"all_ok": all(c["ok"] for c in checks), "checks": checks},
        "exact_fit": fits,
        "scan": scanned,
        "seconds": time.perf_counter() - started,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / ("gpu_quick.json" if args.quick else "gpu.json")
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    out = sys.stdout
    out.write(f"{record['cuda_note']}\n")
    bad = [c for c in checks if not c["ok"]]
    out.write(f"equality: {len(checks) - len(bad)} of {len(checks)} checks within {RTOL:g} "
              f"(16-bit samples bit-identical)\n")
    for c in bad:
        out.write(f"  FAIL {c}\n")
    for row in fits:
        out.write(f"exact fit {row['dtype']:8s} {row['input']:6s} {row['form']:6s} "
                  f"{row['elements_per_second'] / 1e6:9.1f} M elements/s\n")
    for run in scanned["runs"]:
        out.write(f"scan {run['device']:12s} {run['elements_per_second'] / 1e6:9.1f} M elements/s "
                  f"({run['seconds']:.1f} s, {run['errors']} errors)\n")
    out.write(f"scan results.csv identical across devices: {scanned['results_csv_identical']}\n")
    out.write(f"wrote {path} in {record['seconds']:.0f} s\n")
    return 0 if record["equality"]["all_ok"] and scanned["results_csv_identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
