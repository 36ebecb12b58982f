"""Populations whose exact Weibull-fit limits the validation suite computes.

Each population is a law of a positive variable ``X`` with a closed-form quantile function
``Q(p)``, distribution function ``F(x)`` and power moment ``M(t) = E[X^t]``, available both
at arbitrary precision (:mod:`mpmath`, for the anchors) and in float64 (:mod:`numpy`, for
asymptotic variances and sampling). Every population is standardised to scale 1: the
Weibull fit is scale-equivariant, so the fitted scale of ``c * X`` is ``c`` times the
fitted scale of ``X`` and an anchor's scale is reported as ``scale / c``.

The populations
---------------
``halfnormal``
    ``|Z|``, ``Z ~ N(0, 1)``: ``F(x) = erf(x / sqrt 2)``, ``Q(p) = sqrt 2 erfinv(p)``,
    ``M(t) = 2^(t/2) Gamma((t + 1) / 2) / sqrt(pi)``.
``weibull``
    ``F(x) = 1 - exp(-x^k)``, ``Q(p) = (-ln(1 - p))^(1/k)``, ``M(t) = Gamma(1 + t/k)``.
``uniform``
    ``|U|``, ``U ~ Uniform(-1, 1)`` (torch's default Kaiming-uniform init divided by its
    bound): ``F(x) = x``, ``Q(p) = p``, ``M(t) = 1 / (t + 1)``.
``truncated_halfnormal``
    ``|Z|`` with ``Z ~ N(0, 1)`` truncated to ``[-c, c]``: ``F(x) = erf(x / sqrt 2) /
    erf(c / sqrt 2)``, ``Q(p) = sqrt 2 erfinv(p erf(c / sqrt 2))``,
    ``M(t) = 2^(t/2) P((t + 1)/2, c^2/2) Gamma((t + 1)/2) / (sqrt(pi) erf(c / sqrt 2))`` with
    ``P`` the regularised lower incomplete gamma function.
``abs_t``
    ``|T|``, ``T`` Student's t with ``nu`` degrees of freedom (heavy tails, as trained weights
    have): ``F(x) = 1 - I_{nu / (nu + x^2)}(nu/2, 1/2)`` with ``I`` the regularised incomplete
    beta function, ``M(t) = nu^(t/2) Gamma((t + 1)/2) Gamma((nu - t)/2) / (sqrt(pi) Gamma(nu/2))``
    for ``-1 < t < nu``; ``Q(p)`` solves ``F(x) = p`` (:func:`mpmath.findroot`).
``gaussian_mixture``
    ``|Z|`` with ``Z`` a two-component Gaussian scale mixture: ``N(0, 1)`` with probability
    :data:`MIXTURE_WEIGHT`, else ``N(0, r^2)``: ``F(x) = w erf(x / sqrt 2) + (1 - w) erf(x / (r sqrt 2))``,
    ``M(t) = (w + (1 - w) r^t) 2^(t/2) Gamma((t + 1)/2) / sqrt(pi)``; ``Q(p)`` solves ``F(x) = p``.

The validation checks the package against these laws, so they are written independently of
the package's own mathematics (:mod:`weibull_stats.weibull`): the float64 Weibull law is
:data:`scipy.stats.weibull_min`'s, the exact methods are :mod:`mpmath`'s.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath as mp
import numpy as np
from scipy import special, stats

KINDS: tuple[str, ...] = ("halfnormal", "weibull", "uniform", "truncated_halfnormal", "abs_t",
                          "gaussian_mixture")
#: Kinds whose ``parameter`` is required (shape, truncation point, degrees of freedom, scale ratio).
PARAMETRISED: tuple[str, ...] = ("weibull", "truncated_halfnormal", "abs_t", "gaussian_mixture")
#: Probability of the unit-variance component of ``gaussian_mixture``.
MIXTURE_WEIGHT = 0.9


@dataclass(frozen=True, slots=True)
class Population:
    """A scale-1 positive law with exact quantile, CDF and power moments.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    parameter : float or None
        Weibull shape ``k`` for ``"weibull"``; truncation point ``c`` (in standard
        deviations of the untruncated normal) for ``"truncated_halfnormal"``; degrees of
        freedom ``nu`` for ``"abs_t"``; the wide component's scale ``r`` for
        ``"gaussian_mixture"``; else None.
    sigma : float, default 1.0
        Absolute scale of the law (``sigma * X``). The exact methods stay standardised
        (scale 1); only hooks whose estimator is not scale-equivariant read it.
    """

    kind: str
    parameter: float | None = None
    sigma: float = 1.0

    def __post_init__(self) -> None:
        if not (isinstance(self.sigma, int | float) and math.isfinite(self.sigma) and self.sigma > 0):
            raise ValueError(f"`sigma` must be a positive finite number; got {self.sigma!r}")
        if self.kind not in KINDS:
            raise ValueError(f"`kind` must be one of {', '.join(KINDS)}; got {self.kind!r}")
        needs = self.kind in PARAMETRISED
        if needs and not (self.parameter is not None and self.parameter > 0):
            raise ValueError(f"population {self.kind!r} needs a positive `parameter`; got {self.parameter!r}")
        if not needs and self.parameter is not None:
            raise ValueError(f"population {self.kind!r} takes no `parameter`; got {self.parameter!r}")

    @property
    def label(self) -> str:
        """Short name, e.g. ``weibull(k=1.5)`` (``@sigma=...`` when ``sigma`` is not 1)."""
        if self.kind == "weibull":
            name = f"weibull(k={self.parameter:g})"
        elif self.kind == "truncated_halfnormal":
            name = f"truncated_halfnormal(c={self.parameter:g})"
        elif self.kind == "abs_t":
            name = f"abs_t(nu={self.parameter:g})"
        elif self.kind == "gaussian_mixture":
            name = f"gaussian_mixture(r={self.parameter:g})"
        else:
            name = self.kind
        return name if self.sigma == 1.0 else f"{name}@sigma={self.sigma:.10g}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "parameter": self.parameter, "sigma": self.sigma}

    def at_sigma(self, sigma: float) -> Population:
        """The same law scaled by ``sigma`` (``sigma * X``; the methods stay standardised).

        Only estimators that are not scale-equivariant (histogram mode, with its bin grid
        fixed in absolute units) and storage rounding read ``sigma``.
        """
        return Population(self.kind, self.parameter, float(sigma))

    # ------------------------------------------------------------ what validation hooks use
    @property
    def context(self) -> Any:
        """The :mod:`mpmath` context the exact methods compute in (its precision is set by
        the caller, e.g. ``with population.context.workdps(30)``)."""
        return mp.mp

    def integrate(self, f: Callable[[Any], Any], a: Any, b: Any) -> Any:
        """``int_a^b f(p) dp`` over plotting positions, at the working precision.

        ``f`` is built from :meth:`quantile_mp`; for this smooth law one tanh-sinh
        quadrature (:func:`mpmath.quad`) over ``[a, b]``.
        """
        return mp.quad(f, [a, b])

    # ------------------------------------------------------------ arbitrary precision
    def _mp_parameter(self) -> Any:
        return mp.mpf(self.parameter) if self.parameter is not None else None

    def quantile_mp(self, p: Any) -> Any:
        """``Q(p)`` at the working precision of :mod:`mpmath`."""
        if self.kind == "halfnormal":
            return mp.sqrt(2) * mp.erfinv(p)
        if self.kind == "weibull":  # mpmath at the working precision, not weibull_stats.weibull
            return (-mp.log1p(-p)) ** (1 / self._mp_parameter())
        if self.kind == "uniform":
            return mp.mpf(p)
        if self.kind in ("abs_t", "gaussian_mixture"):  # F(x) = p, from the float64 root
            start = mp.mpf(float(self.quantile(np.array([float(p)]))[0]))
            return mp.findroot(lambda x: self.cdf_mp(x) - p, start)
        c = self._mp_parameter()
        return mp.sqrt(2) * mp.erfinv(p * mp.erf(c / mp.sqrt(2)))

    def cdf_mp(self, x: Any) -> Any:
        """``F(x)`` at the working precision of :mod:`mpmath` (``x >= 0``)."""
        if self.kind == "halfnormal":
            return mp.erf(x / mp.sqrt(2))
        if self.kind == "weibull":
            return -mp.expm1(-(x ** self._mp_parameter()))
        if self.kind == "uniform":
            return mp.mpf(min(x, 1))
        if self.kind == "abs_t":
            nu = self._mp_parameter()
            return 1 - mp.betainc(nu / 2, mp.mpf(1) / 2, 0, nu / (nu + x * x), regularized=True)
        if self.kind == "gaussian_mixture":
            w, r = mp.mpf(MIXTURE_WEIGHT), self._mp_parameter()
            return w * mp.erf(x / mp.sqrt(2)) + (1 - w) * mp.erf(x / (r * mp.sqrt(2)))
        c = self._mp_parameter()
        return mp.erf(min(x, c) / mp.sqrt(2)) / mp.erf(c / mp.sqrt(2))

    def power_moment_mp(self, t: Any) -> Any:
        """``M(t) = E[X^t]`` for ``t > -1`` (any ``t > -k`` for the Weibull)."""
        if self.kind == "halfnormal":
            return 2 ** (t / 2) * mp.gamma((t + 1) / 2) / mp.sqrt(mp.pi)
        if self.kind == "weibull":
            return mp.gamma(1 + t / self._mp_parameter())
        if self.kind == "uniform":
            return 1 / (t + 1)
        if self.kind == "abs_t":
            nu = self._mp_parameter()
            return (nu ** (t / 2) * mp.gamma((t + 1) / 2) * mp.gamma((nu - t) / 2)
                    / (mp.sqrt(mp.pi) * mp.gamma(nu / 2)))
        if self.kind == "gaussian_mixture":
            w, r = mp.mpf(MIXTURE_WEIGHT), self._mp_parameter()
            return (w + (1 - w) * r**t) * 2 ** (t / 2) * mp.gamma((t + 1) / 2) / mp.sqrt(mp.pi)
        c = self._mp_parameter()
        lower = mp.gammainc((t + 1) / 2, 0, c**2 / 2)
        return 2 ** (t / 2) * lower / (mp.sqrt(mp.pi) * mp.erf(c / mp.sqrt(2)))

    # ------------------------------------------------------------ float64
    def quantile(self, p: np.ndarray) -> np.ndarray:
        """Vectorised float64 ``Q(p)``."""
        p = np.asarray(p, dtype=np.float64)
        if self.kind == "halfnormal":
            return math.sqrt(2.0) * special.erfinv(p)
        if self.kind == "weibull":  # scipy's, not weibull_stats.weibull.law's (module docstring)
            return np.asarray(stats.weibull_min.ppf(p, float(self.parameter)))  # type: ignore[arg-type]
        if self.kind == "uniform":
            return p.copy()
        if self.kind == "abs_t":  # scipy's t quantile of (1 + p) / 2
            return np.asarray(stats.t.ppf((1.0 + p) / 2.0, float(self.parameter)))  # type: ignore[arg-type]
        if self.kind == "gaussian_mixture":
            return self._mixture_quantile(p)
        return math.sqrt(2.0) * special.erfinv(p * math.erf(float(self.parameter) / math.sqrt(2.0)))  # type: ignore[arg-type]

    def _mixture_quantile(self, p: np.ndarray) -> np.ndarray:
        """Bisection of the mixture's CDF between the quantiles of its two components (the
        mixture's lies between them): 64 halvings reach float64's resolution."""
        r = float(self.parameter)  # type: ignore[arg-type]
        low = math.sqrt(2.0) * special.erfinv(p)
        high = r * low
        for _ in range(64):
            middle = 0.5 * (low + high)
            below = self.cdf(middle) < p
            low, high = np.where(below, middle, low), np.where(below, high, middle)
        return 0.5 * (low + high)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Vectorised float64 ``F(x)``, ``x >= 0``."""
        x = np.asarray(x, dtype=np.float64)
        if self.kind == "halfnormal":
            return special.erf(x / math.sqrt(2.0))
        if self.kind == "weibull":  # scipy's, not weibull_stats.weibull.law's (module docstring)
            return np.asarray(stats.weibull_min.cdf(x, float(self.parameter)))  # type: ignore[arg-type]
        if self.kind == "uniform":
            return np.clip(x, 0.0, 1.0)
        if self.kind == "abs_t":
            return np.asarray(2.0 * stats.t.cdf(x, float(self.parameter)) - 1.0)  # type: ignore[arg-type]
        if self.kind == "gaussian_mixture":
            r = float(self.parameter)  # type: ignore[arg-type]
            return MIXTURE_WEIGHT * special.erf(x / math.sqrt(2.0)) + (1 - MIXTURE_WEIGHT) * special.erf(
                x / (r * math.sqrt(2.0)))
        c = float(self.parameter)  # type: ignore[arg-type]
        return special.erf(np.minimum(x, c) / math.sqrt(2.0)) / math.erf(c / math.sqrt(2.0))

    def dlog_quantile(self, p: np.ndarray) -> np.ndarray:
        """Vectorised float64 ``d ln Q(p) / dp = 1 / (Q(p) f(Q(p)))``."""
        p = np.asarray(p, dtype=np.float64)
        if self.kind == "weibull":  # written here, not plot_ordinate_slope / k from weibull_stats.weibull
            q = -np.log1p(-p)
            return 1.0 / (float(self.parameter) * (1.0 - p) * q)  # type: ignore[arg-type]
        if self.kind == "uniform":
            return 1.0 / p
        q = self.quantile(p)
        if self.kind == "abs_t":
            return 1.0 / (q * 2.0 * stats.t.pdf(q, float(self.parameter)))  # type: ignore[arg-type]
        if self.kind == "gaussian_mixture":
            r = float(self.parameter)  # type: ignore[arg-type]
            density = math.sqrt(2.0 / math.pi) * (MIXTURE_WEIGHT * np.exp(-0.5 * q * q)
                                                  + (1 - MIXTURE_WEIGHT) / r * np.exp(-0.5 * (q / r) ** 2))
            return 1.0 / (q * density)
        density = math.sqrt(2.0 / math.pi) * np.exp(-0.5 * q * q)
        if self.kind == "truncated_halfnormal":
            density /= math.erf(float(self.parameter) / math.sqrt(2.0))  # type: ignore[arg-type]
        return 1.0 / (q * density)

    def sample(self, rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
        """Float64 draws: the half-normal by ``|N(0, 1)|``, ``abs_t`` by ``|t_nu|``, the mixture
        by a component draw and ``|N(0, 1)|`` scaled, the truncated half-normal by inversion of ``Q``."""
        if self.kind == "halfnormal":
            return np.abs(rng.standard_normal(size))
        if self.kind == "weibull":
            return rng.weibull(float(self.parameter), size)  # type: ignore[arg-type]
        if self.kind == "uniform":
            return 1.0 - rng.random(size)  # (0, 1]: no zeros
        if self.kind == "abs_t":
            return np.abs(rng.standard_t(float(self.parameter), size))  # type: ignore[arg-type]
        if self.kind == "gaussian_mixture":
            wide = rng.random(size) >= MIXTURE_WEIGHT
            return np.abs(rng.standard_normal(size)) * np.where(wide, float(self.parameter), 1.0)  # type: ignore[arg-type]
        return self.quantile(1.0 - rng.random(size))


HALFNORMAL = Population("halfnormal")
UNIFORM = Population("uniform")


def weibull(shape: float) -> Population:
    """The scale-1 Weibull population of the given shape."""
    return Population("weibull", float(shape))


def truncated_halfnormal(c: float) -> Population:
    """``|Z|`` for ``Z ~ N(0, 1)`` truncated to ``[-c, c]``."""
    return Population("truncated_halfnormal", float(c))


def abs_t(nu: float) -> Population:
    """``|T|`` for Student's ``T`` with ``nu`` degrees of freedom."""
    return Population("abs_t", float(nu))


def gaussian_mixture(r: float) -> Population:
    """``|Z|``, ``Z ~ w N(0, 1) + (1 - w) N(0, r^2)`` with ``w =`` :data:`MIXTURE_WEIGHT`."""
    return Population("gaussian_mixture", float(r))
