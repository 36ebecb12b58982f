"""Dense and encoder–decoder families named and split, tested against transformers' own writer.

Each test builds a tiny model from the family's transformers config class, scales the q, k
and v parts of each attention projection (and up of each gated MLP) by different factors
through the family's own layout (:mod:`tests.family_models`), saves it sharded in bf16 and
scans the folder and the live module: every block matrix is there with its kind, layer and
side, each split part has its factor's scale, and the live module gives the rows of its files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.family_models import block, check_family, redraw, scale_by_suffix, scale_heads

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

LAYERS = range(2)
SMALL = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, vocab_size=64,
             tie_word_embeddings=False)
QKV = {"q_proj": "q", "k_proj": "k", "v_proj": "v"}
GATED = {**QKV, "up_proj": "up"}
LLAMA_KINDS = ("q", "k", "v", "o", "gate", "up", "down")
TWO_MATRIX = ("q", "k", "v", "o", "ffn_in", "ffn_out")


@pytest.mark.parametrize("name", ["gemma2", "gemma3", "stablelm"])
def test_llama_like(tmp_path: Path, name: str) -> None:
    """Gemma 2, Gemma 3 (text) and StableLM name their matrices as Llama does."""
    if name == "gemma2":
        model = transformers.Gemma2ForCausalLM(transformers.Gemma2Config(
            **SMALL, intermediate_size=96, head_dim=16, num_key_value_heads=2))
    elif name == "gemma3":
        model = transformers.Gemma3ForCausalLM(transformers.Gemma3TextConfig(
            **SMALL, intermediate_size=96, head_dim=16, num_key_value_heads=2))
    else:
        model = transformers.StableLmForCausalLM(transformers.StableLmConfig(
            **SMALL, intermediate_size=96, num_key_value_heads=2))
    redraw(model)
    scale_by_suffix(model, GATED)
    check_family(model, tmp_path, "llama", block(LAYERS, LLAMA_KINDS))


def test_gptj(tmp_path: Path) -> None:
    model = transformers.GPTJForCausalLM(transformers.GPTJConfig(
        n_embd=64, n_layer=2, n_head=4, vocab_size=64, rotary_dim=8, n_inner=96, tie_word_embeddings=False))
    redraw(model)
    scale_by_suffix(model, QKV)
    check_family(model, tmp_path, "gptj", block(LAYERS, TWO_MATRIX))


def test_opt(tmp_path: Path) -> None:
    model = transformers.OPTForCausalLM(transformers.OPTConfig(
        hidden_size=64, ffn_dim=96, num_hidden_layers=2, num_attention_heads=4, vocab_size=64,
        word_embed_proj_dim=64, max_position_embeddings=64, tie_word_embeddings=False))
    redraw(model)
    scale_by_suffix(model, QKV)
    saved, _ = check_family(model, tmp_path, "opt", block(LAYERS, TWO_MATRIX))
    assert saved.loc[saved["tensor"].str.endswith("self_attn.out_proj.weight"), "kind"].eq("o").all()


def test_phi(tmp_path: Path) -> None:
    model = transformers.PhiForCausalLM(transformers.PhiConfig(**SMALL, intermediate_size=96))
    redraw(model)
    scale_by_suffix(model, QKV)
    check_family(model, tmp_path, "phi", block(LAYERS, TWO_MATRIX))


def test_starcoder2(tmp_path: Path) -> None:
    model = transformers.Starcoder2ForCausalLM(transformers.Starcoder2Config(
        **SMALL, intermediate_size=96, num_key_value_heads=2))
    redraw(model)
    scale_by_suffix(model, QKV)
    check_family(model, tmp_path, "starcoder2", block(LAYERS, TWO_MATRIX))


FUSED = ("qkv", "q", "k", "v", "o", "ffn_in", "ffn_out")


def test_bloom_per_head(tmp_path: Path) -> None:
    """BLOOM's query_key_value (3h, h) is per head: view (heads, 3, head_dim, h), as _split_heads reads it."""
    model = transformers.BloomForCausalLM(transformers.BloomConfig(
        hidden_size=64, n_layer=2, n_head=4, vocab_size=64, tie_word_embeddings=False))
    redraw(model)
    scale_heads(model, "query_key_value", lambda w: w.view(4, 3, 16, -1), [(0, "q"), (1, "k"), (2, "v")])
    check_family(model, tmp_path, "bloom", block(LAYERS, FUSED))


@pytest.mark.parametrize("layout", ["multi_query", "new_decoder_architecture", "per_head"])
def test_falcon(tmp_path: Path, layout: str) -> None:
    """Falcon's query_key_value in each of its three layouts, as FalconAttention._split_heads reads them."""
    heads, head_dim = 4, 16
    options = dict(SMALL, num_attention_heads=heads)
    if layout == "multi_query":  # rows: the q heads, one k head, one v head
        config = transformers.FalconConfig(**options, multi_query=True)
        view = lambda w: w.view(1, heads + 2, head_dim, -1)  # noqa: E731
        slots = [(slice(0, heads), "q"), (heads, "k"), (heads + 1, "v")]
    elif layout == "new_decoder_architecture":  # per kv group: its q heads, then k, then v
        config = transformers.FalconConfig(**options, new_decoder_architecture=True, num_kv_heads=2)
        view = lambda w: w.view(2, heads // 2 + 2, head_dim, -1)  # noqa: E731
        slots = [(slice(0, -2), "q"), (-2, "k"), (-1, "v")]
    else:  # multi_query False: per head (heads, 3, head_dim, h)
        config = transformers.FalconConfig(**options, multi_query=False)
        view = lambda w: w.view(heads, 3, head_dim, -1)  # noqa: E731
        slots = [(0, "q"), (1, "k"), (2, "v")]
    model = transformers.FalconForCausalLM(config)
    redraw(model)
    scale_heads(model, "query_key_value", view, slots)
    saved, _ = check_family(model, tmp_path, "falcon", block(LAYERS, FUSED))
    parts = saved[saved["part"] != ""]
    kv = {"multi_query": 1, "new_decoder_architecture": 2, "per_head": heads}[layout]
    assert set(zip(parts["part"], parts["rows"], strict=True)) == {
        ("q", heads * head_dim), ("k", kv * head_dim), ("v", kv * head_dim)}


@pytest.mark.parametrize("feed_forward", ["relu", "gated-gelu"])
def test_t5(tmp_path: Path, feed_forward: str) -> None:
    """T5: self- and cross-attention q/k/v/o, wi/wo or gated wi_0/wi_1, each with its side."""
    model = transformers.T5ForConditionalGeneration(transformers.T5Config(
        d_model=64, d_kv=16, d_ff=96, num_layers=2, num_heads=4, vocab_size=64,
        feed_forward_proj=feed_forward,
        tie_word_embeddings=False))
    redraw(model)
    scale_by_suffix(model, {"SelfAttention.k": "k", "SelfAttention.v": "v", "EncDecAttention.k": "cross_k",
                            "EncDecAttention.v": "cross_v", "DenseReluDense.wi_1": "up"})
    mlp = ("gate", "up", "ffn_out") if feed_forward.startswith("gated") else ("ffn_in", "ffn_out")
    attention = ("q", "k", "v", "o")
    expected = (block(LAYERS, (*attention, *mlp), side="encoder")
                + block(LAYERS, (*attention, *(f"cross_{k}" for k in attention), *mlp), side="decoder"))
    check_family(model, tmp_path, "t5", expected)


def test_bart(tmp_path: Path) -> None:
    model = transformers.BartForConditionalGeneration(transformers.BartConfig(
        d_model=64, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=4,
        encoder_ffn_dim=96, decoder_ffn_dim=96, vocab_size=64, max_position_embeddings=64))
    redraw(model)
    scale_by_suffix(model, {"self_attn.k_proj": "k", "self_attn.v_proj": "v",
                            "encoder_attn.k_proj": "cross_k", "encoder_attn.v_proj": "cross_v"})
    attention = ("q", "k", "v", "o")
    expected = (block(LAYERS, (*attention, "ffn_in", "ffn_out"), side="encoder")
                + block(LAYERS, (*attention, *(f"cross_{k}" for k in attention), "ffn_in", "ffn_out"),
                        side="decoder"))
    check_family(model, tmp_path, "bart", expected)
