"""Growth laws of the Weibull scale ``λ`` against training step, fitted by least squares.

A trajectory (a scan of a folder of ``step-N`` checkpoints, or a training monitor's folder)
gives ``λ`` of each matrix at several steps. :func:`fit_growth` fits one of the curves of
:data:`GROWTH_CURVES` to ``(step, λ)`` pairs by :func:`scipy.optimize.least_squares` on
``ln λ`` (relative errors: the scale is drawn on a log axis and its noise is proportional
to it), and returns a :class:`GrowthFit` that says which curve, its parameters and how
close it came.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy.optimize import least_squares


@dataclass(frozen=True, slots=True)
class GrowthCurve:
    """One growth law ``λ(t)`` with three parameters.

    Attributes
    ----------
    name : str
        Its key in :data:`GROWTH_CURVES` (the ``curve`` argument of :func:`fit_growth`).
    formula : str
        The law as text, for legends and captions.
    parameters : tuple of str
        Parameter names, in the order of ``function``'s arguments after ``t``.
    function : callable
        ``function(t, *values)``: the law at steps ``t`` (an array).
    """

    name: str
    formula: str
    parameters: tuple[str, str, str]
    function: Callable[..., np.ndarray]


def _saturating(t: np.ndarray, start: float, rise: float, tau: float) -> np.ndarray:
    return start + rise * -np.expm1(-t / tau)


def _power(t: np.ndarray, start: float, factor: float, exponent: float) -> np.ndarray:
    return start + factor * np.power(t, exponent)


#: The curves :func:`fit_growth` fits, by name. Both are ``λ0`` at step 0.
GROWTH_CURVES: Mapping[str, GrowthCurve] = MappingProxyType({
    "saturating": GrowthCurve("saturating", "λ(t) = λ0 + λ∞·(1 − exp(−t/τ))", ("λ0", "λ∞", "τ"), _saturating),
    "power": GrowthCurve("power", "λ(t) = λ0 + a·t^b", ("λ0", "a", "b"), _power),
})
#: The curve fitted unless told otherwise.
DEFAULT_GROWTH_CURVE = "saturating"
#: Fewest distinct steps :func:`fit_growth` fits a law of three parameters to (one more than
#: the parameters, so the fit leaves a residual).
MIN_GROWTH_STEPS = 4


@dataclass(frozen=True, slots=True)
class GrowthFit:
    """A growth law fitted to ``(step, λ)``.

    Attributes
    ----------
    curve : GrowthCurve
    values : tuple of float
        The fitted parameters, in the order of ``curve.parameters``.
    steps, scales : tuple of float
        The data fitted.
    rms_log_error : float
        Root mean square of ``ln λ_fit(t) − ln λ`` over the data (0.01: about 1% off).
    converged : bool
        Whether the least-squares solver met its tolerance.
    at_bound : tuple of str
        Parameters that ended within 1% of a bound of the search (:func:`fit_growth`'s Notes):
        the data do not pin them, e.g. ``τ`` at 1000 times the last step when λ has not begun to level
        off (the law then acts as a straight line).
    """

    curve: GrowthCurve
    values: tuple[float, ...]
    steps: tuple[float, ...]
    scales: tuple[float, ...]
    rms_log_error: float
    converged: bool
    at_bound: tuple[str, ...] = ()

    @property
    def parameters(self) -> dict[str, float]:
        """The fitted parameters by name."""
        return dict(zip(self.curve.parameters, self.values, strict=True))

    def __call__(self, t: Any) -> np.ndarray:
        """The fitted law at steps ``t``."""
        steps = np.asarray(t, dtype=np.float64)
        return np.asarray(self.curve.function(steps, *self.values), dtype=np.float64)

    @property
    def text(self) -> str:
        """The parameters as text: ``"λ0 = 0.02, λ∞ = 0.0301, τ = 298"``."""
        return ", ".join(f"{name} = {value:.3g}" for name, value in self.parameters.items())


def _starts(curve: str, t: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Starting points for the solver over a grid of time constants (or exponents)."""
    first, last, span = float(y[0]), float(y[-1]), float(t.max())
    if curve == "saturating":
        return [np.array([first, last - first, tau]) for tau in span * np.geomspace(0.02, 5.0, 9)]
    return [np.array([first, (last - first) / span ** b, b]) for b in (0.25, 0.5, 1.0, 1.5)]


def _bounds(curve: str, t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    big = 1e3 * float(y.max())
    if curve == "saturating":
        return np.array([0.0, -big, 1e-3 * float(t.max())]), np.array([big, big, 1e3 * float(t.max())])
    return np.array([0.0, -np.inf, 1e-3]), np.array([big, np.inf, 4.0])


def fit_growth(steps: Any, scales: Any, curve: str = DEFAULT_GROWTH_CURVE) -> GrowthFit:
    """Fit a growth law of :data:`GROWTH_CURVES` to the scale ``λ`` against training step.

    Parameters
    ----------
    steps : array_like
        Training steps (``t``), non-negative; at least four distinct ones (the laws have three
        parameters).
    scales : array_like
        ``λ`` at each step, positive.
    curve : {"saturating", "power"}, default "saturating"
        ``"saturating"``: ``λ(t) = λ0 + λ∞·(1 − exp(−t/τ))`` (``λ∞`` the total rise, negative
        for a decay); ``"power"``: ``λ(t) = λ0 + a·t^b``.

    Returns
    -------
    GrowthFit

    Notes
    -----
    The residuals are ``ln λ_fit(t) − ln λ`` (relative errors); the solver is
    :func:`scipy.optimize.least_squares` (trust region reflective) within bounds
    (``λ0 ≥ 0``; ``τ`` within 0.001 to 1000 times the last step; ``b`` in (0, 4]), started
    from a grid of ``τ`` (or ``b``), the best end kept.

    Raises
    ------
    ValueError
        Fewer than four distinct steps, a negative step, a scale that is not finite and
        positive, lengths that differ, or an unknown ``curve``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(0, 1001, 100.0)
    >>> lam = (0.02 + 0.03 * (1 - np.exp(-t / 300))) * np.exp(rng.normal(0, 0.003, t.size))
    >>> fit = fit_growth(t, lam)
    >>> fit.curve.formula
    'λ(t) = λ0 + λ∞·(1 − exp(−t/τ))'
    >>> round(fit.parameters["τ"] / 300, 1)
    1.0
    """
    if curve not in GROWTH_CURVES:
        raise ValueError(f"`curve` must be one of {', '.join(map(repr, GROWTH_CURVES))}; got {curve!r}")
    t = np.asarray(steps, dtype=np.float64).reshape(-1)
    y = np.asarray(scales, dtype=np.float64).reshape(-1)
    if t.size != y.size:
        raise ValueError(f"`steps` and `scales` differ in length ({t.size} and {y.size})")
    if not np.all(np.isfinite(t)) or (t < 0).any():
        raise ValueError("`steps` must be finite and non-negative")
    if not np.all(np.isfinite(y)) or (y <= 0).any():
        raise ValueError("`scales` must be finite and positive")
    if np.unique(t).size < MIN_GROWTH_STEPS:
        raise ValueError(f"`steps`: a growth law of three parameters needs at least {MIN_GROWTH_STEPS} "
                         f"distinct steps; got {np.unique(t).size}")
    order = np.argsort(t, kind="stable")
    t, y = t[order], y[order]
    law = GROWTH_CURVES[curve]
    log_y = np.log(y)

    def residuals(p: np.ndarray) -> np.ndarray:
        return np.log(np.maximum(law.function(t, *p), 1e-300)) - log_y

    low, high = _bounds(curve, t, y)
    best: Any = None
    for start in _starts(curve, t, y):
        solution = least_squares(residuals, np.clip(start, low + 1e-12, high - 1e-12), bounds=(low, high),
                                 x_scale="jac", method="trf")
        if best is None or solution.cost < best.cost:
            best = solution
    rms = float(np.sqrt(np.mean(best.fun ** 2)))
    # within 1% of a finite bound (λ0's lower bound 0 is a value, not a search limit)
    near = [bool(np.isclose(v, lo, rtol=0.01, atol=0) or np.isclose(v, hi, rtol=0.01, atol=0))
            for v, lo, hi in zip(best.x, low, high, strict=True)]
    bounded = tuple(name for name, hit in zip(law.parameters[1:], near[1:], strict=True) if hit)
    return GrowthFit(law, tuple(float(v) for v in best.x), tuple(map(float, t)), tuple(map(float, y)), rms,
                     bool(best.success), bounded)


__all__ = ["DEFAULT_GROWTH_CURVE", "GROWTH_CURVES", "MIN_GROWTH_STEPS", "GrowthCurve", "GrowthFit",
           "fit_growth"]
