"""The citable table of results: :func:`results_table` (rendered by :mod:`weibull_stats.report.export`).

The table is wide and tidy: one row per result, one column per figure. Every result type
gives the fit columns (:data:`weibull_stats.estimators.results.FIT_COLUMNS`, the same names and order
as :meth:`~weibull_stats.WeibullFit.to_row` and the fit columns of a scan table) and adds
the columns of what it computed:

===========================  ==================================================================
result                       columns after the fit columns
===========================  ==================================================================
``WeibullFit``               none
``BootstrapResult``          the interval columns (:data:`INTERVAL_COLUMNS`, ``confidence_level``,
                             ``interval_method``) and its ``seed``
``GoodnessOfFitResult``      :data:`GOF_COLUMNS`, :data:`COMPARISON_COLUMNS` and its ``seed``
``ModelComparison``          :data:`COMPARISON_COLUMNS`; its fit columns are the Weibull
                             family's maximum-likelihood fit (estimator ``mle``)
===========================  ==================================================================

A list that mixes types has the union of their columns, in the order of the table above,
then ``seed`` and ``package_version``; a row lacks (NaN or None) what its result did not
compute.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from weibull_stats.estimators.results import FIT_COLUMNS, WeibullFit
from weibull_stats.estimators.results import INTERVAL_COLUMNS as RESULT_INTERVALS
from weibull_stats.inference.gof import GoodnessOfFitResult
from weibull_stats.inference.model_comparison import FAMILIES, ModelComparison

#: Interval endpoint columns, per parameter
#: (the order of :data:`weibull_stats.estimators.results.INTERVAL_COLUMNS`).
INTERVAL_COLUMNS: dict[str, tuple[str, str]] = {
    "shape": (RESULT_INTERVALS[0], RESULT_INTERVALS[1]),
    "scale": (RESULT_INTERVALS[2], RESULT_INTERVALS[3]),
}
#: Columns of a goodness-of-fit test: the statistic's name (``"ad"``, ``"cvm"``, ``"ks"``), its
#: value, the Monte Carlo p-value ``(b + 1)/(M + 1)`` and ``M`` (the scan's names).
GOF_COLUMNS: tuple[str, ...] = ("gof_test", "gof_statistic", "gof_pvalue", "gof_samples")
#: Columns of a model comparison: the family of lowest AIC, and each other family's AIC minus
#: the Weibull AIC (positive: worse than the Weibull law).
COMPARISON_COLUMNS: tuple[str, ...] = (
    "best_family", *(f"delta_aic_{family}" for family in FAMILIES if family != "weibull")
)
#: What each accepted result type is called in messages.
ACCEPTED = "a WeibullFit, a bootstrap result, a GoodnessOfFitResult or a ModelComparison"


def _interval_pair(value: Any, parameter: str, row: int) -> tuple[float, float] | None:
    """``(low, high)`` for ``parameter`` from a mapping or an object with that attribute."""
    if isinstance(value, Mapping):
        pair = value.get(parameter)
    else:
        pair = getattr(value, parameter, None)
    if pair is None:
        return None
    try:
        low, high = (float(v) for v in pair)
    except (TypeError, ValueError):
        raise ValueError(
            f"`intervals[{row}]` must give `{parameter}` as a (low, high) pair; got {pair!r}"
        ) from None
    if low > high:
        raise ValueError(f"`intervals[{row}]` has `{parameter}` low {low} above high {high}")
    return low, high


def _interval_fields(value: Any, row: int) -> dict[str, Any]:
    """Interval columns of one row from a mapping or a bootstrap-like result.

    Accepted: ``{"shape": (low, high), "scale": (low, high)}`` (either key optional), or
    any object with a ``confidence_interval`` attribute holding such pairs as attributes
    or keys (a :class:`~weibull_stats.BootstrapResult`); ``confidence_level``,
    ``method``, ``kind``, ``n_resamples`` and ``seed`` are read from it when present.
    """
    fields: dict[str, Any] = {}
    source = getattr(value, "confidence_interval", value)
    for parameter, (low_name, high_name) in INTERVAL_COLUMNS.items():
        pair = _interval_pair(source, parameter, row)
        if pair is not None:
            fields[low_name], fields[high_name] = pair
    def read(name: str) -> Any:
        return value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)

    for column, names in (
        ("confidence_level", ("confidence_level",)),
        ("interval_method", ("interval_method", "method")),
        ("seed", ("seed",)),
    ):
        for name in names:
            found = read(name)
            if found is not None:
                fields[column] = found
                break
    kind, resamples = read("kind"), read("n_resamples")
    if "interval_method" in fields and kind is not None and resamples is not None:
        # a bootstrap result: say which bootstrap, with how many resamples
        fields["interval_method"] = f"{kind} {fields['interval_method']} bootstrap, {resamples} resamples"
    if not any(name in fields for pair in INTERVAL_COLUMNS.values() for name in pair):
        raise ValueError(f"`intervals[{row}]` gives neither a `shape` nor a `scale` interval")
    return fields


def _is_bootstrap(value: Any) -> bool:
    """A bootstrap result: a fit in ``estimate`` and its ``confidence_interval``."""
    return isinstance(getattr(value, "estimate", None), WeibullFit) and hasattr(value, "confidence_interval")


def is_result(value: Any) -> bool:
    """Whether :func:`results_table` takes ``value`` as a row."""
    return isinstance(value, WeibullFit | GoodnessOfFitResult | ModelComparison) or _is_bootstrap(value)


def _comparison_fields(comparison: ModelComparison) -> dict[str, Any]:
    fields: dict[str, Any] = {"best_family": comparison.best}
    for family, delta in comparison.delta_aic.items():
        if family != "weibull":
            fields[f"delta_aic_{family}"] = delta
    return fields


def _row_parts(result: Any, row: int) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``(fit columns with package_version, GoF columns, comparison columns)`` of one result,
    and the result's own seed under ``"seed"`` in the fit part when it has one."""
    if isinstance(result, WeibullFit):
        fit: dict[str, Any] = {name: getattr(result, name) for name in FIT_COLUMNS}
        return {**fit, "package_version": result.package_version}, {}, {}
    if _is_bootstrap(result):
        return _row_parts(result.estimate, row)
    if isinstance(result, GoodnessOfFitResult):
        fit, _, _ = _row_parts(result.fit, row)
        gof = {"gof_test": result.statistic_name, "gof_statistic": result.statistic,
               "gof_pvalue": math.nan if result.pvalue is None else result.pvalue,
               "gof_samples": result.n_mc_samples}
        fit.update(seed=result.seed, package_version=result.package_version)
        return fit, gof, _comparison_fields(result.model_comparison)
    if isinstance(result, ModelComparison):
        weibull = result["weibull"]
        fit = {"estimator": "mle", "shape": float(weibull.parameters["c"]),
               "scale": float(weibull.parameters["scale"]), "n": result.n, "n_used": result.n,
               "package_version": None}
        return fit, {}, _comparison_fields(result)
    raise TypeError(f"`results[{row}]` must be {ACCEPTED}; got {type(result).__name__}")


def results_table(
    results: Sequence[Any],
    *,
    labels: Sequence[str] | None = None,
    intervals: Sequence[Any] | None = None,
    seed: int | None = None,
    confidence_level: float | None = None,
    interval_method: str | None = None,
    details: bool = False,
) -> pd.DataFrame:
    """A citable :class:`pandas.DataFrame` of results, one row per result.

    Parameters
    ----------
    results : sequence of WeibullFit, BootstrapResult, GoodnessOfFitResult or ModelComparison
        The results, in row order, of one type or mixed (see the module notes for the columns
        each type gives). A :class:`~weibull_stats.BootstrapResult` gives its ``estimate``
        and, unless ``intervals`` is passed, its interval; a
        :class:`~weibull_stats.GoodnessOfFitResult` its ``fit``, its test and its model
        comparison.
    labels : sequence of str, optional
        One label per row (a tensor name, a model, ...), placed in a leading ``label`` column.
    intervals : sequence, optional
        One entry per row, ``None`` for a row without one: a mapping
        ``{"shape": (low, high), "scale": (low, high)}`` or a bootstrap result whose
        ``confidence_interval`` holds ``shape`` and ``scale`` pairs (its
        ``confidence_level``, ``method`` and ``seed`` are recorded when present).
    seed : int, optional
        Seed recorded on every row that does not carry its own.
    confidence_level : float, optional
        Confidence level of the intervals (for example 0.95), on rows that lack one.
    interval_method : str, optional
        How the intervals were made (for example ``"bootstrap bca"``), on rows that lack one.
    details : bool, default False
        Also each fit's own columns of :meth:`~weibull_stats.WeibullFit.to_row` (``converged``,
        ``r2``, ``shape_se``, ``scale_se``, ``iterations``, ``omitted_*``, one
        ``option_<name>`` per option), after the fit columns; missing where a row has no
        :class:`~weibull_stats.WeibullFit` (a model comparison).

    Returns
    -------
    pandas.DataFrame
        Columns ``[label,]``, then :data:`~weibull_stats.estimators.results.FIT_COLUMNS` (``estimator,
        shape, scale, n, n_used``, as in :meth:`~weibull_stats.WeibullFit.to_row` and a scan),
        with ``details`` the fit's own columns, the interval columns when any interval is
        given (``shape_low``, ``shape_high``, ``scale_low``, ``scale_high``,
        ``confidence_level``, ``interval_method``), the
        :data:`GOF_COLUMNS` when any row is a goodness-of-fit result, the
        :data:`COMPARISON_COLUMNS` when any row carries a model comparison, then ``seed``
        and ``package_version``.

    Examples
    --------
    >>> import weibull_stats as ws
    >>> fit = ws.WeibullFit(shape=1.2, scale=0.5, estimator="mle", n=100, n_used=100)
    >>> table = ws.results_table([fit], intervals=[{"shape": (1.1, 1.3)}], seed=7)
    >>> list(table.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['estimator', 'shape', 'scale', 'n', 'n_used', 'shape_low', 'shape_high', 'scale_low',
     'scale_high', 'confidence_level', 'interval_method', 'seed', 'package_version']
    >>> float(table.loc[0, "shape_high"])
    1.3

    A goodness-of-fit result beside a fit of the same data:

    >>> import numpy as np
    >>> x = np.random.default_rng(0).weibull(1.5, 500)
    >>> test = ws.goodness_of_fit(x, "mle", n_mc_samples=19, rng=3)
    >>> table = ws.results_table([ws.fit_mle(x), test])
    >>> [str(v) for v in table.loc[1, ["gof_test", "gof_samples", "best_family", "seed"]]]
    ['ad', '19', 'weibull', '3']
    >>> bool(pd.isna(table.loc[0, "gof_pvalue"])), bool(pd.isna(table.loc[0, "seed"]))
    (True, True)
    """
    given: list[Any] = list(results)
    if intervals is None and any(_is_bootstrap(r) for r in given):
        intervals = [r if _is_bootstrap(r) else None for r in given]
    parts = [_row_parts(result, i) for i, result in enumerate(given)]
    if labels is not None and len(labels) != len(given):
        raise ValueError(f"`labels` has {len(labels)} entries for {len(given)} results")
    if intervals is not None and len(intervals) != len(given):
        raise ValueError(f"`intervals` has {len(intervals)} entries for {len(given)} results")
    fit_details = [_details(result) if details else {} for result in given]
    has_gof = any(gof for _, gof, _ in parts)
    has_comparison = any(comparison for _, _, comparison in parts)
    rows: list[dict[str, Any]] = []
    for i, (fit, gof, comparison) in enumerate(parts):
        row: dict[str, Any] = {}
        if labels is not None:
            row["label"] = str(labels[i])
        row.update({name: fit[name] for name in FIT_COLUMNS})
        row.update(fit_details[i])
        extra = {} if intervals is None or intervals[i] is None else _interval_fields(intervals[i], i)
        if intervals is not None:
            for low_name, high_name in INTERVAL_COLUMNS.values():
                row[low_name] = extra.get(low_name, math.nan)
                row[high_name] = extra.get(high_name, math.nan)
            row["confidence_level"] = extra.get("confidence_level", confidence_level)
            row["interval_method"] = extra.get("interval_method", interval_method)
        if has_gof:
            row.update({name: gof.get(name, math.nan) for name in GOF_COLUMNS})
        if has_comparison:
            row.update({name: comparison.get(name, math.nan) for name in COMPARISON_COLUMNS})
        row["seed"] = extra.get("seed", fit.get("seed", seed))
        row["package_version"] = fit["package_version"]  # PROVENANCE_COLUMNS, in order
        rows.append(row)
    frame = pd.DataFrame(rows)
    if details:  # the union of the rows' own columns, in first-seen order, right after the fit columns
        own = list(dict.fromkeys(name for row in fit_details for name in row))
        start = len(FIT_COLUMNS) + (labels is not None)
        frame = frame[[*frame.columns[:start], *own,
                       *(c for c in frame.columns[start:] if c not in own)]]
    for name in ("seed", "gof_samples"):  # integers, missing where a row has none
        if name in frame.columns and frame[name].notna().any():
            frame[name] = frame[name].astype("Int64")
    return frame


def _details(result: Any) -> dict[str, Any]:
    """The fit's own columns of :meth:`~weibull_stats.WeibullFit.to_row` (none without a fit)."""
    fit = result.estimate if _is_bootstrap(result) else getattr(result, "fit", result)
    if not isinstance(fit, WeibullFit):
        return {}
    return {k: v for k, v in fit.to_row().items() if k not in FIT_COLUMNS and k != "package_version"}


def results_to_frame(results: Sequence[Any]) -> pd.DataFrame:
    """Deprecated spelling of :func:`results_table` ``(results, details=True)``.

    The two built one frame twice; :func:`results_table` is the one builder (every result
    type, labels, intervals, seed). This gives the columns ``results_to_frame`` gave (the
    fit columns, each fit's own columns, ``package_version``) and a ``seed`` column, with a
    :class:`FutureWarning`.

    Examples
    --------
    >>> import warnings
    >>> import weibull_stats as ws
    >>> fit = ws.WeibullFit(shape=1.2, scale=0.5, estimator="mle", n=100, n_used=100)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     frame = ws.results_to_frame([fit])
    >>> print(caught[0].message)
    results_to_frame is deprecated: use results_table(results, details=True)
    >>> frame.equals(ws.results_table([fit], details=True))
    True
    """
    warnings.warn("results_to_frame is deprecated: use results_table(results, details=True)",
                  FutureWarning, stacklevel=2)
    return results_table(list(results), details=True)


def table_frame(table: Any) -> pd.DataFrame:
    """``table`` as a frame: a DataFrame as given, one result or a sequence of results via
    :func:`results_table`."""
    if isinstance(table, pd.DataFrame):
        return table
    if is_result(table):
        return results_table([table])
    if isinstance(table, Sequence) and not isinstance(table, str) and all(is_result(r) for r in table):
        return results_table(table)
    raise TypeError(
        f"`table` must be a pandas DataFrame, {ACCEPTED}, or a sequence of them; "
        f"got {type(table).__name__}"
    )


__all__ = [
    "COMPARISON_COLUMNS", "GOF_COLUMNS", "INTERVAL_COLUMNS", "is_result", "results_table", "results_to_frame",
    "table_frame",
]
