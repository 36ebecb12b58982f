"""The limiting null law of the Anderson-Darling and Cramér-von Mises statistics with
parameters estimated by an equivariant estimator (Durbin 1973).

In ``u = F(x)`` the estimated-parameter EDF process ``sqrt(n) (F_n - F(., θ̂))`` tends to
the Gaussian process ``Z(u) = B(u) - g(u)ᵀ Δ``: ``B`` a Brownian bridge, ``g(u) = ∂F/∂θ``
at the standard model with ``θ = (mu, sigma)`` (:mod:`weibull_stats.estimators._influence`),
``g(u) = -f(u) (1, w(u))``, and ``Δ = ∫ IF dB`` the estimator's linear term. Its covariance is

    ``K(s, t) = min(s, t) - s t - g(s)ᵀ c(t) - c(s)ᵀ g(t) + g(s)ᵀ Σ g(t)``,

``c(t) = ∫_0^t IF(v) dv`` and ``Σ = ∫_0^1 IF IFᵀ dv`` (for the MLE ``c = I^{-1} g`` and
``Σ = I^{-1}``, and ``K = min - st - gᵀ I^{-1} g``, Durbin's form). Then ``A² -> ∫ Z²/(u(1-u))``
and ``W² -> ∫ Z²``, each ``sum_j λ_j χ²_1`` with ``λ_j`` the eigenvalues of the kernel weighted
by ``1/(u(1 - u))`` or unweighted: computed by Nyström's method on Gauss-Legendre nodes in
``τ`` with ``u = (1 - cos πτ)/2`` (nodes dense at both ends); ``c`` and ``Σ`` by
Gauss-Legendre on the cells between nodes (and the influence function's breaks), so ``c`` is
exact at the nodes up to the cells' quadrature. The tail ``P(sum λ_j χ²_1 > x)`` is Imhof's
(1961) integral, ``1/2 + (1/π) ∫_0^∞ sin θ(t) / (t ρ(t)) dt`` with ``θ(t) = (1/2) sum
arctan(λ_j t) - x t/2`` and ``ρ(t) = prod (1 + λ_j² t²)^{1/4}``, by :func:`scipy.integrate.quad`.

The Kolmogorov-Smirnov statistic's limit is the supremum of ``|Z|``, not a quadratic form:
it is not offered (a clear error).
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from weibull_stats.estimators._core import Estimator
from weibull_stats.estimators._influence import Influence, density, gumbel_w

#: Statistics with a limiting null computed here.
ASYMPTOTIC_STATISTICS: tuple[str, ...] = ("ad", "cvm")
#: Nyström nodes.
NODES = 400
#: Gauss-Legendre points per cell for ``c`` and ``Σ``.
CELL_POINTS = 12
#: Weights of the quadratic form that Imhof's integral takes exactly (the rest by their mean).
EXACT = 120
#: Tail probability below which the saddlepoint approximation replaces Imhof's integral.
FAR_TAIL = 1e-8
#: Levels of the critical-value table.
LEVELS: tuple[float, ...] = (0.10, 0.05, 0.025, 0.01)


def _cells(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gauss-Legendre points and weights on each cell ``[edges[i], edges[i+1]]``, taken in
    ``z = ln(-ln(1 - u))`` (smooth for the influence functions); the outer cells reach
    ``z = -40`` and ``z = 3.5`` (beyond them the law has mass below 1e-14)."""
    x, wt = np.polynomial.legendre.leggauss(CELL_POINTS)
    with np.errstate(divide="ignore"):
        z = np.clip(gumbel_w(edges), -40.0, 3.5)
    lo, hi = z[:-1, None], z[1:, None]
    zz = (lo + hi) / 2 + (hi - lo) / 2 * x[None, :]
    s = np.exp(zz)
    u = -np.expm1(-s)
    du = s * np.exp(-s) * (hi - lo) / 2 * wt[None, :]  # du = G'(z) dz
    return u, du, zz


def _one_blas_thread() -> Any:
    """A context with one BLAS thread where ``threadpoolctl`` is installed (else nothing): the
    eigenproblems here are 400 x 400, and OpenBLAS's threads, spinning while they wait for
    one another, took seconds instead of milliseconds on a busy two-core machine."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - an optional speed-up
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


@functools.lru_cache(maxsize=64)
def _eigenvalues(name: str, options_key: str, statistic: str, nodes: int) -> np.ndarray:
    from weibull_stats.estimators.registry import get_estimator

    entry = get_estimator(name)
    options = json.loads(options_key)
    influence = entry.influence_function(options)
    assert influence is not None
    with _one_blas_thread():
        return kernel_eigenvalues(influence, statistic, nodes)


def kernel_eigenvalues(influence: Influence, statistic: str, nodes: int = NODES) -> np.ndarray:
    """Eigenvalues ``λ_j`` (descending, positive) of the limiting quadratic form of ``statistic``
    (``"ad"`` or ``"cvm"``) with parameters estimated by an estimator of this ``influence``."""
    x, wt = np.polynomial.legendre.leggauss(nodes)
    tau = (x + 1) / 2
    u = (1 - np.cos(math.pi * tau)) / 2
    weight = wt / 2 * (math.pi / 2) * np.sin(math.pi * tau)
    edges = np.unique(np.concatenate([[0.0], u, np.asarray(influence.breaks, dtype=np.float64), [1.0]]))
    cu, cdu, _ = _cells(edges)
    values = influence.function(cu.ravel()).reshape(*cu.shape, 2)
    cell_integrals = np.einsum("ck,ckp->cp", cdu, values)
    cumulative = np.concatenate([[np.zeros(2)], np.cumsum(cell_integrals, axis=0)])
    total = cumulative[-1]
    position = np.searchsorted(edges, u)
    c = cumulative[position] - u[:, None] * total  # ∫_0^t IF - t ∫ IF (the mean is 0 up to quadrature)
    sigma = np.einsum("ck,ckp,ckq->pq", cdu, values, values)
    w = gumbel_w(u)
    g = -density(u)[:, None] * np.stack([np.ones_like(w), w], axis=-1)
    kernel = np.minimum(u[:, None], u[None, :]) - u[:, None] * u[None, :]
    kernel -= g @ c.T + c @ g.T
    kernel += g @ sigma @ g.T
    rho = 1.0 / (u * (1 - u)) if statistic == "ad" else np.ones_like(u)
    root = np.sqrt(weight * rho)
    matrix = root[:, None] * kernel * root[None, :]
    lam = np.linalg.eigvalsh((matrix + matrix.T) / 2)[::-1]
    return lam[lam > 1e-12 * lam[0]]


def saddlepoint_tail(x: float, lam: np.ndarray) -> float:
    """``P(sum_j λ_j χ²_1 > x)`` by the Lugannani-Rice saddlepoint approximation (relative error
    of a few per cent in the far tail, where Imhof's integral cannot resolve the value):
    ``K(θ) = -(1/2) sum ln(1 - 2 θ λ_j)``, ``K'(θ̂) = x``, ``w = sign(θ̂) sqrt(2 (θ̂ x - K(θ̂)))``,
    ``u = θ̂ sqrt(K''(θ̂))``, tail ``1 - Φ(w) + φ(w) (1/u - 1/w)``."""
    from scipy import optimize, special  # here: the command line's --help loads no scipy

    lam = np.asarray(lam, dtype=np.float64)
    mean = float(lam.sum())
    if x <= mean:
        raise ValueError("the saddlepoint tail is used above the mean only")
    top = 1.0 / (2.0 * float(lam.max()))

    def slope(theta: float) -> float:
        return float((lam / (1.0 - 2.0 * theta * lam)).sum()) - x

    theta = float(optimize.brentq(slope, 0.0, top * (1.0 - 1e-15), xtol=1e-300, rtol=1e-14, maxiter=500))
    k = -0.5 * float(np.log1p(-2.0 * theta * lam).sum())
    k2 = float((2.0 * lam**2 / (1.0 - 2.0 * theta * lam) ** 2).sum())
    w = math.sqrt(max(2.0 * (theta * x - k), 0.0))
    u = theta * math.sqrt(k2)
    if w == 0.0 or u == 0.0:
        return 0.5
    return max(0.0, float(special.ndtr(-w)) + math.exp(-w * w / 2) / math.sqrt(2 * math.pi) * (1 / u - 1 / w))


def imhof_tail(x: float, lam: np.ndarray) -> float:
    """``P(sum_j λ_j χ²_1 > x)`` by Imhof's integral (see the module documentation).

    The :data:`EXACT` largest weights enter exactly; the rest, whose sum of squares is
    negligible, by their mean (a shift of ``x``). The integral is taken by 10-point
    Gauss-Legendre on panels of at most a quarter of the integrand's fastest oscillation
    (``|θ'| <= (sum λ + x)/2``), up to where ``t ρ(t) > e^36``. Where the saddlepoint
    approximation (:func:`saddlepoint_tail`) puts the tail below :data:`FAR_TAIL`, which the
    integral's absolute error cannot resolve, that approximation is the value.
    """
    lam = np.sort(np.asarray(lam, dtype=np.float64))[::-1]
    if x > float(lam.sum()):
        far = saddlepoint_tail(float(x), lam)
        if far < FAR_TAIL:
            return far
    x = float(x) - float(lam[EXACT:].sum())
    lam = lam[:EXACT]
    end = 1.0
    while 0.25 * float(np.log1p((lam * end) ** 2).sum()) + math.log(end) < 36.0:
        end *= 1.5
    width = 0.25 * math.pi / (0.5 * (float(lam.sum()) + abs(x)))
    panels = max(1, math.ceil(end / width))
    nodes, weights = np.polynomial.legendre.leggauss(10)
    value = 0.0
    for first in range(0, panels, 20_000):  # in chunks: bounded memory
        left = np.arange(first, min(panels, first + 20_000)) * (end / panels)
        t = (left[:, None] + (nodes[None, :] + 1) * (end / panels / 2)).ravel()
        wt = np.tile(weights * (end / panels / 2), left.size)
        lt = lam[None, :] * t[:, None]
        theta = 0.5 * np.arctan(lt).sum(axis=1) - 0.5 * x * t
        log_rho = 0.25 * np.log1p(lt * lt).sum(axis=1)
        value += float((wt * np.sin(theta) / (t * np.exp(log_rho))).sum())
    return min(1.0, max(0.0, 0.5 + value / math.pi))


def _check(entry: Estimator, options: Mapping[str, Any], statistic: str) -> None:
    if statistic not in ASYMPTOTIC_STATISTICS:
        raise ValueError(f"`statistic` {statistic!r} has no asymptotic null here (the Kolmogorov-Smirnov "
                         "limit is a supremum, not a quadratic form); use 'ad' or 'cvm', or a simulated null")
    if entry.influence is None:
        raise ValueError(f"estimator {entry.name!r} declares no influence function, so its goodness of fit "
                         "has no asymptotic null (its fixed bins break equivariance); use null='per-sample'")


def options_key(options: Mapping[str, Any]) -> str:
    """A canonical JSON text of checked kernel options (tuples and arrays as lists)."""
    def plain(value: Any) -> Any:
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if isinstance(value, np.generic):
            return value.item()
        return value
    return json.dumps({k: plain(v) for k, v in sorted(options.items())}, sort_keys=True)


def asymptotic_eigenvalues(entry: Estimator, options: Mapping[str, Any], statistic: str) -> np.ndarray:
    """The eigenvalues of ``statistic``'s limiting null under ``entry`` with checked kernel
    ``options`` (kept in memory per estimator, options and statistic)."""
    _check(entry, options, statistic)
    return _eigenvalues(entry.name, options_key(options), statistic, NODES)


def asymptotic_pvalue(entry: Estimator, options: Mapping[str, Any], statistic: str, value: float) -> float:
    """``P(limit >= value)`` of ``statistic``'s limiting null."""
    return imhof_tail(float(value), asymptotic_eigenvalues(entry, options, statistic))


def asymptotic_critical_values(entry: Estimator, options: Mapping[str, Any], statistic: str,
                               levels: tuple[float, ...] = LEVELS) -> dict[float, float]:
    """``{level: x}`` with ``P(limit > x) = level``."""
    from scipy import optimize  # here: the command line's --help loads no scipy

    lam = asymptotic_eigenvalues(entry, options, statistic)
    out = {}
    for level in levels:
        if not 0 < level < 1:
            raise ValueError(f"`levels` must lie in (0, 1); got {level!r}")
        high = float(lam.sum())
        while imhof_tail(high, lam) > level:
            high *= 2.0
        out[level] = float(optimize.brentq(lambda x, a=level: imhof_tail(x, lam) - a, 0.0, high, xtol=1e-9))
    return out


def _entry_options(estimator: Any, options: Mapping[str, Any]) -> tuple[Estimator, dict[str, Any]]:
    from weibull_stats.inference.engine import resolve_estimator

    entry = resolve_estimator(estimator)
    _, own = entry.split(options)
    return entry, own


def gof_critical_values(estimator: Any = "probability_plot", statistic: str = "ad", *,
                        levels: tuple[float, ...] = LEVELS, **options: Any) -> dict[float, float]:
    """Asymptotic critical values of goodness of fit with parameters estimated by ``estimator``.

    Parameters
    ----------
    estimator : str or callable, default "probability_plot"
        A registered estimator that declares an influence function (every one but histogram mode).
    statistic : {"ad", "cvm"}
        Anderson-Darling ``A²`` or Cramér-von Mises ``W²`` (the Kolmogorov-Smirnov limit is a
        supremum and is not offered).
    levels : tuple of float
        Upper-tail probabilities.
    **options
        The estimator's options.

    Returns
    -------
    dict
        ``{level: x}`` with ``P(limit > x) = level``: the ``n -> ∞`` limits (for the MLE's
        ``A²`` Stephens (1977) multiplies the statistic by ``1 + 0.2/sqrt(n)`` at finite ``n``).

    Examples
    --------
    >>> cv = ws.gof_critical_values("mle", "ad", levels=(0.05,))
    >>> round(cv[0.05], 2)  # Stephens (1977): 0.757
    0.76
    """
    entry, own = _entry_options(estimator, options)
    return asymptotic_critical_values(entry, own, statistic, tuple(levels))


def gof_asymptotic_pvalue(value: float, estimator: Any = "probability_plot", statistic: str = "ad",
                          **options: Any) -> float:
    """``P(limit >= value)``: the asymptotic p-value of an observed ``A²`` or ``W²`` with
    parameters estimated by ``estimator`` (see :func:`gof_critical_values`).

    Examples
    --------
    >>> round(ws.gof_asymptotic_pvalue(0.757, "mle"), 3)
    0.05
    """
    entry, own = _entry_options(estimator, options)
    return asymptotic_pvalue(entry, own, statistic, float(value))
