"""The one declaration of the model families the scan names: their ``model_type`` values, the
name fragment that identifies each without ``config.json``, the names of their matrices (by
kind) and how their fused and stacked tensors are split.

:mod:`weibull_stats.checkpoints.naming` reads :data:`FAMILY_TABLE`; its module docstring and
the family table of ``docs/scanning.md`` are rendered from it by :func:`family_markdown`
(a test checks the page holds that rendering).

A rule's name is a dotted suffix of the tensor name (``.weight`` removed): ``N`` stands for a
number and ``*`` for a word part, so ``experts.N.w1`` matches
``model.layers.0.block_sparse_moe.experts.7.w1``. Rules are tried in order; the first match
wins, then the shared rules of :data:`COMMON_RULES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Split:
    """How a fused or stacked tensor is cut into parts.

    Attributes
    ----------
    parts : tuple of str
        The kinds of the parts, in their stored order.
    layout : str
        ``"rows"`` / ``"columns"``: consecutive blocks (equal, or q/k/v by head counts);
        ``"heads"``: per-head interleaving, a ``(heads, len(parts), head_dim, in)`` view;
        ``"falcon"``: Falcon's query_key_value as the config lays it out (see
        :func:`~weibull_stats.checkpoints.naming.split_fused`); ``"kv_heads"``: DeepSeek's
        ``kv_b_proj``, a ``(heads, qk_nope_head_dim + v_head_dim, kv_lora_rank)`` view;
        ``"interleaved"``: columns alternate between the parts (gpt-oss gate/up).
    stacked : bool
        A 3-D stack of experts ``(E, a, b)``: every expert ``e`` is a matrix, cut by ``layout``
        when there are several parts; the parts are labelled ``e<e>`` or ``e<e>.<kind>`` and the
        stack itself (no matrix) gets no row.
    text : str
        How the split reads in the docs.
    """

    parts: tuple[str, ...]
    layout: str
    stacked: bool = False
    text: str = ""


@dataclass(frozen=True, slots=True)
class Family:
    """One naming family: see the module docstring."""

    name: str
    model_types: tuple[str, ...]
    signature: str
    rules: tuple[tuple[str, str], ...]
    splits: tuple[tuple[str, Split], ...] = ()
    encoder_decoder: bool = False
    note: str = ""


def _qkv(layout: str, text: str) -> tuple[tuple[str, Split], ...]:
    return (("qkv", Split(("q", "k", "v"), layout, text=text)),)


_LLAMA_ATTENTION = (("self_attn.q_proj", "q"), ("self_attn.k_proj", "k"), ("self_attn.v_proj", "v"),
                    ("self_attn.o_proj", "o"))
_GATED = (("mlp.gate_proj", "gate"), ("mlp.up_proj", "up"), ("mlp.down_proj", "down"))
_ROUTED = (("experts.N.gate_proj", "gate"), ("experts.N.up_proj", "up"), ("experts.N.down_proj", "down"))
_SHARED = (("shared_expert.gate_proj", "gate"), ("shared_expert.up_proj", "up"),
           ("shared_expert.down_proj", "down"), ("shared_experts.gate_proj", "gate"),
           ("shared_experts.up_proj", "up"), ("shared_experts.down_proj", "down"))
#: Experts as transformers keeps them in memory: (E, 2 x intermediate, hidden), gate rows first.
_STACKS = (("experts.gate_up_proj", "ffn_in"), ("experts.down_proj", "down"))
_STACK_SPLITS = (
    ("ffn_in", Split(("gate", "up"), "rows", stacked=True,
                     text="stack `experts.gate_up_proj` (E, 2i, h): per expert, gate rows then up rows")),
    ("down", Split(("down",), "rows", stacked=True, text="stack `experts.down_proj` (E, h, i): per expert")),
)
_T5_ATTENTION = tuple((f"{block}.{x}", f"{prefix}{kind}") for block, prefix in
                      (("SelfAttention", ""), ("EncDecAttention", "cross_"))
                      for x, kind in (("q", "q"), ("k", "k"), ("v", "v"), ("o", "o")))
_BART_ATTENTION = tuple((f"{block}.{x}_proj", f"{prefix}{kind}") for block, prefix in
                        (("self_attn", ""), ("encoder_attn", "cross_"))
                        for x, kind in (("q", "q"), ("k", "k"), ("v", "v"), ("out", "o")))

#: Every family, in the order ties of the name vote are broken and signatures are tried.
FAMILY_TABLE: tuple[Family, ...] = (
    Family("llama", ("llama", "mistral", "qwen2", "qwen3", "olmo", "olmo2", "olmo3", "gemma", "gemma2",
                     "gemma3", "gemma3_text", "stablelm"), "self_attn.q_proj",
           (*_LLAMA_ATTENTION, *_GATED, ("embed_tokens", "embedding")),
           note="also Mistral, Qwen2/3, OLMo-2, HF OLMo, Gemma 1/2/3, StableLM"),
    Family("bert", ("bert", "roberta", "xlm-roberta", "electra"), "attention.self.query",
           (("attention.self.query", "q"), ("attention.self.key", "k"), ("attention.self.value", "v"),
            ("attention.output.dense", "o"), ("intermediate.dense", "ffn_in"), ("output.dense", "ffn_out"),
            ("embeddings.*_embeddings", "embedding"))),
    Family("gpt2", ("gpt2",), "attn.c_attn",
           (("attn.c_attn", "qkv"), ("attn.c_proj", "o"), ("mlp.c_fc", "ffn_in"), ("mlp.c_proj", "ffn_out"),
            ("wte", "embedding"), ("wpe", "embedding")),
           _qkv("columns", "`c_attn` is a Conv1D stored (in, out): q, k, v are thirds of the columns")),
    Family("bloom", ("bloom",), "word_embeddings_layernorm",
           (("self_attention.query_key_value", "qkv"), ("self_attention.dense", "o"),
            ("mlp.dense_h_to_4h", "ffn_in"), ("mlp.dense_4h_to_h", "ffn_out"),
            ("word_embeddings", "embedding")),
           _qkv("heads", "`query_key_value` (3h, h) per head: view (heads, 3, head_dim, h)")),
    Family("falcon", ("falcon", "refinedweb", "refinedwebmodel"), "self_attention.query_key_value",
           (("self_attention.query_key_value", "qkv"), ("self_attention.dense", "o"),
            ("mlp.dense_h_to_4h", "ffn_in"), ("mlp.dense_4h_to_h", "ffn_out"),
            ("word_embeddings", "embedding")),
           _qkv("falcon", "`query_key_value`: multi-query rows (q heads, one k, one v); new decoder "
                          "architecture per kv group (heads/kv q heads, k, v); else per head as BLOOM "
                          "(`multi_query`, `new_decoder_architecture`, `num_kv_heads` from config.json)")),
    Family("gpt_neox", ("gpt_neox",), "attention.query_key_value",
           (("attention.query_key_value", "qkv"), ("attention.dense", "o"), ("mlp.dense_h_to_4h", "ffn_in"),
            ("mlp.dense_4h_to_h", "ffn_out"), ("embed_in", "embedding"), ("embed_out", "lm_head")),
           _qkv("heads", "`query_key_value` (3h, h) per head: view (heads, 3, head_dim, h)")),
    Family("olmo1", ("hf_olmo",), "att_proj",
           (("blocks.N.att_proj", "qkv"), ("blocks.N.attn_out", "o"), ("blocks.N.ff_proj", "ffn_in"),
            ("blocks.N.ff_out", "down"), ("transformer.wte", "embedding"), ("transformer.ff_out", "lm_head")),
           (*_qkv("rows", "`att_proj` rows are q, k, v in order"),
            ("ffn_in", Split(("up", "gate"), "rows", text="`ff_proj` rows are (up, gate) halves")))),
    Family("phi3", ("phi3",), "self_attn.qkv_proj",
           (("self_attn.qkv_proj", "qkv"), ("self_attn.o_proj", "o"), ("mlp.gate_up_proj", "ffn_in"),
            ("mlp.down_proj", "down"), ("embed_tokens", "embedding")),
           (*_qkv("rows", "`qkv_proj` rows are q, k, v in order"),
            ("ffn_in", Split(("gate", "up"), "rows", text="`gate_up_proj` rows are (gate, up) halves")))),
    Family("phi", ("phi",), "self_attn.dense",
           (("self_attn.q_proj", "q"), ("self_attn.k_proj", "k"), ("self_attn.v_proj", "v"),
            ("self_attn.dense", "o"), ("mlp.fc1", "ffn_in"), ("mlp.fc2", "ffn_out"),
            ("embed_tokens", "embedding")),
           note="Phi-1, Phi-1.5, Phi-2"),
    Family("gptj", ("gptj",), "mlp.fc_in",
           (("attn.q_proj", "q"), ("attn.k_proj", "k"), ("attn.v_proj", "v"), ("attn.out_proj", "o"),
            ("mlp.fc_in", "ffn_in"), ("mlp.fc_out", "ffn_out"), ("wte", "embedding"))),
    Family("starcoder2", ("starcoder2",), "mlp.c_fc",
           (*_LLAMA_ATTENTION, ("mlp.c_fc", "ffn_in"), ("mlp.c_proj", "ffn_out"),
            ("embed_tokens", "embedding")),
           note="`c_fc`, `c_proj` are Linear (out, in), not GPT-2's Conv1D"),
    Family("bart", ("bart", "mbart"), "encoder_attn.q_proj",
           (*_BART_ATTENTION, ("fc1", "ffn_in"), ("fc2", "ffn_out"), ("embed_tokens", "embedding"),
            ("embed_positions", "embedding"), ("shared", "embedding")),
           encoder_decoder=True, note="cross-attention `encoder_attn` is `cross_q/k/v/o`"),
    Family("opt", ("opt",), "self_attn.out_proj",
           (("self_attn.q_proj", "q"), ("self_attn.k_proj", "k"), ("self_attn.v_proj", "v"),
            ("self_attn.out_proj", "o"), ("fc1", "ffn_in"), ("fc2", "ffn_out"), ("embed_tokens", "embedding"),
            ("embed_positions", "embedding"))),
    Family("t5", ("t5", "mt5", "umt5"), "DenseReluDense",
           (*_T5_ATTENTION, ("DenseReluDense.wi", "ffn_in"), ("DenseReluDense.wi_0", "gate"),
            ("DenseReluDense.wi_1", "up"), ("DenseReluDense.wo", "ffn_out"), ("shared", "embedding"),
            ("relative_attention_bias", "embedding"),
            ("embed_tokens", "embedding")),
           encoder_decoder=True, note="cross-attention `EncDecAttention` is `cross_q/k/v/o`; gated `wi_0` "
                                      "is gate, `wi_1` up"),
    Family("deepseek", ("deepseek_v2", "deepseek_v3"), "kv_a_proj_with_mqa",
           (("self_attn.q_proj", "q"), ("self_attn.q_a_proj", "q_a"), ("self_attn.q_b_proj", "q_b"),
            ("self_attn.kv_a_proj_with_mqa", "kv_a"), ("self_attn.kv_b_proj", "kv_b"),
            ("self_attn.o_proj", "o"),
            *_GATED, *_ROUTED, *_SHARED, ("mlp.gate", "router"), *_STACKS, ("embed_tokens", "embedding")),
           (("kv_b", Split(("k", "v"), "kv_heads", text="`kv_b_proj` (heads x (nope + v), kv_lora_rank) per "
                                                        "head: the first qk_nope_head_dim rows k, the next "
                                                        "v_head_dim rows v")),
            *_STACK_SPLITS),
           note="dense first layers `mlp.*_proj`; routed `mlp.experts.N.*`; shared `mlp.shared_experts.*`"),
    Family("gpt_oss", ("gpt_oss",), "mlp.router",
           (*_LLAMA_ATTENTION, ("mlp.router", "router"), *_STACKS, ("embed_tokens", "embedding")),
           (("ffn_in", Split(("gate", "up"), "interleaved", stacked=True,
                             text="stack `experts.gate_up_proj` (E, h, 2i): per expert, gate and up "
                                  "columns alternate (gate first)")),
            ("down", Split(("down",), "rows", stacked=True,
                           text="stack `experts.down_proj` (E, i, h): per expert")),
            )),
    Family("mixtral", ("mixtral",), "block_sparse_moe",
           (*_LLAMA_ATTENTION, ("experts.N.w1", "gate"), ("experts.N.w3", "up"), ("experts.N.w2", "down"),
            ("block_sparse_moe.gate", "router"), ("mlp.gate", "router"), *_STACKS,
            ("embed_tokens", "embedding")),
           _STACK_SPLITS,
           note="on disk `block_sparse_moe.experts.N.w1/w3/w2`; in memory `mlp.experts.*` stacks"),
    Family("qwen2_moe", ("qwen2_moe", "qwen3_moe", "olmoe"), "mlp.experts.",
           (*_LLAMA_ATTENTION, *_ROUTED, *_SHARED, ("shared_expert_gate", "router"), ("mlp.gate", "router"),
            *_GATED, *_STACKS, ("embed_tokens", "embedding")),
           _STACK_SPLITS,
           note="also Qwen3-MoE and OLMoE; Qwen2-MoE's `mlp.shared_expert.*` is the shared expert"),
)
#: Rules every family shares (after its own).
COMMON_RULES: tuple[tuple[str, str], ...] = (("lm_head", "lm_head"),)
#: The order of the name vote's ties and of the signature search (more specific first).
SIGNATURE_ORDER: tuple[str, ...] = (
    "deepseek", "gpt_oss", "mixtral", "qwen2_moe", "bert", "gpt2", "bloom", "falcon", "gpt_neox", "olmo1",
    "phi3", "phi", "gptj", "t5", "bart", "opt", "starcoder2", "llama",
)


def rule_pattern(suffix: str) -> re.Pattern[str]:
    """The regular expression of a rule's dotted suffix (``N`` a number, ``*`` a word part).

    Examples
    --------
    >>> bool(rule_pattern("experts.N.w1").search("model.layers.0.block_sparse_moe.experts.7.w1"))
    True
    >>> bool(rule_pattern("wte").search("transformer.wte")), bool(rule_pattern("wte").search("x_wte"))
    (True, False)
    """
    parts = [r"\d+" if p == "N" else re.escape(p).replace(r"\*", r"\w+") for p in suffix.split(".")]
    return re.compile(r"(?:^|\.)" + r"\.".join(parts) + "$")


def family_markdown() -> str:
    """The family table in Markdown: each family, its ``model_type`` values, its matrices by kind
    and how its fused and stacked tensors are split."""
    lines = ["| family | `model_type` | names → kind | fused and stacked tensors |", "|:--|:--|:--|:--|"]
    for family in FAMILY_TABLE:
        names = ", ".join(f"`{suffix}` {kind}" for suffix, kind in family.rules)
        splits = "; ".join(split.text for _kind, split in family.splits) or "none"
        if family.note:
            splits += f" ({family.note})"
        lines.append(f"| {family.name} | {', '.join(family.model_types)} | {names} | {splits} |")
    return "\n".join(lines)


__all__ = ["COMMON_RULES", "FAMILY_TABLE", "SIGNATURE_ORDER", "Family", "Split", "family_markdown",
           "rule_pattern"]
