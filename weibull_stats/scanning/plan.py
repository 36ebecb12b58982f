"""What a scan will do: the per-tensor seeds and the tasks in order.

Its settings are declared and checked in :mod:`weibull_stats.scanning.settings`.

Seeds
-----
Each (tensor, part) gets its own integer seed, ``tensor_seed(seed, tensor, part)``, which is
:func:`weibull_stats.core.seeds.child_seed` ``(seed, tensor, part)``: the package's one seed scheme
(a SHA-256 of the names keys a :class:`numpy.random.SeedSequence` together with ``seed``). The
``seed`` column holds that integer, so ``bootstrap(x, estimator, rng=row.seed, ...)``
reproduces a row's interval by itself, and results do not depend on order or worker count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from weibull_stats.checkpoints import Checkpoint, classify, detect_family
from weibull_stats.checkpoints.fp8 import is_fp8, scale_tensors
from weibull_stats.checkpoints.naming import BIAS_ROWS
from weibull_stats.checkpoints.sources import MemoryCheckpoint
from weibull_stats.core.seeds import child_seed
from weibull_stats.scanning.settings import ScanSettings

#: Order of the parts of a fused matrix in the results table (``""``: the whole matrix); the
#: experts of a stack come in index order, each expert's parts in this order.
PART_ORDER: tuple[str, ...] = ("", "q", "k", "v", "up", "gate")


@dataclass(frozen=True, slots=True)
class TensorTask:
    """One tensor to fit: which checkpoint, and which (part, estimator) rows are already done."""

    order: int
    checkpoint: str
    path: str
    step: int | None
    tensor: str
    family: str
    config: Mapping[str, Any]
    done: frozenset[tuple[str, str]] = field(default_factory=frozenset)
    numel: int = 0
    shape: tuple[int, ...] = ()


def tensor_seed(seed: int, tensor: str, part: str = "") -> int:
    """Stable 63-bit seed of one (tensor, part): :func:`weibull_stats.core.seeds.child_seed`.

    Examples
    --------
    >>> tensor_seed(0, "encoder.layer.0.attention.self.query.weight") == tensor_seed(
    ...     0, "encoder.layer.0.attention.self.query.weight")
    True
    >>> tensor_seed(0, "a.weight", "q") != tensor_seed(0, "a.weight", "k")
    True
    """
    return child_seed(seed, tensor, part)


def plan_tasks(
    checkpoints: Sequence[Checkpoint], settings: ScanSettings
) -> tuple[list[TensorTask], list[dict[str, Any]], list[dict[str, Any]]]:
    """Tasks (one per tensor to fit), skipped tensors and file errors, in deterministic order.

    A checkpoint with nothing to fit (no tensors at all, or none a 2-D floating matrix) is a
    failure, recorded among the errors: a scan never reports zero rows as a success. One that
    could not be opened is its ``file_errors``; the weight files of a model folder that were
    not read are skipped rows naming the file (in ``tensor``). The scales of FP8 weights are
    skipped rows (they are applied to their weights,
    :func:`~weibull_stats.checkpoints.fp8.scale_tensors`); with ``gof``, each FP8 matrix has
    an error row saying it is fitted without its test (:data:`NO_FP8_GOF`).
    """
    tasks: list[TensorTask] = []
    skipped: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for ckpt in checkpoints:
        before, skipped_before = len(tasks), len(skipped)
        family = detect_family(ckpt.config, (e.name for e in ckpt.entries))
        for _file, message in ckpt.file_errors:
            errors.append(error_record(ckpt.label, ckpt.step, "", "", "", message))
        for tensor, message in ckpt.tensor_errors:  # listed in a header, data cut off
            errors.append(error_record(ckpt.label, ckpt.step, tensor, "", "", message))
        for name, reason in ckpt.skipped:  # entries of a torch file that are not tensors
            skipped.append({"checkpoint": ckpt.label, "tensor": name, "dtype": "", "shape": "",
                            "reason": reason})
        scales = scale_tensors(ckpt.entries)  # applied to their FP8 weights, not fitted
        for entry in ckpt.entries:
            reason = ""
            if entry.name in scales:
                reason = scales[entry.name]
            elif entry.integral:
                reason = f"non-floating dtype {entry.dtype}"
            elif len(entry.shape) == 1 and not settings.include_vectors:
                reason = "1-D tensor (bias, norm or buffer)"
            elif len(entry.shape) == 2 and BIAS_ROWS.search(entry.name) and not settings.include_vectors:
                reason = "2-D tensor of bias vectors (one per expert or a broadcast row)"
            elif len(entry.shape) == 0 or (len(entry.shape) > 2 and not (
                    len(entry.shape) == 3 and classify(entry.name, family, tuple(entry.shape)).parts)):
                reason = f"{len(entry.shape)}-D tensor (not a matrix)"
            elif entry.numel < 3:
                reason = f"only {entry.numel} values"
            if reason:
                skipped.append({"checkpoint": ckpt.label, "tensor": entry.name, "dtype": entry.dtype,
                                "shape": "x".join(map(str, entry.shape)), "reason": reason})
                continue
            tasks.append(TensorTask(len(tasks), ckpt.label, str(ckpt.path), ckpt.step, entry.name,
                                    family, dict(ckpt.config), numel=int(entry.numel),
                                    shape=tuple(int(n) for n in entry.shape)))
            if settings.gof and is_fp8(entry.dtype):
                errors.append(error_record(ckpt.label, ckpt.step, entry.name, "", "", NO_FP8_GOF))
        if len(tasks) == before and not (ckpt.file_errors and not ckpt.entries):  # not opened: said above
            passed = skipped[skipped_before:]
            unreadable = f"{len(ckpt.tensor_errors)} unreadable tensors" if ckpt.tensor_errors else ""
            what = (f"all {len(passed)} of its entries skipped: {passed[0]['tensor']}: {passed[0]['reason']}"
                    + (", ..." if len(passed) > 1 else "") + (f"; {unreadable}" if unreadable else "")
                    if passed else unreadable or "it holds no tensors")
            matrices = "floating tensor" if settings.include_vectors else "2-D floating tensor"
            source = ckpt.label if isinstance(ckpt, MemoryCheckpoint) else ckpt.path  # no file to name
            errors.append(error_record(ckpt.label, ckpt.step, "", "", "",
                                       f"{source}: nothing to fit: no {matrices} ({what})"))
        for file, reason in ckpt.unread_files:  # a .bin beside the .safetensors read, ...
            skipped.append({"checkpoint": ckpt.label, "tensor": file, "dtype": "", "shape": "",
                            "reason": reason})
    return tasks, skipped, errors


#: Why an FP8 matrix is fitted without its --gof test (:func:`plan_tasks` records it).
NO_FP8_GOF = ("--gof: no goodness-of-fit test of FP8 weights: Monte Carlo samples are not drawn on the "
              "FP8 grid (or its scaled blocks) yet, so they would test the rounding, not the Weibull law; "
              "the fit is in results.csv without a p-value (scan without --gof to fit FP8 weights alone)")


def error_record(checkpoint: str, step: int | None, tensor: str, part: str, estimator: str, message: str
           ) -> dict[str, Any]:
    return {"checkpoint": checkpoint, "step": step, "tensor": tensor, "part": part,
            "estimator": estimator, "error": message}


__all__ = ["NO_FP8_GOF", "PART_ORDER", "TensorTask", "error_record", "plan_tasks", "tensor_seed"]
