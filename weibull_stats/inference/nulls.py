"""Null samples drawn as the data are stored: parametric bootstrap and goodness-of-fit
Monte Carlo samples from a fitted Weibull law, rounded to the sample's storage format.

* **16-bit storage** (bfloat16, float16): a value drawn from the law and rounded to nearest
  (ties to even) lands on a representable positive value ``g`` exactly when it falls in
  ``g``'s rounding cell (:mod:`weibull_stats.weibull.cells`). A null sample of ``n`` values is
  therefore ``Multinomial(n, p)`` over the cells with positive probability ``p`` under the law, a
  :class:`~weibull_stats.sample.batch.CountRows` row: O(cells) per sample whatever ``n`` (the
  batch's grid keeps only the cells some row of it uses).
* **float32 and float64 storage**: ``n`` sorted uniforms from exponential spacings
  (:func:`weibull_stats.weibull.spacings.sorted_uniform_sums`; ``1 - U`` keeps full precision
  in the upper half), the Weibull quantile function, then rounding to float32 where that is
  the storage: the rows are already ascending (:class:`~weibull_stats.sample.batch.RawRows`
  with ``ordered=True``), no sort.

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

import math
from dataclasses import dataclass, field

import numpy as np

from weibull_stats.sample.batch import Batch, CountRows, RawRows
from weibull_stats.sample.storage import FIRST_NONFINITE
from weibull_stats.weibull.cells import cell_probabilities, rounding_cells
from weibull_stats.weibull.law import cdf_of_hazard, cumulative_hazard, quantile_of_hazard
from weibull_stats.weibull.spacings import sorted_uniform_sums

#: Natural logarithms of the magnitudes at or below which a value rounds to zero and at or
#: above which it overflows (round to nearest): half the smallest subnormal, and the largest
#: finite value plus half its ulp. Logarithms, because float64's are not float64 numbers.
LOG_BOUNDS = {
    "float32": (-150 * math.log(2.0), math.log(2.0 - 2.0**-24) + 127 * math.log(2.0)),
    "float64": (-1075 * math.log(2.0), math.log(2.0 - 2.0**-53) + 1023 * math.log(2.0)),
}
#: Natural logarithms of float64's smallest and largest normal numbers.
LOG_NORMAL = (-1022 * math.log(2.0), 1024 * math.log(2.0) - 2.0**-52)


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
            values, boundaries = rounding_cells(storage)
            p, zero, overflow = cell_probabilities(boundaries, shape, scale)
            keep = p > 0
            p = p[keep] / p[keep].sum()
            order = np.argsort(-p, kind="stable")
            return cls(storage, size, shape, scale, {"zero": zero, "overflow": overflow}, values[keep], p,
                       order=order)
        log_low, log_high = LOG_BOUNDS[storage]
        log_scale = math.log(scale)
        with np.errstate(over="ignore"):
            zero = float(cdf_of_hazard(cumulative_hazard(log_low, shape, log_scale)))
            overflow = float(np.exp(-cumulative_hazard(log_high, shape, log_scale)))
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
        head, tail, total = sorted_uniform_sums(generator, n)
        h = head.size
        t = np.empty(n)  # the cumulative hazard -ln(1 - U) of the conditioned uniforms
        lower = t[:h]
        np.divide(head, total, out=lower)
        lower *= width
        lower += zero
        np.negative(lower, out=lower)
        np.log1p(lower, out=lower)
        np.negative(lower, out=lower)
        upper = t[h:]
        upper[...] = tail
        upper *= width / total
        upper += overflow
        np.log(upper, out=upper)
        np.negative(upper, out=upper)
        if 0 < h < n and t[h] < t[h - 1]:
            t[h] = t[h - 1]
        return quantile_of_hazard(t, self.shape, self.scale, out=t, ascending=True)
