"""Null samples drawn as the data are stored: parametric bootstrap and goodness-of-fit
Monte Carlo samples from a fitted Weibull law, rounded to the sample's storage format.

* **16-bit storage** (bfloat16, float16): a value drawn from the law and rounded to nearest
  (ties to even) lands on a representable positive value ``g`` exactly when it falls in
  ``g``'s cell, the interval between the midpoints to its neighbours (the smallest
  subnormal's cell starts at half its value, the largest finite value's cell ends half an ulp
  above it, where rounding overflows). A null sample of ``n`` values is therefore
  ``Multinomial(n, p)`` over the cells with positive probability ``p`` under the law, a
  :class:`~weibull_stats.sample.batch.CountRows` row: O(cells) per sample whatever ``n`` (the
  batch's grid keeps only the cells some row of it uses).
* **float32 and float64 storage**: ``n`` sorted uniforms from exponential spacings
  (``U_(i) = S_i / S_(n+1)``, ``S`` the partial sums of ``n + 1`` standard exponentials; the
  upper half from the reversed partial sums, so ``1 - U`` keeps full precision), the Weibull
  quantile function, then rounding to float32 where that is the storage: the rows are
  already ascending (:class:`~weibull_stats.sample.batch.RawRows` with ``ordered=True``), no sort.

Mass that rounds to zero or overflows
-------------------------------------
The data reached the fit with no zero and no infinity in them (``as_sample`` either
refused those or omitted and counted them, as its ``zeros`` and ``nonfinite`` policies say),
so the sample is a draw from the law *conditioned* on rounding to a positive finite value.
The null samples are drawn from the same conditional law: the probability of the zero cell
(values below half the smallest subnormal) and of the overflow cell is taken out and the
rest renormalised; nothing is dropped from a sample, every null sample has the data's
size. The conditioned-out masses are kept in :attr:`NullModel.excluded` (and in the
results) so that a law that puts real mass there is visible.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from weibull_stats.sample.batch import Batch, CountRows, RawRows
from weibull_stats.sample.storage import FIRST_NONFINITE, pattern_values

#: Natural logarithms of the magnitudes at or below which a value rounds to zero and at or
#: above which it overflows (round to nearest): half the smallest subnormal, and the largest
#: finite value plus half its ulp. Logarithms, because float64's are not float64 numbers.
LOG_BOUNDS = {
    "float32": (-150 * math.log(2.0), math.log(2.0 - 2.0**-24) + 127 * math.log(2.0)),
    "float64": (-1075 * math.log(2.0), math.log(2.0 - 2.0**-53) + 1023 * math.log(2.0)),
}
#: Natural logarithms of float64's smallest and largest normal numbers.
LOG_NORMAL = (-1022 * math.log(2.0), 1024 * math.log(2.0) - 2.0**-52)


@functools.cache
def cell_grid(storage: str) -> tuple[np.ndarray, np.ndarray]:
    """``(values, boundaries)`` of the positive finite cells of a 16-bit format.

    ``values`` (``m``,) ascending float64; ``boundaries`` (``m + 1``,): cell ``j`` is
    ``[boundaries[j], boundaries[j + 1])``.

    Examples
    --------
    >>> values, edges = cell_grid("bfloat16")
    >>> values.size, float(edges[0]) == float(values[0]) / 2
    (32639, True)
    """
    values = pattern_values(np.arange(1, FIRST_NONFINITE[storage]), storage)
    boundaries = np.empty(values.size + 1)
    boundaries[0] = values[0] / 2.0
    boundaries[1:-1] = 0.5 * (values[:-1] + values[1:])
    boundaries[-1] = values[-1] + 0.5 * (values[-1] - values[-2])
    values.flags.writeable = False
    boundaries.flags.writeable = False
    return values, boundaries


def cell_probabilities(boundaries: np.ndarray, shape: float, scale: float) -> tuple[np.ndarray, float, float]:
    """``(p, zero, overflow)``: Weibull probabilities of the cells between ``boundaries``,
    of the values below the first boundary and of those above the last, each from the CDF
    below the median and from the survival function above it (no cancellation)."""
    t = np.exp(shape * (np.log(boundaries) - math.log(scale)))
    cdf = -np.expm1(-t)
    survival = np.exp(-t)
    upper = cdf[1:] > 0.5
    p = np.where(upper, survival[:-1] - survival[1:], cdf[1:] - cdf[:-1])
    return np.maximum(p, 0.0), float(cdf[0]), float(survival[-1])


@dataclass(frozen=True, slots=True)
class NullModel:
    """How null samples of a sample's size and storage are drawn from a Weibull law.

    Attributes
    ----------
    storage : str
        The sample's storage format.
    size : int
        Values per null sample (the data's usable size).
    shape, scale : float
        The law.
    excluded : dict
        ``{"zero": mass, "overflow": mass}``: probability of rounding to zero or overflowing,
        conditioned out (see the module documentation).
    """

    storage: str
    size: int
    shape: float
    scale: float
    excluded: dict[str, float] = field(default_factory=dict)
    grid: np.ndarray | None = field(default=None, repr=False)
    probabilities: np.ndarray | None = field(default=None, repr=False)
    bounds: tuple[float, float] = (0.0, 0.0)
    order: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def of(cls, storage: str, size: int, shape: float, scale: float) -> NullModel:
        """The null model of ``size`` values stored as ``storage`` under ``Weibull(shape, scale)``.

        Examples
        --------
        >>> model = NullModel.of("bfloat16", 1000, 1.2, 1.0)
        >>> batch = model.draw(np.random.default_rng(0), 3)
        >>> batch.counts.sum(axis=1).tolist()
        [1000, 1000, 1000]
        """
        if storage in FIRST_NONFINITE:
            values, boundaries = cell_grid(storage)
            p, zero, overflow = cell_probabilities(boundaries, shape, scale)
            keep = p > 0
            p = p[keep] / p[keep].sum()
            order = np.argsort(-p, kind="stable")
            return cls(storage, size, shape, scale, {"zero": zero, "overflow": overflow}, values[keep], p,
                       order=order)
        log_low, log_high = LOG_BOUNDS[storage]
        log_scale = math.log(scale)
        with np.errstate(over="ignore"):
            zero = float(-np.expm1(-np.exp(shape * (log_low - log_scale))))
            overflow = float(np.exp(-np.exp(shape * (log_high - log_scale))))
        return cls(storage, size, shape, scale, {"zero": zero, "overflow": overflow}, bounds=(zero, overflow))

    @property
    def cells(self) -> int | None:
        """Cells with positive probability (16-bit storage), else ``None``."""
        return None if self.grid is None else int(self.grid.size)

    def draw(self, generator: np.random.Generator, rows: int) -> Batch:
        """``rows`` null samples as one batch."""
        if self.grid is not None:
            assert self.probabilities is not None and self.order is not None
            # cells in decreasing probability: numpy's sequential binomials stop once every
            # value is placed, before most of the far-tail cells; the law does not depend on
            # the order of the cells. Cells empty in every row of the batch are left out.
            drawn = generator.multinomial(self.size, self.probabilities[self.order], size=rows)
            used = np.flatnonzero(drawn.any(axis=0))
            cells = self.order[used]
            ascending = np.argsort(cells)
            return CountRows(self.grid[cells[ascending]], np.ascontiguousarray(drawn[:, used[ascending]]))
        dtype = np.float32 if self.storage == "float32" else np.float64
        out = np.empty((rows, self.size), dtype=dtype)
        for i in range(rows):
            out[i] = self.ordered_row(generator)
        return RawRows(out, ordered=True, owned=True)

    def ordered_row(self, generator: np.random.Generator) -> np.ndarray:
        """One ascending float64 sample of the (conditioned) law, before rounding."""
        n = self.size
        zero, overflow = self.bounds
        width = 1.0 - zero - overflow
        e = generator.standard_exponential(n + 1)
        head = np.cumsum(e)
        total = float(head[-1])
        h = int(np.searchsorted(head[:n], 0.5 * total))
        t = np.empty(n)
        lower = t[:h]
        np.divide(head[:h], total, out=lower)
        lower *= width
        lower += zero
        np.negative(lower, out=lower)
        np.log1p(lower, out=lower)
        np.negative(lower, out=lower)
        upper = t[h:]
        upper[...] = np.cumsum(e[:h:-1])[::-1]
        upper *= width / total
        upper += overflow
        np.log(upper, out=upper)
        np.negative(upper, out=upper)
        if 0 < h < n and t[h] < t[h - 1]:
            t[h] = t[h - 1]
        return self.quantiles(t)

    def quantiles(self, t: np.ndarray) -> np.ndarray:
        """``scale * t ** (1 / shape)`` of ascending ``t`` (cumulative hazards), in place.

        Where ``t ** (1 / shape)`` alone would leave float64's normal range (a small shape
        over data spanning hundreds of orders of magnitude) although the quantiles lie inside
        it, they are computed as ``exp(log(t) / shape + log(scale))`` instead, so no
        representable draw becomes 0 or inf. Otherwise the direct power is used (the same
        numbers as always).

        Examples
        --------
        >>> model = NullModel.of("float64", 3, 0.001, 1e200)
        >>> values = model.quantiles(np.array([0.4, 1.0, 1.2]))  # 0.4 ** 1000 underflows
        >>> bool(np.all(values > 0) and np.all(np.isfinite(values))), float(values[1])
        (True, 1e+200)
        """
        inverse = 1.0 / self.shape
        if t.size and (math.log(t[0]) * inverse < LOG_NORMAL[0] or math.log(t[-1]) * inverse > LOG_NORMAL[1]):
            np.log(t, out=t)
            t *= inverse
            t += math.log(self.scale)
            np.exp(t, out=t)
            return t
        np.power(t, inverse, out=t)
        t *= self.scale
        return t
