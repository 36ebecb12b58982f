"""Name every weight matrix by layer, kind and expert, across model families.

Kinds
-----
``q``, ``k``, ``v``, ``o`` (attention), ``qkv`` (a merged query/key/value matrix, reported
whole and as its ``q``, ``k``, ``v`` parts), ``ffn_in``, ``ffn_out`` (a two-matrix MLP),
``gate``, ``up``, ``down`` (a gated MLP, and every expert's FFN), ``router`` (a
mixture-of-experts router), ``q_a``, ``q_b``, ``kv_a``, ``kv_b`` (DeepSeek's latent attention
projections; ``kv_b`` is also reported as its ``k`` and ``v`` parts), ``cross_q``, ``cross_k``,
``cross_v``, ``cross_o`` (the cross-attention of an encoder–decoder), ``embedding``,
``lm_head`` and ``other`` (anything not recognised; it is still fitted).

Experts and stacks
------------------
A matrix of one expert (``experts.7.w1``) carries the expert's index; a shared expert
(``shared_expert.*``, ``shared_experts.*``) carries the shared marker. A 3-D stack of
experts (``experts.gate_up_proj`` of shape (E, a, b)) is cut into one matrix per expert (and
per part where gate and up are fused), labelled ``e<index>`` or ``e<index>.<kind>``; the
stack itself is no matrix and gets no row. In an encoder–decoder every block matrix carries
its side (``encoder``/``decoder``).

Families
--------
The family comes from ``config.json`` (``model_type``) when there is one, else from the
tensor names: a signature fragment, else the family whose naming rules match the most names
(:func:`family_by_rules`), so a checkpoint without ``config.json`` is named as it is with one.
Head counts for the per-head splits come from the config. The families, their names and
splits are declared once, in :data:`weibull_stats.checkpoints._families.FAMILY_TABLE`;
:func:`~weibull_stats.checkpoints._families.family_markdown` renders them for the family
table of ``docs/scanning.md`` and, at import, below (``help()`` shows it):

"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np

from weibull_stats.checkpoints._families import (
    COMMON_RULES,
    FAMILY_TABLE,
    SIGNATURE_ORDER,
    Split,
    family_markdown,
    rule_pattern,
)

__doc__ += family_markdown() + "\n"

KINDS: tuple[str, ...] = (
    "q", "k", "v", "o", "qkv", "ffn_in", "ffn_out", "gate", "up", "down", "router", "q_a", "q_b", "kv_a",
    "kv_b", "cross_q", "cross_k", "cross_v", "cross_o", "embedding", "lm_head", "other",
)
#: Kinds of the attention and FFN matrices of a transformer block.
BLOCK_KINDS: frozenset[str] = frozenset(KINDS) - {"embedding", "lm_head", "other"}

FAMILIES: tuple[str, ...] = (*(f.name for f in FAMILY_TABLE), "unknown")

#: config.json ``model_type`` -> family.
MODEL_TYPES: dict[str, str] = {t.lower(): f.name for f in FAMILY_TABLE for t in f.model_types}

LAYER = re.compile(r"(?:^|\.)(?:layer|layers|h|blocks|block)\.(\d+)\.")
EXPERT = re.compile(r"(?:^|\.)experts\.(\d+)\.")
SHARED = re.compile(r"(?:^|\.)shared_experts?\.")
SIDE = re.compile(r"(?:^|\.)(encoder|decoder)\.")
#: A 2-D tensor of bias vectors (gpt-oss ``experts.down_proj_bias``, BART ``final_logits_bias``).
BIAS_ROWS = re.compile(r"(?:^|[._])bias$")
#: A stacked expert's part label: ``e<index>`` or ``e<index>.<kind>``.
STACK_PART = re.compile(r"^e(\d+)(?:\.(\w+))?$")

#: (family, compiled rule, kind), each family's rules then the common ones.
_COMPILED = tuple((f.name, rule_pattern(suffix), kind) for f in FAMILY_TABLE for suffix, kind in
                  (*f.rules, *COMMON_RULES))
_BY_NAME = {f.name: f for f in FAMILY_TABLE}
#: Name fragments that identify a family when there is no config.json, most specific first.
SIGNATURES: tuple[tuple[str, str], ...] = tuple((_BY_NAME[name].signature, name) for name in SIGNATURE_ORDER)


@dataclass(frozen=True, slots=True)
class MatrixRole:
    """What a stored tensor is.

    Attributes
    ----------
    layer : int or None
        Block index (None outside the blocks: embeddings, heads).
    kind : str
        One of :data:`KINDS`; for a fused matrix, the kind of the whole (``qkv``, ``kv_b``, or
        ``ffn_in`` for fused up/gate projections).
    parts : tuple of str
        The labels of the parts a fused matrix or an expert stack is cut into (empty for a
        plain matrix): kinds, or ``e<index>[.<kind>]`` for a stack.
    layout : str
        How to cut (see :class:`~weibull_stats.checkpoints._families.Split`); ``""`` for a plain matrix.
    expert : int or None
        The expert's index of a matrix stored one per expert.
    shared : bool
        A shared expert's matrix.
    side : str
        ``"encoder"`` or ``"decoder"`` in an encoder–decoder, ``""`` otherwise.
    whole : bool
        Whether the tensor itself is a matrix with a row (False for an expert stack).
    """

    layer: int | None
    kind: str
    parts: tuple[str, ...] = ()
    layout: str = ""
    expert: int | None = None
    shared: bool = False
    side: str = ""
    whole: bool = True

    def part_kind(self, part: str) -> str:
        """The kind of the row of ``part`` (``""``: the whole tensor)."""
        match = STACK_PART.match(part)
        if match:
            return match.group(2) or self.kind
        return part or self.kind

    def part_expert(self, part: str) -> int | None:
        """The expert index of the row of ``part``."""
        match = STACK_PART.match(part)
        return int(match.group(1)) if match else self.expert

    @property
    def rows(self) -> tuple[str, ...]:
        """The part labels of the rows this tensor gives (``""`` the whole)."""
        return (*([""] if self.whole else []), *self.parts)


def detect_family(config: Mapping[str, Any], names: Iterable[str]) -> str:
    """Model family from ``config.json``'s ``model_type``, else from the tensor names.

    Examples
    --------
    >>> detect_family({}, ["gpt_neox.layers.0.attention.query_key_value.weight"])
    'gpt_neox'
    >>> detect_family({"model_type": "qwen3"}, [])
    'llama'
    >>> detect_family({}, ["model.layers.0.block_sparse_moe.experts.0.w1.weight"])
    'mixtral'
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

    Used when neither ``config.json`` nor a signature fragment tells the family: a checkpoint
    holding only some matrices (``model.layers.0.mlp.down_proj.weight`` alone) is still named.
    Ties go to the first family of :data:`FAMILIES` (Llama first).

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
        for family in {f for f, pattern, kind in _COMPILED if kind != "lm_head" and pattern.search(base)}:
            votes[family] += 1
    best = max(votes.values())
    if best == 0:
        return "unknown"
    return next(family for family in FAMILIES if votes[family] == best)


def _split_of(family: str, kind: str) -> Split | None:
    found = _BY_NAME.get(family)
    return dict(found.splits).get(kind) if found else None


def classify(name: str, family: str, shape: tuple[int, ...] = ()) -> MatrixRole:
    """Layer, kind and expert of the tensor ``name`` of ``shape`` in a checkpoint of ``family``.

    Unknown names get kind ``"other"`` (still fitted). Fused matrices get their parts; a 3-D
    expert stack (``shape`` (E, a, b)) one part per expert and kind.

    Examples
    --------
    >>> classify("encoder.layer.3.attention.self.key.weight", "bert")
    MatrixRole(layer=3, kind='k', parts=(), layout='', expert=None, shared=False, side='', whole=True)
    >>> classify("h.0.attn.c_attn.weight", "gpt2").parts
    ('q', 'k', 'v')
    >>> role = classify("model.layers.1.block_sparse_moe.experts.7.w3.weight", "mixtral")
    >>> role.layer, role.kind, role.expert
    (1, 'up', 7)
    >>> classify("model.layers.0.mlp.experts.down_proj", "qwen2_moe", (2, 8, 4)).parts
    ('e0', 'e1')
    >>> classify("pooler.dense.weight", "bert").kind
    'other'
    """
    base = name.removesuffix(".weight")
    match = LAYER.search(base)
    layer = int(match.group(1)) if match else None
    kind = "other"
    for rule_family, pattern, rule_kind in _COMPILED:
        if rule_family == family and pattern.search(base):
            kind = rule_kind
            break
    else:
        if family not in _BY_NAME and rule_pattern("lm_head").search(base):
            kind = "lm_head"
    if kind in ("embedding", "lm_head"):
        layer = None
    expert_match = EXPERT.search(base)
    side_match = SIDE.search(base) if family in _BY_NAME and _BY_NAME[family].encoder_decoder else None
    role = MatrixRole(layer, kind, expert=int(expert_match.group(1)) if expert_match else None,
                      shared=bool(SHARED.search(base)), side=side_match.group(1) if side_match else "")
    split = _split_of(family, kind)
    if split is None:
        return role
    if split.stacked:
        if len(shape) != 3:  # a 2-D tensor of a stack's name: a plain matrix
            return role
        labels = tuple(f"e{e}" + (f".{p}" if len(split.parts) > 1 else "") for e in range(shape[0])
                       for p in split.parts)
        return MatrixRole(layer, kind, labels, split.layout, shared=role.shared, side=role.side, whole=False)
    return MatrixRole(layer, kind, split.parts, split.layout, role.expert, role.shared, role.side)


def is_stack(role: MatrixRole) -> bool:
    """Whether ``role`` is a 3-D expert stack (cut into one matrix per expert)."""
    return not role.whole


def part_sizes(role: MatrixRole, shape: tuple[int, ...], config: Mapping[str, Any], name: str) -> list[int]:
    """Sizes of the blocks of a fused matrix along its split axis.

    q, k, v are equal thirds unless the config gives fewer key/value heads
    (``n_kv_heads``/``num_key_value_heads``: q gets ``heads * head_dim`` rows, k and v
    ``kv_heads * head_dim`` each); other fused matrices are split in equal blocks.
    """
    axis_size = shape[1] if role.layout == "columns" else shape[0]
    parts = role.parts
    if parts == ("q", "k", "v"):
        heads = config.get("n_heads") or config.get("num_attention_heads")
        kv_heads = config.get("n_kv_heads") or config.get("num_key_value_heads") or heads
        if heads and kv_heads and kv_heads != heads:
            head_dim = (axis_size // (int(heads) + 2 * int(kv_heads)))
            sizes = [int(heads) * head_dim, int(kv_heads) * head_dim, int(kv_heads) * head_dim]
        else:
            sizes = [axis_size // 3] * 3
    else:
        sizes = [axis_size // len(parts)] * len(parts)
    if sum(sizes) != axis_size:
        raise ValueError(
            f"tensor {name!r}: fused {role.kind} matrix of shape {shape} cannot be split into "
            f"{', '.join(parts)} blocks"
        )
    return sizes


#: Other spellings of a config key (BLOOM's ``n_head``, early Falcon's ``n_head_kv``).
_ALIASES = {"num_attention_heads": ("num_attention_heads", "n_head", "n_heads"),
            "num_kv_heads": ("num_kv_heads", "n_head_kv")}


def _config_int(config: Mapping[str, Any], name: str, key: str, what: str) -> int:
    value = next((config[k] for k in _ALIASES.get(key, (key,)) if config.get(k)), None)
    if not value:
        raise ValueError(f"tensor {name!r}: splitting {what} needs {key} from config.json")
    return int(value)


def _head_view(weight: np.ndarray, groups: int, per_group: list[int], name: str, what: str
               ) -> list[np.ndarray]:
    """Rows viewed as ``(groups, sum(per_group), head_dim, cols)``: for each entry of
    ``per_group``, its consecutive heads of every group, as one matrix."""
    rows, cols = weight.shape
    unit = sum(per_group)
    if rows % (groups * unit):
        raise ValueError(f"tensor {name!r}: {rows} rows are not {what} x head_dim (check the head counts "
                         "in config.json)")
    view = weight.reshape(groups, unit, rows // (groups * unit), cols)
    bounds = np.cumsum([0, *per_group])
    return [view[:, a:b].reshape(-1, cols) for a, b in pairwise(bounds)]


def _split_matrix(weight: np.ndarray, layout: str, parts: tuple[str, ...], role: MatrixRole,
                  config: Mapping[str, Any], name: str) -> list[np.ndarray]:
    """The blocks of one 2-D matrix cut by ``layout`` into ``parts``."""
    if layout == "heads" or (layout == "falcon" and not config.get("new_decoder_architecture")
                             and config.get("multi_query") is False):
        heads = _config_int(config, name, "num_attention_heads", "a per-head fused qkv matrix")
        return _head_view(weight, heads, [1] * len(parts), name, f"{len(parts)} x {heads} heads")
    if layout == "falcon" and config.get("new_decoder_architecture"):
        heads = _config_int(config, name, "num_attention_heads", "Falcon's grouped query_key_value")
        kv = next((int(config[k]) for k in _ALIASES["num_kv_heads"] if config.get(k)), heads)
        return _head_view(weight, kv, [heads // kv, 1, 1], name, f"{kv} kv groups x {heads // kv + 2} heads")
    if layout == "kv_heads":
        heads = _config_int(config, name, "num_attention_heads", "kv_b_proj")
        nope = _config_int(config, name, "qk_nope_head_dim", "kv_b_proj")
        value = _config_int(config, name, "v_head_dim", "kv_b_proj")
        rows, cols = weight.shape
        if rows != heads * (nope + value):
            raise ValueError(f"tensor {name!r}: {rows} rows are not {heads} heads x ({nope} + {value}) "
                             "(check num_attention_heads, qk_nope_head_dim, v_head_dim in config.json)")
        view = weight.reshape(heads, nope + value, cols)
        return [view[:, :nope].reshape(-1, cols), view[:, nope:].reshape(-1, cols)]
    if layout == "interleaved":
        if weight.shape[1] % len(parts):
            raise ValueError(f"tensor {name!r}: {weight.shape[1]} columns do not alternate between "
                             f"{', '.join(parts)}")
        return [weight[:, i::len(parts)] for i in range(len(parts))]
    if layout == "falcon":  # multi-query: q heads, one k head, one v head, in rows
        heads = _config_int(config, name, "num_attention_heads", "Falcon's multi-query query_key_value")
        head_view = _head_view(weight, 1, [heads, 1, 1], name, f"({heads} + 2) heads")
        return head_view
    if layout in ("rows", "columns"):
        sizes = part_sizes(MatrixRole(role.layer, role.kind, parts, layout), weight.shape, config, name)
        bounds = np.cumsum([0, *sizes])
        cuts = list(pairwise(bounds))
        return [weight[:, a:b] if layout == "columns" else weight[a:b] for a, b in cuts]
    raise ValueError(f"tensor {name!r}: not a fused matrix (kind {role.kind!r})")


def split_fused(
    weight: np.ndarray, role: MatrixRole, config: Mapping[str, Any], name: str
) -> list[tuple[str, np.ndarray]]:
    """The parts of a fused matrix or expert stack as ``(part label, matrix)`` pairs, in
    :attr:`MatrixRole.parts` order.

    ``"columns"`` and ``"rows"`` cut consecutive blocks (see :func:`part_sizes`);
    ``"heads"`` views a ``(3 * hidden, hidden)`` matrix as ``(heads, 3, head_dim, hidden)`` and
    takes ``[:, i]`` for q, k, v (GPT-NeoX, BLOOM), using ``num_attention_heads`` from the config;
    ``"falcon"`` cuts Falcon's query_key_value as its config lays it out (new decoder
    architecture: ``(num_kv_heads, heads / kv + 2, head_dim, hidden)``, the q heads then k then v
    of each group; multi-query: rows of q heads, one k head, one v head; else per head);
    ``"kv_heads"`` views DeepSeek's ``kv_b_proj`` as ``(heads, qk_nope_head_dim + v_head_dim,
    kv_lora_rank)``; ``"interleaved"`` takes alternate columns. An expert stack ``(E, a, b)``
    gives each expert's ``(a, b)`` matrix, cut so when gate and up are fused.

    Raises
    ------
    ValueError
        The shape does not fit the layout, or a head count is missing; the message names
        the tensor.

    Examples
    --------
    >>> role = classify("gpt_neox.layers.0.attention.query_key_value.weight", "gpt_neox")
    >>> w = np.arange(24.0).reshape(12, 2)       # 2 heads, head_dim 2, hidden 2
    >>> [(kind, part[:, 0].tolist()) for kind, part in split_fused(w, role, {"num_attention_heads": 2}, "w")]
    [('q', [0.0, 2.0, 12.0, 14.0]), ('k', [4.0, 6.0, 16.0, 18.0]), ('v', [8.0, 10.0, 20.0, 22.0])]
    >>> stack = classify("model.layers.0.mlp.experts.gate_up_proj", "gpt_oss", (2, 3, 4))
    >>> [(label, m.shape) for label, m in split_fused(np.ones((2, 3, 4)), stack, {}, "s")]
    [('e0.gate', (3, 2)), ('e0.up', (3, 2)), ('e1.gate', (3, 2)), ('e1.up', (3, 2))]
    """
    if is_stack(role):
        if weight.ndim != 3 or len(role.parts) % weight.shape[0]:
            raise ValueError(f"tensor {name!r}: an expert stack must be 3-D (experts, rows, cols); "
                             f"got shape {weight.shape}")
        kinds = tuple(role.part_kind(p) for p in role.parts[: len(role.parts) // weight.shape[0]])
        found: list[tuple[str, np.ndarray]] = []
        for e in range(weight.shape[0]):
            blocks = (_split_matrix(weight[e], role.layout, kinds, role, config, name) if len(kinds) > 1
                      else [weight[e]])
            found += [(f"e{e}" + (f".{k}" if len(kinds) > 1 else ""), b)
                      for k, b in zip(kinds, blocks, strict=True)]
        return found
    if weight.ndim != 2:
        raise ValueError(f"tensor {name!r}: a fused matrix must be 2-D; got shape {weight.shape}")
    blocks = _split_matrix(weight, role.layout, role.parts, role, config, name)
    return list(zip(role.parts, blocks, strict=True))
