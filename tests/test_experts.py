"""Mixtures of experts named and fitted per expert, tested against transformers' own writer.

Each test builds a tiny model of the family from its transformers config class, scales every
expert's gate, up and down (and q, k, v) through the family's own layout
(:mod:`tests.family_models`), saves it sharded in bf16 and scans the folder and the live
module: every matrix is there with its kind, layer and expert, each part has its factor's
scale, and the live module gives the rows its files give.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.family_models import block, check_family, redraw, scale_by_suffix, scale_heads, scale_stacks

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

SMALL = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, vocab_size=64,
             tie_word_embeddings=False)
ATTENTION = {"k_proj": "k", "v_proj": "v"}
GATED = {"up_proj": "up"}


def experts(layers: range, count: int, kinds: tuple[str, ...] = ("gate", "up", "down")) -> Counter:
    total: Counter = Counter()
    for e in range(count):
        total += block(layers, kinds, expert=e)
    return total


def test_mixtral(tmp_path: Path) -> None:
    config = transformers.MixtralConfig(**SMALL, intermediate_size=32, num_local_experts=4,
                                        num_experts_per_tok=2)
    model = transformers.MixtralForCausalLM(config)
    redraw(model)
    scale_by_suffix(model, ATTENTION)
    scale_stacks(model)  # in memory (E, 2i, h); on disk experts.N.w1 (gate), w3 (up), w2 (down)
    layers = range(2)
    expected = (block(layers, ("q", "k", "v", "o", "router")) + experts(layers, 4))
    saved, live = check_family(model, tmp_path, "mixtral", expected)
    assert saved["tensor"].str.contains(r"block_sparse_moe\.experts\.3\.w3").any()  # the disk layout
    assert live["tensor"].str.endswith("mlp.experts.gate_up_proj").any()  # the stacks in memory
    assert set(live.loc[live["tensor"].str.endswith("gate_up_proj"), "part"]) == {
        f"e{e}.{k}" for e in range(4) for k in ("gate", "up")}


@pytest.mark.parametrize("model_type", ["qwen2_moe", "qwen3_moe", "olmoe"])
def test_qwen_moe_and_olmoe(tmp_path: Path, model_type: str) -> None:
    layers = range(2)
    if model_type == "qwen2_moe":
        config = transformers.Qwen2MoeConfig(**SMALL, intermediate_size=64, moe_intermediate_size=32,
                                             num_experts=4, num_experts_per_tok=2,
                                             shared_expert_intermediate_size=48)
        model = transformers.Qwen2MoeForCausalLM(config)
        shared = block(layers, ("gate", "up", "down"), shared=True) + block(layers, ("router",))
    elif model_type == "qwen3_moe":
        config = transformers.Qwen3MoeConfig(**SMALL, intermediate_size=64, moe_intermediate_size=32,
                                             num_experts=4, num_experts_per_tok=2, head_dim=16)
        model = transformers.Qwen3MoeForCausalLM(config)
        shared = Counter()
    else:
        config = transformers.OlmoeConfig(**SMALL, intermediate_size=32, num_experts=4, num_experts_per_tok=2)
        model = transformers.OlmoeForCausalLM(config)
        shared = Counter()
    redraw(model)
    scale_by_suffix(model, {**ATTENTION, **GATED})  # the shared expert's up_proj too
    scale_stacks(model)
    expected = (block(layers, ("q", "k", "v", "o", "router")) + experts(layers, 4) + shared)
    saved, _ = check_family(model, tmp_path, "qwen2_moe", expected)
    assert saved["tensor"].str.contains(r"mlp\.experts\.3\.up_proj").any()
    if model_type == "qwen2_moe":
        gate = saved[saved["tensor"].str.endswith("shared_expert_gate.weight")]
        assert list(gate["kind"]) == ["router", "router"]


@pytest.mark.parametrize("version", ["v2", "v3", "v2_lite"])
def test_deepseek(tmp_path: Path, version: str) -> None:
    """DeepSeek-V2/V3: latent attention (kv_b_proj split by head), a dense first layer, routed and
    shared experts; V2-Lite has no query compression (``q_proj``)."""
    heads, nope, rope, value = 4, 16, 8, 24
    options = dict(SMALL, num_hidden_layers=3, intermediate_size=64, moe_intermediate_size=32,
                   n_routed_experts=4,
                   n_shared_experts=1, num_experts_per_tok=2, first_k_dense_replace=1, q_lora_rank=32,
                   kv_lora_rank=64, qk_nope_head_dim=nope, qk_rope_head_dim=rope, v_head_dim=value,
                   n_group=1, topk_group=1, num_key_value_heads=heads)
    if version == "v2_lite":
        options["q_lora_rank"] = None
    if version == "v3":
        model = transformers.DeepseekV3ForCausalLM(transformers.DeepseekV3Config(**options))
    else:
        model = transformers.DeepseekV2ForCausalLM(transformers.DeepseekV2Config(**options))
    redraw(model)
    scale_by_suffix(model, GATED)  # dense first layer and shared experts
    scale_stacks(model)
    # kv_b_proj (heads * (nope + v), kv_lora_rank): per head, nope rows of k then v rows of v, as
    # DeepseekV3Attention's `.view(..., -1, nope + v)` and `torch.split(kv, [nope, v])` read it
    scale_heads(model, "kv_b_proj", lambda w: w.view(heads, nope + value, -1),
                [(slice(0, nope), "k"), (slice(nope, nope + value), "v")])
    moe = range(1, 3)
    attention = ("q", "kv_a", "kv_b", "k", "v", "o") if version == "v2_lite" else (
        "q_a", "q_b", "kv_a", "kv_b", "k", "v", "o")
    expected = (block(range(3), attention) + block(range(1), ("gate", "up", "down"))
                + block(moe, ("router",)) + block(moe, ("gate", "up", "down"), shared=True) + experts(moe, 4))
    saved, _ = check_family(model, tmp_path, "deepseek", expected)
    parts = saved[saved["tensor"].str.endswith("kv_b_proj.weight")]
    assert set(zip(parts["part"], parts["rows"], strict=True)) == {("", heads * (nope + value)),
                                                                   ("k", heads * nope), ("v", heads * value)}


def test_gpt_oss_stacks_on_disk(tmp_path: Path) -> None:
    config = transformers.GptOssConfig(**SMALL, intermediate_size=32, num_local_experts=4,
                                       num_experts_per_tok=2, head_dim=16)
    model = transformers.GptOssForCausalLM(config)
    redraw(model)
    scale_by_suffix(model, ATTENTION)
    scale_stacks(model, interleaved=True)  # (E, h, 2i), gate and up columns alternating
    layers = range(2)
    expected = (block(layers, ("q", "k", "v", "o", "router")) + experts(layers, 4))
    saved, _ = check_family(model, tmp_path, "gpt_oss", expected)
    stack = saved[saved["tensor"].str.endswith("experts.gate_up_proj")]
    assert set(zip(stack["rows"], stack["cols"], strict=True)) == {(64, 32)}  # each expert's (in, out) matrix


def test_stack_rows_sort_by_expert_and_resume(tmp_path: Path) -> None:
    """Ten experts sort by index (e2 before e10), and a resumed scan finds every stacked row done."""
    import numpy as np

    import weibull_stats as ws
    from weibull_stats.checkpoints import from_state_dict

    rng = np.random.default_rng(0)
    state = {"model.layers.0.mlp.experts.down_proj": rng.standard_normal((11, 8, 16)).astype(np.float32),
             "model.layers.0.mlp.gate.weight": rng.standard_normal((11, 8)).astype(np.float32)}
    out = tmp_path / "out"
    frame = ws.scan(from_state_dict(state, config={"model_type": "qwen3_moe"}), out=out, estimators="mle",
                    skip_validation=True, report=False)
    stacked = frame[frame["part"] != ""]
    assert list(stacked["expert"]) == list(range(11)) and set(stacked["kind"]) == {"down"}
    again = ws.scan(from_state_dict(state, config={"model_type": "qwen3_moe"}), out=out, resume=True,
                    estimators="mle", skip_validation=True, report=False)
    assert len(again) == len(frame) == 12


def test_report_takes_experts_together_and_draws_them_by_expert(tmp_path: Path) -> None:
    """The paper's transmission class and the per-kind summary count every expert's matrices;
    the report draws k by expert and layer."""
    import pandas as pd

    import weibull_stats as ws
    from weibull_stats.report.markdown import kind_summary
    from weibull_stats.report.tables import CLASSES, class_rows

    config = transformers.Qwen3MoeConfig(**SMALL, intermediate_size=64, moe_intermediate_size=32,
                                         num_experts=4, num_experts_per_tok=2, head_dim=16)
    model = transformers.Qwen3MoeForCausalLM(config)
    redraw(model)
    out = tmp_path / "out"
    frame = ws.scan(model, out=out, estimators="mle", skip_validation=True)
    assert (out / "shape_by_expert.png").is_file()
    assert "shape_by_expert.png" in (out / "report.md").read_text(encoding="utf-8")
    transmission = dict((name, kinds) for name, kinds, _ in CLASSES)["transmission"]
    counted = class_rows(frame, transmission)
    assert (counted["expert"].notna().sum(), len(counted)) == (2 * 4 * 3, 2 * 4 * 3 + 2)  # experts and o
    summary = kind_summary(frame, "mle").set_index("kind")["matrices"]
    assert summary["gate"] == summary["up"] == summary["down"] == 2 * 4
    saved = pd.read_csv(out / "results.csv")
    assert set(saved["expert"].dropna().astype(int)) == set(range(4))


def test_expert_figure_needs_experts() -> None:
    import pandas as pd

    from weibull_stats.plotting import plot_scan_shape_by_expert

    frame = pd.DataFrame({"estimator": ["mle"], "expert": [None], "layer": [0], "kind": ["q"], "shape": [1.2],
                          "checkpoint": ["c"]})
    with pytest.raises(ValueError, match="no mle row of `frame` has an expert and a layer"):
        plot_scan_shape_by_expert(frame, estimator="mle")
