"""Fit every weight matrix of one or more checkpoints: the scan.

A scan reads each checkpoint one tensor at a time, names every 2-D floating tensor by layer
and kind (:mod:`weibull_stats.checkpoints`), splits merged matrices into their parts, and fits
the magnitudes ``|w|`` (zeros omitted and counted) with each chosen estimator, optionally with
bootstrap intervals and a goodness-of-fit p-value.

Files written to ``out``
------------------------
``journal.jsonl``
    One JSON line per finished row or failure, appended as each tensor finishes; ``resume``
    reads it back and skips finished ``(checkpoint, tensor, part, estimator)`` rows.
``results.csv``, ``results.parquet``
    The final table, sorted (checkpoint, tensor in file order, part, estimator) and free of
    timestamps: the same inputs and seed give the same bytes, whatever ``jobs``.
``errors.csv``
    One line per failure (missing, truncated or corrupt file, unknown dtype, failed fit).
``skipped.csv``
    Tensors not fitted by design (non-floating buffers, 1-D vectors, tensors of 3+ dims).
``run.json``
    Settings, the validation-gate record, counts and timestamps.
``report.md`` and ``*.png``
    See :mod:`weibull_stats.report`.

Seeds
-----
Each (tensor, part) gets its own integer seed, ``tensor_seed(seed, tensor, part)``: a
SHA-256 of the names keys a :class:`numpy.random.SeedSequence` together with ``seed``. The
``seed`` column holds that integer, so ``bootstrap(x, estimator, rng=row.seed, ...)``
reproduces a row's interval by itself, and results do not depend on order or worker count.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import warnings
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from weibull_stats._version import __version__
from weibull_stats.checkpoints import Checkpoint, classify, detect_family, resolve_paths, split_fused
from weibull_stats.checkpoints.readers import minilm_path, open_checkpoint
from weibull_stats.registry import get_estimator
from weibull_stats.sample import Sample, as_sample

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Columns of the results table, in order.
COLUMNS: tuple[str, ...] = (
    "checkpoint", "step", "tensor", "part", "layer", "kind", "family", "dtype", "rows", "cols",
    "numel", "n_used", "zeros", "estimator", "shape", "scale", "shape_low", "shape_high",
    "scale_low", "scale_high", "confidence_level", "n_resamples", "r2", "gof_statistic",
    "gof_pvalue", "gof_samples", "converged", "options", "seed", "package_version", "validated",
)
ERROR_COLUMNS: tuple[str, ...] = ("checkpoint", "step", "tensor", "part", "estimator", "error")
SKIPPED_COLUMNS: tuple[str, ...] = ("checkpoint", "tensor", "dtype", "shape", "reason")
#: Options every scan fit uses: signed weights, zeros dropped and counted.
FIT_OPTIONS: Mapping[str, Any] = MappingProxyType({"values": "weights", "zeros": "omit"})
PART_ORDER: tuple[str, ...] = ("", "q", "k", "v", "up", "gate")
JOURNAL = "journal.jsonl"


class ScanWarning(UserWarning):
    """Some tensors or files failed during a scan (see ``errors.csv`` or ``frame.attrs``)."""


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

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["paths"] = list(self.paths)
        data["estimators"] = list(self.estimators)
        return data


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


def tensor_seed(seed: int, tensor: str, part: str = "") -> int:
    """Stable 63-bit seed of one (tensor, part), derived from ``seed`` and the names.

    Examples
    --------
    >>> tensor_seed(0, "encoder.layer.0.attention.self.query.weight") == tensor_seed(
    ...     0, "encoder.layer.0.attention.self.query.weight")
    True
    >>> tensor_seed(0, "a.weight", "q") != tensor_seed(0, "a.weight", "k")
    True
    """
    digest = hashlib.sha256(f"{tensor}\x00{part}".encode()).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
    state = np.random.SeedSequence([int(seed), *words]).generate_state(2, np.uint32)
    return (int(state[0]) | (int(state[1]) << 32)) & ((1 << 63) - 1)


def _check_settings(
    paths: Sequence[str], estimators: Sequence[str], bootstrap: int, confidence_level: float,
    gof: bool, gof_samples: int, seed: int, jobs: int, include_vectors: bool,
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
    return ScanSettings(
        paths=tuple(paths), estimators=tuple(chosen), bootstrap=int(bootstrap),
        confidence_level=float(confidence_level), gof=bool(gof), gof_samples=int(gof_samples),
        seed=int(seed), include_vectors=bool(include_vectors),
    )


def plan_tasks(
    checkpoints: Sequence[Checkpoint], settings: ScanSettings
) -> tuple[list[TensorTask], list[dict[str, Any]], list[dict[str, Any]]]:
    """Tasks (one per tensor to fit), skipped tensors and file errors, in deterministic order."""
    tasks: list[TensorTask] = []
    skipped: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for ckpt in checkpoints:
        family = detect_family(ckpt.config, (e.name for e in ckpt.entries))
        for _file, message in ckpt.file_errors:
            errors.append(_error(ckpt.label, ckpt.step, "", "", "", message))
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
                                    family, dict(ckpt.config)))
    return tasks, skipped, errors


def _error(checkpoint: str, step: int | None, tensor: str, part: str, estimator: str, message: str
           ) -> dict[str, Any]:
    return {"checkpoint": checkpoint, "step": step, "tensor": tensor, "part": part,
            "estimator": estimator, "error": message}


_OPEN: dict[tuple[str, str], Checkpoint] = {}


def _checkpoint(path: str, label: str) -> Checkpoint:
    # one open checkpoint per worker process at a time (a torch shard can be large)
    key = (path, label)
    if key not in _OPEN:
        _OPEN.clear()
        _OPEN[key] = open_checkpoint(path, label=label)
    return _OPEN[key]


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def fit_tensor(task: TensorTask, settings: ScanSettings, validated: bool, threads: int | None = None
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Read one tensor, split it if fused, fit each (part, estimator) not yet done.

    The tensor is read in its stored precision (bfloat16 and float16 stay 16-bit) and each
    (tensor, part) is checked once into a :class:`~weibull_stats.Sample` with the scan's
    policy (:data:`FIT_OPTIONS`): 16-bit data are counted by bit pattern there, and every
    estimator, the bootstrap and the goodness-of-fit test take that one sample.
    ``threads`` goes to the bootstrap engine (None: every CPU); results do not depend on it.
    Returns the rows and the failures; a failure never raises.
    """
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    try:
        ckpt = _checkpoint(task.path, task.checkpoint)
        entry = ckpt.entry(task.tensor)
        weight = ckpt.read(task.tensor)
    except (ValueError, OSError, KeyError, TypeError) as exc:
        message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        errors.append(_error(task.checkpoint, task.step, task.tensor, "", "", message))
        return rows, errors
    if weight.ndim == 1:
        weight = weight.reshape(-1, 1)
    role = classify(task.tensor, task.family)
    units: list[tuple[str, str, np.ndarray]] = [("", role.kind, weight)]
    if role.parts:
        try:
            blocks = split_fused(weight, role, task.config, task.tensor)
            units += [(part, part, block) for part, block in blocks]
        except ValueError as exc:
            errors += [_error(task.checkpoint, task.step, task.tensor, part, "", str(exc))
                       for part in role.parts]
    for part, kind, block in units:
        wanted = [name for name in settings.estimators if (part, name) not in task.done]
        if not wanted:
            continue
        seed = tensor_seed(settings.seed, task.tensor, part)
        where = f"{task.tensor}" + (f" part {part}" if part else "")
        try:
            sample = as_sample(block, **FIT_OPTIONS)
        except (ValueError, TypeError) as exc:  # constant, too few values, NaN: every estimator fails alike
            errors += [_error(task.checkpoint, task.step, task.tensor, part, name, f"{where}: {exc}")
                       for name in wanted]
            continue
        if sample.owned and len(wanted) * (1 + settings.gof) > 1:
            # shared by several fits: none may reorder it, so no row depends on the others
            sample = replace(sample, owned=False)
        for name in wanted:
            try:
                row = _fit_unit(sample, name, settings, seed, threads)
            except (ValueError, ArithmeticError, RuntimeError) as exc:
                errors.append(_error(task.checkpoint, task.step, task.tensor, part, name, f"{where}: {exc}"))
                continue
            row.update(
                checkpoint=task.checkpoint, step=task.step, tensor=task.tensor, part=part,
                layer=role.layer, kind=kind, family=task.family, dtype=entry.dtype,
                rows=int(block.shape[0]), cols=int(block.shape[1]), numel=int(block.size),
                seed=seed, package_version=__version__, validated=validated,
            )
            rows.append(row)
    return rows, errors


def _fit_unit(sample: Sample, name: str, settings: ScanSettings, seed: int, threads: int | None
              ) -> dict[str, Any]:
    """One row: fit (or bootstrap) and test one checked sample with estimator ``name``.

    The sample is passed on as it is: nothing re-checks or re-copies the data. The bootstrap
    (the one consumer whose draws depend on the order of raw magnitudes) runs first.
    """
    boot = None
    if settings.bootstrap:
        from weibull_stats.bootstrapping import bootstrap

        boot = bootstrap(sample, name, n_resamples=settings.bootstrap, method="percentile",
                         confidence_level=settings.confidence_level, rng=seed, workers=threads,
                         **FIT_OPTIONS)
        result = boot.estimate
    else:
        result = get_estimator(name)(sample, **FIT_OPTIONS)
    row: dict[str, Any] = {
        "estimator": name, "shape": result.shape, "scale": result.scale, "n_used": result.n_used,
        "zeros": int(result.n_omitted.get("zeros", 0)), "r2": _float(result.r2),
        "converged": bool(result.converged),
        "options": json.dumps(dict(result.to_dict()["options"]), sort_keys=True),
        "shape_low": math.nan, "shape_high": math.nan, "scale_low": math.nan, "scale_high": math.nan,
        "confidence_level": math.nan, "n_resamples": 0,
        "gof_statistic": math.nan, "gof_pvalue": math.nan, "gof_samples": 0,
        "storage": sample.storage,  # kept in the journal; a table column once COLUMNS lists it
    }
    if boot is not None:
        interval = boot.confidence_interval
        row.update(shape_low=float(interval.shape[0]), shape_high=float(interval.shape[1]),
                   scale_low=float(interval.scale[0]), scale_high=float(interval.scale[1]),
                   confidence_level=settings.confidence_level, n_resamples=settings.bootstrap)
    if settings.gof:
        from weibull_stats.gof import goodness_of_fit

        test = goodness_of_fit(sample, name, statistic="ad", n_mc_samples=settings.gof_samples, rng=seed,
                               workers=threads, **FIT_OPTIONS)
        row.update(gof_statistic=float(test.statistic), gof_pvalue=_float(test.pvalue),
                   gof_samples=settings.gof_samples)
    return row


# ---------------------------------------------------------------------- journal and files
def _read_journal(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Finished rows of a journal; a torn last line (interrupted write) is dropped and counted."""
    rows: list[dict[str, Any]] = []
    torn = 0
    if not path.is_file():
        return rows, torn
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                torn += 1
                continue
            if not line.endswith("\n"):
                torn += 1
                continue
            if record.get("type") == "row":
                rows.append(record["row"])
    return rows, torn


class _Journal:
    """Append-only JSON-lines record of finished rows and failures, flushed per tensor."""

    def __init__(self, path: Path, rows: list[dict[str, Any]]) -> None:
        self.handle = open(path, "w", encoding="utf-8")
        for row in rows:  # rewrite the clean part of a resumed journal
            self.handle.write(json.dumps({"type": "row", "row": row}) + "\n")
        self.handle.flush()

    def write(self, rows: Iterable[dict[str, Any]], errors: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.handle.write(json.dumps({"type": "row", "row": row}) + "\n")
        for error in errors:
            self.handle.write(json.dumps({"type": "error", "error": error}) + "\n")
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


def results_frame(rows: list[dict[str, Any]], tasks: Sequence[TensorTask], estimators: Sequence[str]
                  ) -> pd.DataFrame:
    """The results table: :data:`COLUMNS`, sorted deterministically, stable dtypes."""
    import pandas as pd

    order = {(t.checkpoint, t.tensor): t.order for t in tasks}
    position = {name: i for i, name in enumerate(estimators)}

    def key(row: dict[str, Any]) -> tuple[int, int, str, int, str]:
        part = row["part"]
        return (order.get((row["checkpoint"], row["tensor"]), len(order)),
                PART_ORDER.index(part) if part in PART_ORDER else len(PART_ORDER), part,
                position.get(row["estimator"], len(position)), row["estimator"])

    ordered = sorted(rows, key=key)
    frame = pd.DataFrame([{c: r.get(c) for c in COLUMNS} for r in ordered], columns=list(COLUMNS))
    integer = ("step", "layer", "rows", "cols", "numel", "n_used", "zeros", "n_resamples", "gof_samples")
    for column in integer:
        frame[column] = frame[column].astype("Int64")
    for column in ("shape", "scale", "shape_low", "shape_high", "scale_low", "scale_high",
                   "confidence_level", "r2", "gof_statistic", "gof_pvalue"):
        frame[column] = frame[column].astype("float64")
    frame["seed"] = frame["seed"].astype("int64")
    for column in ("converged", "validated"):
        frame[column] = frame[column].astype("bool")
    for column in ("checkpoint", "tensor", "part", "kind", "family", "dtype", "estimator", "options",
                   "package_version"):
        frame[column] = frame[column].astype("str")
    return frame


def _write_tables(out: Path, frame: pd.DataFrame, errors: list[dict[str, Any]],
                  skipped: list[dict[str, Any]]) -> None:
    import pandas as pd

    frame.to_csv(out / "results.csv", index=False, lineterminator="\n")
    frame.to_parquet(out / "results.parquet", index=False, engine="pyarrow")
    error_frame = pd.DataFrame(errors, columns=list(ERROR_COLUMNS))
    error_frame["step"] = error_frame["step"].astype("Int64")
    error_frame.to_csv(out / "errors.csv", index=False, lineterminator="\n")
    pd.DataFrame(skipped, columns=list(SKIPPED_COLUMNS)).to_csv(out / "skipped.csv", index=False,
                                                                 lineterminator="\n")


# ---------------------------------------------------------------------- the scan
def scan(
    paths: str | Path | Sequence[str | Path],
    *,
    estimators: str | Sequence[str] = ("probability_plot",),
    bootstrap: int = 0,
    confidence_level: float = 0.95,
    gof: bool = False,
    gof_samples: int = 99,
    seed: int = 0,
    out: str | Path | None = None,
    resume: bool = False,
    jobs: int = 1,
    skip_validation: bool = False,
    include_vectors: bool = False,
    report: bool = True,
    progress: bool = False,
) -> pd.DataFrame:
    """Fit every weight matrix of one or more checkpoints.

    Parameters
    ----------
    paths : path or sequence of paths
        Each a weight file (``.safetensors``, ``.bin``/``.pt``, ``*.index.json``), a model
        folder, a folder of ``step-N`` checkpoint folders (a trajectory, in step order), or
        ``"minilm"`` (the embedded all-MiniLM-L6-v2).
    estimators : str or sequence of str, default ("probability_plot",)
        Registered estimators; every matrix is fitted with each.
    bootstrap : int, default 0
        Bootstrap resamples for percentile intervals of shape and scale (0: no intervals).
    confidence_level : float, default 0.95
    gof : bool, default False
        Anderson–Darling goodness of fit with parametric-bootstrap p-values
        (``gof_samples`` Monte Carlo refits with the same estimator).
    gof_samples : int, default 99
    seed : int, default 0
        Root seed; each (tensor, part) gets :func:`tensor_seed` ``(seed, tensor, part)``.
    out : path, optional
        Folder for the journal, tables, report and plots (see the module docstring). Without
        it nothing is written and ``resume`` is unavailable.
    resume : bool, default False
        Continue the scan journalled in ``out``: finished rows are kept, not redone. Without
        it an existing journal in ``out`` is replaced.
    jobs : int, default 1
        Worker processes; results do not depend on it. Memory grows with it (one tensor per
        worker).
    skip_validation : bool, default False
        Fit without the validation gate; recorded as ``validated = False`` in every row and
        in the report.
    include_vectors : bool, default False
        Also fit 1-D floating tensors (biases, norms) as kind ``other``.
    report : bool, default True
        With ``out``, write ``report.md`` and the plots.
    progress : bool, default False
        A tqdm progress bar (one step per tensor) on stderr.

    Returns
    -------
    pandas.DataFrame
        One row per (checkpoint, tensor, part, estimator), columns :data:`COLUMNS`
        (``part`` is ``""`` for a whole matrix, ``q``/``k``/``v`` or ``up``/``gate`` for a
        part of a fused one). ``frame.attrs`` holds ``errors`` and ``skipped`` (lists of
        dicts) and ``gate`` (the validation record).

    Warns
    -----
    ScanWarning
        When some tensor or file failed; the failures are in ``frame.attrs["errors"]`` and
        ``errors.csv``.

    Raises
    ------
    ValueError
        Bad settings, or ``resume`` with settings that differ from the journal's.
    weibull_stats.validation.gate.ValidationFailed
        The estimators did not pass the validation gate.

    Examples
    --------
    A synthetic Llama-layout checkpoint (``scan("minilm")`` scans the embedded real model):

    >>> import tempfile
    >>> from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
    >>> from weibull_stats.scanning import scan
    >>> state, config = synthetic_state("llama", layers=2, hidden=16, heads=2)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     table = scan(write_checkpoint(folder, state, config), skip_validation=True)
    >>> len(table), sorted(set(table["kind"]))
    (16, ['down', 'embedding', 'gate', 'k', 'lm_head', 'o', 'q', 'up', 'v'])
    >>> table.loc[table["kind"] == "q", ["layer", "rows", "cols"]].to_numpy().tolist()
    [[0, 16, 16], [1, 16, 16]]
    """
    settings = _check_settings(
        [str(paths)] if isinstance(paths, str | Path) else [str(p) for p in paths],
        estimators, bootstrap, confidence_level, gof, gof_samples, seed, jobs, include_vectors,
    )
    if resume and out is None:
        raise ValueError("`resume` needs `out`: the folder whose journal the scan continues")
    from weibull_stats.validation.gate import ensure_validated

    gate = ensure_validated(settings.estimators, skip=skip_validation)
    validated = bool(gate.validated) and not bool(gate.skipped)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    checkpoints = resolve_paths(list(settings.paths))
    tasks, skipped, errors = plan_tasks(checkpoints, settings)

    out_dir = Path(out) if out is not None else None
    finished: list[dict[str, Any]] = []
    torn = 0
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        if resume:
            finished, torn = _resume_state(out_dir, settings)
        _write_run(out_dir, settings, gate, started, None, len(tasks))
    done: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for row in finished:
        done.setdefault((row["checkpoint"], row["tensor"]), set()).add((row["part"], row["estimator"]))
    pending = []
    for task in tasks:
        finished_keys = frozenset(done.get((task.checkpoint, task.tensor), set()))
        role = classify(task.tensor, task.family)
        wanted = {(p, e) for p in ("", *role.parts) for e in settings.estimators}
        if not wanted <= finished_keys:
            pending.append(TensorTask(task.order, task.checkpoint, task.path, task.step, task.tensor,
                                      task.family, task.config, finished_keys))

    journal = _Journal(out_dir / JOURNAL, finished) if out_dir is not None else None
    rows = list(finished)
    try:
        if journal is not None:
            journal.write([], errors)
        for new_rows, new_errors in _run_tasks(pending, settings, validated, jobs, progress, len(tasks)):
            rows += new_rows
            errors += new_errors
            if journal is not None:
                journal.write(new_rows, new_errors)
    finally:
        if journal is not None:
            journal.close()

    frame = results_frame(rows, tasks, settings.estimators)
    if out_dir is not None:
        _write_tables(out_dir, frame, errors, skipped)
        _write_run(out_dir, settings, gate, started, datetime.now(UTC).isoformat(timespec="seconds"),
                   len(tasks), rows=len(frame), errors=len(errors), skipped=len(skipped),
                   resumed_rows=len(finished), torn_journal_lines=torn)
        if report:
            from weibull_stats.report import write_report

            write_report(out_dir, frame, checkpoints, errors=errors, skipped=skipped, gate=gate,
                         settings=settings)
    frame.attrs["errors"] = errors
    frame.attrs["skipped"] = skipped
    frame.attrs["gate"] = _gate_dict(gate)
    if errors:
        where = f"; see {out_dir / 'errors.csv'}" if out_dir is not None else "; see frame.attrs['errors']"
        first = errors[0]["error"]
        warnings.warn(f"{len(errors)} failures during the scan (first: {first}){where}", ScanWarning,
                      stacklevel=2)
    return frame


def _run_tasks(tasks: list[TensorTask], settings: ScanSettings, validated: bool, jobs: int,
               progress: bool, total: int) -> Iterable[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    from tqdm import tqdm

    bar = tqdm(total=total, initial=total - len(tasks), unit="tensor", file=sys.stderr,
               disable=not progress, dynamic_ncols=True)
    try:
        if jobs == 1 or len(tasks) <= 1:
            for task in tasks:
                bar.set_postfix_str(task.tensor, refresh=False)
                yield fit_tensor(task, settings, validated)
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
                futures = {pool.submit(fit_tensor, task, settings, validated, 1): task for task in tasks}
                for future in as_completed(futures):
                    bar.set_postfix_str(futures[future].tensor, refresh=False)
                    yield future.result()
                    bar.update()
    finally:
        bar.close()
        _OPEN.clear()  # release the last checkpoint (a loaded .bin state dict can be large)


def _resume_state(out: Path, settings: ScanSettings) -> tuple[list[dict[str, Any]], int]:
    run_file = out / "run.json"
    if run_file.is_file():
        try:
            previous = json.loads(run_file.read_text(encoding="utf-8")).get("settings")
        except json.JSONDecodeError as exc:
            raise ValueError(f"{run_file}: corrupt run record ({exc}); scan into a new folder") from None
        if previous is not None and previous != settings.to_dict():
            changed = sorted(k for k in settings.to_dict() if previous.get(k) != settings.to_dict()[k])
            raise ValueError(
                f"{out}: cannot resume: settings differ from the journalled scan ({', '.join(changed)}); "
                "use the same settings or another --out"
            )
    rows, torn = _read_journal(out / JOURNAL)
    unique: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for row in rows:
        unique.setdefault((row["checkpoint"], row["tensor"], row["part"], row["estimator"]), row)
    return list(unique.values()), torn


def _gate_dict(gate: Any) -> dict[str, Any]:
    if hasattr(gate, "to_dict"):
        return dict(gate.to_dict())
    return {
        "validated": bool(gate.validated),
        "skipped": bool(gate.skipped),
        "source": str(gate.source),
        "package_version": str(gate.package_version),
        "estimators": list(gate.estimators),
    }


def _write_run(out: Path, settings: ScanSettings, gate: Any, started: str, finished: str | None,
               tensors: int, **counts: int) -> None:
    record = {
        "package_version": __version__,
        "settings": settings.to_dict(),
        "gate": _gate_dict(gate),
        "started": started,
        "finished": finished,
        "tensors": tensors,
        **counts,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
    }
    (out / "run.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")


__all__ = ["COLUMNS", "ScanSettings", "ScanWarning", "fit_tensor", "minilm_path", "scan", "tensor_seed"]
