"""What an estimator kernel takes and gives: a batch of samples in, a batch of lines out.

Every estimator has one kernel, ``kernel(batch, **options) -> Lines``, that fits every row
of a batch. A one-sample fit is the kernel on a batch of one, so one-sample and batched
results are the same code, bit for bit. A batch is one of two forms:

* :class:`RawRows`: ``b`` samples of equal size ``m`` as a ``(b, m)`` array of positive
  finite magnitudes (float32 or float64), sorted along rows or not;
* :class:`CountRows`: ``b`` samples over one shared ascending grid of distinct magnitudes
  (``(d,)`` float64) as a ``(b, d)`` int64 array of counts. A nonparametric resample of a
  counts sample, or a null sample drawn over the cells of a 16-bit format, is one such row:
  O(d) work per row whatever its size.

A kernel never checks or repairs the data: :func:`weibull_stats.as_sample` did that once.
A row whose fit is undefined (too few distinct values in a trim window, say) gets ``nan``
and its reason in :attr:`Lines.reasons`; a one-sample fit raises that reason, the
resampling engine counts such rows and raises with the count. Nothing is repaired silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np


@dataclass(frozen=True, slots=True)
class RawRows:
    """``b`` raw samples of ``m`` positive finite magnitudes each.

    Attributes
    ----------
    values : numpy.ndarray
        ``(b, m)``, float32 or float64.
    ordered : bool
        True when every row is ascending (a kernel then skips its sort).
    owned : bool
        True when the kernel may reorder ``values`` in place.
    """

    values: np.ndarray
    ordered: bool = False
    owned: bool = False

    @property
    def batch(self) -> int:
        return int(self.values.shape[0])

    @property
    def sizes(self) -> np.ndarray:
        """``(b,)`` sample sizes (all ``m``)."""
        return np.full(self.values.shape[0], self.values.shape[1], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class CountRows:
    """``b`` samples as counts over one ascending grid of distinct magnitudes.

    Attributes
    ----------
    values : numpy.ndarray
        ``(d,)`` ascending, positive, finite float64 grid.
    counts : numpy.ndarray
        ``(b, d)`` non-negative int64 counts; a grid value may have count 0 in a row.
    """

    values: np.ndarray
    counts: np.ndarray

    @property
    def batch(self) -> int:
        return int(self.counts.shape[0])

    @property
    def sizes(self) -> np.ndarray:
        """``(b,)`` sample sizes (row sums)."""
        return self.counts.sum(axis=1)


Batch = RawRows | CountRows


@dataclass(frozen=True, slots=True)
class Lines:
    """The fits of a batch, one entry per row.

    Attributes
    ----------
    shape, scale : numpy.ndarray
        ``(b,)`` float64; ``nan`` where the row's fit is undefined.
    n_used : numpy.ndarray
        ``(b,)`` int64: values that entered each fit (after any trim).
    converged : numpy.ndarray
        ``(b,)`` bool: False when an iterative solver stopped short of its tolerance (the
        value is kept) or the fit is undefined.
    diagnostics : Mapping
        Named ``(b,)`` arrays: ``r2``, ``shape_se``, ``scale_se``, ``iterations`` where the
        estimator has them, and estimator-specific details.
    reasons : Mapping
        ``{row: message}`` for the rows whose fit is undefined.
    """

    shape: np.ndarray
    scale: np.ndarray
    n_used: np.ndarray
    converged: np.ndarray
    diagnostics: Mapping[str, np.ndarray] = field(default_factory=dict)
    reasons: Mapping[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        bad = ~(np.isfinite(self.shape) & np.isfinite(self.scale) & (self.shape > 0) & (self.scale > 0))
        if bad.any():
            shape, scale = self.shape.copy(), self.scale.copy()
            shape[bad] = np.nan
            scale[bad] = np.nan
            converged = self.converged & ~bad
            reasons = dict(self.reasons)
            for row in np.flatnonzero(bad).tolist():
                reasons.setdefault(row, "the fit is undefined (non-finite or non-positive shape or scale)")
            object.__setattr__(self, "shape", shape)
            object.__setattr__(self, "scale", scale)
            object.__setattr__(self, "converged", converged)
            object.__setattr__(self, "reasons", MappingProxyType(reasons))

    @property
    def pairs(self) -> np.ndarray:
        """``(b, 2)`` array of ``(shape, scale)``."""
        return np.column_stack([self.shape, self.scale])

    @property
    def defined(self) -> np.ndarray:
        """``(b,)`` bool: rows with a fit."""
        return np.isfinite(self.shape)
