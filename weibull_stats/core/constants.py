"""Package constants that every layer may use (the core layer: imports nothing of the package).

``weibull_stats`` re-exports them; modules inside the package import them from here.

The anchors
-----------
An anchor is the population value ``(k0, λ0)`` of the default probability-plot fit (middle
80%, Hazen, y on x) under the law of ``|w|`` at initialisation: the measuring stick a scan
reports ``k − k0`` against (:data:`ANCHORS`, chosen by the scan setting ``anchor``). Each is
the quadrature of :func:`weibull_stats.validation.anchors.default_anchor` ``("probability_plot",
population)`` (the five integrals of the population regression line, :mod:`mpmath` at 30
digits, checked at 40), rounded to 10 decimals; ``tests/test_anchors.py`` checks every entry
of :data:`ANCHORS` against that quadrature, and the quick validation checks the HalfNormal
pair (``anchor.constant.HALFNORMAL_ANCHOR_SHAPE``). They sit here, below the validation
layer, so that the scan, its report and its figures can use them without computing them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

#: Population value of the default (middle-80%, Hazen, y on x) probability-plot fit under
#: HalfNormal(sigma): the shape ``k0``. The quick validation checks these 10 decimals against
#: the quadrature of :mod:`weibull_stats.validation.anchors` (check
#: ``anchor.constant.HALFNORMAL_ANCHOR_SHAPE``).
HALFNORMAL_ANCHOR_SHAPE = 1.2054343190
#: The same fit's scale divided by sigma, ``scale0 / sigma``.
HALFNORMAL_ANCHOR_SCALE = 0.8874870398
#: The same fit's shape under ``|Uniform(-a, a)|`` = Uniform(0, a): weights drawn uniformly,
#: as by kaiming-uniform initialisation (the default of ``torch.nn.Linear``); the quadrature
#: ``default_anchor("probability_plot", UNIFORM)`` gives 1.37511880536...
UNIFORM_ANCHOR_SHAPE = 1.3751188054
#: The same fit's scale divided by the bound ``a`` (0.60736559664...).
UNIFORM_ANCHOR_SCALE = 0.6073655966


@dataclass(frozen=True, slots=True)
class InitAnchor:
    """The anchor of one initialisation law (see the module notes).

    Attributes
    ----------
    name : str
        Its key in :data:`ANCHORS` and the value of the scan setting ``anchor``; also the
        name of the validation population (:class:`weibull_stats.validation.populations.Population`
        ``kind``) whose quadrature gives it.
    law : str
        The law of ``|w|`` in words, for labels ("HalfNormal", "|Uniform|").
    initialisation : str
        The weights that give that law.
    magnitudes : str
        The law of ``|w|`` with its parameter, for the report.
    parameter : str
        The symbol of the law's scale parameter (``λ0`` is ``scale`` times it).
    shape, scale : float
        ``k0`` and ``λ0 /`` parameter, to 10 decimals.
    """

    name: str
    law: str
    initialisation: str
    magnitudes: str
    parameter: str
    shape: float
    scale: float

    @property
    def label(self) -> str:
        """The legend of the anchor line: ``"HalfNormal init anchor k0 = 1.2054"``."""
        return f"{self.law} init anchor k0 = {self.shape:.4f}"


#: The anchors a scan can report ``k − k0`` against, by the setting ``anchor``.
ANCHORS: Mapping[str, InitAnchor] = MappingProxyType({
    "halfnormal": InitAnchor("halfnormal", "HalfNormal", "i.i.d. Gaussian weights", "|w| ~ HalfNormal(σ)",
                             "σ", HALFNORMAL_ANCHOR_SHAPE, HALFNORMAL_ANCHOR_SCALE),
    "uniform": InitAnchor("uniform", "|Uniform|",
                          "i.i.d. uniform weights on (−a, a) (kaiming-uniform, torch.nn.Linear's default)",
                          "|w| ~ Uniform(0, a)", "a", UNIFORM_ANCHOR_SHAPE, UNIFORM_ANCHOR_SCALE),
})
#: The anchor used unless another is chosen: Gaussian initialisation, the paper's.
DEFAULT_ANCHOR = "halfnormal"

__all__ = ["ANCHORS", "DEFAULT_ANCHOR", "HALFNORMAL_ANCHOR_SCALE", "HALFNORMAL_ANCHOR_SHAPE",
           "UNIFORM_ANCHOR_SCALE", "UNIFORM_ANCHOR_SHAPE", "InitAnchor"]
