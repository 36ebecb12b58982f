"""The citable table of fits: :func:`results_table` (rendered by :mod:`weibull_stats.export`).

Its leading columns are :data:`weibull_stats.results.FIT_COLUMNS`, the same names and order as
:meth:`~weibull_stats.WeibullFit.to_row` and the fit columns of a scan table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from weibull_stats.results import FIT_COLUMNS, WeibullFit
from weibull_stats.results import INTERVAL_COLUMNS as RESULT_INTERVALS

#: Interval endpoint columns, per parameter (the order of :data:`weibull_stats.results.INTERVAL_COLUMNS`).
INTERVAL_COLUMNS: dict[str, tuple[str, str]] = {
    "shape": (RESULT_INTERVALS[0], RESULT_INTERVALS[1]),
    "scale": (RESULT_INTERVALS[2], RESULT_INTERVALS[3]),
}

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


def results_table(
    results: Sequence[Any],
    *,
    labels: Sequence[str] | None = None,
    intervals: Sequence[Any] | None = None,
    seed: int | None = None,
    confidence_level: float | None = None,
    interval_method: str | None = None,
) -> pd.DataFrame:
    """A citable :class:`pandas.DataFrame` of fits, one row per result.

    Parameters
    ----------
    results : sequence of WeibullFit or BootstrapResult
        The fits, in row order. A :class:`~weibull_stats.BootstrapResult` gives
        its ``estimate`` and, unless ``intervals`` is passed, its interval.
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

    Returns
    -------
    pandas.DataFrame
        Columns ``[label,]``, then :data:`~weibull_stats.results.FIT_COLUMNS` (``estimator,
        shape, scale, n, n_used``, as in :meth:`~weibull_stats.WeibullFit.to_row` and a scan),
        the interval columns when any interval is given (``shape_low``, ``shape_high``,
        ``scale_low``, ``scale_high``, ``confidence_level``, ``interval_method``), then ``seed``
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
    """
    given: list[Any] = list(results)
    if intervals is None and any(_is_bootstrap(r) for r in given):
        intervals = [r if _is_bootstrap(r) else None for r in given]
    results = [r.estimate if _is_bootstrap(r) else r for r in given]
    for i, result in enumerate(results):
        if not isinstance(result, WeibullFit):
            raise TypeError(
                f"`results[{i}]` must be a WeibullFit or a bootstrap result; got {type(result).__name__}"
            )
    if labels is not None and len(labels) != len(results):
        raise ValueError(f"`labels` has {len(labels)} entries for {len(results)} results")
    if intervals is not None and len(intervals) != len(results):
        raise ValueError(f"`intervals` has {len(intervals)} entries for {len(results)} results")
    rows: list[dict[str, Any]] = []
    for i, result in enumerate(results):
        row: dict[str, Any] = {}
        if labels is not None:
            row["label"] = str(labels[i])
        row.update({name: getattr(result, name) for name in FIT_COLUMNS})
        extra = {} if intervals is None or intervals[i] is None else _interval_fields(intervals[i], i)
        if intervals is not None:
            for low_name, high_name in INTERVAL_COLUMNS.values():
                row[low_name] = extra.get(low_name, math.nan)
                row[high_name] = extra.get(high_name, math.nan)
            row["confidence_level"] = extra.get("confidence_level", confidence_level)
            row["interval_method"] = extra.get("interval_method", interval_method)
        row["seed"] = extra.get("seed", seed)
        row["package_version"] = result.package_version  # PROVENANCE_COLUMNS, in order
        rows.append(row)
    return pd.DataFrame(rows)


def table_frame(table: Any) -> pd.DataFrame:
    """``table`` as a frame: a DataFrame as given, fits or bootstrap results via :func:`results_table`."""
    if isinstance(table, pd.DataFrame):
        return table
    if isinstance(table, WeibullFit):
        return results_table([table])
    if isinstance(table, Sequence) and all(isinstance(r, WeibullFit) or _is_bootstrap(r) for r in table):
        return results_table(table)
    raise TypeError(
        "`table` must be a pandas DataFrame or a sequence of WeibullFit or bootstrap results; "
        f"got {type(table).__name__}"
    )


__all__ = ["INTERVAL_COLUMNS", "results_table", "table_frame"]
