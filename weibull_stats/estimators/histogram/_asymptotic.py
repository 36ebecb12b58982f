r"""Large-sample standard errors of histogram mode: the delta method on the bin counts.

Derivation
----------
The fit is a smooth function of the bin proportions ``pi_a = c_a / N``: each kept bin ``b``
enters with weight ``pi_b`` at ``(u_b, v_b)``, ``u_b`` its fixed log-midpoint and
``v_b = psi(F_b)``, ``psi(F) = ln(-ln(1 - F))``, ``F_b = sum_{a < b} pi_a + pi_b / 2`` its
mid-bin CDF. The counts are multinomial, so for any statistic ``theta(pi)``

    ``Var theta = (sum_a pi_a g_a^2 - (sum_a pi_a g_a)^2) / N``,   ``g_a = d theta / d pi_a``

(the multinomial covariance ``diag(pi) - pi pi'`` annihilates the direction in which the
extension of ``theta`` off the simplex is arbitrary). ``g_a`` has two channels, the weight
of bin ``a`` itself and its share in the ordinates of the bins above it:

    ``g_a = w_a + sum_{b > a} H_b + H_a / 2``,   ``H_b = (d theta / d v_b) psi'(F_b)``,

with, for the weighted least-squares line (``S`` the weighted centred sums, ``W`` the kept
mass, bars the weighted means, ``du = u - u_bar``, ``dv = v - v_bar``):

* ``y_on_x`` (``k = S_uv / S_uu``): ``w^k = (du dv - k du^2) / S_uu``,
  ``dk / dv_b = pi_b du_b / S_uu``; ``ln scale = u_bar - v_bar / k`` gives
  ``w^s = du / W - dv / (W k) + v_bar w^k / k^2`` and
  ``d ln scale / dv_b = -pi_b / (W k) + v_bar (dk / dv_b) / k^2``;
* ``x_on_y`` (slope ``b = S_uv / S_vv = 1 / k``): ``w^b = (du dv - b dv^2) / S_vv``,
  ``db / dv_b = pi_b (du_b - 2 b dv_b) / S_vv``, ``dk = -k^2 db``; ``ln scale = u_bar - b v_bar``
  gives ``w^s = du / W - v_bar w^b - b dv / W`` and ``d ln scale / dv_b = -v_bar (db / dv_b) - b pi_b / W``.

Edge bins
---------
With the kept set held fixed the above is the whole first-order variance, but the set is a
step function of the counts: a bin is kept when its mid-bin CDF ``F_b`` lies in the trim
window, and ``F_b`` has standard deviation ``sd_b = sqrt(F_b (1 - F_b) / N)``. A bin whose
``F_b`` is within a few ``sd_b`` of a trim edge is kept in some samples and dropped in others,
and toggling it moves the estimate by a jump ``J_b`` that does not shrink with ``N``
(HalfNormal ``sigma = 0.02``: the bin below the lower edge has population ``F_b = 0.09982``; at
``N = 10^6`` about 28% of samples keep it, ``J = -0.003`` in the shape against a fixed-set
error of 0.0013, and the fixed-set interval covers the population value about 0.83 of the
time). The estimator's law is then a mixture of two normals ``J_b`` apart, one of them
centred on the population value (the fit on the population's kept set), and no symmetric
Wald error is right for every position of ``F_b`` (a sample on the wrong side of the edge
needs the whole jump inside its interval). The error used here is

    ``se^2 = se_fixed^2 + sum_b 2 Phi(-z_b) J_b'^2``,   ``z_b = |F_b - t| / sd_b``,

over the non-empty bins next to each trim edge ``t``, one on each side (``F_b`` the
sample's). ``2 Phi(-z_b)`` is 1 for a bin on the edge and falls off as the data place it
further from it; ``J_b'`` is the jump (refit with bin ``b`` toggled, O(bins)) plus the move of
the fixed-set fit with ``F_b`` itself, which is strongly correlated with it (regression slope
``Cov(theta, F_b) / sd_b^2``, the bins below ``b`` entering both): a sample on the other side
of the edge from the population has ``F_b`` about :data:`OVERSHOOT` ``sd_b`` beyond it, so
``J_b' = J_b +- OVERSHOOT Cov(theta, F_b) / sd_b`` (the sign: which way the edge keeps the
bin). As ``N`` grows every ``z_b`` grows (no population mid-CDF sits exactly on an edge) and
the error reduces to the fixed-set one.

Checked by exact multinomial simulation of the bin counts (``tests/test_sandwich.py``),
HalfNormal(0.02), 400 replicates, coverage of the population shape: 0.99 / 0.95 / 0.97 / 0.97
at ``N = 10^4 / 10^5 / 10^6 / 10^7`` (fixed-set error: 0.93 / 0.91 / 0.83 / 0.92). This is a
first-order device, not an exact law: it errs on the safe side where many bins toggle
(``N = 10^4``) and can undercover for a population ``F_b`` within about half an ``sd_b`` of
an edge when the jump is several fixed-set errors.

Where it breaks down: besides small samples, few bins in the window (coarse edges) make the
fit a function of a handful of counts.
"""

from __future__ import annotations

import math

import numpy as np

from weibull_stats.estimators.histogram._bins import bin_log_midpoints, kept_bins, mid_bin_cdf
from weibull_stats.weibull.law import plot_ordinate_slope, plot_ordinates
from weibull_stats.weibull.lines import plot_line, weighted_moments

METHOD = "delta method on the multinomial bin counts, with the edge bins' toggle term"

#: Bins whose chance of being kept or dropped otherwise than in the sample is below this are
#: not toggled.
TOGGLE_MIN = 1e-6
#: How far (in sd_b) beyond the edge a sample on the other side of it typically has F_b.
OVERSHOOT = 0.8


def _line(u: np.ndarray, v: np.ndarray, w: np.ndarray, direction: str) -> np.ndarray:
    """``(shape, ln scale)`` of the weighted line through ``(u, v)`` with weights ``w``."""
    m = weighted_moments(u, v, w)
    shape, log_scale = plot_line(m.mean_u, m.mean_v, m.suu, m.svv, m.suv, direction)
    return np.array([float(shape), float(log_scale)])


def _bin_state(counts: np.ndarray, edges: np.ndarray, trim: tuple[float, float]
               ) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(counts, total, proportions, log10 midpoints, mid-bin CDF, kept bins)`` of a histogram."""
    c = np.asarray(counts, dtype=np.float64)
    total = float(c.sum())
    u = bin_log_midpoints(edges)
    f_mid = mid_bin_cdf(c, total)
    return c, total, c / total, u, f_mid, kept_bins(c, f_mid, trim)


def _edge_bins(counts: np.ndarray, f_mid: np.ndarray, trim: tuple[float, float]) -> list[int]:
    """The non-empty bins next to each trim edge, one on each side of it (at most four)."""
    present = np.flatnonzero(counts > 0)
    f = f_mid[present]
    found = []
    for edge in trim:
        inside = np.searchsorted(f, edge, side="left")  # first present bin with F >= edge
        found += [present[i] for i in (inside - 1, inside) if 0 <= i < present.size]
    return sorted(set(int(b) for b in found))


def edge_toggle_variance(counts: np.ndarray, edges: np.ndarray, trim: tuple[float, float],
                         direction: str) -> np.ndarray:
    """The edge bins' term of the variance of ``(shape, ln scale)``,
    ``sum_b exp(-z_b^2 / 2) J_b^2`` (module docstring, "Edge bins")."""
    c, total, pi, u, f_mid, keep = _bin_state(counts, edges, trim)
    sd = np.sqrt(np.maximum(f_mid * (1.0 - f_mid), 0.0) / total)
    distance = np.minimum(np.abs(f_mid - trim[0]), np.abs(f_mid - trim[1]))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where((c > 0) & (sd > 0), distance / sd, np.inf)
    v = plot_ordinates(np.clip(f_mid, 1e-300, 1.0 - 1e-16))
    base = _line(u, np.where(keep, v, 0.0), np.where(keep, pi, 0.0), direction)
    gradients = count_gradients(c, edges, trim, direction)
    fixed = np.sqrt(np.maximum(_multinomial_cov(pi, gradients, gradients, total), 0.0))
    extra = np.zeros(2)
    from scipy.special import ndtr  # here: the command line's --help loads no scipy

    weight = 2.0 * ndtr(-z)
    for b in _edge_bins(c, f_mid, trim):
        if not weight[b] > TOGGLE_MIN:
            continue
        toggled = keep.copy()
        toggled[b] = not toggled[b]
        if toggled.sum() < 3:
            continue
        jump = _line(u, np.where(toggled, v, 0.0), np.where(toggled, pi, 0.0), direction) - base
        if not np.all(np.isfinite(jump)):
            continue
        jump = -jump if keep[b] else jump  # J_b: the fit with the bin minus the fit without it
        # the fixed-set fit is correlated with F_b (the bins below b enter both): a sample on
        # the other side of the edge from the population has its fit moved with it, the same
        # way as the jump when the correlation has the edge's sign
        f_gradient = (np.arange(c.size) < b).astype(np.float64)
        f_gradient[b] = 0.5
        side = 1.0 if abs(f_mid[b] - trim[0]) <= abs(f_mid[b] - trim[1]) else -1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = side * _multinomial_cov(pi, gradients, f_gradient, total) / (sd[b] * fixed)
        along = np.where(np.isfinite(rho) & (rho * np.sign(jump) > 0), np.abs(rho), 0.0)
        effective = jump * (1.0 + OVERSHOOT * along)
        extra += weight[b] * effective * effective
    return extra


def histogram_se(counts: np.ndarray, edges: np.ndarray, trim: tuple[float, float],
                 direction: str) -> tuple[float, float]:
    """``(se shape, se ln scale)`` of the histogram fit of ``counts`` over log10 ``edges``:
    the fixed-set delta method (:func:`fixed_set_se`) with the edge bins' toggle term
    (:func:`edge_toggle_variance`).

    Examples
    --------
    >>> from weibull_stats.estimators.histogram import log10_histogram
    >>> h = log10_histogram(np.random.default_rng(0).weibull(1.5, 100_000))
    >>> se_shape, se_log_scale = histogram_se(h.counts, h.edges, (0.1, 0.9), "y_on_x")
    >>> bool(se_shape >= fixed_set_se(h.counts, h.edges, (0.1, 0.9), "y_on_x")[0])
    True
    """
    fixed = np.array(fixed_set_se(counts, edges, trim, direction))
    extra = edge_toggle_variance(counts, edges, trim, direction)
    out = np.sqrt(np.maximum(fixed * fixed + extra, 0.0))
    return float(out[0]), float(out[1])


def count_gradients(counts: np.ndarray, edges: np.ndarray, trim: tuple[float, float],
                    direction: str) -> np.ndarray:
    """Gradients ``g_a = d theta / d pi_a`` (rows: shape, ln scale) of the histogram fit of
    ``counts`` over log10 ``edges``, the kept bins held fixed (module docstring).

    Examples
    --------
    >>> from weibull_stats.estimators.histogram import log10_histogram
    >>> h = log10_histogram(np.random.default_rng(0).weibull(1.5, 100_000))
    >>> se_shape, se_log_scale = histogram_se(h.counts, h.edges, (0.1, 0.9), "y_on_x")
    >>> round(se_shape * 100_000 ** 0.5, 1)  # the exact middle-80% fit: 1.5 (validation.asymptotic)
    1.5
    """
    _, _, pi, u, f_mid, keep = _bin_state(counts, edges, trim)
    f = np.where(keep, f_mid, 0.5)
    w = np.where(keep, pi, 0.0)
    moments = weighted_moments(u, plot_ordinates(f), w)
    mass, mean_v = float(moments.total), float(moments.mean_v)
    du, dv = np.where(keep, moments.du, 0.0), np.where(keep, moments.dv, 0.0)
    suu, svv, suv = float(moments.suu), float(moments.svv), float(moments.suv)
    k = plot_line(moments.mean_u, mean_v, suu, svv, suv, direction)[0]
    if direction == "y_on_x":
        weight_k = (du * dv - k * du * du) / suu
        ordinate_k = w * du / suu
        weight_s = du / mass - dv / (mass * k) + mean_v * weight_k / k**2
        ordinate_s = -w / (mass * k) + mean_v * ordinate_k / k**2
    else:
        slope = suv / svv
        weight_b = (du * dv - slope * dv * dv) / svv
        ordinate_b = w * (du - 2.0 * slope * dv) / svv
        weight_k, ordinate_k = -k * k * weight_b, -k * k * ordinate_b
        weight_s = du / mass - mean_v * weight_b - slope * dv / mass
        ordinate_s = -mean_v * ordinate_b - slope * w / mass
    dpsi = np.where(keep, plot_ordinate_slope(f), 0.0)
    out = []
    for weight, ordinate in ((weight_k, ordinate_k), (weight_s, ordinate_s)):
        h = ordinate * dpsi
        above = np.concatenate([np.cumsum(h[::-1])[::-1][1:], [0.0]])
        out.append(np.where(keep, weight, 0.0) + above + 0.5 * h)
    return np.stack(out)


def _multinomial_cov(pi: np.ndarray, a: np.ndarray, b: np.ndarray, total: float) -> np.ndarray:
    """``Cov`` of the linear statistics with gradients ``a`` (rows) and ``b`` under the multinomial."""
    return ((a * b) @ pi - (a @ pi) * (b @ pi)) / total


def fixed_set_se(counts: np.ndarray, edges: np.ndarray, trim: tuple[float, float],
                 direction: str) -> tuple[float, float]:
    """``(se shape, se ln scale)`` with the kept bins held fixed (the delta method above)."""
    c = np.asarray(counts, dtype=np.float64)
    total = float(c.sum())
    g = count_gradients(c, edges, trim, direction)
    variance = np.maximum(_multinomial_cov(c / total, g, g, total), 0.0)
    return float(math.sqrt(variance[0])), float(math.sqrt(variance[1]))
