"""Probability-plot (Weibull-plot) regression on order statistics, defined once.

Everything specific to the estimator lives in this package: the plot and its line
(:mod:`._lines`), the window of raw rows without a full sort (:mod:`._raw`), count rows in
O(distinct values) (:mod:`._counts`), the nonparametric bootstrap fast path for raw
samples (:mod:`._plan`), and here its options, its kernel, its public function and its
registry entry.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np

from weibull_stats.core.options import DEFAULT_POLICY, check_choice, check_trim
from weibull_stats.estimators._asymptotic import AsymptoticFit
from weibull_stats.estimators._core import Estimator, one_fit
from weibull_stats.estimators._influence import always, probability_plot_influence
from weibull_stats.estimators.probability_plot._asymptotic import asymptotic_fit
from weibull_stats.estimators.probability_plot._counts import count_window_sums, distinct_window_sums
from weibull_stats.estimators.probability_plot._lines import (
    MIN_POINTS,
    PLOTTING_POSITIONS,
    check_window,
    line_from_sums,
    lines_from_sums,
    plotting_positions,
    single_value_message,
    too_few_message,
    trim_window,
)
from weibull_stats.estimators.probability_plot._plan import ProbabilityPlotPlan
from weibull_stats.estimators.probability_plot._population import PROBABILITY_PLOT_POPULATION
from weibull_stats.estimators.probability_plot._raw import (
    hazen_block_ordinates,
    last_window_ordinates,
    order_window,
    raw_window_sums,
    window_sums,
)
from weibull_stats.estimators.results import WeibullFit
from weibull_stats.sample.batch import Batch, CountRows, Lines
from weibull_stats.sample.checked import Sample, as_sample
from weibull_stats.weibull.lines import DIRECTIONS

__all__ = [
    "DIRECTIONS",
    "ESTIMATOR",
    "MIN_POINTS",
    "PLOTTING_POSITIONS",
    "ProbabilityPlotPlan",
    "check_options",
    "check_window",
    "distinct_window_sums",
    "fit_probability_plot",
    "hazen_block_ordinates",
    "last_window_ordinates",
    "line_from_sums",
    "lines_from_sums",
    "order_window",
    "plotting_positions",
    "probability_plot_asymptotic",
    "probability_plot_kernel",
    "trim_window",
    "window_sums",
]


def check_options(
    *, trim: Any = (0.1, 0.9), plotting_position: Any = "hazen", direction: Any = "y_on_x"
) -> dict[str, Any]:
    """Validate the probability-plot options; return them normalised (trim as floats).

    Examples
    --------
    >>> check_options(trim=[0, 1], plotting_position="blom", direction="x_on_y")
    {'trim': (0.0, 1.0), 'plotting_position': 'blom', 'direction': 'x_on_y'}
    """
    check_choice(plotting_position, "plotting_position", tuple(PLOTTING_POSITIONS))
    check_choice(direction, "direction", DIRECTIONS)
    return {"trim": check_trim(trim), "plotting_position": plotting_position, "direction": direction}


def probability_plot_kernel(
    batch: Batch,
    /,
    *,
    trim: tuple[float, float] = (0.1, 0.9),
    plotting_position: str = "hazen",
    direction: str = "y_on_x",
) -> Lines:
    """The probability-plot line of every row of ``batch`` (options as checked by
    :func:`check_options`).

    Raw rows have their window order statistics selected and sorted (never the whole
    row, never the caller's array unless it is ``owned``; no sort at all when ``ordered``);
    count rows take O(distinct values) each (see :mod:`._counts`). Rows are grouped by
    sample size, each size with its own window. A window with fewer than
    :data:`MIN_POINTS` ranks raises when every row has that size and is the row's reason
    otherwise; a window holding a single distinct value is the row's reason.

    Diagnostics: ``r2``, ``rank_low`` and ``rank_high`` (the window's 1-based ranks).

    Examples
    --------
    >>> from weibull_stats.sample.batch import CountRows
    >>> rows = CountRows(np.array([1.0, 2.0, 4.0]), np.array([[3, 4, 3], [1, 8, 1]]))
    >>> lines = probability_plot_kernel(rows)
    >>> lines.n_used.tolist(), lines.defined.tolist()
    ([8, 8], [True, False])
    >>> lines.reasons[1]
    'the trim window holds 8 points with a single distinct value; widen `trim` or check the data'
    """
    a = PLOTTING_POSITIONS[plotting_position]
    b = batch.batch
    sizes = batch.sizes
    shape, scale, r2 = np.full(b, np.nan), np.full(b, np.nan), np.full(b, np.nan)
    rank_low, rank_high = np.zeros(b, dtype=np.int64), np.zeros(b, dtype=np.int64)
    n_used = np.zeros(b, dtype=np.int64)
    reasons: dict[int, str] = {}
    distinct_sizes = np.unique(sizes)
    for n in distinct_sizes.tolist():
        lo, hi = trim_window(int(n), trim, plotting_position) if n > 0 else (1, 0)
        used = max(0, hi - lo + 1)
        every = distinct_sizes.size == 1
        rows = slice(None) if every else np.flatnonzero(sizes == n)
        rank_low[rows], rank_high[rows], n_used[rows] = lo, hi, used
        if used < MIN_POINTS:
            message = too_few_message(int(n), used, trim, plotting_position)
            if every:
                raise ValueError(message)
            reasons.update(dict.fromkeys(np.flatnonzero(sizes == n).tolist(), message))
            continue
        if isinstance(batch, CountRows):
            shift, sums = count_window_sums(batch.values, batch.counts[rows], lo, hi, a)
        else:
            shift, sums = raw_window_sums(batch.values, lo, hi, a, ordered=batch.ordered, owned=batch.owned)
        count = np.full(shift.size, float(used))
        shape[rows], scale[rows], r2[rows] = lines_from_sums(count, shift, sums, direction)
    for row in np.flatnonzero(np.isnan(shape) & (n_used >= MIN_POINTS)).tolist():
        reasons[row] = single_value_message(int(n_used[row]))
    return Lines(shape=shape, scale=scale, n_used=n_used, converged=np.isfinite(shape),
                 diagnostics={"r2": r2, "rank_low": rank_low, "rank_high": rank_high}, reasons=reasons)


def fit_probability_plot(
    x: Any,
    /,
    *,
    trim: tuple[float, float] = (0.1, 0.9),
    plotting_position: str = "hazen",
    direction: str = "y_on_x",
    values: str = DEFAULT_POLICY["values"],
    nonfinite: str = DEFAULT_POLICY["nonfinite"],
    zeros: str = DEFAULT_POLICY["zeros"],
) -> WeibullFit:
    """Weibull probability-plot regression on the order statistics of ``x``.

    Fits ``F(x) = 1 - exp(-(x / scale) ** shape)`` by ordinary least squares on the
    Weibull plot: ``y_i = ln(-ln(1 - p_i))`` against ``ln x_(i)``, keeping only the
    order statistics whose plotting position lies in the trim window.

    Parameters
    ----------
    x : array_like, torch.Tensor or Sample
        Positive sample (any shape, flattened; any float dtype, bfloat16 arrays and tensors
        included), or a :class:`~weibull_stats.Sample` checked under the same policy.
    trim : (float, float), default (0.1, 0.9)
        Inclusive window ``trim[0] <= p_i <= trim[1]`` on plotting positions: the default is
        the paper's middle 80%.
    plotting_position : {"hazen", "weibull", "bernard", "blom"}, default "hazen"
        ``p_i = (i - a) / (n + 1 - 2a)`` with ``a`` = 0.5, 0, 0.3, 0.375.
    direction : {"y_on_x", "x_on_y"}, default "y_on_x"
        Regress ``y`` on ``ln x`` (the paper's direction) or ``ln x`` on ``y``.
    values, nonfinite, zeros
        Bad-input policy, as in :func:`weibull_stats.as_sample`.

    Returns
    -------
    WeibullFit
        ``shape``, ``scale``, ``r2`` (squared correlation of the plotted points), ``n_used``
        (points in the window) and every option.

    Notes
    -----
    Ties are ordinary order statistics: tied values keep distinct ranks and so distinct
    plotting positions. The window is found from ranks alone, so a raw sample is never
    fully sorted: selections cut off the tails and only the window is sorted, in the
    sample's own dtype (exact for magnitudes); the logarithms and regression sums are
    accumulated in float64, chunk by chunk, with the log values shifted by the log of the
    window's middle order statistic so the centred sums keep full precision. A sample in
    counts form (16-bit storage, or data on a 16-bit grid; see :func:`~weibull_stats.as_sample`)
    is not sorted at all: each run of equal values takes the sum of its ranks' plot
    ordinates from a prefix sum over the window, O(distinct values) after one pass over the
    window's ranks; the result is the same up to rounding.

    For HalfNormal data the default fit converges to ``shape = 1.2054343190...`` and
    ``scale = 0.8874870398 * sigma`` (see ``weibull_stats.validation``); other trims,
    plotting positions and directions converge to other values.

    References
    ----------
    T. Ding, "A Two-Parameter Weibull Framework for Diagnosing Transformer Weight
    Distributions", arXiv:2605.18898 (middle-80% protocol).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.weibull(1.5, size=100_000) * 2.0
    >>> fit = ws.fit_probability_plot(x)
    >>> round(fit.shape, 2), round(fit.scale, 2)
    (1.5, 2.0)
    """
    options = check_options(trim=trim, plotting_position=plotting_position, direction=direction)
    sample = as_sample(x, values=values, nonfinite=nonfinite, zeros=zeros)
    return one_fit("probability_plot", probability_plot_kernel, sample, options)


def probability_plot_asymptotic(sample: Sample, /, **options: Any) -> AsymptoticFit:
    """The fit of ``sample`` with the large-sample standard errors of shape and ln scale
    (influence function on the sample quantile function; derivation in :mod:`._asymptotic`);
    ``options`` as :func:`check_options` takes them.

    Examples
    --------
    >>> x = np.random.default_rng(0).weibull(1.5, 10_000)
    >>> res = probability_plot_asymptotic(ws.as_sample(x), direction="x_on_y")
    >>> res.fit == ws.fit_probability_plot(x, direction="x_on_y"), 0.01 < res.shape_se < 0.03
    (True, True)
    """
    return asymptotic_fit(probability_plot_kernel, sample, **check_options(**options))


ESTIMATOR = Estimator(
    "probability_plot",
    fit_probability_plot,
    probability_plot_kernel,
    check_options,
    "least squares on the Weibull plot of the order statistics (middle 80%)",
    order_statistics=True,
    plan=ProbabilityPlotPlan,
    population=PROBABILITY_PLOT_POPULATION,
    asymptotic=probability_plot_asymptotic,
    label="middle-80% probability plot",
    package_anchor=True,
    equivariant=always,
    influence=probability_plot_influence,
    # the options of the published benchmark table (arXiv:2605.18898): middle 80%, Hazen, y on x
    published_protocol=MappingProxyType({"trim": (0.1, 0.9), "plotting_position": "hazen",
                                         "direction": "y_on_x"}),
)
