"""The nonparametric bootstrap of the probability plot on a raw sample, without resamples.

A nonparametric resample of the sorted sample ``x_(1) <= ... <= x_(n)`` is fixed by its count
vector ``c ~ Multinomial(n, 1/n)`` over the sorted values: its order statistics are ``x_(i)``
repeated ``c_i`` times. The counts are drawn exactly by a binary splitting tree over the
sorted cells (:mod:`weibull_stats.core.resample_tree`: conditional binomial splits, popcounts
of random words for equal halves), and only the subtrees whose ranks meet the trim window
``lo..hi`` are drawn, since only those ranks enter the regression. At each cell the window
sums of ``u = ln x - shift``, ``u^2`` and ``u v`` (``v`` the plot ordinates of the window ranks,
the same for every resample: the fit's, cached) gain the cell's share in O(1) per cell and rank;
the line then comes from the sums exactly as the fit's does.

Randomness: per resample, the counts of the dyadic blocks of ``n`` (numpy's binomials) and one
64-bit seed of the tree's node streams are drawn from the block's generator, so a result does
not depend on the number of worker threads. Tests prove the fast path equal to the estimator
applied to the explicit resample (``numpy.repeat`` of the sorted sample by the same counts), the
counts equal in law to ``Multinomial(n, 1/n)``, and the intervals equal in distribution to index
resampling.
"""

from __future__ import annotations

import numpy as np

from weibull_stats.core.resample_tree import block_counts, dyadic_blocks, prefix_sums, tree_window_sums
from weibull_stats.estimators.probability_plot._lines import (
    MIN_POINTS,
    PLOTTING_POSITIONS,
    lines_from_sums,
    too_few_message,
    trim_window,
)
from weibull_stats.estimators.probability_plot._raw import window_ordinates

#: The largest 64-bit seed of a resample's tree streams.
SEED_MAX = np.iinfo(np.uint64).max
#: Resamples drawn by one pass over the sorted data (:func:`~weibull_stats.core.resample_tree.
#: tree_window_sums`): measured 12% faster per resample than one at a time, on one core.
GROUP = 8


class ProbabilityPlotPlan:
    """Nonparametric bootstrap of the probability plot by multinomial counts over the sorted
    sample (see the module documentation): ``nonparametric(generator, size)`` gives the
    ``(size, 2)`` shapes and scales of ``size`` resamples without forming or sorting one.

    Parameters
    ----------
    sorted_data : numpy.ndarray
        The raw sample's magnitudes in ascending order (1-D, float32 or float64).
    trim, plotting_position, direction
        The estimator's options, as :func:`~weibull_stats.estimators.probability_plot.
        check_options` returns them.

    Raises
    ------
    ValueError
        When fewer than ``MIN_POINTS`` ranks lie in the trim window.

    Examples
    --------
    >>> x = np.sort(np.random.default_rng(0).weibull(1.5, 10_000))
    >>> draws = ProbabilityPlotPlan(x).nonparametric(np.random.default_rng(1), 200)
    >>> draws.shape, round(float(draws[:, 0].mean()), 1)
    ((200, 2), 1.5)
    """

    #: The sample size from which the engine uses the plan; below it, ``(batch, n)`` index rows.
    #: Kept where the earlier (spacings) plan crossed over, so that smaller samples keep their
    #: streams; the tree crosses over lower (measured per resample, one thread, under load:
    #: 17 us against 15 us for rows at n = 500, 18 against 24 at 10^3, 20 against 92 at 4096).
    min_n = 4096

    def __init__(
        self,
        sorted_data: np.ndarray,
        *,
        trim: tuple[float, float] = (0.1, 0.9),
        plotting_position: str = "hazen",
        direction: str = "y_on_x",
    ) -> None:
        n = sorted_data.size
        window = (float(trim[0]), float(trim[1]))
        lo, hi = trim_window(n, window, plotting_position)
        if hi - lo + 1 < MIN_POINTS:
            raise ValueError(too_few_message(n, max(0, hi - lo + 1), window, plotting_position))
        self.n, self.lo, self.hi = n, lo, hi
        self.direction = direction
        self.shift = float(np.log(np.float64(sorted_data[(lo + hi) // 2 - 1])))
        self.log_x = np.log(sorted_data, dtype=np.float64)
        self.log_x -= self.shift
        # the fit's own ordinates and their sums (cached: the fit of the data computed them)
        self.v, rank_sums = window_ordinates(n, lo, hi, PLOTTING_POSITIONS[plotting_position])
        self.prefix = prefix_sums(self.v)
        self.blocks = dyadic_blocks(n)
        self.count = hi - lo + 1
        self.sum_v = float(rank_sums[0].sum())
        self.sum_vv = float(rank_sums[1].sum())

    def _draw(self, generator: np.random.Generator, size: int, record: np.ndarray | None = None
              ) -> np.ndarray:
        """``(size, 3)`` window sums of ``size`` resamples drawn from ``generator`` (per resample,
        in turn: the dyadic blocks' counts, then the seed of its tree), their counts into
        ``record``."""
        counts = np.empty((size, self.blocks[1].size), dtype=np.int64)
        seeds = np.empty(size, dtype=np.uint64)
        for r in range(size):
            counts[r] = block_counts(generator, self.n, self.blocks[1])
            seeds[r] = generator.integers(0, SEED_MAX, dtype=np.uint64, endpoint=True)
        sums = np.empty((size, 3))
        for first in range(0, size, GROUP):
            rows = slice(first, first + GROUP)
            sums[rows] = tree_window_sums(seeds[rows], self.blocks, counts[rows], self.log_x, self.prefix,
                                          (self.lo, self.hi), None if record is None else record[rows])
        return sums

    def counts(self, generator: np.random.Generator) -> np.ndarray:
        """The count vector over the sorted sample of the resample that
        ``nonparametric(generator, 1)`` fits (the same draws; for tests and plots)."""
        record = np.zeros((1, self.n), dtype=np.int64)
        self._draw(generator, 1, record)
        return record[0]

    def nonparametric(self, generator: np.random.Generator, size: int) -> np.ndarray:
        return self._lines(self._draw(generator, size))

    def _lines(self, sums: np.ndarray) -> np.ndarray:
        """Lines from raw ``(sum u, sum u^2, sum u v)`` per resample (``u`` shifted)."""
        size = sums.shape[0]
        raw = (sums[:, 0], np.full(size, self.sum_v), sums[:, 1], np.full(size, self.sum_vv), sums[:, 2])
        shape, scale, _ = lines_from_sums(np.full(size, float(self.count)), np.full(size, self.shift), raw,
                                          self.direction)
        out = np.column_stack([shape, scale])
        out[~(np.isfinite(out).all(axis=1) & (out > 0).all(axis=1))] = np.nan
        return out
