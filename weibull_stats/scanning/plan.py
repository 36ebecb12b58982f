"""What a scan will do: its checked settings, the per-tensor seeds, and the tasks in order.

Seeds
-----
Each (tensor, part) gets its own integer seed, ``tensor_seed(seed, tensor, part)``, which is
:func:`weibull_stats.core.seeds.child_seed` ``(seed, tensor, part)``: the package's one seed scheme
(a SHA-256 of the names keys a :class:`numpy.random.SeedSequence` together with ``seed``). The
``seed`` column holds that integer, so ``bootstrap(x, estimator, rng=row.seed, ...)``
reproduces a row's interval by itself, and results do not depend on order or worker count.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from weibull_stats.checkpoints import Checkpoint, detect_family
from weibull_stats.checkpoints.sources import MemoryCheckpoint
from weibull_stats.core.options import check_choice, check_policy
from weibull_stats.core.seeds import child_seed
from weibull_stats.estimators.registry import get_estimator, options_by_estimator
from weibull_stats.inference.intervals import check_between

#: The scan's default input policy, every command's: signed weights (``|w|`` is fitted), zeros
#: left out and counted, NaN and infinite values an error.
FIT_OPTIONS: Mapping[str, Any] = MappingProxyType(
    {"values": "weights", "zeros": "omit", "nonfinite": "error"})
#: Bootstrap intervals a scan can compute (as :func:`weibull_stats.bootstrap`'s ``method``).
BOOTSTRAP_METHODS: tuple[str, ...] = ("percentile", "basic", "bca")
#: What each matrix's interval columns hold: the estimator's asymptotic interval, or none.
INTERVAL_CHOICES: tuple[str, ...] = ("asymptotic", "none")
#: ``statsmodels.stats.multitest.multipletests`` methods a scan can correct with.
MULTIPLE_TESTING_METHODS: tuple[str, ...] = ("fdr_bh", "fdr_by", "holm", "bonferroni", "sidak", "holm-sidak")
#: Order of the parts of a fused matrix in the results table (``""``: the whole matrix).
PART_ORDER: tuple[str, ...] = ("", "q", "k", "v", "up", "gate")


@dataclass(frozen=True, slots=True)
class ScanSettings:
    """Everything that determines a scan's numbers; recorded in ``run.json``.

    A resumed scan must use the same settings as the journal it continues.
    """

    paths: tuple[str, ...]
    estimators: tuple[str, ...]
    bootstrap: int
    confidence_level: float
    gof: bool
    gof_samples: int
    seed: int
    include_vectors: bool
    #: ``{values, zeros, nonfinite}``: the input policy of every fit (:data:`FIT_OPTIONS` by default)
    policy: Mapping[str, str] = field(default_factory=lambda: dict(FIT_OPTIONS))
    #: ``{estimator: {option: value}}``: the estimator options given (the rest are defaults)
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: the bootstrap interval (``percentile``, ``basic`` or ``bca``; :func:`~weibull_stats.bootstrap`)
    bootstrap_method: str = "percentile"
    #: ``asymptotic``: every matrix gets its estimator's large-sample interval; ``none``: not
    intervals: str = "asymptotic"
    #: false discovery rate (level) of the equivalence verdicts and of "departs" in the report
    fdr: float = 0.05
    #: statsmodels ``multipletests`` method of the adjusted p-values
    multiple_testing: str = "fdr_bh"

    def fit_options(self, estimator: str) -> dict[str, Any]:
        """The keyword options of every fit of ``estimator``: the policy and its options."""
        return {**self.policy, **self.options.get(estimator, {})}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings (tuples as lists), as ``run.json`` and the journal record them."""
        data = asdict(self)
        data["paths"] = list(self.paths)
        data["estimators"] = list(self.estimators)
        data["policy"] = dict(self.policy)
        data["options"] = json.loads(json.dumps({k: dict(v) for k, v in self.options.items()},
                                                default=_jsonable))
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScanSettings:
        """Rebuild the settings from :meth:`to_dict` output (``run.json``, ``frame.attrs``)."""
        raw = dict(data)
        raw.update(paths=tuple(raw["paths"]), estimators=tuple(raw["estimators"]))
        if "options" in raw:
            raw["options"] = options_by_estimator(raw["options"], raw["estimators"])
        return cls(**raw)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray | tuple):
        return np.asarray(value).tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"option value {value!r} cannot be recorded as JSON")


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


def check_settings(
    paths: Sequence[str], estimators: Sequence[str], bootstrap: int, confidence_level: float,
    gof: bool, gof_samples: int, seed: int, jobs: int, include_vectors: bool,
    options: Mapping[str, Any] | None = None, policy: Mapping[str, str] | None = None,
    bootstrap_method: str = "percentile", intervals: str = "asymptotic", fdr: float = 0.05,
    multiple_testing: str = "fdr_bh",
) -> ScanSettings:
    if isinstance(paths, str | Path):
        paths = [str(paths)]
    paths = [str(p) for p in paths]
    if not paths:
        raise ValueError("`paths` is empty; give at least one checkpoint")
    if isinstance(estimators, str):
        estimators = [estimators]
    chosen: list[str] = []
    for name in estimators:
        get_estimator(name)
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise ValueError("`estimators` is empty; give at least one registered estimator")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int | np.integer) or bootstrap < 0:
        raise ValueError(f"`bootstrap` must be a number of resamples >= 0; got {bootstrap!r}")
    if not 0.0 < float(confidence_level) < 1.0:
        raise ValueError(f"`confidence_level` must lie in (0, 1); got {confidence_level!r}")
    if isinstance(gof_samples, bool) or not isinstance(gof_samples, int | np.integer) or gof_samples < 1:
        raise ValueError(f"`gof_samples` must be a positive integer; got {gof_samples!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer; got {seed!r}")
    if isinstance(jobs, bool) or not isinstance(jobs, int | np.integer) or jobs < 1:
        raise ValueError(f"`jobs` must be a positive integer; got {jobs!r}")
    given = {**FIT_OPTIONS, **(policy or {})}
    unknown = sorted(set(given) - set(FIT_OPTIONS))
    if unknown:
        raise ValueError(f"unknown input policy `{unknown[0]}`; the policy is {', '.join(FIT_OPTIONS)}")
    checked_policy = check_policy(given["values"], given["nonfinite"], given["zeros"])
    return ScanSettings(
        paths=tuple(paths), estimators=tuple(chosen), bootstrap=int(bootstrap),
        confidence_level=float(confidence_level), gof=bool(gof), gof_samples=int(gof_samples),
        seed=int(seed), include_vectors=bool(include_vectors),
        policy={name: checked_policy[name] for name in FIT_OPTIONS},
        options=options_by_estimator(options, chosen),
        bootstrap_method=check_choice(bootstrap_method, "bootstrap_method", BOOTSTRAP_METHODS),
        intervals=check_choice(intervals, "intervals", INTERVAL_CHOICES),
        fdr=_check_fdr(fdr), multiple_testing=check_choice(multiple_testing, "multiple_testing",
                                                           MULTIPLE_TESTING_METHODS),
    )


def _check_fdr(fdr: Any) -> float:
    return check_between(fdr, "fdr", high=0.5)


def plan_tasks(
    checkpoints: Sequence[Checkpoint], settings: ScanSettings
) -> tuple[list[TensorTask], list[dict[str, Any]], list[dict[str, Any]]]:
    """Tasks (one per tensor to fit), skipped tensors and file errors, in deterministic order.

    A checkpoint with nothing to fit (no tensors at all, or none a 2-D floating matrix) is a
    failure, recorded among the errors: a scan never reports zero rows as a success.
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
        for entry in ckpt.entries:
            reason = ""
            if entry.integral:
                reason = f"non-floating dtype {entry.dtype}"
            elif len(entry.shape) == 1 and not settings.include_vectors:
                reason = "1-D tensor (bias, norm or buffer)"
            elif len(entry.shape) == 0 or len(entry.shape) > 2:
                reason = f"{len(entry.shape)}-D tensor (not a matrix)"
            elif entry.numel < 3:
                reason = f"only {entry.numel} values"
            if reason:
                skipped.append({"checkpoint": ckpt.label, "tensor": entry.name, "dtype": entry.dtype,
                                "shape": "x".join(map(str, entry.shape)), "reason": reason})
                continue
            tasks.append(TensorTask(len(tasks), ckpt.label, str(ckpt.path), ckpt.step, entry.name,
                                    family, dict(ckpt.config), numel=int(entry.numel)))
        if len(tasks) == before:
            passed = skipped[skipped_before:]
            unreadable = f"{len(ckpt.tensor_errors)} unreadable tensors" if ckpt.tensor_errors else ""
            what = (f"all {len(passed)} of its entries skipped: {passed[0]['tensor']}: {passed[0]['reason']}"
                    + (", ..." if len(passed) > 1 else "") + (f"; {unreadable}" if unreadable else "")
                    if passed else unreadable or "it holds no tensors")
            matrices = "floating tensor" if settings.include_vectors else "2-D floating tensor"
            source = ckpt.label if isinstance(ckpt, MemoryCheckpoint) else ckpt.path  # no file to name
            errors.append(error_record(ckpt.label, ckpt.step, "", "", "",
                                       f"{source}: nothing to fit: no {matrices} ({what})"))
    return tasks, skipped, errors


def error_record(checkpoint: str, step: int | None, tensor: str, part: str, estimator: str, message: str
           ) -> dict[str, Any]:
    return {"checkpoint": checkpoint, "step": step, "tensor": tensor, "part": part,
            "estimator": estimator, "error": message}


__all__ = ["FIT_OPTIONS", "PART_ORDER", "ScanSettings", "TensorTask", "check_settings", "error_record",
           "plan_tasks", "tensor_seed"]
