"""Train a tiny GPT-NeoX on Python's own source and save step-N checkpoints for a trajectory scan.

    .venv/bin/python scripts/train_tiny.py --out out/tiny --steps 300
    .venv/bin/weibull-stats scan out/tiny --out out/tiny-scan --skip-validation

The scan's report.md and trajectory.png show k and λ of every kind against step.
"""

from __future__ import annotations

import argparse
import sys
import time

from weibull_stats.scanning.trajectory import train_tiny_gpt_neox


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/tiny", help="folder for step-N checkpoints (default out/tiny)")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()

    def report(step: int, loss: float) -> None:
        if step % 50 == 0 or step == args.steps:
            elapsed = time.perf_counter() - started
            sys.stdout.write(f"step {step:5d}  loss {loss:.3f} nats/byte  {elapsed:.1f}s\n")

    run = train_tiny_gpt_neox(args.out, steps=args.steps, hidden_size=args.hidden_size,
                              num_layers=args.layers, num_heads=args.heads, seed=args.seed, callback=report)
    sys.stdout.write(f"trained on {run.corpus_bytes} bytes; checkpoints: "
                     f"{', '.join(str(p) for p in run.checkpoints)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
