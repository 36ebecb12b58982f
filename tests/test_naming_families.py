"""The family table is one declaration: the docs page and naming's docstring show its rendering;
the scan of a folder never imports transformers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from weibull_stats.checkpoints import FAMILIES, classify, detect_family, naming
from weibull_stats.checkpoints._families import FAMILY_TABLE, family_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_docs_page_holds_the_rendered_family_table() -> None:
    text = (DOCS / "scanning.md").read_text(encoding="utf-8")
    start = text.index("<!-- families:")
    start = text.index("\n", start) + 1
    end = text.index("<!-- /families -->")
    assert text[start:end].strip() == family_markdown()
    assert family_markdown() in (naming.__doc__ or "")


def test_every_family_kind_is_a_kind_and_every_split_part_too() -> None:
    for family in FAMILY_TABLE:
        assert family.name in FAMILIES
        for _suffix, kind in family.rules:
            assert kind in naming.KINDS, (family.name, kind)
        for kind, split in family.splits:
            assert kind in {k for _s, k in family.rules}, (family.name, kind)
            assert set(split.parts) <= set(naming.KINDS)


@pytest.mark.parametrize("family", [f.name for f in FAMILY_TABLE])
def test_config_model_type_and_names_agree(family: str) -> None:
    """Every model_type gives its family; a name with the family's signature gives it without one."""
    declared = next(f for f in FAMILY_TABLE if f.name == family)
    for model_type in declared.model_types:
        assert detect_family({"model_type": model_type}, []) == family
    name = f"model.layers.0.{declared.signature.rstrip('.')}.weight"
    assert detect_family({}, [name]) == family


def test_falcon_needs_its_config_to_split() -> None:
    role = classify("transformer.h.0.self_attention.query_key_value.weight", "falcon")
    with pytest.raises(ValueError, match=r"needs num_attention_heads from config\.json"):
        naming.split_fused(np.zeros((24, 4)), role, {}, "qkv")


def test_scanning_a_folder_never_imports_transformers(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    save_file({"model.layers.0.mlp.experts.0.w1.weight": rng.standard_normal((8, 16)).astype(np.float32)},
              str(tmp_path / "model.safetensors"))
    code = ("import sys, weibull_stats as ws\n"
            f"ws.scan({str(tmp_path)!r}, estimators='mle', skip_validation=True, report=False)\n"
            "assert 'transformers' not in sys.modules, 'transformers imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=300)


def test_falcon_grouped_layout_reads_the_early_config_spellings() -> None:
    """falcon-40b's early config.json spells the head counts n_head and n_head_kv."""
    heads, kv, head_dim, hidden = 4, 2, 3, 5
    # per kv group: its heads // kv q heads, then one k head, then one v head
    group = np.array([0, 0, 1, 2])
    labels = np.repeat(np.tile(group, kv), head_dim)[:, None] * np.ones((1, hidden))
    role = classify("transformer.h.0.self_attention.query_key_value.weight", "falcon")
    config = {"n_head": heads, "n_head_kv": kv, "new_decoder_architecture": True}
    parts = dict(naming.split_fused(labels, role, config, "qkv"))
    assert {p: (m.shape[0], set(m.ravel().tolist())) for p, m in parts.items()} == {
        "q": (heads * head_dim, {0.0}), "k": (kv * head_dim, {1.0}), "v": (kv * head_dim, {2.0})}
