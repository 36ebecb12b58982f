"""The published benchmark bands and the protocol they belong to: the one reader of the table.

The shipped table ``weibull_stats/data/DATABASE_v9_1.csv`` (CC BY 4.0, Copyright (c) 2026
Tiexin Ding, NPM-Weibull-public, companion data of arXiv:2605.18898; the attribution
travels with every use: :data:`ATTRIBUTION`) holds, per model, the median over layers of
the fitted shape ``k`` of each matrix kind. A **band** is the range over models of those
medians, for an attention layout (:data:`LAYOUTS`: the prefix of the table's ``arch``
column, or ``"all"``) and one kind or several (a class of kinds). :func:`resolve_band` is
the resolver every figure, table, verdict and notebook calls; it returns the models the
band is drawn from, and says so (:attr:`PublishedBand.text`) when the layout's models have
no value for a kind, instead of borrowing another layout's band.

The numbers come from one estimator and one set of options, the **published protocol**,
declared on the estimator (:attr:`~weibull_stats.estimators._core.Estimator.published_protocol`);
:func:`follows_protocol` tells whether a fit (by its recorded options) is comparable with
the bands and the HalfNormal anchor, and :data:`NOT_COMPARABLE` is what is shown otherwise.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from weibull_stats.estimators.registry import ESTIMATORS

#: Published kinds of the shipped DATABASE v9.1 table (columns ``k_median_<kind>``).
PUBLISHED_KINDS: tuple[str, ...] = ("qkv", "q", "k", "v", "o", "ffn_in", "ffn_out", "gate", "up", "down")
#: Attention layouts of the published table (prefixes of its ``arch`` column) and what they are.
LAYOUTS: Mapping[str, str] = {
    "MHA-separate": "separate Q/K/V, full multi-head attention (OLMo)",
    "GQA": "grouped-query attention (Llama-3, Mistral, Qwen)",
    "MHA-merged": "merged QKV (Pythia)",
}
#: Layouts a band may be asked for: :data:`LAYOUTS` and every model of the table.
PUBLISHED_GROUPS: tuple[str, ...] = ("all", *LAYOUTS)
#: What replaces a verdict or a band for a fit outside the published protocol.
NOT_COMPARABLE = "not comparable (estimator/options differ from the published protocol)"
#: The table's attribution (the license requires it next to any use).
ATTRIBUTION = (
    "Published table: DATABASE v9.1 (`weibull_stats/data/DATABASE_v9_1.csv`), from the "
    "`database_v9_1/` folder of the public NPM-Weibull repository (tiexinding/NPM-Weibull-public), "
    "companion data of T. Ding, \"A Two-Parameter Weibull Framework for Diagnosing Transformer "
    "Weight Distributions\", arXiv:2605.18898. License: CC BY 4.0, Copyright (c) 2026 Tiexin Ding."
)
#: The short attribution drawn under every figure that shows the bands.
FIGURE_ATTRIBUTION = (
    "Bands: range over the published models of the per-model median k, DATABASE v9.1 "
    "(tiexinding/NPM-Weibull-public), T. Ding, arXiv:2605.18898; CC BY 4.0, (c) 2026 Tiexin Ding."
)


@dataclass(frozen=True, slots=True)
class PublishedBand:
    """The range over published models of the per-model median ``k``.

    Attributes
    ----------
    layout : str
        ``"all"`` or one of :data:`LAYOUTS`.
    kinds : tuple of str
        The matrix kinds the range is taken over (one kind, or a class of kinds).
    low, high : float
        The range (``nan`` when there is no band).
    models : tuple of str
        The models (``entry_id`` of the table) with a value for at least one of the kinds;
        empty when there is no band.
    missing : tuple of str
        Kinds the layout's models have no value for; any makes the band absent.
    """

    layout: str
    kinds: tuple[str, ...]
    low: float
    high: float
    models: tuple[str, ...]
    missing: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        """Whether the band exists."""
        return bool(self.models)

    @property
    def count(self) -> int:
        """How many models the band is drawn from."""
        return len(self.models)

    @property
    def bounds(self) -> tuple[float, float]:
        """``(low, high)``."""
        return self.low, self.high

    @property
    def text(self) -> str:
        """``[low, high] (<layout>, <n> models)``, or ``no published band for <layout> <kinds>``.

        Examples
        --------
        >>> resolve_band("MHA-separate", "q").text
        '[0.812, 0.990] (MHA-separate, 2 models)'
        >>> resolve_band("MHA-separate", "ffn_in").text
        'no published band for MHA-separate ffn_in'
        """
        if not self.found:
            return f"no published band for {self.layout} {', '.join(self.missing or self.kinds)}"
        return f"[{self.low:.3f}, {self.high:.3f}] ({self.layout}, {_models(self.count)})"


def _models(count: int) -> str:
    return f"{count} model" + ("" if count == 1 else "s")


@functools.lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    with resources.files("weibull_stats").joinpath("data", "DATABASE_v9_1.csv").open("rb") as handle:
        return pd.read_csv(handle)


def published_table() -> pd.DataFrame:
    """The shipped DATABASE v9.1 table as a DataFrame (a copy; :data:`ATTRIBUTION` travels
    with every use).

    Examples
    --------
    >>> table = published_table()
    >>> len(table), round(float(table["k_median_o"].min()), 4)
    (12, 1.0409)
    """
    return _table().copy()


def _check_layout(layout: str) -> str:
    if layout not in PUBLISHED_GROUPS:
        raise ValueError(f"`layout` must be one of {', '.join(PUBLISHED_GROUPS)}; got {layout!r}")
    return layout


@functools.lru_cache(maxsize=256)
def _resolve(layout: str, kinds: tuple[str, ...]) -> PublishedBand:
    table = _table()
    rows = table if layout == "all" else table[table["arch"].astype(str).str.startswith(layout)]
    missing = tuple(k for k in kinds if k not in PUBLISHED_KINDS or rows[f"k_median_{k}"].isna().all())
    if missing or not kinds:
        return PublishedBand(layout, kinds, math.nan, math.nan, (), missing)
    values = rows[[f"k_median_{k}" for k in kinds]].to_numpy(dtype=float)
    present = np.isfinite(values)
    models = tuple(str(m) for m in rows["entry_id"].to_numpy()[present.any(axis=1)])
    return PublishedBand(layout, kinds, float(values[present].min()), float(values[present].max()), models)


def resolve_band(layout: str, kinds: str | Sequence[str]) -> PublishedBand:
    """The published band of ``kinds`` for the models of ``layout``, and the models behind it.

    Parameters
    ----------
    layout : str
        ``"all"`` or one of :data:`LAYOUTS` (the scanned model's: see
        :func:`weibull_stats.scanning.decisions.attention_layout`).
    kinds : str or sequence of str
        One matrix kind, or several (the range is then over all of them: a class band).
        A kind the layout's models have no value for, or not a published kind at all
        (embeddings, heads), gives no band; another layout's is never borrowed.

    Returns
    -------
    PublishedBand

    Examples
    --------
    >>> band = resolve_band("GQA", ["q", "k"])
    >>> round(band.low, 3), round(band.high, 3), band.count
    (1.103, 1.164, 5)
    >>> resolve_band("MHA-separate", ["o", "ffn_in", "ffn_out"]).text
    'no published band for MHA-separate ffn_in, ffn_out'
    """
    names = (kinds,) if isinstance(kinds, str) else tuple(dict.fromkeys(str(k) for k in kinds))
    return _resolve(_check_layout(layout), names)


def published_band(kind: str, group: str = "all") -> tuple[float, float, int]:
    """``(min, max, models)`` of the published per-model median ``k`` of a matrix kind.

    A view of :func:`resolve_band` for one kind, over all models or the models of an
    attention layout (:data:`PUBLISHED_GROUPS`).

    Raises
    ------
    ValueError
        An unknown kind or group, or a kind the group's models have no value for.

    Examples
    --------
    >>> low, high, models = published_band("o")
    >>> round(low, 4), models
    (1.0409, 12)
    """
    if kind not in PUBLISHED_KINDS:
        raise ValueError(f"`kind` must be one of {', '.join(PUBLISHED_KINDS)}; got {kind!r}")
    if group not in PUBLISHED_GROUPS:
        raise ValueError(f"`group` must be one of {', '.join(PUBLISHED_GROUPS)}; got {group!r}")
    band = resolve_band(group, kind)
    if not band.found:
        raise ValueError(f"`kind`: {band.text}")
    return band.low, band.high, band.count


def follows_protocol(estimator: str, options: Mapping[str, Any] | str | None) -> bool:
    """Whether a fit by ``estimator`` with the recorded ``options`` is on the published protocol.

    Parameters
    ----------
    estimator : str
        A registry name; an unknown one is not on the protocol.
    options : mapping, JSON text or None
        The options a fit recorded (:attr:`~weibull_stats.WeibullFit.options`, or the scan
        table's ``options`` column); None (not recorded) is not on the protocol.

    Examples
    --------
    >>> follows_protocol("probability_plot", {"trim": [0.1, 0.9], "plotting_position": "hazen",
    ...                                       "direction": "y_on_x"})
    True
    >>> follows_protocol("probability_plot", '{"trim": [0.05, 0.95]}'), follows_protocol("mle", {})
    (False, False)
    """
    entry = ESTIMATORS.get(estimator)
    if entry is None or options is None:
        return False
    recorded = json.loads(options) if isinstance(options, str) else options
    return entry.follows_published_protocol(recorded)


__all__ = ["ATTRIBUTION", "FIGURE_ATTRIBUTION", "LAYOUTS", "NOT_COMPARABLE", "PUBLISHED_GROUPS",
           "PUBLISHED_KINDS", "PublishedBand", "follows_protocol", "published_band", "published_table",
           "resolve_band"]
