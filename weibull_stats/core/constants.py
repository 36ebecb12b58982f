"""Package constants that every layer may use (the core layer: imports nothing of the package).

``weibull_stats`` re-exports them; modules inside the package import them from here.
"""

from __future__ import annotations

#: Population value of the default (middle-80%, Hazen, y on x) probability-plot fit under
#: HalfNormal(sigma): the shape ``k0``. The quick validation checks these 10 decimals against
#: the quadrature of :mod:`weibull_stats.validation.anchors` (check
#: ``anchor.constant.HALFNORMAL_ANCHOR_SHAPE``).
HALFNORMAL_ANCHOR_SHAPE = 1.2054343190
#: The same fit's scale divided by sigma, ``scale0 / sigma``.
HALFNORMAL_ANCHOR_SCALE = 0.8874870398

__all__ = ["HALFNORMAL_ANCHOR_SCALE", "HALFNORMAL_ANCHOR_SHAPE"]
