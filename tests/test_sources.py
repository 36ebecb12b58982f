"""Where the model is: modules, state dicts, .npy files, cached hub ids, naming without config.json."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import numpy as np
import pytest
import torch

import weibull_stats as ws
from weibull_stats.checkpoints import (
    MemoryCheckpoint,
    detect_family,
    from_module,
    from_state_dict,
    hub_snapshot,
    open_sources,
    source_names,
)
from weibull_stats.checkpoints.synthetic import LAYOUTS, synthetic_state, write_checkpoint, write_safetensors
from weibull_stats.cli import main
from weibull_stats.scanning.run import ScanWarning

ROW_KEYS = ["tensor", "part", "layer", "kind"]


def _rows(table) -> list[tuple]:
    return [tuple(r) for r in table[ROW_KEYS].astype(str).to_numpy().tolist()]


class TinyLlama(torch.nn.Module):
    """Two blocks named as Llama stores them (``model.layers.N.mlp.*``), bf16 down projections."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        layers = torch.nn.ModuleList()
        for _ in range(2):
            block = torch.nn.Module()
            block.mlp = torch.nn.Module()
            block.mlp.up_proj = torch.nn.Linear(8, 32, bias=False)
            block.mlp.down_proj = torch.nn.Linear(32, 8, bias=False).to(torch.bfloat16)
            layers.append(block)
        self.model = torch.nn.Module()
        self.model.layers = layers


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """HF_HUB_OFFLINE=1 and any socket connection fails: nothing may touch the network."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def refuse(*args, **kwargs):
        raise AssertionError("a scan source tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# ---------------------------------------------------------------------- modules and state dicts
def test_module_scans_lazily_keeping_bf16() -> None:
    model = TinyLlama()
    table = ws.scan(model, skip_validation=True)
    assert set(table["checkpoint"]) == {"TinyLlama"}
    assert set(table["family"]) == {"llama"}
    down = table[table["tensor"] == "model.layers.1.mlp.down_proj.weight"].iloc[0]
    assert (down["layer"], down["kind"], down["dtype"], down["storage"]) == (1, "down", "BF16", "bfloat16")
    # the same numbers as the state dict written to a file
    expected = model.model.layers[1].mlp.down_proj.weight.detach().float().abs().numpy()
    assert down["shape"] == pytest.approx(ws.fit_probability_plot(expected).shape, rel=1e-12)
    ckpt = from_module(model)
    array = ckpt.read("model.layers.1.mlp.down_proj.weight")
    assert array.dtype.name == "bfloat16"
    stored = ckpt.tensors["model.layers.1.mlp.down_proj.weight"]
    assert not np.shares_memory(array, stored.view(torch.int16).numpy())  # a copy, read when asked


def test_state_dict_of_tensors_equals_file(tmp_path: Path) -> None:
    state, config = synthetic_state("bert", layers=1, hidden=8, heads=2)
    folder = write_checkpoint(tmp_path / "bert", state, config)
    from_file = ws.scan(folder, skip_validation=True)
    tensors = {name: torch.from_numpy(array) for name, array in state.items()}
    in_memory = ws.scan(tensors, skip_validation=True)
    assert set(in_memory["checkpoint"]) == {"state_dict"}
    assert _rows(in_memory) == _rows(from_file)
    np.testing.assert_array_equal(in_memory["shape"].to_numpy(), from_file["shape"].to_numpy())


def test_state_dict_of_arrays_and_nested() -> None:
    rng = np.random.default_rng(0)
    flat = {"model.layers.0.self_attn.q_proj.weight": rng.normal(0, 0.02, (16, 16)).astype(np.float32),
            "model.layers.0.mlp.down_proj.weight": rng.normal(0, 0.02, (16, 64)).astype(np.float16)}
    q, down = flat.values()
    nested = {"model": {"layers": {"0": {"self_attn": {"q_proj.weight": q}, "mlp.down_proj.weight": down}}},
              "step": 7}
    a = ws.scan(flat, skip_validation=True)
    b = ws.scan(nested, skip_validation=True)
    assert sorted(_rows(a)) == sorted(_rows(b))
    assert set(a["kind"]) == {"q", "down"} and set(a["layer"]) == {0}
    assert dict(zip(a["tensor"], a["dtype"], strict=True))["model.layers.0.mlp.down_proj.weight"] == "F16"
    assert ("step", "not a tensor (int)") in [(s["tensor"], s["reason"]) for s in b.attrs["skipped"]]


def test_mixed_list_labels_and_errors(tmp_path: Path) -> None:
    state, config = synthetic_state("llama", layers=1, hidden=8, heads=2)
    folder = write_checkpoint(tmp_path / "llama", state, config)
    table = ws.scan([TinyLlama(), str(folder), state, state], skip_validation=True)
    labels = list(dict.fromkeys(table["checkpoint"]))
    assert labels == ["TinyLlama", str(folder), "state_dict", "state_dict-2"]
    assert source_names([TinyLlama(), str(folder), state, state]) == labels
    labelled = ws.scan(from_state_dict(state, label="step-0", config=config), skip_validation=True)
    assert set(labelled["checkpoint"]) == {"step-0"}
    with pytest.raises(ValueError, match=r"`jobs` = 2: in-memory sources \(state_dict\) .* jobs=1"):
        ws.scan(state, jobs=2, skip_validation=True)
    with pytest.raises(ValueError, match=r"state_dict: a state dict must map names to torch tensors"):
        ws.scan({"model": TinyLlama()}, skip_validation=True)
    with pytest.raises(TypeError, match=r"`paths`: cannot scan a int"):
        ws.scan([state, 3], skip_validation=True)


def test_memory_fingerprint() -> None:
    state, _ = synthetic_state("gpt2", layers=1, hidden=8, heads=2)
    a, b = from_state_dict(state), from_state_dict({k: v.copy() for k, v in state.items()})
    assert isinstance(a, MemoryCheckpoint)
    assert a.fingerprint() == b.fingerprint() and a.fingerprint(content=True) == b.fingerprint(content=True)
    changed = dict(state, **{"h.0.mlp.c_fc.weight": state["h.0.mlp.c_fc.weight"] * 2})
    assert from_state_dict(changed).fingerprint() == a.fingerprint()
    assert from_state_dict(changed).fingerprint(content=True) != a.fingerprint(content=True)
    assert from_state_dict(dict(list(state.items())[:-1])).fingerprint() != a.fingerprint()


# ---------------------------------------------------------------------- .npy
def test_npy_file_api_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weights = np.random.default_rng(2).normal(0, 0.02, (32, 16)).astype(np.float32)
    path = tmp_path / "w.npy"
    np.save(path, weights)
    table = ws.scan(path, skip_validation=True)
    assert table[["checkpoint", "tensor", "kind", "rows", "cols", "dtype"]].to_numpy().tolist() == [
        [str(path), "w", "other", 32, 16, "F32"]]
    assert table["shape"].iloc[0] == pytest.approx(ws.fit_probability_plot(np.abs(weights)).shape, rel=1e-12)
    out = str(tmp_path / "out")
    assert main(["scan", str(path), "--out", out, "--skip-validation", "--no-progress"]) == 0
    assert "1 rows" in capsys.readouterr().out
    np.save(tmp_path / "ids.npy", np.arange(6).reshape(2, 3))
    with pytest.raises(ValueError, match=r"ids\.npy: nothing to fit: .*ids: non-floating dtype I64"):
        ws.scan(tmp_path / "ids.npy", skip_validation=True)  # issue 10.9: no silent 0 rows


# ---------------------------------------------------------------------- the Hugging Face cache
def _fake_cache(root: Path, repo_id: str, state: dict, config: dict | None = None) -> Path:
    """The hub cache layout: models--org--name/{refs/main, snapshots/<commit>/...}."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = root / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    write_safetensors(snapshot / "model.safetensors", state)
    if config is not None:
        (snapshot / "config.json").write_text(__import__("json").dumps(config))
    return snapshot


@pytest.mark.usefixtures("no_network")
def test_cached_hub_id_resolves_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    state, config = synthetic_state("bert", layers=1, hidden=8, heads=2)
    snapshot = _fake_cache(tmp_path / "hub", "sentence-transformers/all-MiniLM-L6-v2", state, config)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.chdir(tmp_path)
    assert hub_snapshot("sentence-transformers/all-MiniLM-L6-v2").resolve() == snapshot.resolve()
    table = ws.scan("sentence-transformers/all-MiniLM-L6-v2", skip_validation=True)
    assert set(table["checkpoint"]) == {"sentence-transformers/all-MiniLM-L6-v2"}
    assert set(table["family"]) == {"bert"} and "q" in set(table["kind"])
    out = tmp_path / "out"
    assert main(["scan", "sentence-transformers/all-MiniLM-L6-v2", "--out", str(out), "--skip-validation",
                 "--no-progress"]) == 0
    assert (out / "results.csv").is_file()
    # HF_HOME is honoured too (its hub/ subfolder)
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    assert hub_snapshot("sentence-transformers/all-MiniLM-L6-v2").resolve() == snapshot.resolve()


@pytest.mark.usefixtures("no_network")
def test_hub_id_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.chdir(tmp_path)
    message = (r"org/missing-model: no such file or folder, and no Hugging Face model 'org/missing-model' "
               rf"in the local cache {re.escape(str(tmp_path / 'empty-cache'))} .*never downloads")
    with pytest.raises(FileNotFoundError, match=message):
        ws.scan("org/missing-model", skip_validation=True)
    assert main(["scan", "org/missing-model", "--out", str(tmp_path / "out"), "--skip-validation",
                 "--no-progress"]) == 1
    assert str(tmp_path / "empty-cache") in capsys.readouterr().err


@pytest.mark.usefixtures("no_network")
def test_existing_path_wins_over_hub_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bert, bert_config = synthetic_state("bert", layers=1, hidden=8, heads=2)
    gpt2, gpt2_config = synthetic_state("gpt2", layers=1, hidden=8, heads=2)
    _fake_cache(tmp_path / "hub", "org/model", bert, bert_config)
    write_checkpoint(tmp_path / "org" / "model", gpt2, gpt2_config)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.chdir(tmp_path)
    assert set(ws.scan("org/model", skip_validation=True)["family"]) == {"gpt2"}


def test_cache_lookup_without_huggingface_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    state, _ = synthetic_state("llama", layers=1, hidden=8, heads=2)
    snapshot = _fake_cache(tmp_path / "hub", "org/model", state)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # import fails
    assert hub_snapshot("org/model") == snapshot
    with pytest.raises(FileNotFoundError, match=r"no Hugging Face model 'org/other'"):
        hub_snapshot("org/other")


# ---------------------------------------------------------------------- naming without config.json
@pytest.mark.parametrize("family", LAYOUTS)
def test_names_alone_give_the_same_kinds_and_layers(tmp_path: Path, family: str) -> None:
    state, config = synthetic_state(family, layers=2, hidden=8, heads=2)
    with_config = ws.scan(write_checkpoint(tmp_path / "a", state, config), skip_validation=True)
    bare = tmp_path / "b"
    bare.mkdir()
    write_safetensors(bare / "model.safetensors", state)  # no config.json
    if family == "gpt_neox":  # the per-head split of query_key_value needs the head count
        with pytest.warns(ScanWarning, match=r"needs num_attention_heads from config.json"):
            without = ws.scan(bare / "model.safetensors", skip_validation=True)
        with_config = with_config[with_config["part"] == ""]
    else:
        without = ws.scan(bare / "model.safetensors", skip_validation=True)
    assert set(without["family"]) == set(with_config["family"]) != {"unknown"}
    assert _rows(without) == _rows(with_config)
    np.testing.assert_array_equal(without["shape"].to_numpy(), with_config["shape"].to_numpy())
    blocks = with_config[with_config["layer"].notna()]
    assert len(blocks) and "other" not in set(blocks["kind"])


def test_family_from_a_partial_checkpoint() -> None:
    assert detect_family({}, ["model.layers.0.mlp.down_proj.weight"]) == "llama"
    state = {"model.layers.0.mlp.down_proj.weight": np.ones((4, 8), np.float32) * np.arange(8)}
    table = ws.scan(state, skip_validation=True)
    assert table[["layer", "kind", "family"]].to_numpy().tolist() == [[0, "down", "llama"]]
    assert open_sources(state)[0].label == "state_dict"


def test_transformers_module_brings_its_config() -> None:
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=32, vocab_size=50, max_position_embeddings=16)
    table = ws.scan(transformers.BertModel(config), skip_validation=True)
    assert set(table["checkpoint"]) == {"BertModel"} and set(table["family"]) == {"bert"}
    assert {"q", "k", "v", "o", "ffn_in", "ffn_out"} <= set(table["kind"])
