"""Small synthetic checkpoints in the tensor layouts of real model families, and a safetensors writer.

For tests, documentation and benchmarks: :func:`synthetic_state` builds a state dict with the
names, shapes and dtypes that each family stores (biases, norms and integer buffers included),
filled with seeded Gaussian weights; :func:`write_safetensors` writes any dict of arrays in
the safetensors format, bfloat16 included (rounded to nearest even), without torch.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np

#: Families :func:`synthetic_state` can lay out.
LAYOUTS: tuple[str, ...] = ("bert", "gpt2", "gpt_neox", "llama", "qwen3", "olmo1", "olmo2", "phi3")
_CODES: dict[str, str] = {
    "float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16", "int64": "I64", "bool": "BOOL",
}
_BFLOAT16 = np.dtype(ml_dtypes.bfloat16)


def to_bfloat16_bits(values: np.ndarray) -> np.ndarray:
    """bfloat16 bit patterns (uint16) of float32 ``values``, rounded to nearest even.

    An ``ml_dtypes.bfloat16`` array gives its own bit patterns.

    Examples
    --------
    >>> to_bfloat16_bits(np.array([1.0, -2.0], dtype=np.float32)).tolist()
    [16256, 49152]
    """
    if np.asarray(values).dtype == _BFLOAT16:
        return np.ascontiguousarray(values).view(np.uint16)
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    rounding = ((bits >> 16) & 1) + np.uint32(0x7FFF)
    return ((bits + rounding) >> 16).astype(np.uint16)


def write_safetensors(path: str | Path, tensors: Mapping[str, np.ndarray], *, dtype: str | None = None,
                      metadata: Mapping[str, str] | None = None) -> Path:
    """Write ``tensors`` to a safetensors file.

    Parameters
    ----------
    path : path
    tensors : mapping of name to numpy array
        float64, float32, float16, ``ml_dtypes.bfloat16``, int64 or bool arrays.
    dtype : {"F64", "F32", "F16", "BF16"}, optional
        Store every floating array in this dtype (default: each array's own dtype).
        bfloat16 is rounded to nearest even.
    metadata : mapping of str to str, optional
        The header's ``__metadata__``.

    Returns
    -------
    pathlib.Path
    """
    header: dict[str, Any] = {"__metadata__": dict(metadata)} if metadata else {}
    blobs: list[bytes] = []
    offset = 0
    for name, array in tensors.items():
        array = np.asarray(array)
        floating = array.dtype.kind == "f" or array.dtype == _BFLOAT16
        code = dtype if dtype is not None and floating else _CODES.get(array.dtype.name)
        if code is None:
            raise ValueError(f"tensor {name!r}: dtype {array.dtype} cannot be written")
        if code == "BF16":
            blob = to_bfloat16_bits(array).astype("<u2").tobytes()
        else:
            numpy_dtype = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "BOOL": "?"}[code]
            blob = np.ascontiguousarray(array, dtype=numpy_dtype).tobytes()
        header[name] = {"dtype": code, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    path = Path(path)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(raw)))
        handle.write(raw)
        for blob in blobs:
            handle.write(blob)
    return path


def synthetic_state(
    family: str, *, layers: int = 2, hidden: int = 16, heads: int = 2, kv_heads: int | None = None,
    vocab: int = 64, sigma: float = 0.02, rng: np.random.Generator | int | None = 0,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A float32 state dict and a ``config.json`` dict laid out like ``family``.

    Weights are ``N(0, sigma^2)``; norms are ones, biases zeros; BERT carries an int64
    ``position_ids`` buffer and GPT-2 a 4-D causal-mask buffer, as real checkpoints do.

    Parameters
    ----------
    family : str
        One of :data:`LAYOUTS`.
    layers, hidden, heads : int
    kv_heads : int, optional
        Key/value heads of the Llama-like families (grouped-query attention); default ``heads``.
    vocab : int
    sigma : float
    rng : numpy.random.Generator, int or None

    Returns
    -------
    (dict, dict)

    Examples
    --------
    >>> state, config = synthetic_state("gpt_neox", layers=1, hidden=8, heads=2)
    >>> state["gpt_neox.layers.0.attention.query_key_value.weight"].shape, config["model_type"]
    ((24, 8), 'gpt_neox')
    """
    if family not in LAYOUTS:
        raise ValueError(f"unknown family {family!r}; layouts: {', '.join(LAYOUTS)}")
    generator = np.random.default_rng(rng)
    kv = heads if kv_heads is None else kv_heads
    head_dim = hidden // heads
    ffn = 4 * hidden
    shapes: dict[str, tuple[int, ...]] = {}
    config: dict[str, Any] = {"num_attention_heads": heads, "hidden_size": hidden,
                              "num_hidden_layers": layers, "vocab_size": vocab}
    if family == "bert":
        config["model_type"] = "bert"
        shapes.update({"embeddings.word_embeddings.weight": (vocab, hidden),
                       "embeddings.position_embeddings.weight": (32, hidden),
                       "embeddings.LayerNorm.weight": (hidden,)})
        for i in range(layers):
            p = f"encoder.layer.{i}."
            for name in ("query", "key", "value"):
                shapes[p + f"attention.self.{name}.weight"] = (hidden, hidden)
                shapes[p + f"attention.self.{name}.bias"] = (hidden,)
            shapes[p + "attention.output.dense.weight"] = (hidden, hidden)
            shapes[p + "attention.output.LayerNorm.weight"] = (hidden,)
            shapes[p + "intermediate.dense.weight"] = (ffn, hidden)
            shapes[p + "output.dense.weight"] = (hidden, ffn)
            shapes[p + "output.LayerNorm.weight"] = (hidden,)
        shapes["pooler.dense.weight"] = (hidden, hidden)
    elif family == "gpt2":
        config["model_type"] = "gpt2"
        shapes.update({"wte.weight": (vocab, hidden), "wpe.weight": (32, hidden)})
        for i in range(layers):
            p = f"h.{i}."
            shapes.update({p + "ln_1.weight": (hidden,), p + "attn.c_attn.weight": (hidden, 3 * hidden),
                           p + "attn.c_attn.bias": (3 * hidden,), p + "attn.c_proj.weight": (hidden, hidden),
                           p + "attn.bias": (1, 1, 8, 8), p + "ln_2.weight": (hidden,),
                           p + "mlp.c_fc.weight": (hidden, ffn), p + "mlp.c_proj.weight": (ffn, hidden)})
        shapes["ln_f.weight"] = (hidden,)
    elif family == "gpt_neox":
        config["model_type"] = "gpt_neox"
        shapes["gpt_neox.embed_in.weight"] = (vocab, hidden)
        for i in range(layers):
            p = f"gpt_neox.layers.{i}."
            shapes.update({p + "input_layernorm.weight": (hidden,),
                           p + "attention.query_key_value.weight": (3 * hidden, hidden),
                           p + "attention.query_key_value.bias": (3 * hidden,),
                           p + "attention.dense.weight": (hidden, hidden),
                           p + "mlp.dense_h_to_4h.weight": (ffn, hidden),
                           p + "mlp.dense_4h_to_h.weight": (hidden, ffn)})
        shapes.update({"gpt_neox.final_layer_norm.weight": (hidden,), "embed_out.weight": (vocab, hidden)})
    elif family == "olmo1":
        config.update(model_type="hf_olmo", n_heads=heads, d_model=hidden)
        shapes["model.transformer.wte.weight"] = (vocab, hidden)
        for i in range(layers):
            p = f"model.transformer.blocks.{i}."
            shapes.update({p + "att_proj.weight": (hidden + 2 * kv * head_dim, hidden),
                           p + "attn_out.weight": (hidden, hidden), p + "ff_proj.weight": (2 * ffn, hidden),
                           p + "ff_out.weight": (hidden, ffn)})
        shapes["model.transformer.ff_out.weight"] = (vocab, hidden)
    elif family == "phi3":
        config.update(model_type="phi3", num_key_value_heads=kv)
        shapes["model.embed_tokens.weight"] = (vocab, hidden)
        for i in range(layers):
            p = f"model.layers.{i}."
            shapes.update({p + "self_attn.qkv_proj.weight": (hidden + 2 * kv * head_dim, hidden),
                           p + "self_attn.o_proj.weight": (hidden, hidden),
                           p + "mlp.gate_up_proj.weight": (2 * ffn, hidden),
                           p + "mlp.down_proj.weight": (hidden, ffn),
                           p + "input_layernorm.weight": (hidden,)})
        shapes.update({"model.norm.weight": (hidden,), "lm_head.weight": (vocab, hidden)})
    else:  # llama, qwen3, olmo2
        config.update(model_type=family, num_key_value_heads=kv)
        shapes["model.embed_tokens.weight"] = (vocab, hidden)
        for i in range(layers):
            p = f"model.layers.{i}."
            shapes.update({p + "self_attn.q_proj.weight": (hidden, hidden),
                           p + "self_attn.k_proj.weight": (kv * head_dim, hidden),
                           p + "self_attn.v_proj.weight": (kv * head_dim, hidden),
                           p + "self_attn.o_proj.weight": (hidden, hidden),
                           p + "mlp.gate_proj.weight": (ffn, hidden), p + "mlp.up_proj.weight": (ffn, hidden),
                           p + "mlp.down_proj.weight": (hidden, ffn),
                           p + "input_layernorm.weight": (hidden,)})
            if family == "qwen3":
                shapes.update({p + "self_attn.q_norm.weight": (head_dim,),
                               p + "self_attn.k_norm.weight": (head_dim,)})
            if family == "olmo2":
                shapes.update({p + "self_attn.q_norm.weight": (hidden,),
                               p + "self_attn.k_norm.weight": (kv * head_dim,)})
        shapes.update({"model.norm.weight": (hidden,), "lm_head.weight": (vocab, hidden)})
    state: dict[str, np.ndarray] = {}
    for name, shape in shapes.items():
        if name.endswith(".attn.bias"):
            state[name] = np.tril(np.ones(shape, dtype=np.float32))
        elif len(shape) == 1:
            fill = 0.0 if name.endswith(".bias") else 1.0
            state[name] = np.full(shape, fill, dtype=np.float32)
        else:
            state[name] = generator.normal(0.0, sigma, shape).astype(np.float32)
    if family == "bert":
        state["embeddings.position_ids"] = np.arange(32, dtype=np.int64).reshape(1, 32)
    return state, config


def write_checkpoint(folder: str | Path, state: Mapping[str, np.ndarray], config: Mapping[str, Any], *,
                     dtype: str | None = None, shards: int = 1) -> Path:
    """Write a Hugging Face-style folder: ``config.json`` and safetensors weights.

    With ``shards > 1`` the tensors are spread over ``model-0000i-of-0000n.safetensors``
    files with a ``model.safetensors.index.json``. Returns the folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(dict(config), indent=2), encoding="utf-8")
    if shards <= 1:
        write_safetensors(folder / "model.safetensors", state, dtype=dtype, metadata={"format": "pt"})
        return folder
    names = list(state)
    weight_map: dict[str, str] = {}
    for index, group in enumerate(np.array_split(np.arange(len(names)), shards)):
        file = f"model-{index + 1:05d}-of-{shards:05d}.safetensors"
        part = {names[i]: state[names[i]] for i in group}
        write_safetensors(folder / file, part, dtype=dtype, metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(part, file))
    index_file = folder / "model.safetensors.index.json"
    index_file.write_text(json.dumps({"metadata": {}, "weight_map": weight_map}, indent=2), encoding="utf-8")
    return folder
