"""One row of the anchor table: an estimator's exact population value with its options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True, slots=True)
class Anchor:
    """Population value of one estimator with one option set under one population.

    Attributes
    ----------
    estimator : str
        Registry name.
    options : Mapping
        The estimator options the value belongs to (those that change it).
    population : str
        Population label (``"halfnormal"``, ``"weibull(k=1.5)"``, ...).
    shape : float
        Population shape.
    scale : float
        Population scale divided by the population's scale parameter (``sigma`` for the
        half-normal, the Weibull scale, the uniform bound).
    error : float
        Stated absolute error of ``shape`` and ``scale`` (difference between two working
        precisions, or the float64 rounding bound for the histogram).
    method : str
        How it was computed.
    sigma : float or None
        The absolute sigma the value belongs to (histogram mode only).
    """

    estimator: str
    options: Mapping[str, Any]
    population: str
    shape: float
    scale: float
    error: float
    method: str
    sigma: float | None = None
    note: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (``scale_over_sigma`` is ``scale``)."""

        def plain(value: Any) -> Any:
            if isinstance(value, tuple | list):
                return [plain(v) for v in value]
            if isinstance(value, Mapping):
                return {str(k): plain(v) for k, v in value.items()}
            return value

        return {
            "estimator": self.estimator,
            "options": plain(self.options),
            "population": self.population,
            "shape": self.shape,
            "scale_over_sigma": self.scale,
            "error": self.error,
            "method": self.method,
            "sigma": self.sigma,
            "note": self.note,
            "details": plain(self.details),
        }
