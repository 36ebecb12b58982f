"""What an estimator declares for the validation suite: its exact population value under a
law (:class:`PopulationHook`) and the closed forms that value must reproduce
(:class:`KnownLimit`); :class:`~weibull_stats.estimators._core.Estimator` carries the hook."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


def _same(options: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [options]


@dataclass(frozen=True, slots=True)
class KnownLimit:
    """A closed form the exact limit must reproduce (a check of the quick validation).

    Attributes
    ----------
    parameter : {"shape", "scale"}
        ``"scale"`` is the scale divided by the population's scale parameter.
    value : float
        The closed-form value, for the default options.
    tolerance : float
        Allowed absolute difference from the quadrature.
    detail : str
        One line for the check table.
    population : str
        Label of the population it holds under (default the half-normal).
    """

    parameter: str
    value: float
    tolerance: float
    detail: str
    population: str = "halfnormal"

    def __post_init__(self) -> None:
        if self.parameter not in ("shape", "scale"):
            raise ValueError(f"`parameter` must be 'shape' or 'scale'; got {self.parameter!r}")


@dataclass(frozen=True, slots=True)
class PopulationHook:
    """What an estimator declares so the validation suite can compute its exact limit.

    Calling it is calling ``function``: ``hook(population, **options) -> (shape, scale)``.

    Attributes
    ----------
    function : callable
        ``function(population, /, **options) -> (shape, scale / population.sigma)``.
    option_sets : tuple of Mapping
        The option sets whose limits are tabulated, the default first.
    method : str
        How the value is computed (one line for the anchor table).
    note : str
        Caveat shown beside the value.
    table_options : callable
        ``table_options(option_set) -> [options, ...]``: the option mappings listed in the
        anchor table for one option set (options that do not change the limit, such as
        the plotting position, are listed once per value; descriptive entries added).
    float64_error : callable or None
        None when the value is exact at the working precision (the caller evaluates it at
        two precisions and states the difference); otherwise ``float64_error(shape, scale)``
        is the stated rounding bound of a value finished in float64 (evaluated once).
    absolute_scale : bool
        True when the limit depends on ``population.sigma`` (a grid fixed in absolute
        units), not only on the standardised law.
    weibull_tolerance : float
        Allowed relative error of the limit under true Weibull data (0: exact recovery).
    reads : frozenset of str
        The population's attributes ``function`` reads (``context``, ``quantile_mp``,
        ``integrate``, ``cdf_mp``, ``power_moment_mp``, ``sigma``): a law rounded to a
        storage grid offers the quantile function only, so the caller knows from this where
        the hook can be evaluated. Required.
    bias : callable or None
        ``bias(population, n, /) -> (shape, scale / sigma)``: the leading ``O(1/n)`` bias of
        the fit with the default options, where derived (the caller sets the working
        precision, as for ``function``); None where not derived.
    bias_options : tuple of Mapping
        Option sets whose finite-n bias the suite tabulates beside the default's (options
        that move the bias but not the limit, such as the plotting position).
    law_options : Mapping
        Options for fitting a whole discrete law given as counts (cell probabilities times
        2^52), whose fit is the limit under that law.
    known : tuple of KnownLimit
        Closed forms the limit must reproduce.
    """

    function: Callable[..., tuple[Any, Any]]
    option_sets: tuple[Mapping[str, Any], ...] = (MappingProxyType({}),)
    method: str = ""
    note: str = ""
    table_options: Callable[[Mapping[str, Any]], list[Mapping[str, Any]]] = field(default=_same)
    float64_error: Callable[[float, float], float] | None = None
    absolute_scale: bool = False
    weibull_tolerance: float = 0.0
    # -- what the validation suite reads besides the limit itself
    reads: frozenset[str] = frozenset()
    bias: Callable[[Any, int], tuple[float, float]] | None = None
    bias_options: tuple[Mapping[str, Any], ...] = ()
    law_options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    known: tuple[KnownLimit, ...] = ()

    def __post_init__(self) -> None:
        if not self.reads:
            raise ValueError("a population hook must declare the population attributes it `reads`")
        object.__setattr__(self, "bias_options", tuple(MappingProxyType(dict(o)) for o in self.bias_options))
        object.__setattr__(self, "law_options", MappingProxyType(dict(self.law_options)))

    def __call__(self, population: Any, /, **options: Any) -> tuple[Any, Any]:
        return self.function(population, **options)
