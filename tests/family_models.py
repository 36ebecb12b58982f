"""Tiny transformers models of each family, scaled through their own layouts, for the family tests.

Every matrix of a model is redrawn iid N(0, 1); then each part the scan must tell apart is
multiplied by its factor (:func:`factor`) *through the family's own layout*, as the family's
modeling code in transformers reads it (the per-head view of a fused QKV, the halves of a
stacked gate/up, an expert's slice). A correct scan then finds every row's fitted scale at
``factor x`` a common scale, within the estimator's sampling error (its ``log_scale_se``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import weibull_stats as ws  # noqa: E402
from weibull_stats.checkpoints import detect_family, open_sources  # noqa: E402

#: The factor of each kind's part (kinds absent: 1); routed expert ``e`` is further scaled by EXPERT ** e.
KIND_FACTOR = {"k": 2.5, "v": 6.0, "cross_k": 2.5, "cross_v": 6.0, "up": 3.0}
EXPERT = 1.6


def factor(kind: str, expert: int | None = None) -> float:
    """The scale factor a part of ``kind`` (of routed expert ``expert``) is given."""
    return KIND_FACTOR.get(kind, 1.0) * (EXPERT ** expert if expert is not None else 1.0)


def redraw(model: Any, seed: int = 0) -> None:
    """Every parameter of two or more dimensions redrawn iid N(0, 1)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.ndim >= 2:
                parameter.copy_(torch.randn(parameter.shape, generator=generator))


def scale_by_suffix(model: Any, kinds: dict[str, str]) -> None:
    """Scale every parameter ``<...>.<suffix>.weight`` by the factor of ``kinds[suffix]``."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            for suffix, kind in kinds.items():
                if name.endswith(f".{suffix}.weight"):
                    parameter.mul_(factor(kind))


def scale_stacks(model: Any, interleaved: bool = False) -> None:
    """Scale in-memory expert stacks: ``gate_up_proj`` (E, 2i, h) gate rows then up rows, as
    ``.chunk(2, dim=-1)`` of its output reads them, or gpt-oss's (E, h, 2i) with gate and up
    columns alternating (``gate_up[..., ::2]``, ``gate_up[..., 1::2]``); ``down_proj`` per expert."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("experts.gate_up_proj"):
                for e in range(parameter.shape[0]):
                    if interleaved:
                        parameter[e, :, ::2] *= factor("gate", e)
                        parameter[e, :, 1::2] *= factor("up", e)
                    else:
                        half = parameter.shape[1] // 2
                        parameter[e, :half] *= factor("gate", e)
                        parameter[e, half:] *= factor("up", e)
            elif name.endswith("experts.down_proj"):
                for e in range(parameter.shape[0]):
                    parameter[e] *= factor("down", e)


def scale_heads(model: Any, suffix: str, view: Callable[[Any], Any],
                slots: Iterable[tuple[Any, str]]) -> None:
    """Scale every ``<suffix>.weight`` through ``view(weight)``: ``view[:, slot] *= factor(kind)``."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith(f"{suffix}.weight"):
                viewed = view(parameter)
                for slot, kind in slots:
                    viewed[:, slot] *= factor(kind)


def save_and_scan(model: Any, folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Save ``model`` in bf16, sharded, and scan the folder and the live module (mle, no gate)."""
    model = model.to(torch.bfloat16)
    model.save_pretrained(folder, max_shard_size="40KB")
    assert len(list(folder.glob("*.safetensors"))) > 1  # sharded
    saved = ws.scan(str(folder), estimators="mle", skip_validation=True, report=False)
    live = ws.scan(model, estimators="mle", skip_validation=True, report=False)
    return saved, live, model.config.to_dict()


def key_counts(frame: pd.DataFrame) -> Counter[tuple[Any, ...]]:
    """How many rows of each (side, layer, kind, expert, shared)."""
    def value(x: Any) -> Any:
        return None if pd.isna(x) else int(x)
    return Counter((row.side, value(row.layer), row.kind, value(row.expert), bool(row.shared_expert))
                   for row in frame.itertuples())


def check_scales(frame: pd.DataFrame) -> None:
    """Every part's fitted scale is its factor times a common scale, within 5 standard errors."""
    fused = set(frame.loc[frame["part"] != "", "tensor"])
    rows = frame[~((frame["part"] == "") & frame["tensor"].isin(fused))]  # a fused whole mixes its parts
    rows = rows[rows["kind"].ne("embedding") & rows["kind"].ne("lm_head")]
    expected = [math.log(factor(r.kind, None if pd.isna(r.expert) else int(r.expert)))
                for r in rows.itertuples()]
    offset = (rows["scale"].map(math.log) - expected)
    common = float(offset.median())
    for (row, off) in zip(rows.itertuples(), offset, strict=True):
        assert abs(off - common) < 5 * row.log_scale_se + 0.01, (
            f"{row.tensor} part {row.part!r} ({row.kind}, expert {row.expert}): scale {row.scale:.4g} is not "
            f"{factor(row.kind):g} x the common scale {math.exp(common):.4g}")


def check_family(model: Any, folder: Path, family: str, expected: Counter[tuple[Any, ...]],
                 others: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Save, scan both ways and check the family (with and without config.json), every block
    matrix's (side, layer, kind, expert, shared) against ``expected``, the scales, and that the
    live module gives the rows of its files; ``others`` rows of kind ``other`` are allowed."""
    saved, live, config = save_and_scan(model, folder)
    entries = [e.name for c in open_sources([str(folder)]) for e in c.entries]
    assert detect_family(config, entries) == family
    assert detect_family({}, entries) == family  # without config.json, by the names
    for frame in (saved, live):
        assert set(frame["family"]) == {family}
        other = frame.loc[frame["kind"] == "other", "tensor"].tolist()
        assert len(other) == others, other
        assert (frame["kind"] == "embedding").any()
        counts = key_counts(frame[frame["layer"].notna() & (frame["kind"] != "other")])
        assert counts == expected, (counts - expected, expected - counts)
        check_scales(frame)
    # the live module and its files give the same matrices and the same fits (tied embeddings
    # may be saved once and held several times: the blocks are compared)
    columns = ["side", "layer", "kind", "expert", "shared_expert", "rows", "cols", "shape", "scale"]
    def ordered(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame[frame["layer"].notna()]
        return frame[columns].sort_values(columns).reset_index(drop=True)
    pd.testing.assert_frame_equal(ordered(saved), ordered(live))
    return saved, live


def block(layers: Iterable[int], kinds: Iterable[str], side: str = "", expert: int | None = None,
          shared: bool = False) -> Counter[tuple[Any, ...]]:
    """Expected rows: one per layer and kind."""
    return Counter((side, layer, kind, expert, shared) for layer in layers for kind in kinds)
