"""Step-0 check: freshly initialised real architectures against their exact anchors.

Real architectures are built from configs (no download) with ``transformers``: a
GPT-NeoX (Pythia-style) and a Llama-style causal LM, plus plain stacks of
``torch.nn.Linear`` layers initialised three ways. Every matrix of at least
:data:`MIN_ENTRIES` entries is fitted with the package-anchor estimator (the default probability plot) and
compared with the exact limit of its own initialisation law:

* ``transformers`` 5.x initialises every ``nn.Linear`` and ``nn.Embedding`` weight with
  ``normal_(0, initializer_range)`` (``PreTrainedModel._init_weights``; neither GPT-NeoX
  nor Llama overrides it for matrices), so ``|w| ~ HalfNormal(initializer_range)``: anchor
  ``1.2054343190``, ``0.8874870398 * sigma``;
* ``nn.init.normal_(w, 0, sigma)``: the same half-normal anchor;
* torch's default ``nn.Linear`` init, ``kaiming_uniform_(a=sqrt 5)``, draws
  ``Uniform(-b, b)`` with ``b = 1 / sqrt(fan_in)``: ``|w| ~ Uniform(0, b)`` and the anchor is
  that of the uniform law (scale relative to ``b``);
* ``nn.init.trunc_normal_(w, std=sigma, a=-2 sigma, b=2 sigma)``: ``|w|`` is the half-normal
  truncated at ``2 sigma`` (its own anchor; scale relative to ``sigma``).

Tolerance: the fitted shape must lie within ``z`` standard errors of the anchor and the
fitted ``ln(scale / sigma)`` within ``z`` standard errors of the anchor's, the standard errors
being the asymptotic ones of :func:`weibull_stats.validation.asymptotic.probability_plot_sd`
at the matrix's size (checked against simulation in the tests). ``z`` is 3 for one matrix
and the family-wise bound :func:`weibull_stats.validation._common.family_z` for the whole
table (3.9 for about 50 matrices), so that a correct table passes for 99% of seeds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from weibull_stats.estimators.registry import declared_estimator
from weibull_stats.validation._common import Check, child_rng, family_z
from weibull_stats.validation.anchors import default_anchor
from weibull_stats.validation.asymptotic import probability_plot_sd
from weibull_stats.validation.populations import HALFNORMAL, UNIFORM, Population, truncated_halfnormal

MIN_ENTRIES = 100_000
LINEAR_SIGMA = 0.05
TRUNCATION = 2.0


@dataclass(frozen=True, slots=True)
class InitScheme:
    """How a matrix was initialised: its ``|w|`` law scaled by ``scale``."""

    name: str
    population: Population
    scale: float


def _architectures(size: str) -> Iterator[tuple[str, Any, float]]:
    """``(label, model, initializer_range)`` for the two ``transformers`` architectures."""
    import transformers

    big = size == "full"
    hidden = 512 if big else 256
    layers = 4 if big else 1
    neox = transformers.GPTNeoXConfig(
        vocab_size=2048 if big else 512,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=8 if big else 4,
        intermediate_size=4 * hidden,
        max_position_embeddings=256,
    )
    yield "gpt_neox", transformers.GPTNeoXForCausalLM(neox), float(neox.initializer_range)
    llama = transformers.LlamaConfig(
        vocab_size=2048 if big else 512,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=8 if big else 4,
        num_key_value_heads=2,
        intermediate_size=(11 * hidden) // 4,
        max_position_embeddings=256,
    )
    yield "llama", transformers.LlamaForCausalLM(llama), float(llama.initializer_range)


def _linear_stacks(size: str) -> Iterator[tuple[str, Any, str]]:
    import torch

    width = 512 if size == "full" else 384
    depth = 3 if size == "full" else 2
    for init in ("normal", "kaiming_uniform", "trunc_normal"):
        stack = torch.nn.Sequential(*(torch.nn.Linear(width, width) for _ in range(depth)))
        with torch.no_grad():
            for layer in stack:
                assert isinstance(layer, torch.nn.Linear)
                if init == "normal":
                    torch.nn.init.normal_(layer.weight, 0.0, LINEAR_SIGMA)
                elif init == "trunc_normal":
                    torch.nn.init.trunc_normal_(
                        layer.weight, 0.0, LINEAR_SIGMA, -TRUNCATION * LINEAR_SIGMA, TRUNCATION * LINEAR_SIGMA
                    )
        yield f"linear_stack[{init}]", stack, init


def _matrices(size: str, seed: int) -> Iterator[tuple[str, str, np.ndarray, InitScheme]]:
    import torch

    builders: list[tuple[str, Any]] = [("transformers", _architectures), ("linear", _linear_stacks)]
    for family, builder in builders:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(child_rng(seed, "step0", family).integers(2**31)))
            for label, model, extra in builder(size):
                for name, param in model.named_parameters():
                    if param.dim() != 2 or param.numel() < MIN_ENTRIES:
                        continue
                    if family == "transformers":
                        scheme = InitScheme("normal(0, initializer_range)", HALFNORMAL, extra)
                    elif extra == "normal":
                        scheme = InitScheme("normal(0, sigma)", HALFNORMAL, LINEAR_SIGMA)
                    elif extra == "trunc_normal":
                        scheme = InitScheme(
                            "trunc_normal(sigma, +-2 sigma)", truncated_halfnormal(TRUNCATION), LINEAR_SIGMA
                        )
                    else:
                        bound = 1.0 / math.sqrt(param.shape[1])
                        scheme = InitScheme("kaiming_uniform(a=sqrt 5)", UNIFORM, bound)
                    yield label, name, param.detach().cpu().numpy(), scheme


def step0_study(*, seed: int, size: str = "full") -> tuple[pd.DataFrame, list[Check]]:
    """Fit every large matrix of freshly initialised models; one row and two checks each.

    Parameters
    ----------
    seed : int
        Seeds torch (inside :func:`torch.random.fork_rng`, so the caller's state is kept).
    size : {"full", "small"}
        ``"small"`` builds one-layer models (a few seconds, for the tests).
    """
    if size not in ("full", "small"):
        raise ValueError(f"`size` must be 'full' or 'small'; got {size!r}")
    estimator = declared_estimator("package_anchor")
    records = []
    checks: list[Check] = []
    for label, name, weights, scheme in _matrices(size, seed):
        n = int(weights.size)
        zeros = "omit" if np.count_nonzero(weights) < n else "error"
        fit = estimator(weights, values="weights", zeros=zeros)
        anchor_shape, anchor_scale = default_anchor(estimator.name, scheme.population)
        sd = probability_plot_sd(scheme.population)
        se_shape = sd.shape_sd / math.sqrt(n)
        se_log_scale = sd.log_scale_sd / math.sqrt(n)
        z_shape = (fit.shape - anchor_shape) / se_shape
        z_scale = (math.log(fit.scale / scheme.scale) - math.log(anchor_scale)) / se_log_scale
        records.append(
            {
                "model": label,
                "matrix": name,
                "rows": weights.shape[0],
                "cols": weights.shape[1],
                "n": n,
                "init": scheme.name,
                "population": scheme.population.label,
                "init_scale": scheme.scale,
                "anchor_shape": anchor_shape,
                "anchor_scale_over_init": anchor_scale,
                "shape": fit.shape,
                "scale_over_init": fit.scale / scheme.scale,
                "se_shape": se_shape,
                "z_shape": z_shape,
                "se_log_scale": se_log_scale,
                "z_scale": z_scale,
            }
        )
    frame = pd.DataFrame.from_records(records)
    z_limit = family_z(2 * len(frame))
    frame["z_limit"] = z_limit
    frame["passed"] = (frame["z_shape"].abs() <= z_limit) & (frame["z_scale"].abs() <= z_limit)
    for row in records:
        for part in ("shape", "scale"):
            z = float(row[f"z_{part}"])
            checks.append(
                Check(
                    f"step0.{row['model']}.{row['matrix']}.{part}",
                    abs(z) <= z_limit,
                    z,
                    0.0,
                    z_limit,
                    f"{row['init']}: z = {z:+.2f} against the {row['population']} anchor",
                )
            )
    return frame, checks
