"""Checkpoint readers, per-family naming and the split of fused matrices."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

import weibull_stats as ws
from weibull_stats.checkpoints import (
    classify,
    detect_family,
    minilm_path,
    open_checkpoint,
    resolve_paths,
    split_fused,
    step_of,
)
from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint, write_safetensors
from weibull_stats.sample.storage import BFLOAT16


def _header_bytes(tensors: dict) -> bytes:
    raw = json.dumps(tensors).encode()
    return struct.pack("<Q", len(raw)) + raw


# ---------------------------------------------------------------------- safetensors reader
@pytest.mark.parametrize("code", ["F64", "F32", "F16", "BF16"])
def test_safetensors_dtypes_match_torch(tmp_path: Path, code: str) -> None:
    from safetensors.torch import load_file

    values = np.random.default_rng(1).normal(0, 0.02, (6, 5)).astype(np.float32)
    path = write_safetensors(tmp_path / "w.safetensors", {"w": values}, dtype=code)
    expected = load_file(str(path))["w"]
    got = open_checkpoint(path).read("w")
    assert got.shape == (6, 5)
    assert got.dtype == {"F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": BFLOAT16}[code]
    if code == "BF16":  # the stored bits, not a widened copy
        np.testing.assert_array_equal(got.view(np.uint16), expected.view(torch.int16).numpy().view(np.uint16))
    np.testing.assert_array_equal(got.astype(np.float32), expected.float().numpy())


def test_bf16_written_by_torch_is_read_exactly(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    tensor = torch.randn(33, 7, generator=torch.Generator().manual_seed(0)).to(torch.bfloat16)
    save_file({"m": tensor}, str(tmp_path / "m.safetensors"))
    got = open_checkpoint(tmp_path / "m.safetensors").read("m")
    assert got.dtype == BFLOAT16
    np.testing.assert_array_equal(got.astype(np.float32), tensor.float().numpy())


def test_truncated_file_names_file_and_tensor(tmp_path: Path) -> None:
    path = write_safetensors(tmp_path / "t.safetensors", {"a": np.ones((4, 4), np.float32),
                                                          "b": np.ones((8, 8), np.float32)})
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    ckpt = open_checkpoint(path)  # the intact tensor stays readable (issue 10, item 4)
    assert [e.name for e in ckpt.entries] == ["a"]
    np.testing.assert_array_equal(ckpt.read("a"), np.ones((4, 4), np.float32))
    assert [name for name, _ in ckpt.tensor_errors] == ["b"]
    with pytest.raises(ValueError, match=r"t\.safetensors: tensor 'b': file is truncated"):
        ckpt.read("b")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"abc", r"not a safetensors file \(only 3 bytes\)"),
        (struct.pack("<Q", 10**6) + b"{}", r"corrupt or truncated safetensors header"),
        (struct.pack("<Q", 5) + b"{nope", r"corrupt safetensors header \(not JSON"),
        (struct.pack("<Q", 2) + b"[]", r"corrupt safetensors header \(not a JSON object\)"),
        (_header_bytes({"w": {"dtype": "F32"}}), r"tensor 'w': malformed header entry"),
        (_header_bytes({"w": {"dtype": "F32", "shape": [2], "data_offsets": [4, 0]}}),
         r"tensor 'w': data_offsets \[4, 0\] end before they begin"),
        (_header_bytes({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}) + b"\0" * 8,
         r"tensor 'w': 8 data bytes for shape \(3,\) F32 \(expected 12\)"),
    ],
)
def test_corrupt_headers(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        open_checkpoint(path)


def test_unknown_dtype_fails_at_read_naming_tensor(tmp_path: Path) -> None:
    path = tmp_path / "e8m0.safetensors"  # E8M0: exponents of MX scales, not weights
    path.write_bytes(_header_bytes({"w": {"dtype": "F8_E8M0", "shape": [2, 2], "data_offsets": [0, 4]}})
                     + b"\0" * 4)
    ckpt = open_checkpoint(path)
    with pytest.raises(ValueError, match=r"e8m0\.safetensors: tensor 'w': unsupported dtype 'F8_E8M0'"):
        ckpt.read("w")


def test_missing_paths_and_folders(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nowhere: no such file or folder"):
        open_checkpoint(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"empty: no weight file found"):
        open_checkpoint(tmp_path / "empty")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ValueError, match=r"notes\.txt: unknown checkpoint format"):
        open_checkpoint(tmp_path / "notes.txt")
    with pytest.raises(FileNotFoundError, match=r"holds neither a weight file nor checkpoint subfolders"):
        resolve_paths([str(tmp_path / "empty")])


# ---------------------------------------------------------------------- sharded and torch files
def test_sharded_checkpoint_reads_every_tensor(tmp_path: Path) -> None:
    state, config = synthetic_state("llama", layers=2, hidden=8, heads=2)
    folder = write_checkpoint(tmp_path / "sharded", state, config, dtype="BF16", shards=3)
    ckpt = open_checkpoint(folder)
    assert sorted(e.name for e in ckpt.entries) == sorted(state)
    assert len({e.file for e in ckpt.entries}) == 3
    assert {e.dtype for e in ckpt.entries} == {"BF16"}
    got = ckpt.read("model.layers.1.mlp.down_proj.weight")
    assert got.dtype == BFLOAT16
    expected = torch.from_numpy(state["model.layers.1.mlp.down_proj.weight"]).to(torch.bfloat16).float()
    np.testing.assert_array_equal(got.astype(np.float32), expected.numpy())


def test_sharded_missing_shard_and_missing_tensor_are_recorded(tmp_path: Path) -> None:
    state, config = synthetic_state("gpt_neox", layers=2, hidden=8, heads=2)
    folder = write_checkpoint(tmp_path / "s", state, config, shards=2)
    (folder / "model-00002-of-00002.safetensors").unlink()
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    index["weight_map"]["ghost.weight"] = "model-00001-of-00002.safetensors"
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    ckpt = open_checkpoint(folder)
    messages = [m for _, m in ckpt.file_errors]
    assert any("model-00002-of-00002.safetensors: no such file" in m for m in messages)
    assert any("tensor 'ghost.weight' listed in model.safetensors.index.json is missing" in m
               for m in messages)
    assert ckpt.entries  # the first shard is still there


def test_corrupt_index(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors.index.json"
    path.write_text("{}")
    with pytest.raises(ValueError, match=r"corrupt index file \(needs a JSON object with a weight_map"):
        open_checkpoint(path)


def test_torch_state_dict_bin(tmp_path: Path) -> None:
    state = {"layers.0.self_attn.q_proj.weight": torch.randn(4, 4).to(torch.bfloat16),
             "layers.0.mlp.up_proj.weight": torch.randn(6, 4, dtype=torch.float16),
             "pos": torch.arange(4)}
    torch.save(state, tmp_path / "pytorch_model.bin")
    ckpt = open_checkpoint(tmp_path)
    dtypes = {e.name: e.dtype for e in ckpt.entries}
    assert dtypes == {"layers.0.self_attn.q_proj.weight": "BF16", "layers.0.mlp.up_proj.weight": "F16",
                      "pos": "I64"}
    q = ckpt.read("layers.0.self_attn.q_proj.weight")
    assert q.dtype == BFLOAT16
    expected = state["layers.0.self_attn.q_proj.weight"].float().numpy()
    np.testing.assert_array_equal(q.astype(np.float32), expected)
    assert ckpt.read("layers.0.mlp.up_proj.weight").dtype == np.float16
    with pytest.raises(ValueError, match=r"tensor 'pos': unsupported dtype 'I64'"):
        ckpt.read("pos")
    torch.save({"model": {"w": torch.ones(2, 2)}}, tmp_path / "nested.pt")
    assert [e.name for e in open_checkpoint(tmp_path / "nested.pt").entries] == ["w"]


def test_corrupt_torch_files(tmp_path: Path) -> None:
    (tmp_path / "bad.bin").write_bytes(b"\x80\x02garbage")
    with pytest.raises(ValueError, match=r"bad\.bin: not a readable PyTorch state dict"):
        open_checkpoint(tmp_path / "bad.bin")
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(ValueError, match=r"list\.pt: not a PyTorch state dict"):
        open_checkpoint(tmp_path / "list.pt")


# ---------------------------------------------------------------------- naming
EXPECTED_KINDS = {
    "bert": {"encoder.layer.1.attention.self.query.weight": (1, "q"),
             "encoder.layer.1.attention.self.key.weight": (1, "k"),
             "encoder.layer.1.attention.self.value.weight": (1, "v"),
             "encoder.layer.1.attention.output.dense.weight": (1, "o"),
             "encoder.layer.1.intermediate.dense.weight": (1, "ffn_in"),
             "encoder.layer.1.output.dense.weight": (1, "ffn_out"),
             "embeddings.word_embeddings.weight": (None, "embedding"),
             "pooler.dense.weight": (None, "other")},
    "gpt2": {"h.1.attn.c_attn.weight": (1, "qkv"), "h.1.attn.c_proj.weight": (1, "o"),
             "h.1.mlp.c_fc.weight": (1, "ffn_in"), "h.1.mlp.c_proj.weight": (1, "ffn_out"),
             "wte.weight": (None, "embedding"), "wpe.weight": (None, "embedding")},
    "gpt_neox": {"gpt_neox.layers.1.attention.query_key_value.weight": (1, "qkv"),
                 "gpt_neox.layers.1.attention.dense.weight": (1, "o"),
                 "gpt_neox.layers.1.mlp.dense_h_to_4h.weight": (1, "ffn_in"),
                 "gpt_neox.layers.1.mlp.dense_4h_to_h.weight": (1, "ffn_out"),
                 "gpt_neox.embed_in.weight": (None, "embedding"), "embed_out.weight": (None, "lm_head")},
    "llama": {"model.layers.1.self_attn.q_proj.weight": (1, "q"),
              "model.layers.1.self_attn.k_proj.weight": (1, "k"),
              "model.layers.1.self_attn.v_proj.weight": (1, "v"),
              "model.layers.1.self_attn.o_proj.weight": (1, "o"),
              "model.layers.1.mlp.gate_proj.weight": (1, "gate"),
              "model.layers.1.mlp.up_proj.weight": (1, "up"),
              "model.layers.1.mlp.down_proj.weight": (1, "down"),
              "model.embed_tokens.weight": (None, "embedding"), "lm_head.weight": (None, "lm_head")},
    "olmo1": {"model.transformer.blocks.1.att_proj.weight": (1, "qkv"),
              "model.transformer.blocks.1.attn_out.weight": (1, "o"),
              "model.transformer.blocks.1.ff_proj.weight": (1, "ffn_in"),
              "model.transformer.blocks.1.ff_out.weight": (1, "down"),
              "model.transformer.wte.weight": (None, "embedding"),
              "model.transformer.ff_out.weight": (None, "lm_head")},
    "phi3": {"model.layers.1.self_attn.qkv_proj.weight": (1, "qkv"),
             "model.layers.1.self_attn.o_proj.weight": (1, "o"),
             "model.layers.1.mlp.gate_up_proj.weight": (1, "ffn_in"),
             "model.layers.1.mlp.down_proj.weight": (1, "down"),
             "model.embed_tokens.weight": (None, "embedding"), "lm_head.weight": (None, "lm_head")},
}


@pytest.mark.parametrize("layout", ["bert", "gpt2", "gpt_neox", "llama", "qwen3", "olmo1", "olmo2", "phi3"])
def test_every_family_layout_is_named(layout: str) -> None:
    state, config = synthetic_state(layout, layers=2, hidden=8, heads=2)
    family = detect_family(config, state)
    assert family == {"qwen3": "llama", "olmo2": "llama"}.get(layout, layout)
    assert detect_family({}, state) == family  # the names alone give the same family
    for name, (layer, kind) in EXPECTED_KINDS[family].items():
        role = classify(name, family)
        assert (role.layer, role.kind) == (layer, kind), name
    matrices = [n for n, a in state.items() if a.ndim == 2 and a.dtype.kind == "f"]
    kinds = [classify(n, family).kind for n in matrices]
    assert kinds.count("other") == (1 if layout == "bert" else 0)  # only BERT's pooler


def test_fused_roles() -> None:
    assert classify("h.0.attn.c_attn.weight", "gpt2").parts == ("q", "k", "v")
    role = classify("model.transformer.blocks.0.ff_proj.weight", "olmo1")
    assert (role.kind, role.parts, role.layout) == ("ffn_in", ("up", "gate"), "rows")
    role = classify("model.layers.0.mlp.gate_up_proj.weight", "phi3")
    assert (role.kind, role.parts, role.layout) == ("ffn_in", ("gate", "up"), "rows")
    assert classify("something.unheard.of", "unknown").kind == "other"


# ---------------------------------------------------------------------- splitting fused matrices
SCALES = {"q": 0.01, "k": 0.03, "v": 0.09}


def _blocks(rows: int, cols: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {part: rng.normal(0.0, sigma, (rows, cols)) for part, sigma in SCALES.items()}


def _check_parts(parts: list[tuple[str, np.ndarray]], blocks: dict[str, np.ndarray]) -> None:
    assert [p for p, _ in parts] == ["q", "k", "v"]
    for part, array in parts:
        np.testing.assert_array_equal(array, blocks[part])
        fit = ws.fit_probability_plot(array, values="weights")
        # scale = 0.887 sigma for Gaussian blocks: each part recovers its own sigma
        assert fit.scale / SCALES[part] == pytest.approx(ws.HALFNORMAL_ANCHOR_SCALE, rel=0.06)


def test_split_gpt_neox_per_head_layout() -> None:
    heads, head_dim, hidden = 4, 16, 64
    blocks = _blocks(heads * head_dim, hidden)
    # build the fused weight the way GPT-NeoX lays it out: per head, q then k then v
    fused = np.stack([blocks[p].reshape(heads, head_dim, hidden) for p in ("q", "k", "v")], axis=1)
    fused = fused.reshape(3 * hidden, hidden)
    role = classify("gpt_neox.layers.0.attention.query_key_value.weight", "gpt_neox")
    _check_parts(split_fused(fused, role, {"num_attention_heads": heads}, "qkv"), blocks)
    # a plain thirds split would mix the scales: the per-head layout matters
    assert not np.array_equal(fused[:hidden], blocks["q"])


def test_split_gpt2_columns_and_olmo_rows() -> None:
    blocks = _blocks(48, 48)
    gpt2 = np.concatenate([blocks[p].T for p in ("q", "k", "v")], axis=1)  # Conv1D: (in, 3 out)
    parts = split_fused(gpt2, classify("h.0.attn.c_attn.weight", "gpt2"), {}, "c_attn")
    _check_parts([(p, a.T) for p, a in parts], blocks)
    olmo = np.concatenate([blocks[p] for p in ("q", "k", "v")], axis=0)
    role = classify("model.transformer.blocks.0.att_proj.weight", "olmo1")
    _check_parts(split_fused(olmo, role, {"n_heads": 4}, "att_proj"), blocks)


def test_split_grouped_query_att_proj() -> None:
    state, config = synthetic_state("olmo1", layers=1, hidden=16, heads=4, kv_heads=1)
    name = "model.transformer.blocks.0.att_proj.weight"
    config["n_kv_heads"] = 1
    parts = dict(split_fused(state[name], classify(name, "olmo1"), config, name))
    assert {p: a.shape for p, a in parts.items()} == {"q": (16, 16), "k": (4, 16), "v": (4, 16)}


def test_split_errors_name_the_tensor() -> None:
    role = classify("gpt_neox.layers.0.attention.query_key_value.weight", "gpt_neox")
    with pytest.raises(ValueError, match=r"tensor 'qkv': splitting a per-head fused qkv matrix needs "
                                         r"num_attention_heads"):
        split_fused(np.zeros((12, 4)), role, {}, "qkv")
    with pytest.raises(ValueError, match=r"tensor 'qkv': 12 rows are not 3 x 5 heads"):
        split_fused(np.zeros((12, 4)), role, {"num_attention_heads": 5}, "qkv")
    gpt2 = classify("h.0.attn.c_attn.weight", "gpt2")
    with pytest.raises(ValueError, match=r"tensor 'c': fused qkv matrix of shape \(4, 10\) cannot be split"):
        split_fused(np.zeros((4, 10)), gpt2, {}, "c")
    with pytest.raises(ValueError, match=r"tensor 'x': a fused matrix must be 2-D"):
        split_fused(np.zeros(9), gpt2, {}, "x")


# ---------------------------------------------------------------------- paths and steps
def test_step_of_and_trajectory_order(tmp_path: Path) -> None:
    assert step_of(Path("runs/step-300")) == 300
    assert step_of(Path("checkpoint_2000")) == 2000
    assert step_of(Path("global_step7/model.safetensors")) == 7
    assert step_of(Path("final")) is None
    state, config = synthetic_state("llama", layers=1, hidden=8, heads=2)
    for step in (100, 5, 20):
        write_checkpoint(tmp_path / "run" / f"step-{step}", state, config)
    labels = [(c.label, c.step) for c in resolve_paths([str(tmp_path / "run")])]
    assert [s for _, s in labels] == [5, 20, 100]
    # a checkpoint named twice is opened once, under its first spelling (issue 10, item 11)
    both = resolve_paths([str(tmp_path / "run" / "step-5"), str(tmp_path / "run")])
    assert [c.step for c in both] == [5, 20, 100]
    assert both[0].label == str(tmp_path / "run" / "step-5")


def test_minilm_is_found_in_the_installed_package() -> None:
    folder = minilm_path()
    assert (folder / "config.json").is_file()
    [ckpt] = resolve_paths(["minilm"])
    assert ckpt.label == "minilm"
    assert ckpt.config["num_hidden_layers"] == 6


def test_split_fused_up_gate_halves() -> None:
    up, gate = np.full((6, 4), 1.0), np.full((6, 4), 2.0)
    olmo = classify("model.transformer.blocks.0.ff_proj.weight", "olmo1")  # OLMo-1: x, gate = chunk(2)
    assert {p: float(a[0, 0]) for p, a in split_fused(np.vstack([up, gate]), olmo, {}, "ff_proj")} == {
        "up": 1.0, "gate": 2.0}
    phi3 = classify("model.layers.0.mlp.gate_up_proj.weight", "phi3")  # Phi-3: gate, up = chunk(2)
    assert {p: float(a[0, 0]) for p, a in split_fused(np.vstack([gate, up]), phi3, {}, "gate_up")} == {
        "gate": 2.0, "up": 1.0}
