"""Maximum likelihood with the location fixed at zero, profiled in the shape.

One kernel, :func:`mle_kernel`, fits every row of a batch: raw rows through chunked passes
over ``t = ln x - max ln x``, count rows through weighted sums over the grid (O(distinct)
per iteration). Both run the same safeguarded Newton iteration, vectorised over rows, each
row with its own bracket and its own stopping test, so a row's numbers never depend on the
batch it is in (a one-sample fit is a batch of one).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from weibull_stats.core import fused
from weibull_stats.core.options import DEFAULT_POLICY, check_choice
from weibull_stats.estimators._asymptotic import AsymptoticFit, distinct_values
from weibull_stats.estimators._core import Estimator, one_fit
from weibull_stats.estimators._influence import always, mle_influence
from weibull_stats.estimators._population_hook import PopulationHook
from weibull_stats.estimators._sandwich import (
    ERRORS,
    OBSERVED_METHOD,
    SANDWICH_METHOD,
    information_se_rows,
    sandwich_se,
)
from weibull_stats.estimators._streaming import (
    CHUNK,
    GROUP_ELEMENTS,
    chunks,
    count_log_moments,
    raw_log_moments,
    row_groups,
)
from weibull_stats.estimators.results import WeibullFit
from weibull_stats.sample.batch import Batch, CountRows, Lines
from weibull_stats.sample.checked import Sample, as_sample

MAX_ITERATIONS = 100
RELATIVE_TOLERANCE = 1e-13

#: Raw rows whose float64 ``t = ln x - max ln x`` has at most this many elements (per
#: group of rows) keep it in memory between iterations; wider float32 or float64 rows take
#: each iteration's sums in one compiled pass (:func:`weibull_stats.core.fused.power_moments`,
#: the same sums to rounding), other dtypes recompute ``t`` chunk by chunk.
CACHE_LIMIT = 1 << 21

SINGLE_VALUE = "`x` has a single distinct value; a Weibull shape cannot be estimated"


def check_options() -> dict[str, Any]:
    """The maximum-likelihood estimator has no options of its own."""
    return {}


def _contiguous(flat: np.ndarray, rows: int, width: int) -> np.ndarray:
    """A C-contiguous ``(rows, width)`` view of the front of ``flat`` (row sums then equal 1-D sums)."""
    return flat[: rows * width].reshape(rows, width)


class _RawLogs:
    """``t = ln x - top`` of a group of raw rows, served in fixed column chunks, in float64."""

    def __init__(self, values: np.ndarray, top: np.ndarray, least: np.ndarray | None = None) -> None:
        self.values = values
        self.top = top
        self.least = least
        rows, width = values.shape
        self.chunk = CHUNK
        self.buffer = np.empty(rows * min(width, self.chunk))
        self.cached: np.ndarray | None = None
        self.fused = values.size > CACHE_LIMIT and values.dtype in (np.float32, np.float64)
        if values.size <= CACHE_LIMIT:
            self.cached = np.log(values, dtype=np.float64)
            self.cached -= top[:, None]

    def moments(self, rows: np.ndarray, shape: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(sum e, sum e t, sum e t^2)`` of ``rows`` with ``e = exp(shape t) <= 1``."""
        if self.fused:
            return fused.power_moments(self.values, rows, shape, self.top[rows], self.least)
        every = rows.size == self.top.size
        s0, s1, s2 = np.zeros(rows.size), np.zeros(rows.size), np.zeros(rows.size)
        factor = shape[:, None]
        for a, b in chunks(0, self.values.shape[1], self.chunk):
            if self.cached is not None:
                t = self.cached[:, a:b] if every else self.cached[rows, a:b]
            else:
                t = np.log(self.values[:, a:b] if every else self.values[rows, a:b], dtype=np.float64)
                t -= self.top[rows, None]
            e = _contiguous(self.buffer, rows.size, b - a)
            np.multiply(t, factor, out=e)
            np.exp(e, out=e)
            s0 += e.sum(axis=1)
            e *= t  # pairwise sums of in-place products (never dot: see _streaming)
            s1 += e.sum(axis=1)
            e *= t
            s2 += e.sum(axis=1)
        return s0, s1, s2


class _CountLogs:
    """``t = ln v - top`` over the grid for a group of count rows, with the counts as weights."""

    def __init__(self, log_grid: np.ndarray, counts: np.ndarray, top: np.ndarray) -> None:
        # cells above a row's top have count 0; clipping keeps their e finite (e = 1, weight 0)
        self.t = np.minimum(log_grid[None, :] - top[:, None], 0.0)
        self.weights = counts.astype(np.float64)
        self.buffer = np.empty(self.t.size)

    def moments(self, rows: np.ndarray, shape: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        every = rows.size == self.t.shape[0]
        t = self.t if every else self.t[rows]
        e = _contiguous(self.buffer, rows.size, t.shape[1])
        np.multiply(t, shape[:, None], out=e)
        np.exp(e, out=e)
        e *= self.weights if every else self.weights[rows]
        s0 = e.sum(axis=1)
        e *= t
        s1 = e.sum(axis=1)
        e *= t
        s2 = e.sum(axis=1)
        return s0, s1, s2


def _profile_roots(
    logs: _RawLogs | _CountLogs, mean_t: np.ndarray, start: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Roots in ``k`` of the profile score ``g(k) = S1/S0 - 1/k - mean(t)``, one per row.

    ``g`` is strictly increasing (``g'(k) = Var_w(t) + 1/k^2``), tends to ``-inf`` as
    ``k -> 0`` and to ``max(t) - mean(t) > 0`` as ``k -> inf``, so the root is unique.
    Newton steps are kept inside a bracket that every evaluation narrows; a step that
    leaves the bracket is replaced by doubling, halving or bisection in ``log k``. Each row
    has its own bracket and stops on its own test. Returns ``(k, iterations, converged,
    moments)`` with the moments at the returned ``k``.
    """
    size = start.size
    k = start.copy()
    low, high = np.zeros(size), np.full(size, np.inf)
    iterations = np.zeros(size, dtype=np.int64)
    converged = np.zeros(size, dtype=bool)
    active = np.flatnonzero(np.isfinite(start))
    s0, s1, s2 = (np.full(size, np.nan) for _ in range(3))
    s0[active], s1[active], s2[active] = logs.moments(active, k[active])
    for iteration in range(1, MAX_ITERATIONS + 1):
        if active.size == 0:
            break
        kk = k[active]
        m0, m1, m2 = s0[active], s1[active], s2[active]
        mean_w = m1 / m0
        score = mean_w - 1.0 / kk - mean_t[active]
        exact = score == 0.0
        below = score < 0
        lo = np.where(below, kk, low[active])
        hi = np.where(below, high[active], kk)
        derivative = np.maximum(m2 / m0 - mean_w * mean_w, 0.0) + 1.0 / (kk * kk)
        candidate = kk - score / derivative
        outside = ~((lo < candidate) & (candidate < hi) & np.isfinite(candidate))
        fallback = np.where(np.isinf(hi), 2.0 * kk, np.where(lo == 0.0, 0.5 * kk, np.sqrt(lo * hi)))
        candidate = np.where(outside, fallback, candidate)
        step = np.abs(candidate - kk)
        iterations[active] = iteration
        low[active], high[active] = lo, hi
        converged[active[exact]] = True
        moving = ~exact
        rows, candidate, step = active[moving], candidate[moving], step[moving]
        k[rows] = candidate
        s0[rows], s1[rows], s2[rows] = logs.moments(rows, candidate)
        done = step <= RELATIVE_TOLERANCE * candidate
        converged[rows[done]] = True
        active = rows[~done]
    return k, iterations, converged, (s0, s1, s2)


def _fit_group(
    logs: _RawLogs | _CountLogs, n: np.ndarray, mean_log: np.ndarray, ss_log: np.ndarray, top: np.ndarray,
    given: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        start = np.pi / np.sqrt(6.0 * ss_log / n)
        if given is not None:  # a caller's start (another estimator's shape) where it is one
            start = np.where(np.isfinite(given) & (given > 0), given, start)
        start[~(ss_log > 0)] = np.nan
        shape, iterations, converged, moments = _profile_roots(logs, mean_log - top, start)
        scale = np.exp(top + np.log(moments[0] / n) / shape)
        shape_se, scale_se = information_se_rows(moments, shape, scale, top, n)
    return {"shape": shape, "scale": scale, "converged": converged, "iterations": iterations,
            "shape_se": shape_se, "scale_se": scale_se}


def _starts(start: np.ndarray | None, r0: int, r1: int) -> np.ndarray | None:
    return None if start is None else start[r0:r1]


def _log_moments(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`~weibull_stats.estimators._streaming.raw_log_moments`, wide float32 or float64 rows
    in one compiled pass each (the same sums to rounding)."""
    b, m = values.shape
    if m <= CACHE_LIMIT or values.dtype not in (np.float32, np.float64):
        return raw_log_moments(values)
    mean, ss = np.empty(b), np.empty(b)
    for r in range(b):
        shift = float(np.log(np.float64(values[r, 0])))
        s1, s2, _, _ = fused.log_sums(values[r], shift)
        mu = s1 / m
        mean[r], ss[r] = shift + mu, s2 - m * mu * mu
    return np.full(b, float(m)), mean, ss


def _raw_fits(values: np.ndarray, start: np.ndarray | None = None
              ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    b, m = values.shape
    n, mean_log, ss_log = _log_moments(values)
    highest = values.max(axis=1)
    least = values.min(axis=1)
    single = least == highest
    ss_log = np.where(single, 0.0, ss_log)
    groups = chunks(0, b, max(1, CACHE_LIMIT // m)) if m <= CACHE_LIMIT else row_groups(b, m)
    parts = []
    for r0, r1 in groups:
        rows = values[r0:r1]
        top = np.log(highest[r0:r1], dtype=np.float64)
        logs = _RawLogs(rows, top, least[r0:r1])
        parts.append(_fit_group(logs, n[r0:r1], mean_log[r0:r1], ss_log[r0:r1], top, _starts(start, r0, r1)))
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}, single


def _count_fits(grid: np.ndarray, counts: np.ndarray, start: np.ndarray | None = None
                ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    b, d = counts.shape
    n, mean_log, ss_log = count_log_moments(grid, counts)
    present = counts > 0
    single = present.sum(axis=1) < 2
    ss_log = np.where(single, 0.0, ss_log)
    last = d - 1 - np.argmax(present[:, ::-1], axis=1)
    log_grid = np.log(grid)
    parts = []
    # three (rows, d) float64 arrays per group: t, the weights and the buffer
    for r0, r1 in chunks(0, b, max(1, GROUP_ELEMENTS // d)):
        top = log_grid[last[r0:r1]]
        logs = _CountLogs(log_grid, counts[r0:r1], top)
        parts.append(_fit_group(logs, n[r0:r1], mean_log[r0:r1], ss_log[r0:r1], top, _starts(start, r0, r1)))
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}, single


def mle_kernel(batch: Batch, /, *, start: Any = None) -> Lines:
    """Maximum-likelihood shape and scale of every row, with standard errors.

    ``start``: starting shapes, one per row (another estimator's fit of it, say), used where
    finite and positive; the root is the same to the stopping test, only ``iterations`` differ.
    By default the log-moment estimate ``pi / (sd(ln x) sqrt 6)``.

    Raw rows take one chunked float64 pass over ``ln x`` per Newton iteration (the column
    chunks are fixed, so a row's result does not depend on the batch); count rows take
    O(distinct) weighted sums over the grid. A row that did not converge within
    :data:`MAX_ITERATIONS` keeps its last value with ``converged=False``; a row with a
    single distinct value is undefined (``nan`` and its reason).

    Diagnostics: ``shape_se``, ``scale_se`` (inverse observed information) and
    ``iterations``.
    """
    given = None if start is None else np.broadcast_to(np.asarray(start, dtype=np.float64).reshape(-1),
                                                           (batch.batch,))
    if isinstance(batch, CountRows):
        fits, single = _count_fits(batch.values, batch.counts, given)
        n_used = batch.counts.sum(axis=1)
    else:
        fits, single = _raw_fits(batch.values, given)
        n_used = batch.sizes
    reasons = {int(i): SINGLE_VALUE for i in np.flatnonzero(single)}
    return Lines(shape=fits["shape"], scale=fits["scale"], n_used=n_used.astype(np.int64),
                 converged=fits["converged"],
                 diagnostics={"shape_se": fits["shape_se"], "scale_se": fits["scale_se"],
                              "iterations": fits["iterations"]},
                 reasons=reasons)


def fit_mle(
    x: Any,
    /,
    *,
    values: str = DEFAULT_POLICY["values"],
    nonfinite: str = DEFAULT_POLICY["nonfinite"],
    zeros: str = DEFAULT_POLICY["zeros"],
) -> WeibullFit:
    """Maximum-likelihood Weibull fit with location fixed at 0.

    Maximises ``sum ln f(x_i)`` for ``f(x) = (k/lam) (x/lam)^(k-1) exp(-(x/lam)^k)``, the
    density of ``scipy.stats.weibull_min(c=shape, scale=scale)``.

    Parameters
    ----------
    x : array_like, torch.Tensor or Sample
        Positive sample (any shape, flattened; any float dtype, bfloat16 included).
    values, nonfinite, zeros
        Bad-input policy, as in :func:`weibull_stats.as_sample`.

    Returns
    -------
    WeibullFit
        ``shape``, ``scale``, ``shape_se`` and ``scale_se`` (inverse observed information),
        ``iterations`` and ``converged`` (False, with the last iterate kept, when the
        iteration limit was reached).

    Notes
    -----
    The scale has the closed form ``lam(k) = (mean x^k)^(1/k)`` for a given shape, so the
    likelihood is profiled to the one-dimensional score equation
    ``sum x^k ln x / sum x^k - 1/k - mean(ln x) = 0``, which has exactly one root. It is
    solved by safeguarded Newton iteration from the log-moment estimate, on
    ``t = ln x - max ln x`` so that ``x^k`` never overflows or loses scale (data scaled by
    1e-6 or 1e3 give the same shape), with float64 sums. Each iteration is one chunked
    pass; large samples recompute ``ln x`` per chunk instead of holding a float64 copy.
    A counts sample (16-bit storage) costs O(distinct values) per iteration.

    Examples
    --------
    >>> x = np.random.default_rng(1).weibull(0.8, size=50_000) * 3.0
    >>> fit = ws.fit_mle(x)
    >>> round(fit.shape, 2), round(fit.scale, 1), fit.converged
    (0.8, 3.0, True)
    """
    sample = as_sample(x, values=values, nonfinite=nonfinite, zeros=zeros)
    return one_fit("mle", mle_kernel, sample, check_options())


def mle_asymptotic(sample: Sample, /, *, errors: str = "sandwich") -> AsymptoticFit:
    """The fit with its errors of ``(shape, ln scale)``: ``errors="sandwich"`` (default, any
    law: :mod:`~weibull_stats.estimators._sandwich`) or ``"observed"`` (the inverse observed
    information, ``se(ln scale) = se(scale) / scale``: Weibull data only), named in ``method``.

    Examples
    --------
    >>> w = np.abs(np.random.default_rng(0).normal(size=100_000))
    >>> sandwich, observed = (mle_asymptotic(ws.as_sample(w), errors=e) for e in ERRORS)
    >>> bool(sandwich.shape_se > 1.03 * observed.shape_se)  # HalfNormal: the information is too small
    True
    """
    errors = check_choice(errors, "errors", ERRORS)
    fit = one_fit("mle", mle_kernel, sample, {})
    distinct = distinct_values(sample.magnitudes, sample.distinct)
    if errors == "observed":
        shape_se = float("nan") if fit.shape_se is None else fit.shape_se
        log_scale_se = float("nan") if fit.scale_se is None else fit.scale_se / fit.scale
        return AsymptoticFit(fit, shape_se, log_scale_se, OBSERVED_METHOD, distinct)
    shape_se, log_scale_se = sandwich_se(sample, fit.shape, fit.scale)
    return AsymptoticFit(fit, shape_se, log_scale_se, SANDWICH_METHOD, distinct)


# ---------------------------------------------------------------------- validation hook
def mle_population(population: Any, /) -> tuple[Any, Any]:
    """Limit of the MLE: the root of the profile score ``M'(k)/M(k) - 1/k - M'(0) = 0``.

    ``M(t) = E X^t`` is ``population.power_moment_mp``; its derivative by ``diff``; the
    score increases in ``k``: bracket the root, then ``findroot`` (Anderson's method).
    """
    ctx = population.context
    moment = population.power_moment_mp
    mean_log = ctx.diff(moment, 0)

    def score(k: Any) -> Any:
        return ctx.diff(moment, k) / moment(k) - 1 / k - mean_log

    low, high = ctx.mpf("0.05"), ctx.mpf(1)
    while score(high) < 0:
        low, high = high, 2 * high
    shape = ctx.findroot(score, (low, high), solver="anderson")
    return shape, moment(shape) ** (1 / shape)


MLE_POPULATION = PopulationHook(
    mle_population,
    method="score root by mpmath.findroot, {digits} digits (checked at {check_digits})",
    note="Kullback-Leibler projection onto the Weibull family",
    reads=frozenset({"context", "power_moment_mp"}),
)


ESTIMATOR = Estimator(
    "mle",
    fit_mle,
    mle_kernel,
    check_options,
    "maximum likelihood, location 0, profiled in the shape",
    order_statistics=False,
    population=MLE_POPULATION,
    asymptotic=mle_asymptotic,
    maximum_likelihood=True,
    equivariant=always,
    influence=mle_influence,
)
