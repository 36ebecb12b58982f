"""Influence functions of the equivariant estimators at the standard Weibull model, and what
each estimator declares about its equivariance.

Coordinates
-----------
``ln x`` of a Weibull(k, λ) variable is a minimum-Gumbel variable with location
``mu = ln λ`` and scale ``sigma = 1/k``: ``F(x) = G((ln x - mu)/sigma)`` with
``G(w) = 1 - exp(-e^w)``. An estimator is *equivariant* when fitting ``s * x**p`` gives
shape ``k/p`` and scale ``s * λ**p`` exactly, i.e. ``(mu, sigma) -> (ln s + p mu, p sigma)``;
the fitted probability transforms ``F̂(x_i)`` are then the same for every ``(k, λ)`` and the
null law of an EDF statistic with estimated parameters depends only on the estimator, its
options and ``n``.

Every function here returns the influence function of ``(mu, sigma)`` at the standard model
(``mu = 0``, ``sigma = 1``) as a function of ``u = F(x)`` in ``(0, 1)``, written with
``s = -ln(1 - u)`` (so ``e^w = s``), ``w = ln s`` and the density of ``w`` at ``u``,
``f(u) = G'(w) = s (1 - u)``. Goodness of fit's asymptotic null
(:mod:`weibull_stats.inference.asymptotic_null`) builds Durbin's (1973) covariance from them.

Derivations
-----------
* **MLE.** The log density of ``w`` is ``-ln sigma + w - e^w``; its score in ``(mu, sigma)``
  at the standard model is ``(e^w - 1, w e^w - w - 1)``. With ``t = e^w ~ Exp(1)`` and
  ``E[t^a ln t] = Γ'(a + 1)``, the Fisher information is ``I = [[1, 1 - γ], [1 - γ,
  π²/6 + (1 - γ)²]]`` (γ Euler's constant), and ``IF = I^{-1} score``.
* **Log-moment.** ``sigma = sd(ln x) √6/π`` and ``mu = mean(ln x) + γ sigma``. Under the
  model ``E w = -γ``, ``Var w = π²/6``; the influence of the mean is ``w + γ`` and of the
  variance ``(w + γ)² - π²/6``, so ``IF_sigma = 3 ((w + γ)² - π²/6)/π²`` (delta method on
  ``sd = sqrt(var)``) and ``IF_mu = (w + γ) + γ IF_sigma``.
* **Quantile matching** at probabilities ``p_j`` (``m`` of them): least squares of the
  sample log quantiles on ``y_j = ln(-ln(1 - p_j))``, so ``sigma = sum_j a_j ln q_j`` with
  ``a_j = (y_j - ȳ)/sum (y - ȳ)²`` and ``mu = sum_j (1/m - ȳ a_j) ln q_j``. A sample quantile
  has the influence ``(p_j - 1{u <= p_j})/f(p_j)``; the sum is an L-estimator's influence.
  Methods that interpolate between order statistics in ``x`` are not exactly equivariant
  (the interpolation is not a power map), but their interpolation moves ``ln q_j`` by
  ``O(1/n²)``: the same influence function and the same limit.
* **Probability plot** on the window ``a <= v <= b`` of plotting positions (the trim): as
  ``n -> ∞`` the points are ``(z_v, L(v))`` with ``z_v = ln(-ln(1 - v))`` and ``L`` the
  empirical quantile function of ``ln x``, equally weighted in ``v``. At the model
  ``L(v) = z_v``, and to first order both regression directions give the same slope:
  ``sigma = S_LL/S_zL`` (``y`` on ``x``) or ``S_zL/S_zz`` (``x`` on ``y``) both move by
  ``∫ (z_v - z̄) δL(v) dv / ((b - a) S)``, with ``z̄`` and ``S`` the mean and variance of
  ``z_v`` on the window; ``mu = L̄ - z̄ sigma``. So ``(mu, sigma)`` are L-functionals
  ``∫_a^b h(v) L(v) dv`` with weights ``h(v) = α + β z_v`` (``h_sigma = (z_v - z̄)/((b - a)
  S)``, ``h_mu = 1/(b - a) - z̄ h_sigma``). With ``IF_{L(v)}(u) = (v - 1{u <= v})/f(v)`` and
  ``dv / f(v) = dz``: ``IF(u) = A - [P(z_b) - P(max(z_u, z_a))]`` for ``u < b`` (``A`` for
  ``u >= b``), ``P(z) = α z + β z²/2`` and ``A = ∫_{z_a}^{z_b} (α + β z) G(z) dz``, so that
  ``E IF = 0``. The plotting position and the direction do not enter.

``tests/test_gof_nulls.py`` checks every one against simulation: the asymptotic null's
critical values agree with the simulated shared null at ``n = 10^4 - 10^5``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from weibull_stats.weibull.law import plot_ordinates

EULER_GAMMA = 0.5772156649015329
#: The Fisher information of ``(mu, sigma)`` of the minimum-Gumbel law at the standard model.
GUMBEL_INFORMATION = np.array([[1.0, 1.0 - EULER_GAMMA],
                               [1.0 - EULER_GAMMA, math.pi**2 / 6 + (1.0 - EULER_GAMMA) ** 2]])


@dataclass(frozen=True, slots=True)
class Influence:
    """An estimator's influence function of ``(mu, sigma)`` at the standard model.

    Attributes
    ----------
    function : callable
        ``function(u) -> (len(u), 2)`` for ``u`` in ``(0, 1)``.
    breaks : tuple of float
        Points in ``(0, 1)`` where ``function`` or its derivative jumps (quadratures split there).
    """

    function: Callable[[np.ndarray], np.ndarray]
    breaks: tuple[float, ...] = ()


def gumbel_w(u: np.ndarray) -> np.ndarray:
    """``w = ln(-ln(1 - u))``, the standard minimum-Gumbel quantile: the Weibull-plot ordinate."""
    return np.asarray(plot_ordinates(u), dtype=np.float64)


def _ordinate(v: float) -> float:
    """:func:`gumbel_w` of one probability, as a float (for the quadratures)."""
    return float(plot_ordinates(v))


def density(u: np.ndarray) -> np.ndarray:
    """``f(u) = G'(w(u)) = s (1 - u)`` with ``s = -ln(1 - u)``."""
    u = np.asarray(u, dtype=np.float64)
    return -np.log1p(-u) * (1.0 - u)


def always(**_: Any) -> bool:
    """The equivariance declaration of an estimator whose every option set is equivariant."""
    return True


def never(**_: Any) -> bool:
    """The equivariance declaration of an estimator with fixed, absolute-unit bins."""
    return False


# ---------------------------------------------------------------------- MLE, log-moment
def _mle(u: np.ndarray) -> np.ndarray:
    s = -np.log1p(-u)
    w = np.log(s)
    score = np.stack([s - 1.0, w * s - w - 1.0], axis=-1)
    return np.linalg.solve(GUMBEL_INFORMATION, score.T).T


def mle_influence(**_: Any) -> Influence:
    """``I^{-1} (e^w - 1, w e^w - w - 1)`` (see the module documentation)."""
    return Influence(_mle)


def _log_moment(u: np.ndarray) -> np.ndarray:
    d = gumbel_w(u) + EULER_GAMMA
    sig = 3.0 * (d * d - math.pi**2 / 6) / math.pi**2
    return np.stack([d + EULER_GAMMA * sig, sig], axis=-1)


def log_moment_influence(**_: Any) -> Influence:
    """Mean and sd of ``ln x`` by the delta method (see the module documentation)."""
    return Influence(_log_moment)


# ---------------------------------------------------------------------- order statistics
def quantile_influence(probabilities: tuple[float, ...] = (0.1, 0.9), **_: Any) -> Influence:
    """Sum of the sample quantiles' influences, least-squares weights (module documentation)."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = gumbel_w(p)
    a_sigma = (y - y.mean()) / float(((y - y.mean()) ** 2).sum())
    weights = np.stack([1.0 / p.size - y.mean() * a_sigma, a_sigma], axis=-1)  # (m, 2)
    f = density(p)

    def function(u: np.ndarray) -> np.ndarray:
        jumps = (p[None, :] - (np.asarray(u)[:, None] <= p[None, :])) / f[None, :]
        return jumps @ weights

    return Influence(function, tuple(float(v) for v in p))


def probability_plot_influence(trim: tuple[float, float] = (0.1, 0.9), **_: Any) -> Influence:
    """The window's L-functional (see the module documentation); ``trim`` is ``(a, b)``."""
    from scipy import integrate  # here: the command line's --help loads no scipy

    a, b = float(trim[0]), float(trim[1])
    lo = -math.inf if a <= 0 else _ordinate(a)
    hi = math.inf if b >= 1 else _ordinate(b)
    width = b - a
    mean_z = integrate.quad(_ordinate, a, b, limit=200)[0] / width
    var_z = integrate.quad(lambda v: (_ordinate(v) - mean_z) ** 2, a, b, limit=200)[0] / width
    beta_sigma = 1.0 / (var_z * width)
    coef = np.array([[1.0 / width + mean_z**2 * beta_sigma, -mean_z * beta_sigma],  # mu: alpha, beta
                     [-mean_z * beta_sigma, beta_sigma]])                           # sigma
    z_lo, z_hi = max(lo, -60.0), min(hi, 6.0)
    big_a = np.array([integrate.quad(lambda z, c=c: (c[0] + c[1] * z) * -math.expm1(-math.exp(z)),
                                     z_lo, z_hi, limit=200)[0] for c in coef])

    def antiderivative(z: np.ndarray) -> np.ndarray:
        return coef[None, :, 0] * z[:, None] + coef[None, :, 1] * z[:, None] ** 2 / 2

    def function(u: np.ndarray) -> np.ndarray:
        z = np.clip(gumbel_w(u), z_lo, z_hi)
        inside = antiderivative(np.array([z_hi])) - antiderivative(z)
        return big_a[None, :] - inside

    breaks = tuple(v for v in (a, b) if 0 < v < 1)
    return Influence(function, breaks)


def quantile_equivariant(probabilities: Any = None, method: str = "linear", **_: Any) -> bool:
    """Quantile matching is exactly equivariant when each quantile is one order statistic
    (no interpolation in ``x``, which a power map does not preserve)."""
    return method in ("inverted_cdf", "closest_observation", "lower", "higher", "nearest")


InfluenceHook = Callable[..., Influence]
EquivarianceHook = Callable[..., bool]

