"""The user-facing workflows: validate, then scan, then report (the layer above validation).

:func:`scan` is ``weibull_stats.scan``: it runs the validation gate
(:func:`weibull_stats.validation.gate.ensure_validated`), the scan proper
(:func:`weibull_stats.scanning.run.scan`, which takes the gate record and writes the tables) and
then the report (:func:`weibull_stats.report.markdown.write_report`). Each lower module knows nothing of
the ones above it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from weibull_stats.checkpoints import source_names
from weibull_stats.checkpoints.devices import check_device
from weibull_stats.core.constants import DEFAULT_ANCHOR
from weibull_stats.core.options import DEFAULT_POLICY
from weibull_stats.core.progress import ProgressOption
from weibull_stats.estimators.registry import DEFAULT_ESTIMATOR
from weibull_stats.scanning import run as scanning
from weibull_stats.scanning.folder import check_output_folder, output_lock, staged_files
from weibull_stats.scanning.settings import SCAN_SETTINGS, check_settings
from weibull_stats.validation import gate as validation_gate

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def scan(
    paths: Any,
    *,
    estimators: str | Sequence[str] = (DEFAULT_ESTIMATOR,),
    options: Mapping[str, Any] | None = None,
    values: str = DEFAULT_POLICY["values"],
    zeros: str = DEFAULT_POLICY["zeros"],
    nonfinite: str = DEFAULT_POLICY["nonfinite"],
    bootstrap: int = 0,
    bootstrap_method: str = "percentile",
    intervals: str = "asymptotic",
    equivalence_level: float = 0.05,
    fdr: float = 0.05,
    multiple_testing: str = "fdr_bh",
    anchor: str = DEFAULT_ANCHOR,
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
    matrix_plots: bool = False,
    progress: ProgressOption = None,
    device: str | None = None,
    client: Any = None,
) -> pd.DataFrame:
    """Fit every weight matrix of one or more checkpoints, after the validation gate.

    Parameters
    ----------
    paths : source or sequence of sources
        Where the model is. Each a weight file (``.safetensors``, ``.bin``/``.pt``, ``.npy``,
        ``*.index.json``), a model folder, a folder of ``step-N`` checkpoint folders (a
        trajectory, in step order), ``"minilm"`` (the embedded all-MiniLM-L6-v2), a Hugging
        Face model id (``org/name``) resolved from the local cache only (never downloaded; an
        existing path of the same spelling wins), a ``torch.nn.Module`` (labelled with its
        class name) or a state dict of torch tensors or numpy arrays (labelled
        ``state_dict``); for another label, pass
        :func:`weibull_stats.checkpoints.from_module` ``(model, label=...)``. In-memory
        sources scan with ``jobs=1``. See :mod:`weibull_stats.checkpoints.sources`.
    estimators : str or sequence of str, default ("probability_plot",)
        Registered estimators; every matrix is fitted with each.
    options : mapping, optional
        Estimator options, recorded in ``run.json``, the report and each row's ``options``:
        flat, ``{"trim": (0.05, 0.95)}`` (each option goes to every chosen estimator that
        takes it), or by estimator, ``{"probability_plot": {"trim": (0.05, 0.95)}}``.
        Default: each estimator's own (the validation gate checks the estimators themselves,
        at their default options).
    values, zeros, nonfinite : str, default "weights", "omit", "error"
        The input policy of every fit (:func:`~weibull_stats.as_sample`): signed weights
        (``|w|`` is fitted), zeros left out and counted in the ``zeros`` column, NaN or
        infinite values an error of that tensor (``"omit"``: left out and counted).
    bootstrap : int, default 0
        Bootstrap resamples for intervals of shape and scale, in the ``bootstrap_*`` columns
        (0: no bootstrap intervals; those of ``intervals`` stay).
    bootstrap_method : {"percentile", "basic", "bca"}, default "percentile"
        The bootstrap interval (:func:`~weibull_stats.bootstrap`), in the ``bootstrap_*``
        columns, its method in ``bootstrap_method``.
    intervals : {"asymptotic", "none"}, default "asymptotic"
        Every matrix gets its estimator's asymptotic interval (:func:`~weibull_stats.
        confidence_interval`, a few percent of the fit) in ``shape_low`` ... ``scale_high``,
        with ``shape_se``, ``log_scale_se``, ``interval_method`` and, where first-order theory
        is not to be trusted, ``interval_warning``.
    equivalence_level : float, default 0.05
        Level ``alpha`` of each of the two one-sided tests of the ``equivalence`` verdicts
        against the published bands (``inside``: the ``1 - 2 alpha`` interval of ``k`` lies
        within the band), and of the report's class verdicts; strictly between 0 and 0.5
        (:mod:`weibull_stats.scanning.decisions`).
    fdr : float, default 0.05
        False discovery rate at which the report counts the matrices departing from the
        Weibull law (adjusted goodness-of-fit p-values below it); strictly between 0 and 1.
    multiple_testing : str, default "fdr_bh"
        statsmodels ``multipletests`` method of ``gof_pvalue_adjusted`` and
        ``equivalence_pvalue_adjusted`` (Benjamini–Hochberg by default), across the matrices
        of each checkpoint and estimator.
    anchor : {"halfnormal", "uniform"}, default "halfnormal"
        The initialisation law whose anchor ``k0`` (:data:`weibull_stats.core.constants.ANCHORS`)
        the report's ``k − k0`` column and the figures' anchor line use: ``"halfnormal"``
        (i.i.d. Gaussian weights, ``k0 = 1.2054343190``) or ``"uniform"`` (``|Uniform|``:
        kaiming-uniform, the default of ``torch.nn.Linear``, ``k0 = 1.3751188054``); recorded
        in ``run.json``. Both are limits of the default probability-plot fit; fits off that
        protocol are not compared with either.
    confidence_level : float, default 0.95
        Coverage of the intervals (asymptotic and bootstrap), strictly between 0 and 1.
    gof : bool, default False
        Anderson–Darling goodness of fit with parametric-bootstrap p-values
        (``gof_samples`` Monte Carlo refits with the same estimator).
    gof_samples : int, default 99
    seed : int, default 0
        Root seed; each (tensor, part) gets :func:`~weibull_stats.scanning.plan.tensor_seed`
        ``(seed, tensor, part)``.
    out : path, optional
        Folder for the journal, tables, report and plots (see :mod:`weibull_stats.scanning.run`): a
        new or empty folder, or one an earlier scan wrote. Without it nothing is written and
        ``resume`` is unavailable.
    resume : bool, default False
        Continue the scan journalled in ``out``: finished rows are kept, not redone, once the
        journal's settings and checkpoint fingerprints match. Without it the files an earlier
        scan wrote into ``out`` (those its ``manifest.json`` lists) are removed first; a folder
        holding any other file is refused.
    jobs : int, default 1
        Worker processes; results do not depend on it. Memory grows with it (one tensor per
        worker).
    skip_validation : bool, default False
        Fit without the validation gate; recorded as ``validated = False`` in every row and
        in the report.
    include_vectors : bool, default False
        Also fit 1-D floating tensors (biases, norms) as kind ``other``.
    progress : bool, None or ticker, default None
        Bars on stderr with the time left, for the validation gate and the scan (counting
        weights fitted, so it moves within a large tensor); None shows them when stderr is a
        terminal (:mod:`weibull_stats.core.progress`).
    report : bool, default True
        With ``out``, write ``report.md`` and the plots (:mod:`weibull_stats.report.markdown`).
    matrix_plots : bool, default False
        The report also draws the probability plots of one matrix per kind (the middle layer's),
        each matrix re-read from the checkpoint: seconds per GB of weights. Without it the report's
        figures summarise per kind and layer, and take the same time for any number of matrices;
        :func:`weibull_stats.plotting.plot_scan_probability` draws chosen matrices.
    device : str, optional
        A torch device (``"cuda"``...): each tensor is read straight to it and reduced there
        (see :func:`weibull_stats.scanning.run.scan`); recorded in ``run.json``. A clear error
        when it is not available. None (default): numpy on the CPU.
    client : dask.distributed.Client, optional
        Run the scan's tasks (one per tensor) on this Dask cluster: the workers read the
        tensors from files they share with this process, which journals the results and writes
        the same bytes as a local scan (:mod:`weibull_stats.scanning.distributed`;
        :func:`~weibull_stats.scanning.distributed.cluster_client` makes one). Not with in-memory
        sources or ``jobs > 1``.

    Returns
    -------
    pandas.DataFrame
        One row per (checkpoint, tensor, part, estimator), columns :data:`COLUMNS`
        (``part`` is ``""`` for a whole matrix, ``q``/``k``/``v`` or ``up``/``gate`` for a
        part of a fused one). ``frame.attrs`` holds ``errors`` and ``skipped`` (lists of
        dicts) and ``gate`` (the validation record).

    Warns
    -----
    weibull_stats.scanning.run.ScanWarning
        When some tensor or file failed; the failures are in ``frame.attrs["errors"]`` and
        ``errors.csv``.

    Raises
    ------
    ValueError
        Bad settings; nothing to fit in any checkpoint; ``resume`` refused (the settings, the
        package version or a checkpoint file differ from the journalled scan's, or the journal
        or ``run.json`` is corrupt: the message names the file and line); a checkpoint file
        changed while it was scanned. See :mod:`weibull_stats.scanning.journal`. Every source
        failed to open (the first one's error; with some opened, each failure is a row of
        ``errors.csv`` instead).
    OutputFolderError
        ``out`` holds files no scan wrote there, or no journal to ``resume``
        (:func:`weibull_stats.scanning.folder.check_output_folder`); a :class:`ValueError`.
    OSError
        Another scan or report holds the lock on ``out`` (:func:`weibull_stats.scanning.folder.output_lock`).
    weibull_stats.validation.ValidationFailed
        The estimators did not pass the validation gate.

    Examples
    --------
    A synthetic Llama-layout checkpoint (``scan("minilm")`` scans the embedded real model):

    >>> import tempfile
    >>> from weibull_stats.checkpoints.synthetic import synthetic_state, write_checkpoint
    >>> state, config = synthetic_state("llama", layers=2, hidden=16, heads=2)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     table = ws.scan(write_checkpoint(folder, state, config), skip_validation=True)
    >>> len(table), sorted(set(table["kind"]))
    (16, ['down', 'embedding', 'gate', 'k', 'lm_head', 'o', 'q', 'up', 'v'])
    >>> table.loc[table["kind"] == "q", ["layer", "rows", "cols"]].to_numpy().tolist()
    [[0, 16, 16], [1, 16, 16]]
    >>> bool(table["validated"].any()), table.attrs["gate"]["skipped"]
    (False, True)

    A state dict in memory (a ``torch.nn.Module`` is scanned the same way, labelled with its
    class name):

    >>> table = ws.scan(state, skip_validation=True)
    >>> sorted(set(table["checkpoint"])), table.loc[table["tensor"] == "model.layers.1.mlp.down_proj.weight",
    ...                                             ["layer", "kind", "family"]].to_numpy().tolist()
    (['state_dict'], [[1, 'down', 'llama']])
    """
    given = locals()  # the keywords as called; each declared setting is one of them
    # every setting checked once, before the gate spends seconds validating
    settings = check_settings(**{**{s.name: given[s.name] for s in SCAN_SETTINGS},
                                 "paths": source_names(paths)})
    if resume and out is None:
        raise ValueError("`resume` needs `out`: the folder whose journal the scan continues")
    check_device(device)
    if out is not None:  # before the gate spends seconds: checked again under the folder's lock
        check_output_folder(out, resume=resume)
    gate = validation_gate.ensure_validated(list(settings.estimators), skip=skip_validation,
                                            progress=progress)
    out_dir = Path(out) if out is not None else None
    # one lock around the scan and its report: no other scan or report writes there meanwhile
    with output_lock(out_dir) if out_dir is not None else contextlib.nullcontext():
        frame, checkpoints = scanning.scan(paths, settings, out=out, resume=resume, jobs=jobs, gate=gate,
                                           progress=progress, warn=False, device=device, client=client)
        if out_dir is not None and report:
            # here: a scan without a report loads no plotting (matplotlib, scipy.stats)
            from weibull_stats.report.markdown import write_report

            with staged_files(out_dir) as staging:  # report.md and each plot appear whole or not at all
                write_report(staging, frame, checkpoints, errors=frame.attrs["errors"],
                             skipped=frame.attrs["skipped"], gate=gate, settings=settings,
                             matrix_plots=matrix_plots)
    scanning.warn_failures(frame, out_dir, stacklevel=2)
    return frame


__all__ = ["scan"]
