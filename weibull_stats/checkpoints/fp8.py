"""FP8 weights as the model computes with them: each FP8 matrix with its scales applied.

An FP8 checkpoint stores a weight ``W`` (``float8_e4m3fn`` or ``float8_e5m2``; safetensors
``F8_E4M3``, ``F8_E5M2``) beside a float tensor of scales ``S``; the model computes with
``float32(W) * S``, each scale applied to its block of ``W``. The layouts met in practice:

- **block scales**, DeepSeek-V3 and transformers' fine-grained FP8: ``<name>_scale_inv``
  (``...weight_scale_inv`` beside ``...weight``) of shape ``(ceil(out/b0), ceil(in/b1))``,
  the block ``(b0, b1)`` from ``config.json`` ``quantization_config.weight_block_size``
  (compressed-tensors: ``config_groups.*.weights.block_structure``); without either, the
  128×128 blocks those writers default to, where the scale's shape fits them;
- **per-channel scales**, FBGEMM FP8 and compressed-tensors' ``channel`` strategy:
  ``<name>_scale`` of shape ``(out, 1)`` (or ``(out,)``);
- **a per-tensor scale**, compressed-tensors' ``tensor`` strategy and transformers' FP8
  without blocks: one value (shape ``()``, ``(1,)`` or ``(1, 1)``), named either way.

:func:`model_weights` reads a weight as the model uses it: an FP8 tensor with a scale is
dequantized to float32 (:func:`dequantize`, in row blocks: the float32 result and one block
of rows beside the stored bytes, never a float64 copy) and its storage recorded as, for
example, ``float8_e4m3fn, 128×128 block scales``; an FP8 tensor without a scale is widened
exactly to float32 (every FP8 value is a bfloat16 value, so :func:`~weibull_stats.as_sample`
counts it over its at most 256 bit patterns) and recorded as fitted as stored. A scale of
the wrong shape is a ``ValueError`` naming both tensors and their shapes.
:func:`scale_tensors` names the scale tensors themselves (and the activation scales of FP8
layers), which a scan lists as skipped, not fitted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from weibull_stats.checkpoints._safetensors import FLOAT8
from weibull_stats.checkpoints.sources import MemoryCheckpoint

if TYPE_CHECKING:
    from weibull_stats.checkpoints._listing import TensorEntry
    from weibull_stats.checkpoints.readers import Checkpoint

#: Names of a weight's scale tensor, ``<weight><suffix>``, in the order they are looked for:
#: DeepSeek-V3 and transformers' fine-grained FP8 (``weight_scale_inv``), compressed-tensors
#: and FBGEMM (``weight_scale``). Both are multiplied into the weight.
SCALE_SUFFIXES: tuple[str, ...] = ("_scale_inv", "_scale")
#: Scales of an FP8 layer's input, ``<module>.<name>`` beside ``<module>.weight``: they
#: quantize activations, not weights.
ACTIVATION_SCALES: tuple[str, ...] = ("input_scale", "activation_scale")
#: The block of block scales when the config gives none (transformers' and DeepSeek-V3's).
DEFAULT_BLOCK: tuple[int, int] = (128, 128)
#: Values dequantized per step of :func:`dequantize` (4 MiB float32 buffers).
CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ModelWeights:
    """A tensor as the model computes with it.

    Attributes
    ----------
    values : numpy.ndarray
        The stored array (bfloat16 kept), or float32 for FP8 data.
    storage : str or None
        How FP8 data are stored and scaled (``"float8_e4m3fn, 128×128 block scales"``,
        ``"float8_e5m2, no scales: fitted as stored"``); None for other dtypes, whose array
        says it.
    """

    values: np.ndarray
    storage: str | None = None

    @property
    def fp8(self) -> bool:
        """Stored as FP8."""
        return self.storage is not None


def is_fp8(dtype: str) -> bool:
    """True for the FP8 codes read (``F8_E4M3``, ``F8_E5M2``)."""
    return dtype in FLOAT8


def _module(weight: str) -> str | None:
    return weight[: -len(".weight")] if weight.endswith(".weight") else None


def scale_tensors(entries: Iterable[TensorEntry]) -> dict[str, str]:
    """``{scale tensor: reason}`` for the scales of the FP8 tensors among ``entries``: each
    weight's ``<weight>_scale_inv`` or ``<weight>_scale``, and each FP8 layer's activation
    scales (:data:`ACTIVATION_SCALES`).

    Examples
    --------
    >>> from pathlib import Path
    >>> from weibull_stats.checkpoints._listing import TensorEntry
    >>> entries = [TensorEntry("a.weight", "F8_E4M3", (256, 256), Path("m")),
    ...            TensorEntry("a.weight_scale_inv", "F32", (2, 2), Path("m")),
    ...            TensorEntry("a.input_scale", "F32", (), Path("m"))]
    >>> for name, reason in scale_tensors(entries).items():
    ...     print(name, "|", reason)
    a.weight_scale_inv | FP8 scale of 'a.weight' (applied to it, not fitted)
    a.input_scale | FP8 activation scale of 'a' (scales the layer's input, not a weight)
    """
    listed = list(entries)
    names = {e.name for e in listed}
    found: dict[str, str] = {}
    for entry in listed:
        if not is_fp8(entry.dtype):
            continue
        for suffix in SCALE_SUFFIXES:
            if entry.name + suffix in names:
                found[entry.name + suffix] = f"FP8 scale of {entry.name!r} (applied to it, not fitted)"
        module = _module(entry.name)
        for scale in ACTIVATION_SCALES if module is not None else ():
            if f"{module}.{scale}" in names:
                found[f"{module}.{scale}"] = (f"FP8 activation scale of {module!r} (scales the layer's "
                                              "input, not a weight)")
    return found


def config_block(config: Mapping[str, Any]) -> tuple[int, int] | None:
    """The block of block scales that ``config`` (a ``config.json``) declares, or None.

    ``quantization_config.weight_block_size`` (DeepSeek-V3, transformers' fine-grained FP8),
    else the first ``quantization_config.config_groups.*.weights.block_structure``
    (compressed-tensors).

    Raises
    ------
    ValueError
        A declared block that is not two positive integers.

    Examples
    --------
    >>> config_block({"quantization_config": {"quant_method": "fp8", "weight_block_size": [128, 64]}})
    (128, 64)
    >>> config_block({}) is None
    True
    """
    quantization = config.get("quantization_config")
    if not isinstance(quantization, Mapping):
        return None
    where, block = "weight_block_size", quantization.get("weight_block_size")
    groups = quantization.get("config_groups")
    if block is None and isinstance(groups, Mapping):
        for group_name, group in groups.items():
            weights = group.get("weights") if isinstance(group, Mapping) else None
            if isinstance(weights, Mapping) and weights.get("block_structure") is not None:
                where = f"config_groups.{group_name}.weights.block_structure"
                block = weights["block_structure"]
                break
    if block is None:
        return None
    if (not isinstance(block, list | tuple) or len(block) != 2
            or not all(type(b) is int and b > 0 for b in block)):
        raise ValueError(f"config.json: quantization_config.{where} must be two positive integers; got "
                         f"{block!r}")
    return int(block[0]), int(block[1])


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def scale_layout(weight: str, shape: tuple[int, ...], scale: str, scale_shape: tuple[int, ...],
                 config: Mapping[str, Any]) -> tuple[tuple[int, int], str]:
    """The block each scale of ``scale`` covers in ``weight``, and the layout in words.

    A grid ``(ceil(out/b0), ceil(in/b1))`` of the block declared by :func:`config_block`
    scales ``b0×b1`` blocks (a matrix smaller than a block has one); otherwise one value
    scales the whole tensor, ``(out, 1)`` or ``(out,)`` scale output channels (rows), and the
    grid of :data:`DEFAULT_BLOCK` its blocks.

    Raises
    ------
    ValueError
        A scale of another shape: the message names both tensors, their shapes and the
        shapes that would fit.

    Examples
    --------
    >>> scale_layout("w", (300, 200), "w_scale_inv", (3, 2), {})
    ((128, 128), '128×128 block scales')
    >>> scale_layout("w", (300, 200), "w_scale", (300, 1), {})
    ((1, 200), 'per-channel scales')
    """
    declared = config_block(config)
    block = declared or DEFAULT_BLOCK
    grid = None
    if len(shape) == 2:
        grid = (math.ceil(shape[0] / block[0]), math.ceil(shape[1] / block[1]))
        if declared is not None and tuple(scale_shape) == grid:  # a small matrix's one block included
            return block, f"{block[0]}×{block[1]} block scales"
    if math.prod(scale_shape) == 1:
        return (max(1, math.prod(shape[:1])), max(1, math.prod(shape[1:]))), "per-tensor scale"
    if grid is not None:
        rows, cols = shape
        if tuple(scale_shape) in ((rows,), (rows, 1)):
            return (1, cols), "per-channel scales"
        if tuple(scale_shape) == grid:  # the default block (declared ones were tried first)
            return block, f"{block[0]}×{block[1]} block scales"
        source = ("quantization_config" if declared is not None
                  else "the default; config.json declares no weight_block_size")
        wanted = (f"{_shape(grid)} for {block[0]}×{block[1]} block scales ({source}), ({rows}, 1) per "
                  "output channel, or one value per tensor")
    else:
        wanted = f"one value (a per-tensor scale) for a {len(shape)}-D tensor"
    raise ValueError(f"FP8 scale {scale!r} has shape {_shape(scale_shape)}, which does not fit weight "
                     f"{weight!r} of shape {_shape(shape)}: expected {wanted}")


def dequantize(values: np.ndarray, scale: np.ndarray, block: tuple[int, int]) -> np.ndarray:
    """``float32(values) * scale`` with each scale spread over its ``block`` (edge blocks cut
    short), as the model computes it, in float32.

    Rows are done a few million values at a time: beside the stored ``values`` and the
    float32 result, only one chunk of spread scales is held (:data:`CHUNK` values).

    Examples
    --------
    >>> import ml_dtypes
    >>> w = np.array([[1, 2, 3], [4, 5, 6]], dtype=ml_dtypes.float8_e4m3fn)
    >>> dequantize(w, np.array([[0.5, 2.0]], dtype=np.float32), (2, 2)).tolist()
    [[0.5, 1.0, 6.0], [2.0, 2.5, 12.0]]
    """
    matrix = values.reshape(values.shape[0], -1) if values.ndim != 2 else values
    rows, cols = matrix.shape
    grid = np.asarray(scale, dtype=np.float32).reshape(math.ceil(rows / block[0]), math.ceil(cols / block[1]))
    out = np.empty((rows, cols), dtype=np.float32)
    columns = np.arange(cols) // block[1]
    step = max(1, CHUNK // max(cols, 1))
    for start in range(0, rows, step):
        stop = min(start + step, rows)
        np.copyto(out[start:stop], matrix[start:stop], casting="unsafe")  # exact: FP8 values are float32s
        spread = grid[np.arange(start, stop) // block[0]][:, columns]
        out[start:stop] *= spread
    return out.reshape(values.shape)


def _source(ckpt: Checkpoint, file: Path) -> str:
    """What a message names: the file, or the label of an in-memory checkpoint (no file)."""
    return ckpt.label if isinstance(ckpt, MemoryCheckpoint) else str(file)


def scale_of(ckpt: Checkpoint, weight: str) -> str | None:
    """The name of ``weight``'s scale tensor in ``ckpt`` (:data:`SCALE_SUFFIXES`), or None.

    Raises
    ------
    ValueError
        Both names are present: which one the model applies is not known.
    """
    names = {e.name for e in ckpt.entries} | {name for name, _ in ckpt.tensor_errors}
    found = [weight + suffix for suffix in SCALE_SUFFIXES if weight + suffix in names]
    if len(found) > 1:
        raise ValueError(f"{_source(ckpt, ckpt.entry(weight).file)}: FP8 tensor {weight!r} has two scales, "
                         f"{' and '.join(map(repr, found))}; which one the model applies is not known")
    return found[0] if found else None


def model_weights(ckpt: Checkpoint, name: str) -> ModelWeights:
    """Tensor ``name`` of ``ckpt`` as the model computes with it (see the module docstring).

    Raises
    ------
    KeyError
        No tensor of that name.
    ValueError
        An unreadable tensor or scale, a scale that is not a float tensor (``U8`` E8M0
        exponents, say) or whose shape does not fit, a bad block in the config; the message
        names the file (or in-memory checkpoint) and the tensors.
    """
    entry = ckpt.entry(name)
    values = ckpt.read(name)
    if not is_fp8(entry.dtype):
        return ModelWeights(values)
    form = FLOAT8[entry.dtype]
    scale = scale_of(ckpt, name)
    if scale is None:
        return ModelWeights(values.astype(np.float32), f"{form}, no scales: fitted as stored")
    stored = ckpt.entry(scale)
    try:
        if not stored.floating or is_fp8(stored.dtype):
            raise ValueError(f"FP8 scale {scale!r} of {name!r} has dtype {stored.dtype}; float scales "
                             "(F32, BF16, F16) are applied, not exponents or other codes")
        block, layout = scale_layout(name, entry.shape, scale, stored.shape, ckpt.config)
    except ValueError as exc:
        raise ValueError(f"{_source(ckpt, entry.file)}: {exc}") from None
    factors = ckpt.read(scale).astype(np.float32)
    return ModelWeights(dequantize(values, factors, block), f"{form}, {layout}")


__all__ = ["ACTIVATION_SCALES", "DEFAULT_BLOCK", "SCALE_SUFFIXES", "ModelWeights", "config_block",
           "dequantize", "is_fp8", "model_weights", "scale_layout", "scale_of", "scale_tensors"]
