"""Benchmark: what ``ws.Monitor`` costs a training run on the CPU (issue 24, item 3).

Usage::

    .venv/bin/python benchmarks/monitor.py            # GPT-2 shape, ~14M parameters, 300 steps
    .venv/bin/python benchmarks/monitor.py --quick    # ~1M parameters, 100 steps: a smoke run

A GPT-2-shaped model (``transformers.GPT2LMHeadModel``: 6 layers, width 384, vocabulary 8192,
about 14M parameters) trains with AdamW on random tokens, twice from the same seed: without
the monitor, then with ``ws.Monitor(model, every=100, out=...)`` at its default settings (the
scan's default estimator and asymptotic intervals; the validation gate skipped, a one-time cost
of the constructor that is no part of the overhead). Reported:

* ``seconds_per_monitored_step``: the mean time of the monitored ``step`` calls of the run
  (every matrix fitted, journalled, the tables and ``run.json`` rewritten);
* ``overhead``: that over ``every`` training steps without the monitor, what each interval of
  a long run pays; target at most 1% at ``every=100``;
* ``run_overhead``: all the seconds spent inside the monitor (step 0, every monitored step,
  the last one and the report at ``close``) over the training seconds without it: a short
  run pays step 0 and the report on top of one fit per interval;
* ``wall_overhead``: (with - without) / without, measured from the outside (noisy: it
  carries the run-to-run spread of the training itself, and any other load on the machine);
* ``seconds_per_billion``: ``seconds_per_monitored_step`` per 10^9 weights of the model's
  matrices (the parts of a fused qkv matrix are fitted again beside the whole).

Everything runs on the CPU; a CUDA figure is not measured here. The results go to
``benchmarks/results/monitor.json`` (``monitor_quick.json`` with ``--quick``) with the
command, the date, the versions and the load average (the overhead is a ratio of two times
taken in the same run, but other work on the machine can slow one more than the other).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import weibull_stats as ws

RESULTS = Path(__file__).resolve().parent / "results"
#: Monitoring at every=100 costs at most this share of the training time (issue 24).
TARGET_OVERHEAD = 0.01
FULL = {"vocab_size": 8192, "n_embd": 384, "n_layer": 6, "n_head": 6, "steps": 300, "batch": 8,
        "sequence": 128}
QUICK = {"vocab_size": 2048, "n_embd": 128, "n_layer": 2, "n_head": 4, "steps": 100, "batch": 4,
         "sequence": 64}


def model_and_data(shape: dict[str, int], seed: int) -> tuple[Any, Any]:
    import torch
    import transformers

    config = transformers.GPT2Config(vocab_size=shape["vocab_size"], n_positions=shape["sequence"],
                                     n_embd=shape["n_embd"], n_layer=shape["n_layer"], n_head=shape["n_head"])
    torch.manual_seed(seed)
    model = transformers.GPT2LMHeadModel(config)
    generator = torch.Generator().manual_seed(seed)
    batches = torch.randint(0, shape["vocab_size"], (shape["steps"], shape["batch"], shape["sequence"]),
                            generator=generator)
    return model, batches


def train(shape: dict[str, int], seed: int, every: int, out: Path | None) -> dict[str, Any]:
    """One training run; with ``out``, under a monitor writing there. Times in seconds."""
    import torch

    model, batches = model_and_data(shape, seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    monitor = (ws.Monitor(model, every=every, out=out, skip_validation=True) if out is not None else None)
    started = time.perf_counter()
    calls: list[float] = []  # the monitored steps' times

    def watch(step: int) -> None:
        if monitor is not None:
            begun = time.perf_counter()
            if monitor.step(step) is not None:
                calls.append(time.perf_counter() - begun)

    watch(0)
    for step in range(1, shape["steps"] + 1):
        batch = batches[step - 1]
        loss = model(input_ids=batch, labels=batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        watch(step)
    if monitor is not None:
        monitor.close()
    seconds = time.perf_counter() - started
    record: dict[str, Any] = {"seconds": seconds, "final_loss": float(loss.detach())}
    if monitor is not None:
        frame = monitor.frame
        whole = frame[(frame["part"] == "") & (frame["step"] == 0)]
        record.update(monitor_seconds=monitor.seconds, monitored_steps=monitor.steps, rows=len(frame),
                      step_seconds=calls,
                      matrix_weights=int(whole["numel"].sum()), failures=len(monitor.failures))
    record["parameters"] = int(sum(p.numel() for p in model.parameters()))
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small model and 100 steps (a smoke run)")
    parser.add_argument("--steps", type=int, help="training steps (default 300; 100 with --quick)")
    parser.add_argument("--every", type=int, default=100, help="the monitor's interval (default 100)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    shape = dict(QUICK if args.quick else FULL)
    if args.steps:
        shape["steps"] = args.steps
    train(dict(shape, steps=2), args.seed, args.every, None)  # warm up: imports, kernels, allocator
    with tempfile.TemporaryDirectory() as folder:
        without = train(shape, args.seed, args.every, None)
        with_monitor = train(shape, args.seed, args.every, Path(folder) / "monitor")
    per_call = float(np.mean(with_monitor["step_seconds"]))
    step_seconds = without["seconds"] / shape["steps"]
    overhead = per_call / (args.every * step_seconds)
    record = {
        "benchmark": "monitor",
        "command": "python benchmarks/monitor.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "package_version": ws.__version__,
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "numpy": np.__version__,
                    "torch": torch.__version__, "load_average": list(os.getloadavg())},
        "model": {"shape": shape, "parameters": without["parameters"],
                  "matrix_weights": with_monitor["matrix_weights"]},
        "every": args.every,
        "device": "cpu",
        "cuda": "not measured (no GPU in this run): unverified",
        "training_seconds": without["seconds"],
        "seconds_per_training_step": step_seconds,
        "monitored_training_seconds": with_monitor["seconds"],
        "monitor_seconds": with_monitor["monitor_seconds"],
        "monitored_steps": with_monitor["monitored_steps"],
        "seconds_per_monitored_step": per_call,
        "monitored_step_seconds": with_monitor["step_seconds"],
        "overhead": overhead,
        "run_overhead": with_monitor["monitor_seconds"] / without["seconds"],
        "wall_overhead": (with_monitor["seconds"] - without["seconds"]) / without["seconds"],
        "seconds_per_billion": per_call / with_monitor["matrix_weights"] * 1e9,
        "target_overhead": TARGET_OVERHEAD,
        "meets_target": bool(overhead <= TARGET_OVERHEAD),
        "same_final_loss": without["final_loss"] == with_monitor["final_loss"],
        "failures": with_monitor["failures"],
    }
    load, cpus = os.getloadavg()[0], os.cpu_count() or 1
    if load > cpus:
        record["note"] = (f"machine busy: load average {load:.1f} on {cpus} CPUs during the run; rerun on a "
                          "quiet machine for figures to cite")
    RESULTS.mkdir(exist_ok=True)
    name = "monitor_quick.json" if args.quick else "monitor.json"
    (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    sys.stdout.write(json.dumps(record, indent=2) + "\n")
    sys.stdout.write(f"{'PASS' if record['meets_target'] else 'FAIL'}: overhead {overhead:.2%} at every="
                     f"{args.every} (target <= {TARGET_OVERHEAD:.0%}); whole run "
                     f"{record['run_overhead']:.2%}; "
                     f"{record['seconds_per_billion']:.1f} s per 10^9 weights per monitored step\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
