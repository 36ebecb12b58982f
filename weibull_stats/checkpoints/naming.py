"""Name every weight matrix by layer and kind, across model families.

Kinds
-----
``q``, ``k``, ``v``, ``o`` (attention), ``qkv`` (a merged query/key/value matrix, reported
whole and as its ``q``, ``k``, ``v`` parts), ``ffn_in``, ``ffn_out`` (a two-matrix MLP),
``gate``, ``up``, ``down`` (a gated MLP), ``embedding``, ``lm_head`` and ``other`` (anything
not recognised; it is still fitted).

Families
--------
========== ============================================ ===========================================
family     names (after the layer index)                fused matrices and how they are split
========== ============================================ ===========================================
bert       attention.self.query/key/value,              none
           attention.output.dense (o),
           intermediate.dense (ffn_in), output.dense
gpt2       attn.c_attn, attn.c_proj, mlp.c_fc,          ``c_attn`` is a Conv1D stored (in, out):
           mlp.c_proj                                    q, k, v are thirds of the *columns*
gpt_neox   attention.query_key_value, attention.dense,  ``query_key_value`` (3h, h) is laid out per
           mlp.dense_h_to_4h, mlp.dense_4h_to_h          head: view (heads, 3, head_dim, h)
llama      self_attn.q/k/v/o_proj, mlp.gate/up/down_proj none (also Mistral, Qwen2/3, OLMo-2, HF OLMo)
olmo1      att_proj, attn_out, ff_proj, ff_out           ``att_proj`` rows are q, k, v in order;
                                                         ``ff_proj`` rows are (up, gate) halves
phi3       self_attn.qkv_proj, self_attn.o_proj,         ``qkv_proj`` rows are q, k, v in order;
           mlp.gate_up_proj, mlp.down_proj               ``gate_up_proj`` rows are (gate, up) halves
========== ============================================ ===========================================

The family comes from ``config.json`` (``model_type``) when there is one, else from the
tensor names: a signature fragment (:data:`SIGNATURES`), else the family whose naming rules
match the most names (:func:`family_by_rules`), so a checkpoint without ``config.json`` is
named as it is with one. Head counts for the per-head split come from ``num_attention_heads``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

KINDS: tuple[str, ...] = (
    "q", "k", "v", "o", "qkv", "ffn_in", "ffn_out", "gate", "up", "down", "embedding", "lm_head", "other",
)
#: Kinds of the attention and FFN matrices of a transformer block.
BLOCK_KINDS: frozenset[str] = frozenset(
    {"q", "k", "v", "o", "qkv", "ffn_in", "ffn_out", "gate", "up", "down"}
)

FAMILIES: tuple[str, ...] = ("bert", "gpt2", "gpt_neox", "llama", "olmo1", "phi3", "unknown")

#: config.json ``model_type`` -> family.
MODEL_TYPES: dict[str, str] = {
    "bert": "bert", "roberta": "bert", "xlm-roberta": "bert", "electra": "bert",
    "gpt2": "gpt2",
    "gpt_neox": "gpt_neox",
    "llama": "llama", "mistral": "llama", "qwen2": "llama", "qwen3": "llama", "olmo": "llama",
    "olmo2": "llama", "olmo3": "llama", "gemma": "llama", "gemma2": "llama",
    "hf_olmo": "olmo1",
    "phi3": "phi3",
}

LAYER = re.compile(r"(?:^|\.)(?:layer|layers|h|blocks|block)\.(\d+)\.")

#: (family, regular expression on the name with its ``.weight`` suffix removed, kind).
#: Patterns are tried in order; the first match wins.
RULES: tuple[tuple[str, str, str], ...] = (
    ("bert", r"attention\.self\.query$", "q"),
    ("bert", r"attention\.self\.key$", "k"),
    ("bert", r"attention\.self\.value$", "v"),
    ("bert", r"attention\.output\.dense$", "o"),
    ("bert", r"intermediate\.dense$", "ffn_in"),
    ("bert", r"\.output\.dense$", "ffn_out"),
    ("bert", r"embeddings\.\w+_embeddings$", "embedding"),
    ("gpt2", r"attn\.c_attn$", "qkv"),
    ("gpt2", r"attn\.c_proj$", "o"),
    ("gpt2", r"mlp\.c_fc$", "ffn_in"),
    ("gpt2", r"mlp\.c_proj$", "ffn_out"),
    ("gpt2", r"(?:^|\.)(?:wte|wpe)$", "embedding"),
    ("gpt_neox", r"attention\.query_key_value$", "qkv"),
    ("gpt_neox", r"attention\.dense$", "o"),
    ("gpt_neox", r"mlp\.dense_h_to_4h$", "ffn_in"),
    ("gpt_neox", r"mlp\.dense_4h_to_h$", "ffn_out"),
    ("gpt_neox", r"(?:^|\.)embed_in$", "embedding"),
    ("gpt_neox", r"(?:^|\.)embed_out$", "lm_head"),
    ("llama", r"self_attn\.q_proj$", "q"),
    ("llama", r"self_attn\.k_proj$", "k"),
    ("llama", r"self_attn\.v_proj$", "v"),
    ("llama", r"self_attn\.o_proj$", "o"),
    ("llama", r"mlp\.gate_proj$", "gate"),
    ("llama", r"mlp\.up_proj$", "up"),
    ("llama", r"mlp\.down_proj$", "down"),
    ("llama", r"(?:^|\.)embed_tokens$", "embedding"),
    ("olmo1", r"blocks\.\d+\.att_proj$", "qkv"),
    ("olmo1", r"blocks\.\d+\.attn_out$", "o"),
    ("olmo1", r"blocks\.\d+\.ff_proj$", "ffn_in"),
    ("olmo1", r"blocks\.\d+\.ff_out$", "down"),
    ("olmo1", r"transformer\.wte$", "embedding"),
    ("olmo1", r"transformer\.ff_out$", "lm_head"),
    ("phi3", r"self_attn\.qkv_proj$", "qkv"),
    ("phi3", r"self_attn\.o_proj$", "o"),
    ("phi3", r"mlp\.gate_up_proj$", "ffn_in"),
    ("phi3", r"mlp\.down_proj$", "down"),
    ("phi3", r"(?:^|\.)embed_tokens$", "embedding"),
    ("*", r"(?:^|\.)lm_head$", "lm_head"),
)
_COMPILED = tuple((family, re.compile(pattern), kind) for family, pattern, kind in RULES)

#: Name fragments that identify a family when there is no config.json.
SIGNATURES: tuple[tuple[str, str], ...] = (
    ("attention.self.query", "bert"),
    ("attn.c_attn", "gpt2"),
    ("attention.query_key_value", "gpt_neox"),
    ("att_proj", "olmo1"),
    ("self_attn.q_proj", "llama"),
    ("self_attn.qkv_proj", "phi3"),
)


@dataclass(frozen=True, slots=True)
class MatrixRole:
    """What a stored matrix is.

    Attributes
    ----------
    layer : int or None
        Block index (None outside the blocks: embeddings, heads).
    kind : str
        One of :data:`KINDS`; for a fused matrix, the kind of the whole (``qkv``, or
        ``ffn_in`` for the fused up/gate projections of OLMo-1 and Phi-3).
    parts : tuple of str
        The kinds a fused matrix is split into (empty for a plain matrix).
    layout : str
        How to split: ``""`` (not fused), ``"columns"`` (equal or given blocks of columns,
        GPT-2 Conv1D), ``"rows"`` (blocks of rows, OLMo-1), ``"heads"`` (per-head
        interleaving, GPT-NeoX).
    """

    layer: int | None
    kind: str
    parts: tuple[str, ...] = ()
    layout: str = ""


def detect_family(config: Mapping[str, Any], names: Iterable[str]) -> str:
    """Model family from ``config.json``'s ``model_type``, else from the tensor names.

    Examples
    --------
    >>> detect_family({}, ["gpt_neox.layers.0.attention.query_key_value.weight"])
    'gpt_neox'
    >>> detect_family({"model_type": "qwen3"}, [])
    'llama'
    """
    model_type = str(config.get("model_type", "")).lower()
    if model_type in MODEL_TYPES:
        return MODEL_TYPES[model_type]
    names = list(names)
    for fragment, family in SIGNATURES:
        if any(fragment in name for name in names):
            return family
    return family_by_rules(names)


def family_by_rules(names: Iterable[str]) -> str:
    """The family whose naming rules match the most of ``names`` (``"unknown"`` when none does).

    Used when neither ``config.json`` nor a signature fragment (:data:`SIGNATURES`) tells the
    family: a checkpoint holding only some matrices (``model.layers.0.mlp.down_proj.weight``
    alone) is still named. Ties go to Llama (Phi-3 shares its ``o_proj``, ``down_proj`` and
    ``embed_tokens``), then BERT, GPT-2, GPT-NeoX, OLMo-1, Phi-3.

    Examples
    --------
    >>> family_by_rules(["model.layers.0.mlp.down_proj.weight", "model.layers.0.mlp.up_proj.weight"])
    'llama'
    >>> family_by_rules(["model.layers.0.mlp.gate_up_proj.weight"])
    'phi3'
    >>> family_by_rules(["linear.weight"])
    'unknown'
    """
    votes = dict.fromkeys(FAMILIES, 0)
    for name in names:
        base = name.removesuffix(".weight")
        for family in {f for f, pattern, _kind in _COMPILED if f != "*" and pattern.search(base)}:
            votes[family] += 1
    best = max(votes.values())
    if best == 0:
        return "unknown"
    order = ("llama", "bert", "gpt2", "gpt_neox", "olmo1", "phi3")
    return next(family for family in order if votes[family] == best)


def classify(name: str, family: str) -> MatrixRole:
    """Layer and kind of the 2-D tensor ``name`` in a checkpoint of ``family``.

    Unknown names get kind ``"other"`` (still fitted). Fused matrices get their parts.

    Examples
    --------
    >>> classify("encoder.layer.3.attention.self.key.weight", "bert")
    MatrixRole(layer=3, kind='k', parts=(), layout='')
    >>> classify("h.0.attn.c_attn.weight", "gpt2")
    MatrixRole(layer=0, kind='qkv', parts=('q', 'k', 'v'), layout='columns')
    >>> classify("pooler.dense.weight", "bert").kind
    'other'
    """
    base = name.removesuffix(".weight")
    match = LAYER.search(base)
    layer = int(match.group(1)) if match else None
    kind = "other"
    for rule_family, pattern, rule_kind in _COMPILED:
        if rule_family in (family, "*") and pattern.search(base):
            kind = rule_kind
            break
    if kind in ("embedding", "lm_head"):
        layer = None
    if kind == "qkv":
        layout = {"gpt2": "columns", "gpt_neox": "heads", "olmo1": "rows", "phi3": "rows"}[family]
        return MatrixRole(layer, kind, ("q", "k", "v"), layout)
    if family == "olmo1" and kind == "ffn_in":
        return MatrixRole(layer, kind, ("up", "gate"), "rows")
    if family == "phi3" and kind == "ffn_in":
        return MatrixRole(layer, kind, ("gate", "up"), "rows")
    return MatrixRole(layer, kind)


def part_sizes(role: MatrixRole, shape: tuple[int, ...], config: Mapping[str, Any], name: str) -> list[int]:
    """Sizes of the blocks of a fused matrix along its split axis.

    q, k, v are equal thirds unless the config gives fewer key/value heads
    (``n_kv_heads``/``num_key_value_heads``: q gets ``d_model`` rows, k and v
    ``n_kv_heads * head_dim`` each); fused up/gate projections are split in halves.
    """
    axis_size = shape[1] if role.layout == "columns" else shape[0]
    if role.parts == ("q", "k", "v"):
        heads = config.get("n_heads") or config.get("num_attention_heads")
        kv_heads = config.get("n_kv_heads") or config.get("num_key_value_heads") or heads
        if heads and kv_heads and kv_heads != heads:
            head_dim = (axis_size // (int(heads) + 2 * int(kv_heads)))
            sizes = [int(heads) * head_dim, int(kv_heads) * head_dim, int(kv_heads) * head_dim]
        else:
            sizes = [axis_size // 3] * 3
    else:
        sizes = [axis_size // len(role.parts)] * len(role.parts)
    if sum(sizes) != axis_size:
        raise ValueError(
            f"tensor {name!r}: fused {role.kind} matrix of shape {shape} cannot be split into "
            f"{', '.join(role.parts)} blocks"
        )
    return sizes


def split_fused(
    weight: np.ndarray, role: MatrixRole, config: Mapping[str, Any], name: str
) -> list[tuple[str, np.ndarray]]:
    """The parts of a fused matrix as ``(part kind, view)`` pairs, in :attr:`MatrixRole.parts` order.

    ``"columns"`` and ``"rows"`` cut consecutive blocks (see :func:`part_sizes`);
    ``"heads"`` views a ``(3 * hidden, hidden)`` matrix as ``(heads, 3, head_dim, hidden)`` and
    takes ``[:, i]`` for q, k, v (the GPT-NeoX layout; each part is returned as a
    ``(hidden, hidden)`` copy), using ``num_attention_heads`` from
    the config.

    Raises
    ------
    ValueError
        The shape does not fit the layout, or the head count is missing; the message names
        the tensor.

    Examples
    --------
    >>> role = classify("gpt_neox.layers.0.attention.query_key_value.weight", "gpt_neox")
    >>> w = np.arange(24.0).reshape(12, 2)       # 2 heads, head_dim 2, hidden 2
    >>> [(kind, part[:, 0].tolist()) for kind, part in split_fused(w, role, {"num_attention_heads": 2}, "w")]
    [('q', [0.0, 2.0, 12.0, 14.0]), ('k', [4.0, 6.0, 16.0, 18.0]), ('v', [8.0, 10.0, 20.0, 22.0])]
    """
    if weight.ndim != 2:
        raise ValueError(f"tensor {name!r}: a fused matrix must be 2-D; got shape {weight.shape}")
    if role.layout == "heads":
        heads = config.get("num_attention_heads")
        if not heads:
            raise ValueError(
                f"tensor {name!r}: splitting a per-head fused qkv matrix needs num_attention_heads "
                "from config.json"
            )
        heads = int(heads)
        rows, cols = weight.shape
        if rows % (3 * heads):
            raise ValueError(
                f"tensor {name!r}: {rows} rows are not 3 x {heads} heads x head_dim "
                "(check num_attention_heads in config.json)"
            )
        view = weight.reshape(heads, 3, rows // (3 * heads), cols)
        return [(part, view[:, i].reshape(rows // 3, cols)) for i, part in enumerate(role.parts)]
    sizes = part_sizes(role, weight.shape, config, name)
    bounds = np.cumsum([0, *sizes])
    if role.layout == "columns":
        return [(p, weight[:, a:b]) for p, a, b in zip(role.parts, bounds[:-1], bounds[1:], strict=True)]
    if role.layout == "rows":
        return [(p, weight[a:b]) for p, a, b in zip(role.parts, bounds[:-1], bounds[1:], strict=True)]
    raise ValueError(f"tensor {name!r}: not a fused matrix (kind {role.kind!r})")
